"""ImportVmImage and ImportDiskImage through boto3 (in-process, a real server, PostgreSQL):
an imported image becomes AVAILABLE on kiln's clock and can be a recipe's parent."""
from __future__ import annotations

from tests.service.builders import ACCOUNT, UPDATE_LINUX, image, infrastructure
from tests.support.errors import raises

BASE = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image"


def test_import_vm_image_then_use_it_as_a_parent(ib):
    r = ib.import_vm_image(name="Imported RHEL", semanticVersion="1.0.0", platform="Linux", osVersion="Red Hat Enterprise Linux 9",
                           vmImportTaskId="import-ami-0123456789abcdef0", description="From our VMware farm",
                           tags={"source": "vmware"}, clientToken="v1")
    arn = r["imageArn"]
    assert (arn, r["clientToken"]) == (f"{BASE}/imported-rhel/1.0.0/1", "v1")
    got = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert (got["state"], got["buildType"], got["imageSource"]) == ({"status": "AVAILABLE"}, "IMPORT", "IMPORTED")
    assert (got["platform"], got["osVersion"], got["tags"]) == ("Linux", "Red Hat Enterprise Linux 9", {"source": "vmware"})
    amis = got["outputResources"]["amis"]
    assert len(amis) == 1 and amis[0]["region"] == "us-east-1" and amis[0]["description"] == "From our VMware farm"
    recipe = ib.create_image_recipe(name="on-rhel", semanticVersion="1.0.0", parentImage=f"{BASE}/imported-rhel/x.x.x",
                                    components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
    built = ib.get_image(imageBuildVersionArn=image(ib, recipe, infrastructure(ib)))["image"]
    assert built["imageRecipe"]["parentImage"] == arn and built["osVersion"] == "Red Hat Enterprise Linux 9"
    again = ib.import_vm_image(name="Imported RHEL", semanticVersion="1.0.0", platform="Linux",
                               vmImportTaskId="import-ami-0123456789abcdef1")["imageArn"]
    assert again == f"{BASE}/imported-rhel/1.0.0/2"  # the same name and version: the next build


def test_import_vm_image_refuses_what_is_not_an_import_task(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'vmImportTaskId' is not valid. 'ami-123' is not a VM import task ID "
                "(import-ami- followed by 8 or 17 hexadecimal digits, as EC2's ImportImage returns)."):
        ib.import_vm_image(name="x-image", semanticVersion="1.0.0", platform="Linux", vmImportTaskId="ami-123")


def test_import_disk_image_of_a_windows_11_iso(ib):
    infra = infrastructure(ib)
    r = ib.import_disk_image(name="win11", semanticVersion="1.0.0", platform="Windows", osVersion="Microsoft Windows 11",
                             infrastructureConfigurationArn=infra, uri="s3://my-isos/Win11_24H2_English_x64.iso",
                             clientToken="d1")
    arn = r["imageBuildVersionArn"]
    assert (arn, r["clientToken"]) == (f"{BASE}/win11/1.0.0/1", "d1")
    got = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert (got["state"]["status"], got["buildType"], got["imageSource"]) == ("AVAILABLE", "IMPORT_ISO", "IMPORTED")
    assert got["infrastructureConfiguration"]["arn"] == infra


def test_import_disk_image_refusals(ib):
    infra = infrastructure(ib)
    common = dict(name="win11", semanticVersion="1.0.0", infrastructureConfigurationArn=infra)
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'osVersion' is not valid. 'Microsoft Windows 10' is not supported. "
                "The only supported value is Microsoft Windows 11."):
        ib.import_disk_image(platform="Windows", osVersion="Microsoft Windows 10", uri="s3://b/w.iso", **common)
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'uri' is not valid. 's3://my-isos/win11.img' is not an ISO file in "
                "Amazon S3: use s3://bucket/key with a key ending in .iso."):
        ib.import_disk_image(platform="Windows", osVersion="Microsoft Windows 11", uri="s3://my-isos/win11.img", **common)
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'platform' is not valid. 'Linux' is not supported. Allowed values: Windows."):
        ib.import_disk_image(platform="Linux", osVersion="Microsoft Windows 11", uri="s3://b/w.iso", **common)
