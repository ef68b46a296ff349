"""Infrastructure configurations through boto3, in-process and against a real server."""
from __future__ import annotations

import re

import pytest

from tests.support.documents import ARN_PREFIX
from tests.support.errors import raises

ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ARN = f"{ARN_PREFIX}:infrastructure-configuration"

FULL = dict(
    name="Web Server_Builds",
    description="Builds web servers.",
    instanceTypes=["t3.micro", "t3.small"],
    instanceProfileName="EC2InstanceProfileForImageBuilder",
    securityGroupIds=["sg-0123456789abcdef0"],
    subnetId="subnet-0123456789abcdef0",
    logging={"s3Logs": {"s3BucketName": "logs", "s3KeyPrefix": "ib"}},
    keyPair="debug",
    terminateInstanceOnFailure=False,
    snsTopicArn="arn:aws:sns:us-east-1:123456789012:builds",
    resourceTags={"CostCenter": "42"},
    instanceMetadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 2},
    tags={"team": "platform"},
)


def _create(ib, name="infra", **kwargs) -> str:
    return ib.create_infrastructure_configuration(name=name, instanceProfileName="p", **kwargs)["infrastructureConfigurationArn"]


def _get(ib, arn) -> dict:
    return ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)["infrastructureConfiguration"]


def _names(ib, **kwargs) -> list[str]:
    return [s["name"] for s in ib.list_infrastructure_configurations(**kwargs)["infrastructureConfigurationSummaryList"]]


# -- create / get ------------------------------------------------------------------

def test_create_infrastructure_configuration_returns_arn_and_token(ib):
    r = ib.create_infrastructure_configuration(name="Web Server_Builds", instanceProfileName="p", clientToken="tok-1")
    assert r["infrastructureConfigurationArn"] == f"{ARN}/web-server-builds"
    assert r["clientToken"] == "tok-1"
    assert r["requestId"] == r["ResponseMetadata"]["RequestId"]


def test_get_infrastructure_configuration_returns_every_field(ib):
    arn = ib.create_infrastructure_configuration(**FULL)["infrastructureConfigurationArn"]
    got = _get(ib, arn)
    assert ISO_MILLIS.match(got.pop("dateCreated"))
    expected = {k: v for k, v in FULL.items()}
    expected.update(arn=arn)
    assert got == expected


def test_get_infrastructure_configuration_minimal_has_defaults(ib):
    arn = _create(ib)
    got = _get(ib, arn)
    del got["dateCreated"]
    # As the AWS CLI's get-infrastructure-configuration example: terminateInstanceOnFailure
    # always, terminateInstanceOnCompletion only when it was set.
    assert got == {"arn": arn, "name": "infra", "instanceProfileName": "p", "terminateInstanceOnFailure": True,
                   "tags": {}}


def test_get_infrastructure_configuration_not_found(ib):
    arn = f"{ARN}/missing"
    with raises("ResourceNotFoundException", f"The following resource 'InfrastructureConfiguration' cannot be found: '{arn}'."):
        ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)


def test_get_infrastructure_configuration_wrong_resource_type(raw):
    arn = f"{ARN_PREFIX}:distribution-configuration/x"
    r = raw.get("/GetInfrastructureConfiguration", query={"infrastructureConfigurationArn": arn})
    assert r.status == 400
    assert r.headers["x-amzn-errortype"] == "InvalidParameterValueException"
    assert r.json["message"] == (
        "The value supplied for parameter 'infrastructureConfigurationArn' is not valid. "
        "'infrastructureConfigurationArn' must match pattern "
        "^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws):infrastructure-configuration/[a-z0-9-_]+$")


@pytest.mark.parametrize("second", ["Web Server_Builds", "web server builds", "WEB_SERVER_BUILDS", "web-server-builds"])
def test_create_infrastructure_configuration_name_collides_after_normalising(ib, second):
    arn = _create(ib, "Web Server_Builds")
    with raises("ResourceAlreadyExistsException", f"The following resource 'InfrastructureConfiguration' already exists: '{arn}'."):
        _create(ib, second)
    assert _names(ib) == ["Web Server_Builds"]


def test_create_infrastructure_configuration_subnet_without_security_groups(ib):
    with raises("InvalidRequestException",
                "The value supplied for parameter 'subnetId' is not valid. "
                "securityGroupIds must be specified when subnetId is specified."):
        _create(ib, subnetId="subnet-1")
    assert _names(ib) == []


@pytest.mark.parametrize("key", ["CreatedBy", "Ec2ImageBuilderArn", "Name", "Tags"])
def test_create_infrastructure_configuration_reserved_resource_tag(ib, key):
    with raises("InvalidParameterValueException",
                f"The value supplied for parameter 'resourceTags' is not valid. The resource tag key '{key}' is reserved. "
                "Reserved keys: CreatedBy, Ec2ImageBuilderArn, Name, Tags."):
        _create(ib, resourceTags={"Fine": "1", key: "x"})


