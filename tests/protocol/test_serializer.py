"""Serialization: only what the output shape has reaches the wire, nulls never do,
and the envelope (requestId, empty bodies, timestamps) follows the model."""
from __future__ import annotations

import re

import pytest

from tests.support.raw import tag_path

ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _create_distribution(raw, distributions) -> str:
    r = raw.put("/CreateDistributionConfiguration",
                body={"name": "serialized", "clientToken": "t", "distributions": distributions})
    assert r.status == 200, r.json
    return r.json["distributionConfigurationArn"]


def test_get_distribution_configuration_drops_unknown_nested_keys(raw):
    arn = _create_distribution(raw, [{
        "region": "us-east-1",
        "bogus": 1,
        "amiDistributionConfiguration": {"name": "out-{{ imagebuilder:buildDate }}", "extra": {"deep": True}},
    }])
    r = raw.get("/GetDistributionConfiguration", query={"distributionConfigurationArn": arn})
    assert r.status == 200
    assert r.json["distributionConfiguration"]["distributions"] == [
        {"region": "us-east-1", "amiDistributionConfiguration": {"name": "out-{{ imagebuilder:buildDate }}"}},
    ]


def test_get_distribution_configuration_drops_nested_nulls(raw):
    arn = _create_distribution(raw, [{
        "region": "us-east-1",
        "amiDistributionConfiguration": {"name": "out-{{ imagebuilder:buildDate }}", "description": None},
        "licenseConfigurationArns": None,
    }])
    got = raw.get("/GetDistributionConfiguration", query={"distributionConfigurationArn": arn}).json
    assert got["distributionConfiguration"]["distributions"] == [
        {"region": "us-east-1", "amiDistributionConfiguration": {"name": "out-{{ imagebuilder:buildDate }}"}},
    ]
    assert None not in got["distributionConfiguration"].values()


def test_list_infrastructure_configurations_summary_has_only_summary_members(ib, raw):
    ib.create_infrastructure_configuration(
        name="summary", description="d", instanceTypes=["t3.micro"], instanceProfileName="p",
        securityGroupIds=["sg-1"], subnetId="subnet-1", keyPair="kp", terminateInstanceOnFailure=False,
        logging={"s3Logs": {"s3BucketName": "b"}}, resourceTags={"k": "v"}, tags={"t": "1"},
    )
    r = raw.post("/ListInfrastructureConfigurations", body={})
    (summary,) = r.json["infrastructureConfigurationSummaryList"]
    assert set(summary) == {"arn", "name", "description", "dateCreated", "resourceTags", "tags",
                            "instanceTypes", "instanceProfileName"}


def test_list_distribution_configurations_summary_drops_distributions(ib, raw):
    ib.create_distribution_configuration(name="summary", distributions=[
        {"region": "us-east-1", "amiDistributionConfiguration": {"name": "a-{{ imagebuilder:buildDate }}"}},
    ])
    (summary,) = raw.post("/ListDistributionConfigurations", body={}).json["distributionConfigurationSummaryList"]
    assert set(summary) == {"arn", "name", "dateCreated", "tags", "regions"}
    assert summary["regions"] == ["us-east-1"]


def test_get_infrastructure_configuration_carries_request_id_from_the_header(ib, raw):
    arn = ib.create_infrastructure_configuration(name="envelope", instanceProfileName="p")["infrastructureConfigurationArn"]
    r = raw.get("/GetInfrastructureConfiguration", query={"infrastructureConfigurationArn": arn})
    assert r.json["requestId"] == r.headers["x-amzn-requestid"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r.json["requestId"])
    assert ISO_MILLIS.match(r.json["infrastructureConfiguration"]["dateCreated"])


def test_get_workflow_has_no_request_id_in_the_body(raw):
    r = raw.get("/GetWorkflow",
                query={"workflowBuildVersionArn": "arn:aws:imagebuilder:us-east-1:aws:workflow/build/build-image/x.x.x"})
    assert r.status == 200
    assert "requestId" not in r.json
    assert r.headers["x-amzn-requestid"]


