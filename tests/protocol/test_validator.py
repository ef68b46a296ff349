"""Server-side validation of what the model states, over raw HTTP (what boto3 would refuse to send).

A missing required member or a wrong JSON type is InvalidRequestException; a value that
breaks a constraint is InvalidParameterValueException; the tag APIs answer
InvalidParameterException (the only client error their model gives).
"""
from __future__ import annotations

import pytest

from tests.support.documents import ARN_PREFIX
from tests.support.raw import tag_path

PREFIX = "The value supplied for parameter"
NAME_PATTERN = "^[-_A-Za-z-0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z-0-9]$"
TAG_KEY_PATTERN = r"^(?!aws:)[a-zA-Z0-9\s_.:/=+\-@]*$"
INFRA = {"name": "valid-name", "instanceProfileName": "profile", "clientToken": "token-1"}


def _error(r, status: int, code: str, message: str) -> None:
    assert (r.status, r.headers.get("x-amzn-errortype"), r.json) == (status, code, {"message": message})


def test_create_infrastructure_configuration_missing_required_member(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body={"name": "abc", "clientToken": "t"})
    _error(r, 400, "InvalidRequestException", "The request is missing the required parameter 'instanceProfileName'.")


def test_create_infrastructure_configuration_null_required_member_is_missing(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, "instanceProfileName": None})
    _error(r, 400, "InvalidRequestException", "The request is missing the required parameter 'instanceProfileName'.")


def test_get_infrastructure_configuration_missing_query_member(raw):
    r = raw.get("/GetInfrastructureConfiguration")
    _error(r, 400, "InvalidRequestException",
           "The request is missing the required parameter 'infrastructureConfigurationArn'.")


@pytest.mark.parametrize("member, value, word", [
    ("name", 5, "a string"),
    ("instanceTypes", "t3.micro", "a list"),
    ("terminateInstanceOnFailure", "true", "a boolean"),
    ("resourceTags", ["a"], "a map"),
    ("logging", "s3", "an object"),
])
def test_create_infrastructure_configuration_wrong_json_type(raw, member, value, word):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, member: value})
    _error(r, 400, "InvalidRequestException", f"{PREFIX} '{member}' is not valid. '{member}' must be {word}.")


@pytest.mark.parametrize("value", ["5", True, 2.5])
def test_list_components_max_results_wrong_json_type(raw, value):
    r = raw.post("/ListComponents", body={"maxResults": value})
    _error(r, 400, "InvalidRequestException", f"{PREFIX} 'maxResults' is not valid. 'maxResults' must be an integer.")


def test_create_infrastructure_configuration_string_too_long(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, "description": "d" * 1025})
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'description' is not valid. 'description' must have a length less than or equal to 1024.")


def test_create_infrastructure_configuration_string_too_short(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, "description": ""})
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'description' is not valid. 'description' must have a length greater than or equal to 1.")


@pytest.mark.parametrize("name", ["ab", " leading", "trailing ", "bad/char", "x" * 129])
def test_create_infrastructure_configuration_name_pattern_mismatch(raw, name):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, "name": name})
    _error(r, 400, "InvalidParameterValueException", f"{PREFIX} 'name' is not valid. 'name' must match pattern {NAME_PATTERN}")


def test_get_component_arn_pattern_mismatch_quotes_the_pattern(raw):
    r = raw.get("/GetComponent", query={"componentBuildVersionArn": f"{ARN_PREFIX}:image/x/1.0.0/1"})
    pattern = (r"^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?|third-party):component/[a-z0-9-_]+/"
               r"(?:(?:([0-9]+|x)\.([0-9]+|x)\.([0-9]+|x))|(?:[0-9]+\.[0-9]+\.[0-9]+/[0-9]+))$")
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'componentBuildVersionArn' is not valid. 'componentBuildVersionArn' must match pattern {pattern}")


def test_list_components_enum(raw):
    r = raw.post("/ListComponents", body={"owner": "Everyone"})
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'owner' is not valid. 'owner' must be one of: Self, Shared, Amazon, ThirdParty, AWSMarketplace.")


def test_create_component_enum_is_case_sensitive(raw):
    r = raw.put("/CreateComponent", body={"name": "abc", "semanticVersion": "1.0.0", "platform": "linux",
                                          "clientToken": "t", "data": "x"})
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'platform' is not valid. 'platform' must be one of: Windows, Linux, macOS.")