def test_create_infrastructure_configuration_dry_run(ib):
    with raises("DryRunOperationException", "The request would have succeeded, but the dryRun parameter was set.", 412):
        _create(ib, dryRun=True)
    assert _names(ib) == []


def test_create_infrastructure_configuration_dry_run_reports_invalid_input_first(ib):
    _create(ib)
    with raises("ResourceAlreadyExistsException",
                f"The following resource 'InfrastructureConfiguration' already exists: '{ARN}/infra'."):
        _create(ib, dryRun=True)


def test_create_infrastructure_configuration_client_token_replay(ib):
    first = ib.create_infrastructure_configuration(name="infra", instanceProfileName="p", clientToken="same")
    again = ib.create_infrastructure_configuration(name="infra", instanceProfileName="p", clientToken="same")
    assert again["infrastructureConfigurationArn"] == first["infrastructureConfigurationArn"]
    assert again["clientToken"] == "same"
    assert _names(ib) == ["infra"]


def test_create_infrastructure_configuration_client_token_mismatch(ib):
    ib.create_infrastructure_configuration(name="infra", instanceProfileName="p", clientToken="same")
    with raises("IdempotentParameterMismatchException",
                "The client token 'same' was already used with different request parameters for "
                "CreateInfrastructureConfiguration."):
        ib.create_infrastructure_configuration(name="other", instanceProfileName="p", clientToken="same")
    assert _names(ib) == ["infra"]


# -- update ------------------------------------------------------------------------

def test_update_infrastructure_configuration_replaces_the_whole_object(ib):
    arn = ib.create_infrastructure_configuration(**FULL)["infrastructureConfigurationArn"]
    before = _get(ib, arn)
    r = ib.update_infrastructure_configuration(infrastructureConfigurationArn=arn, instanceProfileName="other",
                                               description="now minimal", clientToken="u1")
    assert r["infrastructureConfigurationArn"] == arn and "clientToken" not in r  # as AWS's samples answer
    after = _get(ib, arn)
    assert ISO_MILLIS.match(after.pop("dateUpdated"))
    assert after == {
        "arn": arn, "name": "Web Server_Builds", "description": "now minimal", "instanceProfileName": "other",
        "terminateInstanceOnFailure": True,
        "dateCreated": before["dateCreated"], "tags": {"team": "platform"},
    }


def test_update_infrastructure_configuration_date_updated_not_before_created(ib):
    arn = _create(ib)
    ib.update_infrastructure_configuration(infrastructureConfigurationArn=arn, instanceProfileName="q")
    got = _get(ib, arn)
    assert got["dateUpdated"] >= got["dateCreated"]
    assert got["instanceProfileName"] == "q"


def test_update_infrastructure_configuration_not_found(ib):
    arn = f"{ARN}/missing"
    with raises("ResourceNotFoundException", f"The following resource 'InfrastructureConfiguration' cannot be found: '{arn}'."):
        ib.update_infrastructure_configuration(infrastructureConfigurationArn=arn, instanceProfileName="p")


def test_update_infrastructure_configuration_subnet_without_security_groups(ib):
    arn = _create(ib)
    with raises("InvalidRequestException",
                "The value supplied for parameter 'subnetId' is not valid. "
                "securityGroupIds must be specified when subnetId is specified."):
        ib.update_infrastructure_configuration(infrastructureConfigurationArn=arn, instanceProfileName="p", subnetId="s")
    assert "dateUpdated" not in _get(ib, arn)


def test_update_infrastructure_configuration_client_token_replay(ib):
    arn = _create(ib)
    first = ib.update_infrastructure_configuration(infrastructureConfigurationArn=arn, instanceProfileName="q", clientToken="u")
    updated = _get(ib, arn)["dateUpdated"]
    again = ib.update_infrastructure_configuration(infrastructureConfigurationArn=arn, instanceProfileName="q", clientToken="u")
    assert again["infrastructureConfigurationArn"] == first["infrastructureConfigurationArn"]
    assert _get(ib, arn)["dateUpdated"] == updated


# -- delete ------------------------------------------------------------------------

def test_delete_infrastructure_configuration_then_get_is_not_found(ib):
    arn = _create(ib)
    r = ib.delete_infrastructure_configuration(infrastructureConfigurationArn=arn)
    assert r["infrastructureConfigurationArn"] == arn
    with raises("ResourceNotFoundException", f"The following resource 'InfrastructureConfiguration' cannot be found: '{arn}'."):
        _get(ib, arn)
    assert _names(ib) == []


def test_delete_infrastructure_configuration_not_found(ib):
    arn = f"{ARN}/missing"
    with raises("ResourceNotFoundException", f"The following resource 'InfrastructureConfiguration' cannot be found: '{arn}'."):
        ib.delete_infrastructure_configuration(infrastructureConfigurationArn=arn)


