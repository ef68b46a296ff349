"""kiln's pytest plugin as a user meets it: a fresh test file, in a folder of its own,
run by a separate pytest process that finds the plugin through its `pytest11` entry
point (nothing imported or configured by hand)."""
from __future__ import annotations

import re
import shutil

import pytest

from clients.support import REPO, aws_cli_command

pytest_plugins = ["pytester"]

USER_TESTS = r'''
import json
import urllib.error
import urllib.request

import boto3
import pytest

PARENT = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"


def make_recipe(ib):
    recipe = ib.create_image_recipe(name="app", semanticVersion="1.0.0", parentImage=PARENT,
                                    components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
    infra = ib.create_infrastructure_configuration(
        name="app", instanceProfileName="EC2InstanceProfileForImageBuilder")["infrastructureConfigurationArn"]
    return recipe, infra


def build(ib, recipe, infra):
    return ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra)["imageBuildVersionArn"]


def status(ib, arn):
    """The build's status and reason (where it failed, failureContext, is checked elsewhere)."""
    state = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]
    return {k: v for k, v in state.items() if k != "failureContext"}


def test_in_process_client(imagebuilder_client, kiln_server):
    from kiln.core import Kiln

    assert isinstance(kiln_server, Kiln)
    arn = build(imagebuilder_client, *make_recipe(imagebuilder_client))
    assert status(imagebuilder_client, arn) == {"status": "AVAILABLE"}
    waiter = imagebuilder_client.get_waiter("image_available")
    waiter.wait(imageBuildVersionArn=arn, WaiterConfig={"Delay": 0.1, "MaxAttempts": 5})


def test_each_test_starts_empty(imagebuilder_client):
    assert imagebuilder_client.list_image_recipes()["imageRecipeSummaryList"] == []


def test_any_boto3_client_reaches_the_in_process_kiln(kiln_server):
    ib = boto3.client("imagebuilder", region_name="us-east-1")
    assert ib.list_images()["imageVersionList"] == []


def test_fail_next_build(imagebuilder_client, kiln_control):
    kiln_control.fail_next_build("TESTING", "Test step failed: the instance did not boot.")
    recipe, infra = make_recipe(imagebuilder_client)
    failed = build(imagebuilder_client, recipe, infra)
    assert status(imagebuilder_client, failed) == {"status": "FAILED", "reason": "Test step failed: the instance did not boot."}
    assert status(imagebuilder_client, build(imagebuilder_client, recipe, infra))["status"] == "AVAILABLE"


@pytest.mark.kiln(build_timing="manual")
def test_manual_builds(imagebuilder_client, kiln_control):
    recipe, infra = make_recipe(imagebuilder_client)
    first, second = build(imagebuilder_client, recipe, infra), build(imagebuilder_client, recipe, infra)
    assert status(imagebuilder_client, first)["status"] == "PENDING"
    assert kiln_control.advance_builds(first) == {first: "BUILDING"}
    kiln_control.fail_build(second, "DISTRIBUTING", "Distribution to us-west-2 failed.")
    assert kiln_control.advance_builds(to_end=True) == {first: "AVAILABLE", second: "FAILED"}
    assert status(imagebuilder_client, second) == {"status": "FAILED", "reason": "Distribution to us-west-2 failed."}


@pytest.mark.kiln(build_timing="60")
def test_clock(imagebuilder_client, kiln_control):
    arn = build(imagebuilder_client, *make_recipe(imagebuilder_client))
    assert status(imagebuilder_client, arn)["status"] == "PENDING"
    kiln_control.advance_clock(60)
    assert status(imagebuilder_client, arn)["status"] == "BUILDING"
    kiln_control.advance_clock(3600)
    assert status(imagebuilder_client, arn)["status"] == "AVAILABLE"
    kiln_control.reset()
    assert imagebuilder_client.list_images()["imageVersionList"] == []


def call(url, method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_server_with_raw_http(kiln_url, kiln_control):
    status_code, _, body = call(kiln_url, "PUT", "/CreateInfrastructureConfiguration",
                                {"name": "raw", "instanceProfileName": "p", "clientToken": "t-1"})
    assert status_code == 200 and body["infrastructureConfigurationArn"].endswith(":infrastructure-configuration/raw")
    status_code, headers, body = call(kiln_url, "GET", "/GetImage?imageBuildVersionArn=" + urllib.request.quote(
        "arn:aws:imagebuilder:us-east-1:123456789012:image/nope/1.0.0/1", safe=""))
    assert status_code == 404
    assert {k.lower(): v for k, v in headers.items()}["x-amzn-errortype"] == "ResourceNotFoundException"
    assert "cannot be found" in body["message"]

    # kiln_control drives the server here (the test uses kiln_url, not kiln_server).
    assert kiln_control.url == kiln_url
    ib = boto3.client("imagebuilder", region_name="us-east-1", endpoint_url=kiln_url,
                      aws_access_key_id="123456789012", aws_secret_access_key="x")
    kiln_control.fail_next_build("BUILDING", "boom")
    recipe, infra = make_recipe(ib)
    assert status(ib, build(ib, recipe, infra)) == {"status": "FAILED", "reason": "boom"}
    kiln_control.advance_clock(86400)  # the next test's reset puts it back
    kiln_control.reset()
    assert ib.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"] == []


def test_server_state_is_reset_between_tests(kiln_url, kiln_control):
    status_code, _, body = call(kiln_url, "POST", "/ListImageRecipes", {})
    assert status_code == 200 and body["imageRecipeSummaryList"] == []
    import time
    assert abs(kiln_control.advance_clock(0) - time.time()) < 600
'''


