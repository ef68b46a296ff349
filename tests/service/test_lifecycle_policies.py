"""Lifecycle policies through boto3, in-process, against a real server and on PostgreSQL:
Create, Get, List (filters), Update (whole-object replace), Delete, and every rule the
service states about a policy's rules, each refused with its code and message."""
from __future__ import annotations

import time

import pytest

from tests.service.builders import ACCOUNT
from tests.support.errors import raises

ARN = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:lifecycle-policy"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lifecycle"
DELETE_AGE = {"action": {"type": "DELETE"}, "filter": {"type": "AGE", "value": 6, "unit": "MONTHS"}}
BY_TAG = {"tagMap": {"Environment": "test"}}


def _policy(ib, name="old-images", resourceType="AMI_IMAGE", policyDetails=None, resourceSelection=None, **kwargs) -> str:
    return ib.create_lifecycle_policy(name=name, executionRole=ROLE, resourceType=resourceType,
                                      policyDetails=policyDetails or [DELETE_AGE],
                                      resourceSelection=resourceSelection or BY_TAG, **kwargs)["lifecyclePolicyArn"]


def _get(ib, arn) -> dict:
    return ib.get_lifecycle_policy(lifecyclePolicyArn=arn)["lifecyclePolicy"]


def _raw_get(raw, arn) -> dict:
    return raw.get("/GetLifecyclePolicy", query={"lifecyclePolicyArn": arn}).json


# -- the resource ---------------------------------------------------------------------------

def test_create_lifecycle_policy_returns_every_field_with_its_default(ib):
    details = [
        {"action": {"type": "DEPRECATE", "includeResources": {"amis": True}},
         "filter": {"type": "AGE", "value": 90, "unit": "DAYS"}},
        {"action": {"type": "DISABLE", "includeResources": {"amis": True}},
         "filter": {"type": "AGE", "value": 180, "unit": "DAYS", "retainAtLeast": 5}},
        {"action": {"type": "DELETE", "includeResources": {"amis": True, "snapshots": True}},
         "filter": {"type": "AGE", "value": 1, "unit": "YEARS", "retainAtLeast": 2},
         "exclusionRules": {"tagMap": {"keep": "true"},
                            "amis": {"isPublic": True, "regions": ["us-west-2"], "sharedAccounts": ["444455556666"],
                                     "lastLaunched": {"value": 30, "unit": "DAYS"}, "tagMap": {"Retention": "keep"}}}},
    ]
    before = time.time()
    r = ib.create_lifecycle_policy(name="Age Out_AMIs", description="ages images", executionRole=ROLE,
                                   resourceType="AMI_IMAGE", policyDetails=details,
                                   resourceSelection={"recipes": [{"name": "web", "semanticVersion": "1.x.x"}]},
                                   tags={"team": "platform"}, clientToken="t1")
    arn = r["lifecyclePolicyArn"]
    assert (arn, r["clientToken"]) == (f"{ARN}/age-out-amis", "t1")
    assert "requestId" not in r  # CreateLifecyclePolicyResponse has none
    got = _get(ib, arn)
    created = got.pop("dateCreated")
    assert before - 1 <= created.timestamp() <= time.time() + 1
    assert got == {"arn": arn, "name": "Age Out_AMIs", "description": "ages images", "status": "ENABLED",
                   "executionRole": ROLE, "resourceType": "AMI_IMAGE", "policyDetails": details,
                   "resourceSelection": {"recipes": [{"name": "web", "semanticVersion": "1.x.x"}]},
                   "tags": {"team": "platform"}}


def test_get_lifecycle_policy_timestamps_are_epoch_numbers_and_no_request_id(ib, raw):
    arn = _policy(ib)
    body = _raw_get(raw, arn)
    assert set(body) == {"lifecyclePolicy"}
    policy = body["lifecyclePolicy"]
    assert isinstance(policy["dateCreated"], (int, float)) and "dateUpdated" not in policy and "dateLastRun" not in policy
    assert round(policy["dateCreated"], 3) == policy["dateCreated"]