def test_delete_infrastructure_configuration_frees_the_name(ib):
    arn = _create(ib)
    ib.delete_infrastructure_configuration(infrastructureConfigurationArn=arn)
    assert _create(ib) == arn


# -- list, pagination, filters -------------------------------------------------------

NAMES = ["alpha", "Beta", "gamma_web", "web-one", "web two"]


def _create_all(ib):
    for name in NAMES:
        _create(ib, name)


def test_list_infrastructure_configurations_in_name_order(ib):
    _create_all(ib)
    assert _names(ib) == NAMES


def test_list_infrastructure_configurations_pages_by_next_token(ib):
    _create_all(ib)
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"maxResults": 1} | ({"nextToken": token} if token else {})
        page = ib.list_infrastructure_configurations(**kwargs)
        assert len(page["infrastructureConfigurationSummaryList"]) == 1
        seen += [s["name"] for s in page["infrastructureConfigurationSummaryList"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert seen == NAMES and pages == len(NAMES)


def test_list_infrastructure_configurations_paginator(ib):
    _create_all(ib)
    pages = list(ib.get_paginator("list_infrastructure_configurations").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["infrastructureConfigurationSummaryList"]) for p in pages] == [2, 2, 1]
    assert [s["name"] for p in pages for s in p["infrastructureConfigurationSummaryList"]] == NAMES


def test_list_infrastructure_configurations_forged_next_token(ib):
    with raises("InvalidPaginationTokenException",
                "The nextToken supplied is not valid. Use the nextToken value returned by the previous "
                "ListInfrastructureConfigurations response, unchanged."):
        ib.list_infrastructure_configurations(nextToken="forged")


def test_list_infrastructure_configurations_token_of_another_operation(ib):
    for name in ("one", "two"):
        ib.create_distribution_configuration(name=name, distributions=[
            {"region": "us-east-1", "amiDistributionConfiguration": {"name": "x-{{ imagebuilder:buildDate }}"}}])
    token = ib.list_distribution_configurations(maxResults=1)["nextToken"]
    with raises("InvalidPaginationTokenException",
                "The nextToken supplied is not valid. Use the nextToken value returned by the previous "
                "ListInfrastructureConfigurations response, unchanged."):
        ib.list_infrastructure_configurations(nextToken=token)


@pytest.mark.parametrize("values, expected", [
    (["web two"], ["web two"]),
    (["Beta", "alpha"], ["alpha", "Beta"]),
    (["beta"], []),
    (["web*"], ["web-one", "web two"]),
    (["*web*"], ["gamma_web", "web-one", "web two"]),
    (["*eta*", "gam*"], ["Beta", "gamma_web"]),
])
def test_list_infrastructure_configurations_name_filter(ib, values, expected):
    _create_all(ib)
    assert _names(ib, filters=[{"name": "name", "values": values}]) == expected


def test_list_infrastructure_configurations_name_filter_matches_the_name_not_the_arn(ib):
    _create(ib, "My Image_Infra")
    assert _names(ib, filters=[{"name": "name", "values": ["my-image-infra"]}]) == []
    assert _names(ib, filters=[{"name": "name", "values": ["My Image_Infra"]}]) == ["My Image_Infra"]


def test_list_infrastructure_configurations_filter_and_pagination(ib):
    _create_all(ib)
    pages = list(ib.get_paginator("list_infrastructure_configurations").paginate(
        filters=[{"name": "name", "values": ["*web*"]}], PaginationConfig={"PageSize": 1}))
    assert [s["name"] for p in pages for s in p["infrastructureConfigurationSummaryList"]] == ["gamma_web", "web-one", "web two"]


def test_list_infrastructure_configurations_unknown_filter_name(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'filters[0].name' is not valid. The filter name 'platform' is not "
                "supported. Supported filter names: name."):
        ib.list_infrastructure_configurations(filters=[{"name": "platform", "values": ["Linux"]}])


def test_list_infrastructure_configurations_filter_without_values(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'filters[0].values' is not valid. A filter needs at least one value."):
        ib.list_infrastructure_configurations(filters=[{"name": "name"}])


def test_list_infrastructure_configurations_filter_without_name(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'filters[0].name' is not valid. A filter needs a name."):
        ib.list_infrastructure_configurations(filters=[{"values": ["x"]}])


def test_list_infrastructure_configurations_summary_fields(ib):
    arn = ib.create_infrastructure_configuration(**FULL)["infrastructureConfigurationArn"]
    (summary,) = ib.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"]
    assert ISO_MILLIS.match(summary.pop("dateCreated"))
    assert summary == {"arn": arn, "name": FULL["name"], "description": FULL["description"],
                       "instanceTypes": FULL["instanceTypes"], "instanceProfileName": FULL["instanceProfileName"],
                       "resourceTags": FULL["resourceTags"], "tags": FULL["tags"]}
