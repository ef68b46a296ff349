"""Distribution configurations through boto3, in-process and against a real server."""
from __future__ import annotations

import re

import pytest

from tests.support.documents import ARN_PREFIX, ami_distribution
from tests.support.errors import raises

ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ARN = f"{ARN_PREFIX}:distribution-configuration"
LICENSE = "arn:aws:license-manager:eu-west-1:123456789012:license-configuration:lic-0123456789abcdef0123456789abcdef"

DISTRIBUTIONS = [
    {
        "region": "us-east-1",
        "amiDistributionConfiguration": {
            "name": "web-{{ imagebuilder:buildDate }}",
            "description": "Web servers",
            "targetAccountIds": ["210987654321"],
            "amiTags": {"role": "web"},
            "launchPermission": {"userIds": ["210987654321"]},
        },
    },
    {"region": "eu-west-1", "licenseConfigurationArns": [LICENSE]},
    {"region": "us-west-2", "containerDistributionConfiguration": {
        "containerTags": ["latest"], "targetRepository": {"service": "ECR", "repositoryName": "web"}}},
]


def _create(ib, name="dist", distributions=None, **kwargs) -> str:
    return ib.create_distribution_configuration(
        name=name, distributions=distributions or [ami_distribution()], **kwargs)["distributionConfigurationArn"]


def _get(ib, arn) -> dict:
    return ib.get_distribution_configuration(distributionConfigurationArn=arn)["distributionConfiguration"]


def _names(ib, **kwargs) -> list[str]:
    return [s["name"] for s in ib.list_distribution_configurations(**kwargs)["distributionConfigurationSummaryList"]]


def _not_found(arn):
    return f"The following resource 'DistributionConfiguration' cannot be found: '{arn}'."


# -- create / get ------------------------------------------------------------------

def test_create_distribution_configuration_returns_arn_and_token(ib):
    r = ib.create_distribution_configuration(name="Web_Dist Config", distributions=[ami_distribution()], clientToken="c1")
    assert r["distributionConfigurationArn"] == f"{ARN}/web-dist-config"
    assert r["clientToken"] == "c1"


def test_get_distribution_configuration_returns_every_field(ib):
    arn = _create(ib, "Web Dist", DISTRIBUTIONS, description="Everywhere.", tags={"team": "web"})
    got = _get(ib, arn)
    assert ISO_MILLIS.match(got.pop("dateCreated"))
    assert got == {"arn": arn, "name": "Web Dist", "description": "Everywhere.", "distributions": DISTRIBUTIONS,
                   "timeoutMinutes": 720, "tags": {"team": "web"}}


def test_get_distribution_configuration_not_found(ib):
    arn = f"{ARN}/missing"
    with raises("ResourceNotFoundException", _not_found(arn)):
        _get(ib, arn)


@pytest.mark.parametrize("second", ["Web Dist", "web_dist", "WEB-DIST"])
def test_create_distribution_configuration_name_collides_after_normalising(ib, second):
    arn = _create(ib, "Web Dist")
    with raises("ResourceAlreadyExistsException", f"The following resource 'DistributionConfiguration' already exists: '{arn}'."):
        _create(ib, second)


def test_create_distribution_configuration_duplicate_region(ib):
    with raises("InvalidParameterCombinationException",
                "The value supplied for parameter 'distributions' is not valid. The Region 'us-east-1' appears in "
                "distributions[0] and distributions[2]; a distribution configuration can have one entry per Region."):
        _create(ib, distributions=[ami_distribution("us-east-1"), ami_distribution("eu-west-1"), ami_distribution("us-east-1")])
    assert _names(ib) == []


@pytest.mark.parametrize("entry", [{"region": "eu-west-1"}, {"region": "eu-west-1", "amiDistributionConfiguration": {}}])
def test_create_distribution_configuration_region_without_outputs(ib, entry):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'distributions[1]' is not valid. One or more outputs should be "
                "provided for each region in a distribution configuration."):
        _create(ib, distributions=[ami_distribution(), entry])


def test_create_distribution_configuration_ami_name_without_build_date(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'distributions[0].amiDistributionConfiguration.name' is not valid. "
                "The EC2 AMI name must contain '{{ imagebuilder:buildDate }}' to ensure that the name will be unique."):
        _create(ib, distributions=[ami_distribution(name="web-ami")])


@pytest.mark.parametrize("name", ["web-{{imagebuilder:buildDate}}", "{{ imagebuilder:buildDate }}-web",
                                  "a {{ imagebuilder:buildVersion }} {{ imagebuilder:buildDate }}"])
def test_create_distribution_configuration_ami_name_with_build_date(ib, name):
    arn = _create(ib, distributions=[ami_distribution(name=name)])
    assert _get(ib, arn)["distributions"][0]["amiDistributionConfiguration"]["name"] == name


def test_create_distribution_configuration_invalid_region(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'distributions[0].region' is not valid. "
                "'mars-north-1a' is not a valid AWS Region code."):
        _create(ib, distributions=[ami_distribution(region="mars-north-1a")])


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "us-isob-east-1", "eusc-de-east-1"])
def test_create_distribution_configuration_partition_regions(ib, region):
    arn = _create(ib, distributions=[ami_distribution(region=region)])
    assert _get(ib, arn)["distributions"][0]["region"] == region


