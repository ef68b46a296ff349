"""ImportComponent through boto3, in-process, against a real server and on PostgreSQL: a SHELL
script wrapped into a one-step component document, then a component like any other (Get,
List, build versions, a recipe, an image build), versioning and errors."""
from __future__ import annotations

import re

import pytest
import yaml

from tests.service.builders import AL2023, infrastructure
from tests.support.errors import raises

ARN = "arn:aws:imagebuilder:us-east-1:123456789012:component"
SCRIPT = "sudo yum update -y\nsudo yum -y install my-app\n"
ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
WAIT = {"Delay": 0.05, "MaxAttempts": 200}

WRAPPED_BUILD = """name: my-app
description: Installs my application
schemaVersion: 1.0
phases:
- name: build
  steps:
  - name: RunScript
    action: ExecuteBash
    inputs:
      commands:
      - |
        sudo yum update -y
        sudo yum -y install my-app
"""


def _import(ib, name="my-app", version="1.0.0", data=SCRIPT, type="BUILD", platform="Linux", **kwargs) -> dict:
    return ib.import_component(name=name, semanticVersion=version, type=type, format="SHELL", platform=platform,
                               data=data, **kwargs)


def _get(ib, arn) -> dict:
    return ib.get_component(componentBuildVersionArn=arn)["component"]


def _commands(component) -> list[str]:
    document = yaml.safe_load(component["data"])
    (phase,) = document["phases"]
    (step,) = phase["steps"]
    return phase["name"], step["action"], step["inputs"]["commands"]


# -- import / get --------------------------------------------------------------------

def test_import_answers_the_model_members(ib):
    r = _import(ib, clientToken="t-1")
    assert r["componentBuildVersionArn"] == f"{ARN}/my-app/1.0.0/1"
    assert r["clientToken"] == "t-1"
    assert re.fullmatch(r"[0-9a-f-]{36}", r["requestId"])
    assert "latestVersionReferences" not in r  # not an ImportComponentResponse member


def test_get_shows_the_wrapped_document(ib):
    arn = _import(ib, description="Installs my application", changeDescription="First.",
                  kmsKeyId="alias/mine", tags={"team": "a"})["componentBuildVersionArn"]
    component = _get(ib, arn)
    assert ISO_MILLIS.match(component.pop("dateCreated"))
    assert component == {
        "arn": arn, "name": "my-app", "version": "1.0.0", "description": "Installs my application",
        "changeDescription": "First.", "type": "BUILD", "platform": "Linux", "state": {"status": "ACTIVE"},
        "owner": "123456789012", "data": WRAPPED_BUILD, "kmsKeyId": "alias/mine", "encrypted": True,
        "tags": {"team": "a"},
    }


def test_type_test_wraps_the_script_in_a_test_phase(ib):
    component = _get(ib, _import(ib, type="TEST")["componentBuildVersionArn"])
    assert component["type"] == "TEST"
    assert _commands(component) == ("test", "ExecuteBash", [SCRIPT])


@pytest.mark.parametrize("platform, action", [("Linux", "ExecuteBash"), ("macOS", "ExecuteBash"),
                                              ("Windows", "ExecutePowerShell")])
def test_the_step_runs_the_script_with_the_platform_shell(ib, platform, action):
    component = _get(ib, _import(ib, platform=platform)["componentBuildVersionArn"])
    assert component["platform"] == platform
    assert _commands(component) == ("build", action, [SCRIPT])


@pytest.mark.parametrize("script", [
    "echo one line",
    "  starts indented\nends with spaces  \n",
    "key: value\n# not a comment to YAML\n'quoted' \"both\"\n\ttab {{ not-a-variable\n",
    "no newline at the end\nlast",
])
def test_the_script_is_kept_exactly(ib, script):
    component = _get(ib, _import(ib, data=script)["componentBuildVersionArn"])
    assert _commands(component)[2] == [script]


def test_imported_component_lists_like_any_component(ib):
    arn = _import(ib)["componentBuildVersionArn"]
    listed = ib.list_components(filters=[{"name": "type", "values": ["BUILD"]}])["componentVersionList"]
    assert [(c["arn"], c["type"], c["platform"]) for c in listed] == [(f"{ARN}/my-app/1.0.0", "BUILD", "Linux")]
    builds = ib.list_component_build_versions(componentVersionArn=f"{ARN}/my-app/1.0.0")["componentSummaryList"]
    assert [b["arn"] for b in builds] == [arn]
    assert _get(ib, f"{ARN}/my-app/x.x.x")["arn"] == arn


