"""Workflows through boto3, in-process and against a real server."""
from __future__ import annotations

import re

import pytest

from tests.support.documents import ARN_PREFIX, BUILD_WORKFLOW_YAML, TEST_WORKFLOW_YAML
from tests.support.errors import raises

ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ARN = f"{ARN_PREFIX}:workflow"
MANAGED = "arn:aws:imagebuilder:us-east-1:aws:workflow"
MANAGED_VERSIONS = [  # by type, then name, versions ascending
    "build/build-container/1.0.0", "build/build-container/1.0.1",
    "build/build-image/1.0.0", "build/build-image/1.0.2", "build/build-image/1.0.3",
    "test/test-container/1.0.0", "test/test-container/1.0.1",
    "test/test-image/1.0.0", "test/test-image/1.0.2", "test/test-image/1.0.3",
    "distribution/distribute-container/1.0.0", "distribution/distribute-image/1.0.0",
]


def _create(ib, name="my-workflow", version="1.0.0", kind="BUILD", data=BUILD_WORKFLOW_YAML, **kwargs) -> str:
    return ib.create_workflow(name=name, semanticVersion=version, type=kind, data=data, **kwargs)["workflowBuildVersionArn"]


def _not_found(arn) -> str:
    return f"The following resource 'Workflow' cannot be found: '{arn}'."


def _references(base: str, version: str) -> dict:
    major, minor, patch = version.split(".")
    return {"latestVersionArn": f"{base}/x.x.x", "latestMajorVersionArn": f"{base}/{major}.x.x",
            "latestMinorVersionArn": f"{base}/{major}.{minor}.x", "latestPatchVersionArn": f"{base}/{version}"}


# -- the AWS-managed workflows -------------------------------------------------------

def test_get_workflow_managed_wildcard(ib):
    r = ib.get_workflow(workflowBuildVersionArn=f"{MANAGED}/build/build-image/x.x.x")
    workflow = r["workflow"]
    assert workflow["arn"] == f"{MANAGED}/build/build-image/1.0.3/1"
    assert (workflow["name"], workflow["version"], workflow["type"], workflow["owner"]) == \
        ("build-image", "1.0.3", "BUILD", "Amazon")
    assert "LaunchBuildInstance" in workflow["data"]
    assert r["latestVersionReferences"] == _references(f"{MANAGED}/build/build-image", "1.0.3")
    assert "requestId" not in r


@pytest.mark.parametrize("asked, resolved", [
    ("1.0.2", "1.0.2/1"), ("1.0.x", "1.0.3/1"), ("1.0.2/1", "1.0.2/1"), ("1.x.x", "1.0.3/1"),
])
def test_get_workflow_managed_versions(ib, asked, resolved):
    arn = ib.get_workflow(workflowBuildVersionArn=f"{MANAGED}/build/build-image/{asked}")["workflow"]["arn"]
    assert arn == f"{MANAGED}/build/build-image/{resolved}"


def test_get_workflow_managed_wrong_type_segment_is_not_found(ib):
    arn = f"{MANAGED}/test/build-image/x.x.x"
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.get_workflow(workflowBuildVersionArn=arn)


def test_get_workflow_wildcard_out_of_order(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'workflowBuildVersionArn' is not valid. The version 'x.0.x' is not a "
                "valid wildcard version. When you use a wildcard (x) in a node, every node to its right must also be a "
                "wildcard, as in x.x.x, 1.x.x or 1.2.x."):
        ib.get_workflow(workflowBuildVersionArn=f"{MANAGED}/build/build-image/x.0.x")


def test_list_workflows_owner_amazon_across_types_one_per_page(ib):
    pages = list(ib.get_paginator("list_workflows").paginate(owner="Amazon", PaginationConfig={"PageSize": 1}))
    assert [len(p["workflowVersionList"]) for p in pages] == [1] * len(MANAGED_VERSIONS)
    assert [w["arn"] for p in pages for w in p["workflowVersionList"]] == [f"{MANAGED}/{v}" for v in MANAGED_VERSIONS]


def test_list_workflows_owner_amazon_pages_cross_type_boundaries(ib):
    pages = list(ib.get_paginator("list_workflows").paginate(owner="Amazon", PaginationConfig={"PageSize": 3}))
    assert [len(p["workflowVersionList"]) for p in pages] == [3, 3, 3, 3]
    assert [w["arn"] for p in pages for w in p["workflowVersionList"]] == [f"{MANAGED}/{v}" for v in MANAGED_VERSIONS]
    assert "nextToken" not in pages[-1]


