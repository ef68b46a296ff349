"""AWS Marketplace and third-party components (the SAMPLE products of
kiln/catalog/marketplace.yaml) and GetMarketplaceResource, through boto3: listed by owner,
read with GetComponent, used in recipes, their documents and artifacts fetched."""
from __future__ import annotations

import re

import pytest

from tests.service import builders
from tests.support.errors import raises

PREFIX = "arn:aws:imagebuilder:us-east-1"
CIS = f"{PREFIX}:third-party:component/cis-benchmark-level-1-amazon-linux"
AGENT = f"{PREFIX}:aws-marketplace:component/sample-monitoring-agent-prod-kilnsample0agt"
AGENT_WINDOWS = f"{PREFIX}:aws-marketplace:component/sample-monitoring-agent-windows-prod-kilnsample0awn"
ARTIFACT = "s3://kiln-marketplace-samples/sample-monitoring-agent/agent-linux.tar.gz"
CODE = {"productCodeId": "kilnsampleagentlinux00001", "productCodeType": "marketplace"}


def _arns(ib, **kwargs):
    return [c["arn"] for c in ib.list_components(**kwargs)["componentVersionList"]]


# -- lists ---------------------------------------------------------------------------

def test_list_components_third_party(ib):
    assert _arns(ib, owner="ThirdParty") == [f"{CIS}/1.0.0", f"{CIS}/1.1.0"]


def test_list_components_aws_marketplace(ib):
    assert _arns(ib, owner="AWSMarketplace") == [f"{AGENT}/0.1.0", f"{AGENT}/1.0.0", f"{AGENT_WINDOWS}/1.0.0"]


def test_marketplace_list_entry_carries_product_codes(ib):
    # As the published `list-components --owner AWSMarketplace` output shows an entry.
    entry = ib.list_components(owner="AWSMarketplace")["componentVersionList"][1]
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", entry.pop("dateCreated"))
    assert entry.pop("description").startswith("SAMPLE AWS Marketplace product served by kiln")
    assert entry == {
        "arn": f"{AGENT}/1.0.0", "name": "Sample Monitoring Agent-prod-kilnsample0agt", "version": "1.0.0",
        "platform": "Linux", "supportedOsVersions": ["Amazon Linux 2", "Amazon Linux 2023", "Ubuntu"],
        "type": "BUILD", "owner": "AWSMarketplace", "status": "ACTIVE", "productCodes": [CODE],
    }


def test_list_components_filter_product_codes(ib):
    filters = [{"name": "productCodes", "values": ["kilnsampleagentlinux00001"]}]
    assert _arns(ib, owner="AWSMarketplace", filters=filters) == [f"{AGENT}/0.1.0", f"{AGENT}/1.0.0"]
    assert _arns(ib, owner="ThirdParty", filters=filters) == []


def test_list_components_by_name_gives_newest_version(ib):
    assert _arns(ib, owner="ThirdParty", byName=True) == [f"{CIS}/1.1.0"]


def test_other_owners_are_unchanged(ib):
    builders.component(ib)
    assert _arns(ib) == [f"{PREFIX}:123456789012:component/hello/1.0.0"]
    amazon = _arns(ib, owner="Amazon")
    assert amazon and all(":aws:component/" in arn for arn in amazon)
    assert _arns(ib, owner="Shared") == []


@pytest.mark.parametrize("owner", ["ThirdParty", "AWSMarketplace"])
def test_no_marketplace_images_or_workflows(ib, owner):
    assert ib.list_images(owner=owner)["imageVersionList"] == []


def test_list_workflows_aws_marketplace_is_still_empty(ib):
    assert ib.list_workflows(owner="AWSMarketplace")["workflowVersionList"] == []


# -- GetComponent ----------------------------------------------------------------------

def test_get_component_wildcard_resolves_to_newest_build(ib):
    component = ib.get_component(componentBuildVersionArn=f"{CIS}/x.x.x")["component"]
    assert component["arn"] == f"{CIS}/1.1.0/1"
    assert component["owner"] == "ThirdParty"
    assert component["publisher"] == "kiln (sample publisher)"
    assert component["productCodes"] == [{"productCodeId": "kilnsamplecislevel1al0001", "productCodeType": "marketplace"}]


def test_get_component_hides_the_obfuscated_document(ib):
    component = ib.get_component(componentBuildVersionArn=f"{AGENT}/1.0.0/1")["component"]
    assert component["obfuscate"] is True
    assert "data" not in component
    assert "publisher" not in component  # only third-party components name a publisher
    assert component["parameters"] == [{
        "name": "ApiKeySecretName", "type": "string", "defaultValue": ["sample/monitoring-agent/api-key"],
        "description": "The Secrets Manager secret that holds the agent's API key."}]


def test_get_component_of_an_unknown_marketplace_arn(ib):
    arn = f"{PREFIX}:aws-marketplace:component/no-such-product/1.0.0"
    with raises("ResourceNotFoundException", f"The following resource 'Component' cannot be found: '{arn}'."):
        ib.get_component(componentBuildVersionArn=arn)