def test_imported_components_in_a_recipe_build_an_image(ib):
    build = _import(ib)["componentBuildVersionArn"]
    test = _import(ib, name="my-app-check", data="test -x /usr/bin/my-app\n", type="TEST")["componentBuildVersionArn"]
    recipe = ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage=AL2023,
                                    components=[{"componentArn": f"{ARN}/my-app/x.x.x"}, {"componentArn": test}])
    arn = ib.create_image(imageRecipeArn=recipe["imageRecipeArn"],
                          infrastructureConfigurationArn=infrastructure(ib))["imageBuildVersionArn"]
    ib.get_waiter("image_available").wait(imageBuildVersionArn=arn, WaiterConfig=WAIT)
    image = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert image["state"]["status"] == "AVAILABLE"
    assert [c["componentArn"] for c in image["imageRecipe"]["components"]] == [build, test]
    with raises("ResourceDependencyException",
                f"Resource dependency error: The resource ARN '{build}' has other resources depended on it."):
        ib.delete_component(componentBuildVersionArn=build)


# -- versioning ----------------------------------------------------------------------

def test_same_content_already_exists(ib):
    arn = _import(ib, tags={"a": "1"}, clientToken="first")["componentBuildVersionArn"]
    with raises("ResourceAlreadyExistsException", f"The following resource 'Component' already exists: '{arn}'."):
        _import(ib, tags={"b": "2"}, clientToken="second")  # tags and tokens are not content


def test_different_content_makes_the_next_build(ib):
    first = _import(ib)["componentBuildVersionArn"]
    second = _import(ib, data="echo changed\n")["componentBuildVersionArn"]
    third = _import(ib, data="echo changed\n", type="TEST")["componentBuildVersionArn"]
    fourth = _import(ib, data="echo changed\n", type="TEST", description="Now described.")["componentBuildVersionArn"]
    assert [first, second, third, fourth] == [f"{ARN}/my-app/1.0.0/{n}" for n in (1, 2, 3, 4)]
    assert _get(ib, f"{ARN}/my-app/1.0.0")["arn"] == fourth


def test_import_and_create_share_the_name_and_version(ib):
    created = ib.create_component(name="My App", semanticVersion="1.0.0", platform="Linux",
                                  data=WRAPPED_BUILD)["componentBuildVersionArn"]
    imported = _import(ib, name="my_app")["componentBuildVersionArn"]
    assert (created, imported) == (f"{ARN}/my-app/1.0.0/1", f"{ARN}/my-app/1.0.0/2")


def test_client_token_repeats_the_answer(ib):
    first = _import(ib, clientToken="same")
    again = _import(ib, clientToken="same")
    assert again["componentBuildVersionArn"] == first["componentBuildVersionArn"]
    with raises("IdempotentParameterMismatchException",
                "The client token 'same' was already used with different request parameters for ImportComponent."):
        _import(ib, data="echo other\n", clientToken="same")


# -- errors --------------------------------------------------------------------------

def test_neither_data_nor_uri(ib):
    with raises("InvalidParameterCombinationException", "You must specify exactly one of the parameters 'data' and 'uri'."):
        ib.import_component(name="my-app", semanticVersion="1.0.0", type="BUILD", format="SHELL", platform="Linux")


def test_both_data_and_uri(ib):
    with raises("InvalidParameterCombinationException", "You must specify exactly one of the parameters 'data' and 'uri'."):
        _import(ib, uri="s3://bucket/script.sh")


def test_uri_cannot_be_read_offline(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'uri' is not valid. kiln cannot read 's3://bucket/script.sh': "
                "no S3 is configured. Start kiln with --s3-endpoint-url URL (KILN_S3_ENDPOINT_URL; a moto_server "
                "or MinIO), or use it in-process under moto's mock_aws; or pass the document inline in 'data'."):
        ib.import_component(name="my-app", semanticVersion="1.0.0", type="BUILD", format="SHELL", platform="Linux",
                            uri="s3://bucket/script.sh")
    assert ib.list_components()["componentVersionList"] == []


def test_version_out_of_bounds(ib):
    with raises("InvalidVersionNumberException",
                "Your version number is out of bounds or does not follow the required syntax: '1073741824.0.0'. "
                "Each of <major>.<minor>.<patch> must be an integer from 0 to 1073741823."):
        _import(ib, version="1073741824.0.0")


@pytest.mark.parametrize("field, value, message", [
    ("format", "ZIP", "'format' must be one of: SHELL."),
    ("type", "DEPLOY", "'type' must be one of: BUILD, TEST."),
    ("name", "a", "'name' must match pattern ^[-_A-Za-z-0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z-0-9]$"),
    ("data", "x" * 1025, "'data' must have a length less than or equal to 1024."),
])
def test_fields_checked_against_the_model(ib, field, value, message):
    request = {"name": "my-app", "semanticVersion": "1.0.0", "type": "BUILD", "format": "SHELL", "platform": "Linux",
               "data": SCRIPT, field: value}
    with raises("InvalidParameterValueException", f"The value supplied for parameter '{field}' is not valid. {message}"):
        ib.import_component(**request)
    assert ib.list_components()["componentVersionList"] == []