def test_create_lifecycle_policy_container_policy(ib):
    details = [{"action": {"type": "DELETE", "includeResources": {"containers": True}},
                "filter": {"type": "COUNT", "value": 3}, "exclusionRules": {"tagMap": {"keep": "true"}}}]
    arn = _policy(ib, "containers", "CONTAINER_IMAGE", details, status="DISABLED")
    got = _get(ib, arn)
    assert (got["resourceType"], got["status"], got["policyDetails"]) == ("CONTAINER_IMAGE", "DISABLED", details)


def test_create_lifecycle_policy_same_name_is_refused(ib):
    _policy(ib, "Old Images")
    with raises("ResourceAlreadyExistsException",
                f"The following resource 'LifecyclePolicy' already exists: '{ARN}/old-images'."):
        _policy(ib, "old_images")


def test_create_lifecycle_policy_dry_run_creates_nothing(ib):
    with raises("DryRunOperationException", "The request would have succeeded, but the dryRun parameter was set."):
        _policy(ib, dryRun=True)
    assert ib.list_lifecycle_policies()["lifecyclePolicySummaryList"] == []


def test_get_lifecycle_policy_missing_cannot_be_found(ib):
    arn = f"{ARN}/nothing"
    with raises("ResourceNotFoundException", f"The following resource 'LifecyclePolicy' cannot be found: '{arn}'."):
        ib.get_lifecycle_policy(lifecyclePolicyArn=arn)


def test_lifecycle_policy_of_another_kind_of_arn_is_refused(ib):
    arn = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-pipeline/x"
    pattern = ("^arn:aws(?:-[a-z]+)*:imagebuilder:[a-z]{2,}(?:-[a-z]+)+-[0-9]+:(?:[0-9]{12}|aws):"
               "lifecycle-policy/[a-z0-9-_]+$")
    with raises("InvalidParameterValueException", "The value supplied for parameter 'lifecyclePolicyArn' is not valid. "
                f"'lifecyclePolicyArn' must match pattern {pattern}"):
        ib.delete_lifecycle_policy(lifecyclePolicyArn=arn)


def test_list_lifecycle_policies_filters_and_summaries(ib):
    ami = _policy(ib, "ami-policy", description="d")
    ctr = _policy(ib, "container-policy", "CONTAINER_IMAGE")
    off = _policy(ib, "paused-policy", status="DISABLED")

    def names(filters=None):
        kw = {"filters": filters} if filters else {}
        return [p["name"] for p in ib.list_lifecycle_policies(**kw)["lifecyclePolicySummaryList"]]

    assert names() == ["ami-policy", "container-policy", "paused-policy"]
    assert names([{"name": "status", "values": ["ENABLED"]}]) == ["ami-policy", "container-policy"]
    assert names([{"name": "resourceType", "values": ["CONTAINER_IMAGE"]}]) == ["container-policy"]
    assert names([{"name": "name", "values": ["*policy"]}]) == []
    assert names([{"name": "name", "values": ["pa*"]}]) == ["paused-policy"]
    summary = ib.list_lifecycle_policies(filters=[{"name": "name", "values": ["ami-policy"]}])["lifecyclePolicySummaryList"][0]
    summary.pop("dateCreated")
    assert summary == {"arn": ami, "name": "ami-policy", "description": "d", "status": "ENABLED", "executionRole": ROLE,
                       "resourceType": "AMI_IMAGE", "tags": {}}
    assert {ctr, off} < {p["arn"] for p in ib.list_lifecycle_policies()["lifecyclePolicySummaryList"]}
    with raises("InvalidParameterValueException", "The value supplied for parameter 'filters[0].name' is not valid. "
                "The filter name 'executionRole' is not supported. Supported filter names: name, resourceType, status."):
        ib.list_lifecycle_policies(filters=[{"name": "executionRole", "values": ["x"]}])


