"""The AWS-managed catalogue (kiln/catalog) against the botocore model and service-semantics.md 2, 4.3, 4.4, 6, 7."""
from __future__ import annotations

import datetime as dt
import importlib
import re
from importlib import resources

import botocore.session
import pytest
import yaml

from kiln import catalog
from tests.support import shapes
from kiln.catalog import (
    MANAGED_ACCOUNT_ALIAS,
    managed_components,
    managed_images,
    managed_workflows,
)

REGION = "us-east-1"
OTHER_REGION = "eu-west-2"

MODEL = botocore.session.get_session().get_service_model("imagebuilder")

ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
VERSION_NODE = re.compile(r"^(?:0|[1-9][0-9]*)$")


def _model_errors(documents, shape_name):
    """The response checker every service test uses (tests/support/shapes.py, with
    its documented exemptions), applied to catalogue documents."""
    shape = MODEL.shape_for(shape_name)
    return [e for document in documents for e in shapes.check_value(document, shape, document.get("arn", "?"))]


def _input_pattern(operation, member):
    return MODEL.operation_model(operation).input_shape.members[member].metadata["pattern"]


def _arn_tail(arn):
    return arn.split(":", 5)[5]


# --------------------------------------------------------------------------
# model conformance
# --------------------------------------------------------------------------

@pytest.mark.parametrize("loader, shape", [
    (managed_images, "Image"),
    (managed_components, "Component"),
    (managed_workflows, "Workflow"),
])
@pytest.mark.parametrize("region", [REGION, "cn-north-1", "us-gov-west-1"])
def test_documents_conform_to_the_model(loader, shape, region):
    documents = loader(region)
    assert documents
    errors = _model_errors(documents, shape)
    assert not errors, "\n".join(errors[:40])


def test_the_walker_catches_problems():
    bad = {
        "arn": "arn:aws:imagebuilder:us-east-1:aws:image/Bad Name/1.0.0/1",
        "type": "VM",
        "platform": "Linux",
        "bogus": 1,
        "state": {"status": "AVAILABLE", "extra": True},
        "outputResources": {"amis": [{"region": "us-east-1", "image": 5}]},
        "enhancedImageMetadataEnabled": "yes",
    }
    errors = _model_errors([bad], "Image")
    joined = "\n".join(errors)
    for needle in ("bogus: not a member", "does not match", "is not one of the ImageType values", "extra: not a member",
                   "image: expected a string", "expected a boolean"):
        assert needle in joined
    errors = _model_errors([{"arn": "x", "parameters": [{"name": "p"}]}], "Component")
    assert any("required member ComponentParameterDetail.type missing" in e for e in errors)


def test_arns_match_the_get_operation_input_patterns():
    image_inputs = [_input_pattern("GetImage", "imageBuildVersionArn"),
                    MODEL.shape_for("ImageBuildVersionArn").metadata["pattern"]]
    for image in managed_images(REGION):
        for pattern in image_inputs:
            assert re.match(pattern, image["arn"]), (pattern, image["arn"])
    component_input = _input_pattern("GetComponent", "componentBuildVersionArn")
    for component in managed_components(REGION):
        assert re.match(component_input, component["arn"]), component["arn"]
        # the version ARN (no build) resolves through GetComponent too (Terraform uses update-linux/1.0.0)
        version_arn = component["arn"].rsplit("/", 1)[0]
        assert re.match(component_input, version_arn)
    workflow_input = _input_pattern("GetWorkflow", "workflowBuildVersionArn")
    for workflow in managed_workflows(REGION):
        assert re.match(workflow_input, workflow["arn"]), workflow["arn"]