def test_tag_resource_answers_an_empty_object(ib, raw):
    arn = ib.create_infrastructure_configuration(name="envelope", instanceProfileName="p")["infrastructureConfigurationArn"]
    r = raw.post(tag_path(arn), body={"tags": {"a": "b"}})
    assert (r.status, r.json) == (200, {})
    r = raw.get(tag_path(arn))
    assert r.json == {"tags": {"a": "b"}}


def test_list_infrastructure_configurations_omits_next_token_on_the_last_page(raw):
    r = raw.post("/ListInfrastructureConfigurations", body={})
    assert set(r.json) == {"requestId", "infrastructureConfigurationSummaryList"}


def test_error_response_is_exactly_a_message(raw):
    r = raw.get("/GetInfrastructureConfiguration",
                query={"infrastructureConfigurationArn": "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/none"})
    assert r.status == 404
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert list(r.json) == ["message"]


# -- the harness's own response checker (tests/support/shapes.py) -----------------------

def test_response_checker_catches_violations():
    from tests.support.shapes import check_response

    headers = {"x-amzn-RequestId": "r", "Content-Type": "application/json"}
    body = ('{"infrastructureConfiguration": {"arn": "not-an-arn", "bogus": 1, "dateCreated": "2026-01-01T00:00:00Z",'
            ' "terminateInstanceOnFailure": "yes", "instanceTypes": "t3.micro", "tags": {"aws:x": "v"}}}')
    problems = "\n".join(check_response("GetInfrastructureConfiguration", 200, headers, body))
    for needle in ("bogus: not a member", "does not match the ImageBuilderArn pattern",
                   "is not ISO-8601 UTC with milliseconds", "expected a boolean", "expected a list",
                   "does not match the TagKey pattern"):
        assert needle in problems, needle
    assert check_response("GetInfrastructureConfiguration", 200, {"Content-Type": "application/json"}, "{}") == [
        "GetInfrastructureConfiguration: response has no x-amzn-RequestId header"]
    error_headers = {**headers, "x-amzn-ErrorType": "ResourceNotFoundException"}
    assert check_response("GetComponent", 404, error_headers, '{"message": "gone"}') == []
    assert check_response("GetComponent", 400, error_headers, '{"message": "gone"}') == [
        "GetComponent: ResourceNotFoundException answered with HTTP 400, the model says 404"]
    assert check_response("GetComponent", 404, error_headers, '{"message": "gone", "code": "x"}') != []
    assert check_response("GetComponent", 404, {**headers, "x-amzn-ErrorType": "Nope"}, '{"message": "m"}') == [
        "GetComponent: x-amzn-ErrorType 'Nope' is not an error shape of the model"]
    assert "ListComponents: $: required member" not in "\n".join(
        check_response("ListComponents", 200, headers, '{"componentVersionList": []}'))
    problems = check_response("ListLifecyclePolicies", 200, headers,
                              '{"lifecyclePolicySummaryList": [{"dateCreated": "2026-01-01T00:00:00.000Z"}]}')
    assert any("must be a JSON number" in p for p in problems)


def test_response_checker_fails_the_boto3_call_that_broke_the_model(backend):
    import io

    from botocore.awsrequest import AWSResponse

    from tests.support.raw import ShapeViolation

    class Body(io.BytesIO):
        def stream(self, **_kwargs):
            yield self.getvalue()

    client = backend.client()

    def broken(request, **_kwargs):
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "r", "Content-Type": "application/json"},
                           Body(b'{"infrastructureConfigurationSummaryList": [{"name": 5}]}'))

    client.meta.events.register_first("before-send.imagebuilder", broken)
    try:
        with pytest.raises(ShapeViolation, match=r"name: expected a string \(ResourceName\), got 5"):
            client.list_infrastructure_configurations()
    finally:
        assert backend.violations
        backend.violations.clear()  # expected here; any other violation still fails its test