def test_list_workflows_owner_amazon_entry(ib):
    entries = ib.list_workflows(owner="Amazon", filters=[{"name": "name", "values": ["distribute-image"]}])["workflowVersionList"]
    (entry,) = entries
    assert ISO_MILLIS.match(entry.pop("dateCreated"))
    assert entry == {"arn": f"{MANAGED}/distribution/distribute-image/1.0.0", "name": "distribute-image",
                     "version": "1.0.0", "description": "Workflow to distribute an AMI", "type": "DISTRIBUTION",
                     "owner": "Amazon"}


def test_list_workflows_owner_amazon_by_name(ib):
    entries = ib.list_workflows(owner="Amazon", byName=True)["workflowVersionList"]
    assert [(w["name"], w["version"]) for w in entries] == [
        ("build-container", "1.0.1"), ("build-image", "1.0.3"), ("test-container", "1.0.1"), ("test-image", "1.0.3"),
        ("distribute-container", "1.0.0"), ("distribute-image", "1.0.0")]


def test_list_workflows_type_filter(ib):
    entries = ib.list_workflows(owner="Amazon", filters=[{"name": "type", "values": ["TEST"]}])["workflowVersionList"]
    assert [w["arn"] for w in entries] == [f"{MANAGED}/{v}" for v in MANAGED_VERSIONS if v.startswith("test/")]


@pytest.mark.parametrize("owner", ["Shared", "ThirdParty"])
def test_list_workflows_owner_refused(ib, owner):
    with raises("InvalidParameterValueException",
                f"The value supplied for parameter 'owner' is not valid. '{owner}' is not a supported owner for "
                "workflows. Supported: Self, Amazon, AWSMarketplace."):
        ib.list_workflows(owner=owner)


def test_list_workflows_owner_marketplace_is_empty(ib):
    assert ib.list_workflows(owner="AWSMarketplace")["workflowVersionList"] == []


def test_list_workflows_unknown_filter_name(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'filters[0].name' is not valid. The filter name 'platform' is not "
                "supported. Supported filter names: description, name, type, version."):
        ib.list_workflows(filters=[{"name": "platform", "values": ["Linux"]}])


def test_list_workflows_by_name_with_version_filter(ib):
    with raises("InvalidParameterCombinationException",
                "The parameters 'byName' and the 'version' filter cannot be used together."):
        ib.list_workflows(byName=True, filters=[{"name": "version", "values": ["1.0.0"]}])


def test_list_workflows_forged_next_token(ib):
    with raises("InvalidPaginationTokenException",
                "The nextToken supplied is not valid. Use the nextToken value returned by the previous "
                "ListWorkflows response, unchanged."):
        ib.list_workflows(nextToken="forged")


def test_list_workflow_build_versions_forged_next_token(ib):
    with raises("InvalidPaginationTokenException",
                "The nextToken supplied is not valid. Use the nextToken value returned by the previous "
                "ListWorkflowBuildVersions response, unchanged."):
        ib.list_workflow_build_versions(nextToken="forged")


def test_list_workflow_build_versions_managed_wildcard(ib):
    summaries = ib.list_workflow_build_versions(
        workflowVersionArn=f"{MANAGED}/build/build-image/x.x.x")["workflowSummaryList"]
    assert [s["arn"] for s in summaries] == [f"{MANAGED}/build/build-image/1.0.3/1", f"{MANAGED}/build/build-image/1.0.2/1",
                                             f"{MANAGED}/build/build-image/1.0.0/1"]
    assert all(s["owner"] == "Amazon" for s in summaries)


# -- your own workflows --------------------------------------------------------------

def test_create_workflow_returns_build_arn_and_references(ib):
    r = ib.create_workflow(name="My Build_Flow", semanticVersion="2.1.0", type="BUILD", data=BUILD_WORKFLOW_YAML,
                           clientToken="w1")
    assert r["workflowBuildVersionArn"] == f"{ARN}/build/my-build-flow/2.1.0/1"
    assert r["clientToken"] == "w1"
    assert r["latestVersionReferences"] == _references(f"{ARN}/build/my-build-flow", "2.1.0")
    assert "requestId" not in r


def test_get_workflow_returns_every_field(ib):
    arn = _create(ib, "My Build", description="Builds.", changeDescription="First.", kmsKeyId="alias/k", tags={"t": "1"})
    workflow = ib.get_workflow(workflowBuildVersionArn=arn)["workflow"]
    assert ISO_MILLIS.match(workflow.pop("dateCreated"))
    assert workflow == {
        "arn": arn, "name": "My Build", "version": "1.0.0", "description": "Builds.", "changeDescription": "First.",
        "type": "BUILD", "owner": "123456789012", "data": BUILD_WORKFLOW_YAML, "kmsKeyId": "alias/k",
        "tags": {"t": "1"},
        "parameters": [{"name": "waitForActionAtEnd", "type": "boolean", "defaultValue": ["false"],
                        "description": "Wait at the end."}],
    }


