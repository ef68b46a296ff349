"""The pytest plugin's failure rules as a user meets them: `@pytest.mark.kiln(faults=[...])` on
the in-process kiln and on the kiln_url server, and kiln_control's add/list/clear, in a fresh
project run by its own pytest process (the plugin found through its entry point)."""
from __future__ import annotations

pytest_plugins = ["pytester"]

USER_TESTS = r'''
import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

ONCE = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1})
THREE = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 3})


@pytest.mark.kiln(faults=[{"operation": "ListImages", "error": "ServiceUnavailableException", "count": 2}])
def test_marker_in_process(imagebuilder_client, kiln_control):
    response = boto3.client("imagebuilder", region_name="us-east-1", config=THREE).list_images()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert kiln_control.faults() == []


def test_rules_do_not_outlive_their_test(imagebuilder_client):
    assert imagebuilder_client.list_images()["ResponseMetadata"]["RetryAttempts"] == 0


@pytest.mark.kiln(faults=[{"operation": "CreateImageRecipe", "error": "ForbiddenException"}])
def test_marker_on_the_server(kiln_url, kiln_control):
    ib = boto3.client("imagebuilder", region_name="us-east-1", endpoint_url=kiln_url,
                      aws_access_key_id="123456789012", aws_secret_access_key="x", config=ONCE)
    with pytest.raises(ClientError) as info:
        ib.create_image_recipe(name="r", semanticVersion="1.0.0",
                               components=[{"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"}],
                               parentImage="arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x")
    assert info.value.response["Error"]["Code"] == "ForbiddenException"
    assert [r["fired"] for r in kiln_control.faults()] == [1]


def test_server_rules_do_not_outlive_their_test(kiln_url, kiln_control):
    assert kiln_control.faults() == []


@pytest.mark.parametrize("where", ["kiln_server", "kiln_url"])
def test_control(request, where, kiln_control):
    url = request.getfixturevalue(where) if where == "kiln_url" else None
    if where == "kiln_server":
        request.getfixturevalue("kiln_server")
    added = kiln_control.add_faults(operation="ListComponents", error="ServiceException", count=1)
    assert [r["remaining"] for r in kiln_control.faults()] == [1]
    ib = boto3.client("imagebuilder", region_name="us-east-1", endpoint_url=url, aws_access_key_id="123456789012",
                      aws_secret_access_key="x", config=ONCE)
    with pytest.raises(ClientError):
        ib.list_components()
    kiln_control.add_faults({"latency": 0.01}, {"error": "ForbiddenException", "operation": "GetImage"})
    assert kiln_control.clear_faults(kiln_control.faults()[0]["id"]) == 1
    assert kiln_control.clear_faults() == 1
    with pytest.raises(Exception, match="count must be 1 or more"):
        kiln_control.add_faults(error="ServiceException", count=0)
'''


def test_the_marker_and_kiln_control(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IMAGEBUILDER", "AWS_PROFILE", "AWS_MAX_ATTEMPTS",
                 "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_user_faults=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=6)