@pytest.mark.parametrize("value, bound", [(0, "greater than or equal to 1"), (101, "less than or equal to 100")])
def test_list_infrastructure_configurations_max_results_range(raw, value, bound):
    r = raw.post("/ListInfrastructureConfigurations", body={"maxResults": value})
    _error(r, 400, "InvalidParameterValueException", f"{PREFIX} 'maxResults' is not valid. 'maxResults' must be {bound}.")


@pytest.mark.parametrize("value", [1, 100])
def test_list_infrastructure_configurations_max_results_bounds_accepted(raw, value):
    r = raw.post("/ListInfrastructureConfigurations", body={"maxResults": value})
    assert r.status == 200


def test_create_distribution_configuration_nested_path_wrong_type(raw):
    r = raw.put("/CreateDistributionConfiguration",
                body={"name": "dist", "clientToken": "t", "distributions": [{"region": 5}]})
    _error(r, 400, "InvalidRequestException",
           f"{PREFIX} 'distributions[0].region' is not valid. 'distributions[0].region' must be a string.")


def test_create_distribution_configuration_nested_required_missing(raw):
    r = raw.put("/CreateDistributionConfiguration",
                body={"name": "dist", "clientToken": "t",
                      "distributions": [{"region": "us-east-1", "amiDistributionConfiguration": {}}, {}]})
    _error(r, 400, "InvalidRequestException", "The request is missing the required parameter 'distributions[1].region'.")


def test_create_distribution_configuration_nested_pattern(raw):
    r = raw.put("/CreateDistributionConfiguration", body={
        "name": "dist", "clientToken": "t",
        "distributions": [{"region": "us-east-1", "amiDistributionConfiguration": {"name": "a"}}]})
    path = "distributions[0].amiDistributionConfiguration.name"
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} '{path}' is not valid. '{path}' must match pattern "
           r"^[-_A-Za-z0-9{][-_A-Za-z0-9\s:{}\.]+[-_A-Za-z0-9}]$")


def test_list_components_too_many_filters(raw):
    r = raw.post("/ListComponents", body={"filters": [{"name": "name", "values": ["a"]}] * 11})
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'filters' is not valid. 'filters' must have a number of items less than or equal to 10.")


def test_list_components_null_list_item(raw):
    r = raw.post("/ListComponents", body={"filters": [{"name": "name", "values": [None]}]})
    _error(r, 400, "InvalidRequestException",
           f"{PREFIX} 'filters[0].values[0]' is not valid. Null list items are not allowed.")


def test_create_infrastructure_configuration_map_key_pattern(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, "tags": {"aws:x": "v"}})
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'tags['aws:x']' is not valid. 'tags['aws:x']' must match pattern {TAG_KEY_PATTERN}")


def test_create_infrastructure_configuration_map_value_too_long(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, "tags": {"team": "v" * 257}})
    _error(r, 400, "InvalidParameterValueException",
           f"{PREFIX} 'tags.team' is not valid. 'tags.team' must have a length less than or equal to 256.")


def test_tag_resource_map_key_pattern_is_invalid_parameter(raw):
    r = raw.post(tag_path(f"{ARN_PREFIX}:infrastructure-configuration/x"), body={"tags": {"aws:x": "v"}})
    _error(r, 400, "InvalidParameterException",
           f"{PREFIX} 'tags['aws:x']' is not valid. 'tags['aws:x']' must match pattern {TAG_KEY_PATTERN}")


def test_tag_resource_missing_tags_is_invalid_parameter(raw):
    r = raw.post(tag_path(f"{ARN_PREFIX}:infrastructure-configuration/x"), body={})
    _error(r, 400, "InvalidParameterException", "The request is missing the required parameter 'tags'.")


def test_create_infrastructure_configuration_malformed_json(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body=b'{"name": ')
    _error(r, 400, "InvalidRequestException",
           "The request body is not valid JSON: unexpected end of data: line 1 column 10 (char 9).")


def test_create_infrastructure_configuration_body_not_an_object(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body=b"[1, 2]")
    _error(r, 400, "InvalidRequestException", "The request body must be a JSON object.")


def test_create_infrastructure_configuration_empty_body_is_missing_members(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body=b"")
    _error(r, 400, "InvalidRequestException", "The request is missing the required parameter 'name'.")


def test_create_infrastructure_configuration_unknown_body_members_are_ignored(raw):
    r = raw.put("/CreateInfrastructureConfiguration", body={**INFRA, "bogus": {"anything": 1}})
    assert r.status == 200
    got = raw.get("/GetInfrastructureConfiguration",
                  query={"infrastructureConfigurationArn": r.json["infrastructureConfigurationArn"]})
    assert "bogus" not in got.json["infrastructureConfiguration"]