def test_list_lifecycle_policies_pages(ib):
    for i in range(5):
        _policy(ib, f"policy-{i}")
    pages = list(ib.get_paginator("list_lifecycle_policies").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["lifecyclePolicySummaryList"]) for p in pages] == [2, 2, 1]


def test_update_lifecycle_policy_replaces_the_whole_policy(ib, raw):
    arn = _policy(ib, description="first", status="DISABLED", tags={"team": "a"})
    created = _raw_get(raw, arn)["lifecyclePolicy"]["dateCreated"]
    details = [{"action": {"type": "DELETE"}, "filter": {"type": "COUNT", "value": 3}}]
    r = ib.update_lifecycle_policy(lifecyclePolicyArn=arn, executionRole="other-role", resourceType="AMI_IMAGE",
                                   policyDetails=details, resourceSelection={"tagMap": {"x": "y"}})
    assert set(r) == {"ResponseMetadata", "lifecyclePolicyArn"} and r["lifecyclePolicyArn"] == arn
    got = _raw_get(raw, arn)["lifecyclePolicy"]
    assert got.pop("dateCreated") == created and got.pop("dateUpdated") >= created
    assert got == {"arn": arn, "name": "old-images", "status": "ENABLED", "executionRole": "other-role",
                   "resourceType": "AMI_IMAGE", "policyDetails": details, "resourceSelection": {"tagMap": {"x": "y"}},
                   "tags": {"team": "a"}}


def test_update_lifecycle_policy_cannot_change_resource_type(ib):
    arn = _policy(ib)
    with raises("InvalidRequestException", "The value supplied for parameter 'resourceType' is not valid. The resource "
                f"type of a lifecycle policy cannot change: '{arn}' is AMI_IMAGE, not CONTAINER_IMAGE."):
        ib.update_lifecycle_policy(lifecyclePolicyArn=arn, executionRole=ROLE, resourceType="CONTAINER_IMAGE",
                                   policyDetails=[DELETE_AGE], resourceSelection=BY_TAG)


def test_update_lifecycle_policy_checks_the_rules_and_a_missing_policy(ib):
    arn = _policy(ib)
    with raises("InvalidParameterCombinationException", "The value supplied for parameter 'policyDetails[0].filter.type' "
                "is not valid. A COUNT filter can be used only with the DELETE action, not DISABLE."):
        ib.update_lifecycle_policy(lifecyclePolicyArn=arn, executionRole=ROLE, resourceType="AMI_IMAGE",
                                   policyDetails=[{"action": {"type": "DISABLE"}, "filter": {"type": "COUNT", "value": 2}}],
                                   resourceSelection=BY_TAG)
    missing = f"{ARN}/gone"
    with raises("ResourceNotFoundException", f"The following resource 'LifecyclePolicy' cannot be found: '{missing}'."):
        ib.update_lifecycle_policy(lifecyclePolicyArn=missing, executionRole=ROLE, resourceType="AMI_IMAGE",
                                   policyDetails=[DELETE_AGE], resourceSelection=BY_TAG)


def test_delete_lifecycle_policy(ib):
    arn = _policy(ib)
    r = ib.delete_lifecycle_policy(lifecyclePolicyArn=arn)
    assert set(r) == {"ResponseMetadata", "lifecyclePolicyArn"} and r["lifecyclePolicyArn"] == arn
    with raises("ResourceNotFoundException", f"The following resource 'LifecyclePolicy' cannot be found: '{arn}'."):
        ib.delete_lifecycle_policy(lifecyclePolicyArn=arn)


def test_lifecycle_policy_tags(ib):
    arn = _policy(ib, tags={"a": "1"})
    ib.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    assert _get(ib, arn)["tags"] == {"a": "1", "b": "2"}


# -- the rules ------------------------------------------------------------------------------