def test_other_region_does_not_see_this_regions_arns(ib):
    arn = f"{CIS}/1.0.0/1".replace("us-east-1", "eu-west-1")
    with raises("ResourceNotFoundException", f"The following resource 'Component' cannot be found: '{arn}'."):
        ib.get_component(componentBuildVersionArn=arn)


# -- recipes ---------------------------------------------------------------------------

def test_marketplace_and_third_party_components_in_a_recipe(ib):
    components = [{"componentArn": f"{CIS}/x.x.x"},
                  {"componentArn": f"{AGENT}/1.0.0/1",
                   "parameters": [{"name": "ApiKeySecretName", "value": ["my/secret"]}]}]
    recipe = builders.recipe(ib, components=components)
    assert ib.get_image_recipe(imageRecipeArn=recipe)["imageRecipe"]["components"] == components
    image = builders.image(ib, recipe_arn=recipe)
    assert ib.get_image(imageBuildVersionArn=image)["image"]["state"]["status"] != "FAILED"


def test_marketplace_component_platform_is_checked_in_a_recipe(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'components[0].componentArn' is not valid. "
                f"The component '{AGENT_WINDOWS}/1.0.0/1' is for Windows, but the recipe's parent image is Linux."):
        builders.recipe(ib, components=[{"componentArn": f"{AGENT_WINDOWS}/x.x.x"}])


# -- GetMarketplaceResource -----------------------------------------------------------

def test_component_data_is_the_document(ib):
    r = ib.get_marketplace_resource(resourceType="COMPONENT_DATA", resourceArn=f"{AGENT}/x.x.x")
    assert r["resourceArn"] == f"{AGENT}/x.x.x"
    assert "url" not in r
    assert r["data"].startswith("name: sample-monitoring-agent\n")
    assert "S3Download" in r["data"] and ARTIFACT in r["data"]


def test_component_data_of_a_third_party_build(ib):
    r = ib.get_marketplace_resource(resourceType="COMPONENT_DATA", resourceArn=f"{CIS}/1.0.0/1")
    assert r["data"].startswith("name: cis-benchmark-level-1-amazon-linux\n")


def test_component_artifact_is_a_presigned_url(ib):
    r = ib.get_marketplace_resource(resourceType="COMPONENT_ARTIFACT", resourceArn=f"{AGENT}/1.0.0",
                                    resourceLocation=ARTIFACT)
    assert r["resourceArn"] == f"{AGENT}/1.0.0"
    assert "data" not in r
    assert re.match(
        r"^https://kiln-marketplace-samples\.s3\.us-east-1\.amazonaws\.com/sample-monitoring-agent/agent-linux\.tar\.gz"
        r"\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=KILNMARKETPLACE%2F\d{8}%2Fus-east-1%2Fs3%2Faws4_request"
        r"&X-Amz-Date=\d{8}T\d{6}Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$", r["url"])


def test_component_artifact_requires_a_location(ib):
    with raises("InvalidRequestException",
                "The resourceLocation parameter is required when resourceType is COMPONENT_ARTIFACT."):
        ib.get_marketplace_resource(resourceType="COMPONENT_ARTIFACT", resourceArn=f"{AGENT}/1.0.0")


def test_component_artifact_must_belong_to_the_component(ib):
    location = "s3://kiln-marketplace-samples/sample-monitoring-agent/agent-windows.zip"
    with raises("InvalidRequestException",
                f"The artifact '{location}' is not an artifact of the resource '{AGENT}/1.0.0'."):
        ib.get_marketplace_resource(resourceType="COMPONENT_ARTIFACT", resourceArn=f"{AGENT}/1.0.0",
                                    resourceLocation=location)


@pytest.mark.parametrize("arn", [
    "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x",
    "arn:aws:imagebuilder:us-east-1:123456789012:component/hello/1.0.0/1",
    "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x",
    "arn:aws:imagebuilder:us-east-1:aws-marketplace:image/sample/1.0.0/1",
])
def test_not_a_marketplace_resource(ib, arn):
    builders.component(ib)
    with raises("InvalidRequestException",
                f"The resource '{arn}' is not an AWS Marketplace resource. GetMarketplaceResource accepts the ARN of "
                "an AWS Marketplace or third-party component (owner 'aws-marketplace' or 'third-party')."):
        ib.get_marketplace_resource(resourceType="COMPONENT_DATA", resourceArn=arn)


@pytest.mark.parametrize("arn", [
    f"{PREFIX}:aws-marketplace:component/no-such-product/x.x.x",
    f"{AGENT}/9.0.0",
    f"{AGENT}/1.0.0/2",
    f"{AGENT}",
    f"{AGENT}/1.x.0",
    f"{CIS}/1.0.0/1".replace("us-east-1", "eu-west-1"),
])
def test_unknown_marketplace_component(ib, arn):
    with raises("ForbiddenException", f"You are not entitled to the AWS Marketplace resource '{arn}'."):
        ib.get_marketplace_resource(resourceType="COMPONENT_DATA", resourceArn=arn)


def test_resource_type_is_checked(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'resourceType' is not valid. "
                "'resourceType' must be one of: COMPONENT_DATA, COMPONENT_ARTIFACT."):
        ib.get_marketplace_resource(resourceType="IMAGE", resourceArn=f"{AGENT}/1.0.0")