@pytest.mark.parametrize("kind", ["BUILD", "TEST", "DISTRIBUTION"])
def test_create_workflow_type_is_in_the_arn(ib, kind):
    data = TEST_WORKFLOW_YAML if kind == "TEST" else BUILD_WORKFLOW_YAML
    arn = _create(ib, kind=kind, data=data)
    assert arn == f"{ARN}/{kind.lower()}/my-workflow/1.0.0/1"
    assert ib.get_workflow(workflowBuildVersionArn=arn)["workflow"]["type"] == kind


def test_create_workflow_same_name_in_two_types(ib):
    build = _create(ib, kind="BUILD")
    test = _create(ib, kind="TEST", data=TEST_WORKFLOW_YAML)
    assert (build, test) == (f"{ARN}/build/my-workflow/1.0.0/1", f"{ARN}/test/my-workflow/1.0.0/1")
    entries = ib.list_workflows()["workflowVersionList"]
    assert [w["arn"] for w in entries] == [f"{ARN}/build/my-workflow/1.0.0", f"{ARN}/test/my-workflow/1.0.0"]


def test_create_workflow_same_content_already_exists(ib):
    arn = _create(ib)
    with raises("ResourceAlreadyExistsException", f"The following resource 'Workflow' already exists: '{arn}'."):
        _create(ib, tags={"only": "tags"})


def test_create_workflow_different_content_makes_the_next_build(ib):
    _create(ib)
    second = _create(ib, description="Changed.")
    assert second == f"{ARN}/build/my-workflow/1.0.0/2"
    assert ib.get_workflow(workflowBuildVersionArn=f"{ARN}/build/my-workflow/x.x.x")["workflow"]["arn"] == second
    summaries = ib.list_workflow_build_versions(workflowVersionArn=f"{ARN}/build/my-workflow/1.0.0")["workflowSummaryList"]
    assert [s["arn"] for s in summaries] == [second, f"{ARN}/build/my-workflow/1.0.0/1"]


def test_create_workflow_invalid_document(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'data' is not valid. The document is missing the required key "
                "'schemaVersion'. The supported schemaVersion is 1.0."):
        _create(ib, data="steps: []\n")


def test_create_workflow_neither_data_nor_uri(ib):
    with raises("InvalidParameterCombinationException", "You must specify exactly one of the parameters 'data' and 'uri'."):
        ib.create_workflow(name="my-workflow", semanticVersion="1.0.0", type="BUILD")


def test_create_workflow_version_out_of_bounds(ib):
    with raises("InvalidVersionNumberException",
                "Your version number is out of bounds or does not follow the required syntax: '1.1073741824.0'. "
                "Each of <major>.<minor>.<patch> must be an integer from 0 to 1073741823."):
        _create(ib, version="1.1073741824.0")


def test_create_workflow_dry_run(ib):
    with raises("DryRunOperationException", "The request would have succeeded, but the dryRun parameter was set.", 412):
        _create(ib, dryRun=True)
    assert ib.list_workflows()["workflowVersionList"] == []


def test_create_workflow_client_token_replay(ib):
    first = _create(ib, clientToken="same")
    assert _create(ib, clientToken="same") == first
    assert len(ib.list_workflow_build_versions()["workflowSummaryList"]) == 1


def test_create_workflow_client_token_mismatch(ib):
    _create(ib, clientToken="same")
    with raises("IdempotentParameterMismatchException",
                "The client token 'same' was already used with different request parameters for CreateWorkflow."):
        _create(ib, version="1.0.1", clientToken="same")


def test_get_workflow_not_found(ib):
    arn = f"{ARN}/build/missing/x.x.x"
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.get_workflow(workflowBuildVersionArn=arn)


def test_list_workflows_self_paginated(ib):
    for i in range(3):
        _create(ib, f"flow-{i}")
    _create(ib, "flow-t", kind="TEST", data=TEST_WORKFLOW_YAML)
    pages = list(ib.get_paginator("list_workflows").paginate(PaginationConfig={"PageSize": 1}))
    assert [w["name"] for p in pages for w in p["workflowVersionList"]] == ["flow-0", "flow-1", "flow-2", "flow-t"]


def test_delete_workflow_then_get_is_not_found(ib):
    arn = _create(ib)
    assert ib.delete_workflow(workflowBuildVersionArn=arn)["workflowBuildVersionArn"] == arn
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.get_workflow(workflowBuildVersionArn=arn)
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.delete_workflow(workflowBuildVersionArn=arn)
    assert ib.list_workflows()["workflowVersionList"] == []


def test_delete_workflow_managed_is_not_found(ib):
    arn = f"{MANAGED}/build/build-image/1.0.3/1"
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.delete_workflow(workflowBuildVersionArn=arn)