def test_create_distribution_configuration_dry_run(ib):
    with raises("DryRunOperationException", "The request would have succeeded, but the dryRun parameter was set.", 412):
        _create(ib, dryRun=True)
    assert _names(ib) == []


def test_create_distribution_configuration_client_token_replay(ib):
    first = ib.create_distribution_configuration(name="dist", distributions=[ami_distribution()], clientToken="same")
    again = ib.create_distribution_configuration(name="dist", distributions=[ami_distribution()], clientToken="same")
    assert again["distributionConfigurationArn"] == first["distributionConfigurationArn"]
    assert _names(ib) == ["dist"]


def test_create_distribution_configuration_client_token_mismatch(ib):
    ib.create_distribution_configuration(name="dist", distributions=[ami_distribution()], clientToken="same")
    with raises("IdempotentParameterMismatchException",
                "The client token 'same' was already used with different request parameters for "
                "CreateDistributionConfiguration."):
        ib.create_distribution_configuration(name="dist", distributions=[ami_distribution("eu-west-1")], clientToken="same")


# -- update ------------------------------------------------------------------------

def test_update_distribution_configuration_replaces_the_whole_object(ib):
    arn = _create(ib, "dist", DISTRIBUTIONS, description="Everywhere.", tags={"team": "web"})
    created = _get(ib, arn)["dateCreated"]
    r = ib.update_distribution_configuration(distributionConfigurationArn=arn,
                                             distributions=[ami_distribution("ap-south-1")], clientToken="u1")
    assert r["distributionConfigurationArn"] == arn and "clientToken" not in r  # as AWS's samples answer
    got = _get(ib, arn)
    assert ISO_MILLIS.match(got.pop("dateUpdated"))
    assert got == {"arn": arn, "name": "dist", "distributions": [ami_distribution("ap-south-1")], "timeoutMinutes": 720,
                   "dateCreated": created, "tags": {"team": "web"}}


def test_update_distribution_configuration_validates_distributions(ib):
    arn = _create(ib)
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'distributions[0]' is not valid. One or more outputs should be "
                "provided for each region in a distribution configuration."):
        ib.update_distribution_configuration(distributionConfigurationArn=arn, distributions=[{"region": "us-east-1"}])
    assert _get(ib, arn)["distributions"] == [ami_distribution()]


def test_update_distribution_configuration_not_found(ib):
    arn = f"{ARN}/missing"
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.update_distribution_configuration(distributionConfigurationArn=arn, distributions=[ami_distribution()])


# -- delete ------------------------------------------------------------------------

def test_delete_distribution_configuration_then_get_is_not_found(ib):
    arn = _create(ib)
    assert ib.delete_distribution_configuration(distributionConfigurationArn=arn)["distributionConfigurationArn"] == arn
    with raises("ResourceNotFoundException", _not_found(arn)):
        _get(ib, arn)
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.delete_distribution_configuration(distributionConfigurationArn=arn)


# -- list ----------------------------------------------------------------------------

def test_list_distribution_configurations_summary_fields(ib):
    arn = _create(ib, "Web Dist", DISTRIBUTIONS, description="Everywhere.", tags={"team": "web"})
    (summary,) = ib.list_distribution_configurations()["distributionConfigurationSummaryList"]
    assert ISO_MILLIS.match(summary.pop("dateCreated"))
    assert summary == {"arn": arn, "name": "Web Dist", "description": "Everywhere.", "tags": {"team": "web"},
                       "regions": ["us-east-1", "eu-west-1", "us-west-2"]}


def test_list_distribution_configurations_paginator_walks_everything(ib):
    names = [f"dist-{i}" for i in range(5)]
    for name in names:
        _create(ib, name)
    pages = list(ib.get_paginator("list_distribution_configurations").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == 5
    assert [s["name"] for p in pages for s in p["distributionConfigurationSummaryList"]] == names
    assert "nextToken" not in pages[-1]


def test_list_distribution_configurations_forged_next_token(ib):
    with raises("InvalidPaginationTokenException",
                "The nextToken supplied is not valid. Use the nextToken value returned by the previous "
                "ListDistributionConfigurations response, unchanged."):
        ib.list_distribution_configurations(nextToken="eyJrIjoiYSJ9.0000")


@pytest.mark.parametrize("values, expected", [
    (["prod-east"], ["prod-east"]),
    (["prod*"], ["prod-east", "prod-west"]),
    (["*west*"], ["prod-west", "test-west"]),
    (["PROD*"], []),
])
def test_list_distribution_configurations_name_filter(ib, values, expected):
    for name in ("prod-east", "prod-west", "test-west"):
        _create(ib, name)
    assert _names(ib, filters=[{"name": "name", "values": values}]) == expected


def test_list_distribution_configurations_unknown_filter_name(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'filters[0].name' is not valid. The filter name 'region' is not "
                "supported. Supported filter names: name."):
        ib.list_distribution_configurations(filters=[{"name": "region", "values": ["us-east-1"]}])