def _rule(action, flt, include=None, exclusions=None):
    detail = {"action": {"type": action}, "filter": flt}
    if include is not None:
        detail["action"]["includeResources"] = include
    if exclusions is not None:
        detail["exclusionRules"] = exclusions
    return detail


AGE = {"type": "AGE", "value": 30, "unit": "DAYS"}
PV = "InvalidParameterValueException"
PC = "InvalidParameterCombinationException"

REFUSED = [
    ("duplicate-action", "AMI_IMAGE", [_rule("DELETE", AGE), _rule("DEPRECATE", AGE), _rule("DELETE", AGE)], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[2].action.type' is not valid. A lifecycle policy can contain at "
     "most one rule per action type: policyDetails[0] is a DELETE rule already."),
    ("container-deprecate", "CONTAINER_IMAGE", [_rule("DEPRECATE", AGE)], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].action.type' is not valid. Lifecycle policies for "
     "CONTAINER_IMAGE resources support only DELETE rules, not DEPRECATE."),
    ("container-disable", "CONTAINER_IMAGE", [_rule("DELETE", AGE), _rule("DISABLE", AGE)], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[1].action.type' is not valid. Lifecycle policies for "
     "CONTAINER_IMAGE resources support only DELETE rules, not DISABLE."),
    ("ami-containers", "AMI_IMAGE", [_rule("DELETE", AGE, {"containers": True})], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].action.includeResources.containers' is not valid. Containers "
     "can be included only in lifecycle policies for CONTAINER_IMAGE resources."),
    ("container-amis", "CONTAINER_IMAGE", [_rule("DELETE", AGE, {"amis": True})], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].action.includeResources.amis' is not valid. Amis can be "
     "included only in lifecycle policies for AMI_IMAGE resources."),
    ("container-snapshots", "CONTAINER_IMAGE", [_rule("DELETE", AGE, {"snapshots": True})], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].action.includeResources.snapshots' is not valid. Snapshots "
     "can be included only in lifecycle policies for AMI_IMAGE resources."),
    ("snapshots-deprecate", "AMI_IMAGE", [_rule("DEPRECATE", AGE, {"amis": True, "snapshots": True})], BY_TAG, PC,
     "The value supplied for parameter 'policyDetails[0].action.includeResources.snapshots' is not valid. Snapshots "
     "can be included only in DELETE rules; DEPRECATE rules can include AMIs only."),
    ("snapshots-without-amis", "AMI_IMAGE", [_rule("DELETE", AGE, {"snapshots": True})], BY_TAG, PC,
     "The value supplied for parameter 'policyDetails[0].action.includeResources.snapshots' is not valid. Snapshots "
     "can be included only together with AMIs: set includeResources.amis to true."),
    ("count-deprecate", "AMI_IMAGE", [_rule("DEPRECATE", {"type": "COUNT", "value": 5})], BY_TAG, PC,
     "The value supplied for parameter 'policyDetails[0].filter.type' is not valid. A COUNT filter can be used only "
     "with the DELETE action, not DEPRECATE."),
    ("count-unit", "AMI_IMAGE", [_rule("DELETE", {"type": "COUNT", "value": 5, "unit": "DAYS"})], BY_TAG, PC,
     "The value supplied for parameter 'policyDetails[0].filter.unit' is not valid. A unit can be given only with an "
     "AGE filter; a COUNT filter counts images."),
    ("count-retain", "AMI_IMAGE", [_rule("DELETE", {"type": "COUNT", "value": 5, "retainAtLeast": 2})], BY_TAG, PC,
     "The value supplied for parameter 'policyDetails[0].filter.retainAtLeast' is not valid. retainAtLeast can be "
     "given only with an AGE filter; the value of a COUNT filter is the number of images kept."),
    ("age-without-unit", "AMI_IMAGE", [_rule("DELETE", {"type": "AGE", "value": 5})], BY_TAG, PC,
     "The value supplied for parameter 'policyDetails[0].filter.unit' is not valid. An AGE filter requires a unit "
     "(DAYS, WEEKS, MONTHS or YEARS)."),
    ("container-ami-exclusions", "CONTAINER_IMAGE",
     [_rule("DELETE", AGE, exclusions={"amis": {"lastLaunched": {"value": 7, "unit": "DAYS"}}})], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].exclusionRules.amis' is not valid. AMI exclusion rules can "
     "be given only in lifecycle policies for AMI_IMAGE resources."),
    ("selection-both", "AMI_IMAGE", [_rule("DELETE", AGE)],
     {"tagMap": {"a": "b"}, "recipes": [{"name": "web", "semanticVersion": "1.0.0"}]}, PC,
     "The value supplied for parameter 'resourceSelection' is not valid. Specify exactly one of "
     "resourceSelection.recipes and resourceSelection.tagMap."),
    ("selection-neither", "AMI_IMAGE", [_rule("DELETE", AGE)], {}, PC,
     "The value supplied for parameter 'resourceSelection' is not valid. Specify exactly one of "
     "resourceSelection.recipes and resourceSelection.tagMap."),
    ("retain-range", "AMI_IMAGE", [_rule("DELETE", {**AGE, "retainAtLeast": 11})], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].filter.retainAtLeast' is not valid. "
     "'policyDetails[0].filter.retainAtLeast' must be less than or equal to 10."),
    ("value-range", "AMI_IMAGE", [_rule("DELETE", {**AGE, "value": 1001})], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].filter.value' is not valid. "
     "'policyDetails[0].filter.value' must be less than or equal to 1000."),
    ("last-launched-range", "AMI_IMAGE",
     [_rule("DELETE", AGE, exclusions={"amis": {"lastLaunched": {"value": 366, "unit": "DAYS"}}})], BY_TAG, PV,
     "The value supplied for parameter 'policyDetails[0].exclusionRules.amis.lastLaunched.value' is not valid. "
     "'policyDetails[0].exclusionRules.amis.lastLaunched.value' must be less than or equal to 365."),
    ("four-rules", "AMI_IMAGE", [_rule("DELETE", AGE)] * 4, BY_TAG, PV,
     "The value supplied for parameter 'policyDetails' is not valid. 'policyDetails' must have a number of items less "
     "than or equal to 3."),
]