def test_plugin_fixtures_in_a_fresh_project(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IMAGEBUILDER", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_user_code=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=8)


def test_plugin_reports_a_bad_admin_call(pytester, monkeypatch):
    """Misusing kiln_control fails the user's test with kiln's own explanation."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(test_misuse='''
import pytest

def test_bad_state(kiln_control):
    kiln_control.fail_next_build("AVAILABLE", "never")
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*state must be one of*"])


@pytest.mark.parametrize("option", ["--kiln-build-timing=manual"])
def test_server_build_timing_option(pytester, monkeypatch, option):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(test_timing='''
import boto3

def test_manual_server(kiln_url, kiln_control):
    ib = boto3.client("imagebuilder", region_name="us-east-1", endpoint_url=kiln_url,
                      aws_access_key_id="123456789012", aws_secret_access_key="x")
    recipe = ib.create_image_recipe(name="manual", semanticVersion="1.0.0",
        parentImage="arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x",
        components=[{"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"}])["imageRecipeArn"]
    infra = ib.create_infrastructure_configuration(name="manual", instanceProfileName="p")["infrastructureConfigurationArn"]
    arn = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra)["imageBuildVersionArn"]
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "PENDING"
    assert kiln_control.advance_builds(arn, to_end=True) == {arn: "AVAILABLE"}
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", option)
    result.assert_outcomes(passed=1)


def test_the_documented_example_runs(pytester, monkeypatch):
    """The example in docs/pytest-plugin.md, exactly as printed there."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    doc = (REPO / "docs" / "pytest-plugin.md").read_text()
    example = re.search(r"```python\n(# test_my_pipeline.py.*?)```", doc, re.S).group(1)
    pytester.makepyfile(test_my_pipeline=example)
    args = ["-p", "no:cacheprovider", "-q"]
    cli = aws_cli_command()
    if cli is None or not shutil.which("aws"):
        args += ["-k", "not aws_cli"]
    else:
        monkeypatch.setenv("AWS_CONFIG_FILE", str(pytester.path / "no-aws-config"))
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=5 if "-k" not in args else 4, deselected=0 if "-k" not in args else 1)


def test_request_log_is_python_logging_the_user_controls(pytester, monkeypatch):
    """The in-process kiln logs each request on `kiln.requests` at INFO: caplog (or --log-level) sees it."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(test_logged='''
import logging

import pytest


def test_each_request_is_one_record(imagebuilder_client, caplog):
    with caplog.at_level(logging.INFO, logger="kiln.requests"):
        imagebuilder_client.create_infrastructure_configuration(name="logged", instanceProfileName="p")
        with pytest.raises(imagebuilder_client.exceptions.ResourceNotFoundException):
            imagebuilder_client.get_component(componentBuildVersionArn="arn:aws:imagebuilder:us-east-1:123456789012:component/nope/1.0.0/1")
    records = [r for r in caplog.records if r.name == "kiln.requests"]
    assert [(r.kiln_operation, r.kiln_status, r.kiln_error, r.kiln_account) for r in records] == [
        ("CreateInfrastructureConfiguration", 200, None, "123456789012"),
        ("GetComponent", 404, "ResourceNotFoundException", "123456789012"),
    ]
    assert all(r.kiln_ms >= 0 and len(r.kiln_request_id) == 36 for r in records)
    assert records[1].getMessage().startswith("GetComponent 404 ResourceNotFoundException ")


def test_quiet_unless_asked(imagebuilder_client, caplog):
    imagebuilder_client.list_components()
    assert [r for r in caplog.records if r.name == "kiln.requests"] == []
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