def test_arns_use_the_managed_owner_and_the_region_partition():
    for region, partition in [(REGION, "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]:
        for document in managed_images(region) + managed_components(region) + managed_workflows(region):
            prefix = f"arn:{partition}:imagebuilder:{region}:{MANAGED_ACCOUNT_ALIAS}:"
            assert document["arn"].startswith(prefix), document["arn"]


def test_arns_are_unique():
    for loader in (managed_images, managed_components, managed_workflows):
        arns = [d["arn"] for d in loader(REGION)]
        assert len(arns) == len(set(arns))


# --------------------------------------------------------------------------
# versions and dates
# --------------------------------------------------------------------------

def test_versions_have_no_leading_zeros_and_match_the_arn():
    for image in managed_images(REGION):
        semver, build = image["version"].split("/")
        nodes = semver.split(".") + [build]
        assert len(nodes) == 4 and all(VERSION_NODE.match(n) for n in nodes), image["version"]
        assert image["arn"].endswith(f"/{semver}/{build}")
    for document in managed_components(REGION) + managed_workflows(REGION):
        nodes = document["version"].split(".")
        assert len(nodes) == 3 and all(VERSION_NODE.match(n) for n in nodes), document["version"]
        assert document["arn"].endswith(f"/{document['version']}/1")
        assert all(int(n) < 2 ** 30 for n in nodes)


def test_dates_are_iso_utc_with_milliseconds():
    for document in managed_images(REGION) + managed_components(REGION) + managed_workflows(REGION):
        created = document["dateCreated"]
        assert ISO_MILLIS.match(created), created
        dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ")
        assert created < "2026-01-01"


def test_image_dates_follow_the_date_like_versions():
    for image in managed_images(REGION):
        semver, build = image["version"].split("/")
        year, month, day = (int(n) for n in semver.split("."))
        expected = dt.date(year, month, day) + dt.timedelta(days=int(build) - 1)
        assert image["dateCreated"].startswith(expected.isoformat()), image["arn"]


def test_later_versions_are_not_older():
    def key(document):
        semver, _, build = document["version"].partition("/")
        return tuple(int(n) for n in semver.split(".")) + (int(build or 1),)

    for loader in (managed_images, managed_components, managed_workflows):
        families: dict[str, list[dict]] = {}
        for document in loader(REGION):
            families.setdefault(document["arn"].split("/")[-3], []).append(document)
        for builds in families.values():
            ordered = sorted(builds, key=key)
            dates = [b["dateCreated"] for b in ordered]
            assert dates == sorted(dates), [b["arn"] for b in ordered]


# --------------------------------------------------------------------------
# images (spec 4.3 and 7)
# --------------------------------------------------------------------------

AMI_FAMILIES = [
    "amazon-linux-2-x86", "amazon-linux-2-arm64", "amazon-linux-2023-x86", "amazon-linux-2023-arm64",
    "ubuntu-server-18-lts-x86", "ubuntu-server-20-lts-x86",
    "ubuntu-server-22-lts-x86", "ubuntu-server-22-lts-arm64", "ubuntu-server-24-lts-x86",
    "ubuntu-server-24-lts-arm64", "red-hat-enterprise-linux-10-x86", "red-hat-enterprise-linux-10-arm64",
    "suse-linux-enterprise-server-15-x86", "suse-linux-enterprise-server-15-arm64",
    *[f"windows-server-{year}-english-{edition}-base-x86"
      for year in (2016, 2019, 2022, 2025) for edition in ("full", "core")],
    "macos-sonoma-x86", "macos-sonoma-arm64", "macos-sequoia-x86", "macos-sequoia-arm64",
]
CONTAINER_FAMILIES = [
    "amazon-linux-x86-2", "amazon-linux-2023-x86-2023", "amazon-linux-x86-latest", "ubuntu-22-x86-22-04",
    "ubuntu-24-x86-24-04", "windows-server-2016-x86-core-ltsc2016-amd64",
    "windows-server-2019-x86-core-ltsc2019-amd64",
]


def _image_families(region=REGION):
    families: dict[str, list[dict]] = {}
    for image in managed_images(region):
        families.setdefault(_arn_tail(image["arn"]).split("/")[1], []).append(image)
    return families


def test_every_base_image_from_the_spec_is_present():
    families = _image_families()
    assert set(families) == set(AMI_FAMILIES) | set(CONTAINER_FAMILIES)
    for key in AMI_FAMILIES:
        assert {i["type"] for i in families[key]} == {"AMI"}
    for key in CONTAINER_FAMILIES:
        assert {i["type"] for i in families[key]} == {"DOCKER"}


# Retired releases the catalog holds only because public recipes pin them: no more
# versions than the evidence shows (docs/catalog.md).
EVIDENCE_ONLY_FAMILIES = {"ubuntu-server-18-lts-x86"}


def test_each_image_family_has_versions_to_resolve_between():
    for key, builds in _image_families().items():
        versions = {b["version"].split("/")[0] for b in builds}
        if key in EVIDENCE_ONLY_FAMILIES:
            assert versions, key
            continue
        assert len(versions) >= 3, key
        months = {v.split(".")[1] for v in versions}
        assert len(months) >= 3, key  # so 2025.10.x and 2025.x.x pick different builds
        assert len({(b["name"], b["platform"], b["osVersion"], b["type"]) for b in builds}) == 1


def test_one_version_has_two_builds():
    versions = [i["version"] for i in managed_images(REGION) if "/amazon-linux-2023-x86/" in i["arn"]]
    assert "2025.10.20/1" in versions and "2025.10.20/2" in versions


def test_amazon_linux_2_matches_the_terraform_data_source():
    al2 = [i for i in managed_images(REGION) if "/amazon-linux-2-x86/" in i["arn"]]
    latest = max(al2, key=lambda i: tuple(int(n) for n in re.split(r"[./]", i["version"])))
    assert latest["name"] == "Amazon Linux 2 x86"
    assert latest["osVersion"] == "Amazon Linux 2"
    assert latest["platform"] == "Linux"
    assert latest["enhancedImageMetadataEnabled"] is True
    assert latest["tags"] == {}
    assert re.search(r"image/amazon-linux-2-x86/\d+\.\d+\.\d+/\d+$", latest["arn"])
    assert re.fullmatch(r"\d+\.\d+\.\d+/\d+", latest["version"])


def test_managed_images_carry_no_recipe_or_configurations():
    for image in managed_images(REGION):
        for absent in ("imageRecipe", "containerRecipe", "infrastructureConfiguration",
                       "distributionConfiguration", "imageTestsConfiguration", "sourcePipelineArn",
                       "sourcePipelineName", "workflows", "executionRole", "scanState",
                       "imageScanningConfiguration", "deprecationTime", "lifecycleExecutionId"):
            assert absent not in image, (image["arn"], absent)
        assert image["state"] == {"status": "AVAILABLE"}
        assert image["imageSource"] == "AMAZON_MANAGED"
        assert image["tags"] == {}


def test_display_name_maps_to_the_arn_name_segment():
    # service-semantics.md 2.2: lowercase, spaces and underscores become hyphens.
    for image in managed_images(REGION):
        segment = _arn_tail(image["arn"]).split("/")[1]
        assert re.sub(r"[ _]", "-", image["name"].lower()) == segment


def test_ami_outputs():
    ids = []
    for image in managed_images(REGION):
        outputs = image["outputResources"]
        if image["type"] == "AMI":
            assert list(outputs) == ["amis"] and len(outputs["amis"]) == 1
            ami = outputs["amis"][0]
            assert re.match(r"^ami-[0-9a-f]{17}$", ami["image"])
            assert ami["region"] == REGION
            assert re.fullmatch(r"[0-9]{12}", ami["accountId"])
            assert ami["name"] == f"{image['name']} {image['dateCreated'].replace(':', '-')}"
            ids.append(ami["image"])
        else:
            assert list(outputs) == ["containers"] and len(outputs["containers"]) == 1
            container = outputs["containers"][0]
            assert container["region"] == REGION
            (uri,) = container["imageUris"]
            assert uri.endswith(":" + image["version"].replace("/", "-"))
            assert f".dkr.ecr.{REGION}." in uri
    assert len(ids) == len(set(ids))


def test_platforms_and_os_versions():
    for image in managed_images(REGION):
        key = _arn_tail(image["arn"]).split("/")[1]
        if key.startswith("windows"):
            assert image["platform"] == "Windows"
            assert image["osVersion"].startswith("Microsoft Windows Server ")
        elif key.startswith("macos"):
            assert image["platform"] == "macOS"
        else:
            assert image["platform"] == "Linux"


# --------------------------------------------------------------------------
# components (spec 5 and 7)
# --------------------------------------------------------------------------

COMPONENT_NAMES = {
    "update-linux", "update-windows", "aws-cli-version-2-linux", "aws-cli-version-2-windows",
    "hello-world-linux", "hello-world-windows", "python-3-linux", "python-3-windows",
    "reboot-linux", "reboot-windows",
    *[f"stig-build-{os}{level}" for os in ("linux", "windows") for level in ("", "-low", "-medium", "-high")],
    "amazon-cloudwatch-agent-linux", "amazon-cloudwatch-agent-windows", "aws-codedeploy-agent-linux",
    "docker-ce-linux", "chocolatey", "windows-server-iis", "reboot-test-linux", "simple-boot-test-linux",
    "inspector-test-linux", "apt-repository-test-linux",
    "docker-ce-ubuntu", "nodejs-12-lts-linux", "powershell-windows",
}
# The severity-level STIG components keep their published history (docs/catalog.md).
STIG_LEVELS = {f"stig-build-{os}-{level}" for os in ("linux", "windows") for level in ("low", "medium", "high")}


def _by_name(documents):
    result: dict[str, list[dict]] = {}
    for document in documents:
        result.setdefault(document["name"], []).append(document)
    return result


def test_every_component_from_the_spec_is_present():
    components = _by_name(managed_components(REGION))
    assert set(components) == COMPONENT_NAMES
    for name, builds in components.items():
        assert 1 <= len(builds) <= (11 if name in STIG_LEVELS else 3), name
        for build in builds:
            assert _arn_tail(build["arn"]).split("/")[1] == name


def test_update_linux_versions():
    versions = [c["version"] for c in managed_components(REGION) if c["name"] == "update-linux"]
    assert versions == ["1.0.0", "1.0.1", "1.0.2"]
    arns = {c["arn"] for c in managed_components(REGION)}
    assert f"arn:aws:imagebuilder:{REGION}:aws:component/update-linux/1.0.0/1" in arns


def test_component_fixed_fields():
    for component in managed_components(REGION):
        assert component["owner"] == "Amazon"
        assert component["encrypted"] is True
        assert component["state"] == {"status": "ACTIVE"}
        assert component["tags"] == {}
        assert "kmsKeyId" not in component
        platform = component["platform"]
        assert platform in ("Linux", "Windows")
        if component["name"].endswith("-linux") or "-linux-" in component["name"]:
            assert platform == "Linux"
        if component["name"].endswith("-windows") or "-windows-" in component["name"]:
            assert platform == "Windows"


def test_component_documents_are_awstoe_yaml():
    for component in managed_components(REGION):
        document = yaml.safe_load(component["data"])
        assert isinstance(document, dict)
        assert document["schemaVersion"] == 1.0
        assert set(document) <= {"name", "description", "schemaVersion", "parameters", "constants", "phases"}
        phases = [phase["name"] for phase in document["phases"]]
        assert phases and set(phases) <= {"build", "validate", "test"}
        for phase in document["phases"]:
            names = [step["name"] for step in phase["steps"]]
            assert len(names) == len(set(names))
            for step in phase["steps"]:
                assert re.fullmatch(r"[0-9A-Za-z_-]+", step["name"])
                assert "action" in step
        assert len(component["data"]) <= 16000


def test_component_type_agrees_with_phases():
    for component in managed_components(REGION):
        phases = [phase["name"] for phase in yaml.safe_load(component["data"])["phases"]]
        assert component["type"] == ("TEST" if phases == ["test"] else "BUILD"), component["name"]
    types = {c["name"]: c["type"] for c in managed_components(REGION)}
    for name in ("reboot-test-linux", "simple-boot-test-linux", "inspector-test-linux", "apt-repository-test-linux"):
        assert types[name] == "TEST"
    assert types["update-linux"] == types["hello-world-linux"] == "BUILD"


def test_component_parameters_come_from_the_document():
    with_parameters = 0
    for component in managed_components(REGION):
        declared = yaml.safe_load(component["data"]).get("parameters") or []
        if not declared:
            assert "parameters" not in component
            continue
        with_parameters += 1
        expected = []
        for entry in declared:
            (name, spec), = entry.items()
            detail = {"name": name, "type": spec["type"]}
            if "default" in spec:
                detail["defaultValue"] = [str(spec["default"])]
            if "description" in spec:
                detail["description"] = spec["description"]
            expected.append(detail)
        assert component["parameters"] == expected
    assert with_parameters


def test_component_documents_pass_the_create_component_validator():
    try:
        module = importlib.import_module("kiln.service.component_documents")
    except ImportError:
        pytest.skip("kiln.service.component_documents (parse_component_document) is not available")
    for component in managed_components(REGION):
        parsed = module.parse_component_document(component["data"])
        assert parsed.type == component["type"], component["name"]
        assert parsed.parameters == component.get("parameters", []), component["name"]


def test_supported_os_versions_prefix_match_a_managed_image():
    os_versions = {(i["platform"], i["osVersion"]) for i in managed_images(REGION)}
    for component in managed_components(REGION):
        for supported in component["supportedOsVersions"]:
            assert any(platform == component["platform"] and os.startswith(supported)
                       for platform, os in os_versions), (component["name"], supported)


# --------------------------------------------------------------------------
# workflows (spec 4.4, 6, 7)
# --------------------------------------------------------------------------

BUILD_IMAGE_STEPS = [
    ("LaunchBuildInstance", "LaunchInstance"), ("ApplyBuildComponents", "ExecuteComponents"),
    ("InventoryCollection", "CollectImageMetadata"), ("RunSanitizeScript", "SanitizeInstance"),
    ("RunSysPrepScript", "RunSysPrep"), ("CreateOutputAMI", "CreateImage"),
    ("TerminateBuildInstance", "TerminateInstance"),
]
ACTIONS_FILE = yaml.safe_load((resources.files("kiln.catalog") / "workflow_actions.yaml").read_text())
WORKFLOW_ACTIONS = ACTIONS_FILE["actions"]
# Actions the current User Guide documents and a managed document uses, but which kiln's
# CreateWorkflow validator (kiln/service/workflow_documents.py ACTIONS) does not know yet.
# A managed document may be rejected by the validator only for one of these; once the
# validator knows the action, the document is fully validated again.
VALIDATOR_GAPS = {"DistributeContainerImage"}
STAGE = {"BUILD": 0, "TEST": 1, "DISTRIBUTION": 2}


def _workflow(name, version):
    (match,) = [w for w in managed_workflows(REGION) if w["name"] == name and w["version"] == version]
    return match


def test_every_workflow_from_the_spec_is_present():
    tails = {"/".join(_arn_tail(w["arn"]).split("/")[1:3]) for w in managed_workflows(REGION)}
    assert tails == {"build/build-image", "test/test-image", "distribution/distribute-image",
                     "build/build-container", "test/test-container", "distribution/distribute-container"}
    segment = {"BUILD": "build", "TEST": "test", "DISTRIBUTION": "distribution"}
    for workflow in managed_workflows(REGION):
        assert _arn_tail(workflow["arn"]).split("/")[1] == segment[workflow["type"]]
        assert _arn_tail(workflow["arn"]).split("/")[2] == workflow["name"]


def test_build_image_and_test_image_steps():
    build = _workflow("build-image", "1.0.3")
    assert build["arn"] == f"arn:aws:imagebuilder:{REGION}:aws:workflow/build/build-image/1.0.3/1"
    steps = yaml.safe_load(build["data"])["steps"]
    assert [(s["name"], s["action"]) for s in steps] == BUILD_IMAGE_STEPS
    test = yaml.safe_load(_workflow("test-image", "1.0.3")["data"])["steps"]
    assert len(test) == 4


def test_workflow_fixed_fields_and_documents():
    for workflow in managed_workflows(REGION):
        assert workflow["owner"] == "Amazon"
        assert workflow["tags"] == {}
        assert "state" not in workflow  # WorkflowStatus is only DEPRECATED
        assert "kmsKeyId" not in workflow
        document = yaml.safe_load(workflow["data"])
        assert document["schemaVersion"] == 1.0
        assert set(document) <= {"name", "description", "schemaVersion", "parameters", "steps", "outputs"}
        names = [step["name"] for step in document["steps"]]
        assert len(names) == len(set(names))
        for step in document["steps"]:
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9-_]{1,99}", step["name"])
            assert step["action"] in WORKFLOW_ACTIONS
        if not document.get("parameters"):
            assert "parameters" not in workflow


def test_workflow_documents_pass_the_create_workflow_validator():
    try:
        module = importlib.import_module("kiln.service.workflow_documents")
    except ImportError:
        pytest.skip("kiln.service.workflow_documents (parse_workflow_document) is not available")
    gaps = VALIDATOR_GAPS - set(module.ACTIONS)
    for workflow in managed_workflows(REGION):
        used = {step["action"] for step in yaml.safe_load(workflow["data"])["steps"]}
        if used & gaps:
            # Known gap: the validator must reject it for the unknown action and nothing else.
            with pytest.raises(Exception, match="unknown action '(" + "|".join(sorted(used & gaps)) + ")'"):
                module.parse_workflow_document(workflow["data"], workflow["type"])
            continue
        parsed = module.parse_workflow_document(workflow["data"], workflow["type"])
        assert parsed.parameters == workflow.get("parameters", []), workflow["name"]


def _steps(workflow):
    return yaml.safe_load(workflow["data"])["steps"]


def _paths(value):
    """(key, JSONPath) pairs of a step's inputs: keys ending in `.$`, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                yield key, item
            else:
                yield from _paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item)


def _condition_values(condition):
    if isinstance(condition, dict):
        for key, item in condition.items():
            if key == "value" and isinstance(item, str) and item.startswith("$"):
                yield item
            else:
                yield from _condition_values(item)
    elif isinstance(condition, list):
        for item in condition:
            yield from _condition_values(item)


def test_workflow_actions_file_is_complete():
    try:
        validator_actions = set(importlib.import_module("kiln.service.workflow_documents").ACTIONS)
    except ImportError:
        validator_actions = set()
    assert validator_actions <= set(WORKFLOW_ACTIONS)
    for name, action in WORKFLOW_ACTIONS.items():
        timeout = action["timeoutSeconds"]
        assert 0 < timeout["default"] <= timeout["max"], name
        assert action["maxAttempts"] == 1, name  # no retry unless the step configures one (model)
        assert action["rollback"] is False or isinstance(action["rollback"], str), name
        assert action["stages"] and set(action["stages"]) <= set(STAGE), name
        for entry in action["inputs"]:
            assert entry["required"] in (True, False, "conditional"), (name, entry)
        assert all(entry["name"] for entry in action["outputs"]), name
    # the values the public step-execution samples show
    assert WORKFLOW_ACTIONS["LaunchInstance"]["timeoutSeconds"]["default"] == 4500
    assert [o["name"] for o in WORKFLOW_ACTIONS["LaunchInstance"]["outputs"]] == ["instanceId"]
    assert [o["name"] for o in WORKFLOW_ACTIONS["CreateImage"]["outputs"]] == ["imageId"]
    assert {o["name"] for o in WORKFLOW_ACTIONS["CollectImageMetadata"]["outputs"]} == {"osVersion", "associationId"}
    assert WORKFLOW_ACTIONS["TerminateInstance"]["outputs"] == []


def test_managed_steps_use_documented_actions_in_their_stage_with_their_required_inputs():
    for workflow in managed_workflows(REGION):
        for step in _steps(workflow):
            action = WORKFLOW_ACTIONS.get(step["action"])
            assert action is not None, (workflow["name"], step["name"], step["action"])
            assert workflow["type"] in action["stages"], (workflow["name"], step["name"])
            given = {key[:-2] if key.endswith(".$") else key for key in step.get("inputs") or {}}
            for entry in action["inputs"]:
                if entry["required"] is True and ":" not in entry["name"]:
                    assert entry["name"].removesuffix(".$") in given, (workflow["name"], step["name"], entry["name"])
            known = {entry["name"].removesuffix(".$") for entry in action["inputs"]}
            assert given <= known, (workflow["name"], step["name"], given - known)
            assert step.get("onFailure", "Abort") in ("Abort", "Continue")
            if "timeoutSeconds" in step:
                assert 0 < step["timeoutSeconds"] <= action["timeoutSeconds"]["max"]


def test_managed_references_point_at_earlier_steps_and_real_outputs():
    workflows = managed_workflows(REGION)
    for workflow in workflows:
        steps = _steps(workflow)
        document = yaml.safe_load(workflow["data"])
        declared = {p["name"] for p in document.get("parameters") or []}
        # workflow outputs of the same family's earlier stages (build-container -> distribute-container)
        family = workflow["name"].split("-", 1)[1]
        earlier_outputs = {
            output["name"]
            for other in workflows
            if other["name"].split("-", 1)[1] == family and STAGE[other["type"]] < STAGE[workflow["type"]]
            for output in yaml.safe_load(other["data"]).get("outputs") or []
        }

        def check(path, position, where):
            parts = path.split(".")
            assert parts[0] == "$", (workflow["name"], where, path)
            root = parts[1]
            if root == "stepOutputs":
                target, output = parts[2], parts[3]
                earlier = {s["name"]: s["action"] for s in steps[:position]}
                assert target in earlier, (workflow["name"], where, path)
                outputs = {o["name"] for o in WORKFLOW_ACTIONS[earlier[target]]["outputs"]}
                assert output in outputs, (workflow["name"], where, path)
            elif root == "parameters":
                assert parts[2] in declared, (workflow["name"], where, path)
            elif root == "workflowOutputs":
                assert parts[2] in earlier_outputs, (workflow["name"], where, path)
            else:
                assert root == "imagebuilder", (workflow["name"], where, path)

        for position, step in enumerate(steps):
            for _, path in _paths(step.get("inputs") or {}):
                check(path, position, step["name"])
            for path in _condition_values(step.get("if")):
                check(path, position, step["name"])
        for output in document.get("outputs") or []:
            check(output["value"], len(steps), "outputs")


def test_container_build_hands_its_instance_to_distribution():
    build = yaml.safe_load(_workflow("build-container", "1.0.1")["data"])
    assert [s["action"] for s in build["steps"]] == ["LaunchInstance", "BootstrapInstanceForContainer", "ExecuteComponents"]
    assert build["outputs"] == [{"name": "InstanceId", "value": "$.stepOutputs.LaunchBuildInstance.instanceId"}]
    distribute = _steps(_workflow("distribute-container", "1.0.0"))
    assert [s["action"] for s in distribute] == ["DistributeContainerImage", "TerminateInstance"]
    assert distribute[-1]["inputs"] == {"instanceId.$": "$.workflowOutputs.InstanceId"}
    assert [s["action"] for s in _steps(_workflow("distribute-image", "1.0.0"))] == [
        "DistributeImage", "ModifyImageAttributes", "ApplyImageConfigurations"]


def test_workflow_parameter_conversion():
    document = yaml.safe_load("""
        parameters:
          - name: waitForActionAtEnd
            type: boolean
            default: true
            description: Wait at the end
          - name: regions
            type: stringList
            default: [us-east-1, eu-west-1]
          - name: instanceProfile
            type: string
    """)
    assert catalog._workflow_parameters(document) == [
        {"name": "waitForActionAtEnd", "type": "boolean", "defaultValue": ["true"], "description": "Wait at the end"},
        {"name": "regions", "type": "stringList", "defaultValue": ["us-east-1", "eu-west-1"]},
        {"name": "instanceProfile", "type": "string"},
    ]


# --------------------------------------------------------------------------
# caching and regions
# --------------------------------------------------------------------------

@pytest.mark.parametrize("loader", [managed_images, managed_components, managed_workflows])
def test_lists_are_cached_per_region(loader):
    first = loader(REGION)
    assert loader(REGION) is first
    assert loader(REGION) == first
    assert loader(OTHER_REGION) is not first


@pytest.mark.parametrize("loader", [managed_images, managed_components, managed_workflows])
def test_regions_differ_only_in_region_specific_values(loader):
    here, there = loader(REGION), loader(OTHER_REGION)
    assert len(here) == len(there)
    assert not {d["arn"] for d in here} & {d["arn"] for d in there}
    assert [_arn_tail(d["arn"]) for d in here] == [_arn_tail(d["arn"]) for d in there]
    assert [d["dateCreated"] for d in here] == [d["dateCreated"] for d in there]


def test_ami_ids_differ_between_regions():
    def ids(region):
        return {i["outputResources"]["amis"][0]["image"] for i in managed_images(region) if i["type"] == "AMI"}

    assert not ids(REGION) & ids(OTHER_REGION)
    assert all(i["outputResources"]["amis"][0]["region"] == OTHER_REGION
               for i in managed_images(OTHER_REGION) if i["type"] == "AMI")


def test_documents_do_not_share_mutable_parts():
    components = managed_components(REGION)
    lists = [id(c["supportedOsVersions"]) for c in components] + [id(c["state"]) for c in components]
    assert len(lists) == len(set(lists))


# --------------------------------------------------------------------------
# entries from public evidence (docs/catalog.md), through the API
# --------------------------------------------------------------------------

AWS = f"arn:aws:imagebuilder:{REGION}:aws"


def test_historic_versions_public_code_pins_are_kept():
    images = {_arn_tail(i["arn"]) for i in managed_images(REGION)}
    for tail in ("image/amazon-linux-2-x86/2019.11.21/1", "image/amazon-linux-2-x86/2020.5.27/1",
                 "image/windows-server-2016-english-full-base-x86/2019.12.17/1",
                 "image/ubuntu-server-20-lts-x86/2023.5.2/1", "image/amazon-linux-2-arm64/2024.12.17/1"):
        assert tail in images, tail
    components = {_arn_tail(c["arn"]) for c in managed_components(REGION)}
    for tail in ("component/stig-build-linux-high/2.6.0/1", "component/stig-build-linux-high/2022.4.0/1",
                 "component/stig-build-windows-high/1.5.0/1", "component/docker-ce-ubuntu/1.0.0/1",
                 "component/update-linux/1.0.2/1", "component/aws-cli-version-2-linux/1.0.4/1",
                 "component/nodejs-12-lts-linux/1.0.1/1", "component/powershell-windows/7.2.10/1"):
        assert tail in components, tail
    workflows = {_arn_tail(w["arn"]) for w in managed_workflows(REGION)}
    for tail in ("workflow/build/build-image/1.0.0/1", "workflow/test/test-image/1.0.0/1",
                 "workflow/build/build-image/1.0.3/1", "workflow/test/test-image/1.0.3/1"):
        assert tail in workflows, tail


def test_stig_level_components_share_the_published_history():
    def versions(name):
        return [c["version"] for c in managed_components(REGION) if c["name"] == name]

    linux = versions("stig-build-linux-high")
    assert linux[:7] == ["2.6.0", "3.4.3", "3.5.1", "3.6.0", "2022.2.1", "2022.3.2", "2022.4.0"]
    assert versions("stig-build-linux-low") == versions("stig-build-linux-medium") == linux
    assert versions("stig-build-windows-high")[:3] == ["1.4.0", "1.5.0", "2022.4.0"]
    # the combined component (with a level parameter) is recent: no history before 2025
    assert versions("stig-build-linux") == ["2025.2.0", "2025.3.0", "2025.4.0"]


def test_get_image_historic_amazon_linux_2(ib):
    image = ib.get_image(imageBuildVersionArn=f"{AWS}:image/amazon-linux-2-x86/2019.11.21/1")["image"]
    assert image["arn"] == f"{AWS}:image/amazon-linux-2-x86/2019.11.21/1"
    assert (image["name"], image["version"], image["platform"], image["osVersion"]) == \
        ("Amazon Linux 2 x86", "2019.11.21/1", "Linux", "Amazon Linux 2")
    assert image["dateCreated"].startswith("2019-11-21T")
    assert image["state"] == {"status": "AVAILABLE"}
    # the version ARN without a build resolves to the same build
    again = ib.get_image(imageBuildVersionArn=f"{AWS}:image/amazon-linux-2-x86/2020.5.27")["image"]
    assert again["arn"] == f"{AWS}:image/amazon-linux-2-x86/2020.5.27/1"


def test_get_image_historic_windows_server_2016(ib):
    arn = f"{AWS}:image/windows-server-2016-english-full-base-x86/2019.12.17/1"
    image = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert image["arn"] == arn
    assert (image["name"], image["platform"], image["osVersion"]) == \
        ("Windows Server 2016 English Full Base x86", "Windows", "Microsoft Windows Server 2016")
    # 2019.x.x (the AWS CLI list-image-recipes example) resolves to this build
    older = ib.get_image(imageBuildVersionArn=f"{AWS}:image/windows-server-2016-english-full-base-x86/2019.x.x")
    assert older["image"]["arn"] == arn


def test_get_image_ubuntu_server_20(ib):
    image = ib.get_image(imageBuildVersionArn=f"{AWS}:image/ubuntu-server-20-lts-x86/x.x.x")["image"]
    assert image["arn"] == f"{AWS}:image/ubuntu-server-20-lts-x86/2023.5.2/1"
    assert (image["name"], image["platform"], image["osVersion"], image["type"]) == \
        ("Ubuntu Server 20 LTS x86", "Linux", "Ubuntu 20", "AMI")


def test_get_component_stig_build_linux_high_2_6_0(ib):
    component = ib.get_component(componentBuildVersionArn=f"{AWS}:component/stig-build-linux-high/2.6.0")["component"]
    assert component["arn"] == f"{AWS}:component/stig-build-linux-high/2.6.0/1"
    assert (component["name"], component["version"], component["platform"], component["owner"]) == \
        ("stig-build-linux-high", "2.6.0", "Linux", "Amazon")
    assert component["dateCreated"].startswith("2020-05-27T")


def test_get_component_docker_ce_ubuntu(ib):
    component = ib.get_component(componentBuildVersionArn=f"{AWS}:component/docker-ce-ubuntu/x.x.x")["component"]
    assert component["arn"] == f"{AWS}:component/docker-ce-ubuntu/1.0.0/1"
    assert (component["type"], component["platform"], component["supportedOsVersions"]) == ("BUILD", "Linux", ["Ubuntu"])
    assert "docker-ce" in component["data"] and "apt-get" in component["data"]


def test_docker_ce_ubuntu_fits_an_ubuntu_recipe(ib):
    # the public pairing: docker-ce-ubuntu/1.0.0/1 on ubuntu-server-20-lts-x86
    ib.create_image_recipe(name="docker-host", semanticVersion="1.0.0",
                           parentImage=f"{AWS}:image/ubuntu-server-20-lts-x86/x.x.x",
                           components=[{"componentArn": f"{AWS}:component/docker-ce-ubuntu/1.0.0/1"}])


@pytest.mark.parametrize("tail, steps", [("build/build-image", 7), ("test/test-image", 4)])
def test_get_workflow_1_0_0(ib, tail, steps):
    workflow = ib.get_workflow(workflowBuildVersionArn=f"{AWS}:workflow/{tail}/1.0.0")["workflow"]
    assert workflow["arn"] == f"{AWS}:workflow/{tail}/1.0.0/1"
    assert (workflow["name"], workflow["version"], workflow["owner"]) == (tail.split("/")[1], "1.0.0", "Amazon")
    # the step counts ListWorkflowExecutions reported for 1.0.0 (totalStepCount 7 and 4)
    assert len(yaml.safe_load(workflow["data"])["steps"]) == steps


# --------------------------------------------------------------------------
# sample AWS Marketplace and third-party components (marketplace.yaml)
# --------------------------------------------------------------------------

MARKETPLACE_SEGMENT = {"ThirdParty": "third-party", "AWSMarketplace": "aws-marketplace"}


@pytest.mark.parametrize("region", [REGION, "cn-north-1", "us-gov-west-1"])
def test_marketplace_components_conform_to_the_model(region):
    documents = catalog.marketplace_components(region)
    assert documents
    errors = _model_errors(documents, "Component")
    assert not errors, "\n".join(errors[:40])


def test_marketplace_samples_are_marked_and_owned():
    documents = catalog.marketplace_components(REGION)
    assert {d["owner"] for d in documents} == {"ThirdParty", "AWSMarketplace"}
    pattern = _input_pattern("GetComponent", "componentBuildVersionArn")
    code_pattern = MODEL.shape_for("ProductCodeId").metadata["pattern"]
    for d in documents:
        assert d["description"].startswith("SAMPLE "), d["name"]
        assert d["arn"].startswith(f"arn:aws:imagebuilder:{REGION}:{MARKETPLACE_SEGMENT[d['owner']]}:component/")
        assert re.match(pattern, d["arn"]) and re.match(pattern, d["arn"].rsplit("/", 1)[0]), d["arn"]
        assert ("publisher" in d) == (d["owner"] == "ThirdParty"), d["name"]
        assert d["obfuscate"] is True and "data" not in d
        assert d["productCodes"] and all(
            re.match(code_pattern, p["productCodeId"]) and p["productCodeId"].startswith("kiln")
            and p["productCodeType"] == "marketplace" for p in d["productCodes"])
        if d["owner"] == "AWSMarketplace":  # <name>-prod-<product id>, as Marketplace names read
            assert re.search(r"-prod-kiln[a-z0-9]+/", d["arn"]), d["arn"]
    arns = [d["arn"] for d in documents]
    assert len(arns) == len(set(arns))


def test_marketplace_resources_pass_the_create_component_validator():
    module = importlib.import_module("kiln.service.component_documents")
    resources_by_arn = catalog.marketplace_resources(REGION)
    documents = catalog.marketplace_components(REGION)
    assert set(resources_by_arn) == {d["arn"] for d in documents}
    for d in documents:
        resource = resources_by_arn[d["arn"]]
        parsed = module.parse_component_document(resource["data"])
        assert parsed.type == d["type"] and parsed.parameters == d.get("parameters", []), d["name"]
        for location in resource["artifacts"]:  # every artifact is one the document downloads
            assert location.startswith("s3://") and location in resource["data"], location