@pytest.mark.parametrize("resource_type,details,selection,code,message", [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_create_lifecycle_policy_refuses(ib, resource_type, details, selection, code, message):
    with raises(code, message):
        ib.create_lifecycle_policy(name="refused", executionRole=ROLE, resourceType=resource_type,
                                   policyDetails=details, resourceSelection=selection)
    assert ib.list_lifecycle_policies()["lifecyclePolicySummaryList"] == []


ACCEPTED = [
    # AWS's Terraform acceptance test (lifecycle_policy_test.go, policyDetails) runs DISABLE + AGE + retainAtLeast.
    ("disable-retain", "AMI_IMAGE", [_rule("DISABLE", {**AGE, "retainAtLeast": 5}, {"amis": True})]),
    ("count-delete-exclusions", "AMI_IMAGE",
     [_rule("DELETE", {"type": "COUNT", "value": 10}, {"amis": True, "snapshots": True},
            {"amis": {"isPublic": True, "regions": ["us-east-1"], "lastLaunched": {"value": 2, "unit": "WEEKS"}}})]),
    ("any-order", "AMI_IMAGE", [_rule("DELETE", AGE), _rule("DISABLE", AGE), _rule("DEPRECATE", AGE)]),
    ("false-flags", "CONTAINER_IMAGE", [_rule("DELETE", AGE, {"amis": False, "snapshots": False, "containers": True})]),
]


@pytest.mark.parametrize("resource_type,details", [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_create_lifecycle_policy_accepts(ib, resource_type, details):
    arn = _policy(ib, "accepted", resource_type, details)
    assert _get(ib, arn)["policyDetails"] == details
