"""The AWS SDK for JavaScript v3 against a running kiln: Smithy-generated
serializers and deserializers, independent of botocore. tests/clients/js/flow.mjs
runs the flow (paginators, typed errors included) and prints what it saw as JSON."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from clients.support import EXAMPLES, HERE, Server, client_env, node_modules, stage_script

ARN_RE = r"arn:aws:imagebuilder:us-east-1:123456789012:{}"


@pytest.fixture(scope="module")
def modules():
    folder, why = node_modules()
    if folder is None:
        pytest.skip(why)
    return folder


def run_node(script, server, tmp_path, modules) -> dict:
    staged = stage_script(script, tmp_path / "js", modules)
    env = client_env(tmp_path)
    env.update(KILN_URL=server.url, COMPONENT_YAML=str(EXAMPLES / "hello-component.yaml"),
               NODE_NO_WARNINGS="1")
    done = subprocess.run(["node", str(staged)], capture_output=True, text=True, env=env, timeout=300,
                          cwd=staged.parent)
    assert done.returncode == 0, f"node exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def seen(modules, _timed_process, tmp_path_factory):
    """One run of flow.mjs against a server whose builds take 0.2 s per state."""
    server = Server(_timed_process).reset()
    return run_node(HERE / "js" / "flow.mjs", server, tmp_path_factory.mktemp("js"), modules)


def test_create_and_get_shapes(seen):
    assert seen["createComponent"]["status"] == 200
    assert re.fullmatch(r"[0-9a-f-]{36}", seen["createComponent"]["requestId"])
    assert re.fullmatch(r"[0-9a-f-]{36}", seen["createComponent"]["clientToken"])  # the SDK made one up
    assert seen["createComponent"]["latest"]["latestMinorVersionArn"] == ARN_RE.format("component/js-hello/1.0.x")
    assert seen["dataRoundTrip"] is True
    component = seen["component"]
    assert seen["types"]["component"] == {
        "arn": "string", "name": "string", "version": "string", "description": "string", "type": "string",
        "platform": "string", "state": "object", "parameters": "array", "owner": "string", "data": "string",
        "encrypted": "boolean", "dateCreated": "string", "tags": "object",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", component["dateCreated"])
    assert component["state"] == {"status": "ACTIVE"}
    assert component["tags"] == {"sdk": "js"}

    assert seen["recipe"]["blockDeviceMappings"] == [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 20, "volumeType": "gp3", "deleteOnTermination": True}}]
    infra = seen["infrastructureConfiguration"]
    # The update replaced the whole configuration: the metadata options it left out are gone.
    assert infra["description"] == "updated" and infra["instanceTypes"] == ["t3.small"]
    assert "instanceMetadataOptions" not in infra
    assert "dateUpdated" in infra
    assert seen["types"]["distributionConfiguration"]["timeoutMinutes"] == "number"
    assert [d["region"] for d in seen["distributionConfiguration"]["distributions"]] == ["us-east-1", "eu-west-1"]


def test_image_build_and_resolution(seen):
    arn = seen["imageArn"]
    assert arn == ARN_RE.format("image/js-recipe/1.0.0/1")
    # Polled through the build: it moved through the states in order and ended AVAILABLE.
    states = seen["statesSeen"]
    assert states[-1] == "AVAILABLE"
    order = ["PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]
    assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)
    assert len(states) >= 2, states

    image = seen["image"]
    assert image["version"] == "1.0.0/1"
    assert image["enhancedImageMetadataEnabled"] is True
    assert seen["types"]["image"]["dateCreated"] == "string"
    assert {a["region"] for a in image["outputResources"]["amis"]} == {"us-east-1", "eu-west-1"}
    assert all(re.fullmatch(r"ami-[0-9a-f]{17}", a["image"]) for a in image["outputResources"]["amis"])
    assert image["imageRecipe"]["parentImage"] == seen["resolved"]["managed"]
    assert seen["resolved"]["version"] == arn and seen["resolved"]["wildcard"] == arn
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/\d+\.\d+\.\d+/\d+",
                        seen["resolved"]["managed"])
    assert seen["imageLatest"]["latestVersionArn"] == ARN_RE.format("image/js-recipe/x.x.x")
    assert seen["tags"] == {"team": "kiln"}


def test_paginators(seen):
    assert seen["paginateListComponents"] == {
        "pages": 2, "arns": [ARN_RE.format("component/js-hello/1.0.0"), ARN_RE.format("component/js-hello/1.1.0")]}
    assert seen["paginateListComponentBuildVersions"]["pages"] == 2
    assert seen["paginateListComponentBuildVersions"]["arns"] == [
        ARN_RE.format("component/js-hello/1.1.0/1"), ARN_RE.format("component/js-hello/1.0.0/1")]
    amazon = seen["paginateListComponentsAmazon"]
    assert amazon["count"] == amazon["distinct"] > 7
    assert amazon["pages"] == -(-amazon["count"] // 7)
    assert [i["arn"] for i in seen["paginateListImages"]["items"]] == [ARN_RE.format("image/js-recipe/1.0.0")]
    assert seen["paginateListImages"]["items"][0]["version"] == "1.0.0"
    assert seen["paginateListImageBuildVersions"] == {
        "pages": 1, "arns": [seen["imageArn"]], "types": ["string"]}
    assert seen["paginateListDistributionConfigurations"][0]["regions"] == ["us-east-1", "eu-west-1"]
    assert seen["filteredComponents"] == [ARN_RE.format("component/js-hello/1.1.0")]


@pytest.mark.parametrize("label, name, status, flag, text", [
    ("getMissingImage", "ResourceNotFoundException", 404, "isResourceNotFound", "cannot be found"),
    ("getMissingWildcard", "ResourceNotFoundException", 404, "isResourceNotFound", "cannot be found"),
    ("duplicateRecipe", "ResourceAlreadyExistsException", 400, "isResourceAlreadyExists", "already exists"),
    ("badToken", "InvalidPaginationTokenException", 400, "isInvalidPaginationToken", "nextToken"),
    ("badArn", "InvalidParameterValueException", 400, "isInvalidParameterValue",
     "The value supplied for parameter 'imageBuildVersionArn' is not valid."),
    ("badWildcard", "InvalidParameterValueException", 400, "isInvalidParameterValue", "x.1.x"),
    ("idempotentMismatch", "IdempotentParameterMismatchException", 400, "isIdempotentParameterMismatch",
     "js-token-0001"),
    ("dryRun", "DryRunOperationException", 412, "isDryRun", "dryRun"),
    ("cancelFinished", "InvalidParameterValueException", 400, "isInvalidParameterValue", "AVAILABLE"),
    ("deleteUsedComponent", "ResourceDependencyException", 400, "isResourceDependency", "depended on it"),
    ("missingRequired", "InvalidRequestException", 400, "isInvalidRequest", "instanceProfileName"),
    ("workflowsWithoutRole", "InvalidParameterCombinationException", 400, "isInvalidParameterCombination",
     "An execution role is required when custom workflows are specified."),
    ("resumeAgain", "InvalidRequestException", 400, "isInvalidRequest", "is not waiting for an action: it is COMPLETED."),
    ("missingStepExecution", "ResourceNotFoundException", 404, "isResourceNotFound",
     "The following resource 'WorkflowStepExecution' cannot be found"),
])
def test_typed_errors(seen, label, name, status, flag, text):
    err = seen["errors"][label]
    assert err["thrown"], f"{label} did not raise"
    assert err["name"] == name
    assert err["status"] == status
    assert err[flag] is True and err["isServiceException"] is True
    assert sum(1 for k, v in err.items() if k.startswith("is") and v is True) == 2  # its own class + the base
    assert err["fault"] == "client"
    assert re.fullmatch(r"[0-9a-f-]{36}", err["requestId"])
    assert text in err["message"]


ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
WF_ID = r"wf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STEP_ID = r"step-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
APPROVAL_STEPS = ["LaunchBuildInstance", "WaitForApproval", "CreateOutputAMI", "TerminateBuildInstance"]


def test_workflow_run_waits_for_an_action_and_resumes(seen):
    """A custom BUILD workflow's WaitForAction step held the build (BUILDING, listed by
    the ListWaitingWorkflowSteps paginator) until SendWorkflowStepActionCommand RESUME."""
    runs = seen["workflowRuns"]
    workflow_arn = ARN_RE.format("workflow/build/js-approval/1.0.0/1")
    assert runs["workflowArn"] == workflow_arn
    assert runs["imageArn"] == ARN_RE.format("image/js-recipe/1.0.0/2")
    [waiting] = runs["waiting"]
    assert seen["types"]["waitingStep"] == {
        "stepExecutionId": "string", "imageBuildVersionArn": "string", "workflowExecutionId": "string",
        "workflowBuildVersionArn": "string", "name": "string", "action": "string", "startTime": "string"}
    assert (waiting["imageBuildVersionArn"], waiting["workflowBuildVersionArn"], waiting["name"], waiting["action"]) == (
        runs["imageArn"], workflow_arn, "WaitForApproval", "WaitForAction")
    assert re.fullmatch(STEP_ID, waiting["stepExecutionId"]) and re.fullmatch(WF_ID, waiting["workflowExecutionId"])
    assert re.fullmatch(ISO, waiting["startTime"])
    # Parked for three states' worth of time without moving.
    assert runs["whileWaiting"] == {"status": "BUILDING"}
    assert runs["waitingStep"] == {"status": "RUNNING", "outputs": None}
    sent = runs["sent"]
    assert sent["status"] == 200
    assert (sent["stepExecutionId"], sent["imageBuildVersionArn"]) == (waiting["stepExecutionId"], runs["imageArn"])
    assert re.fullmatch(r"[0-9a-f-]{36}", sent["clientToken"])  # the SDK's idempotency token, echoed back
    # Resumed: the rest of the build ran (no test workflow: tests were disabled).
    assert runs["statesSeen"][0] == "BUILDING" and runs["statesSeen"][-1] == "AVAILABLE"
    assert "TESTING" not in runs["statesSeen"]
    assert runs["waitingAfter"] == []


def test_workflow_executions_and_steps_as_parsed(seen):
    runs = seen["workflowRuns"]
    workflow_arn = ARN_RE.format("workflow/build/js-approval/1.0.0/1")
    run_id = runs["waiting"][0]["workflowExecutionId"]
    # The custom workflow replaced the defaults: one run, one page at pageSize 1.
    assert runs["executions"]["pages"] == 1
    [execution] = runs["executions"]["items"]
    assert seen["types"]["workflowExecution"] == {
        "workflowBuildVersionArn": "string", "workflowExecutionId": "string", "type": "string", "status": "string",
        "totalStepCount": "number", "totalStepsSucceeded": "number", "totalStepsFailed": "number",
        "totalStepsSkipped": "number", "startTime": "string", "endTime": "string", "retried": "boolean"}
    assert execution == {
        "workflowBuildVersionArn": workflow_arn, "workflowExecutionId": run_id, "type": "BUILD", "status": "COMPLETED",
        "totalStepCount": 4, "totalStepsSucceeded": 4, "totalStepsFailed": 0, "totalStepsSkipped": 0,
        "startTime": execution["startTime"], "endTime": execution["endTime"], "retried": False}
    assert re.fullmatch(ISO, execution["startTime"]) and re.fullmatch(ISO, execution["endTime"])
    assert execution["startTime"] <= execution["endTime"]
    got = runs["execution"]
    assert re.fullmatch(r"[0-9a-f-]{36}", got.pop("requestId"))
    assert got == {k: v for k, v in execution.items() if k != "retried"} | {"imageBuildVersionArn": runs["imageArn"]}

    # ListWorkflowStepExecutions through its paginator: four steps, pages of three.
    steps = runs["steps"]
    assert steps["pages"] == 2
    assert [s["name"] for s in steps["items"]] == APPROVAL_STEPS
    assert all(s["status"] == "COMPLETED" for s in steps["items"])
    types = seen["types"]["stepMetadata"]
    common = {"stepExecutionId": "string", "name": "string", "action": "string", "status": "string",
              "inputs": "string", "startTime": "string", "endTime": "string"}
    assert types["TerminateBuildInstance"] == common  # TerminateInstance reports no outputs
    for name in APPROVAL_STEPS[:3]:
        assert types[name] == {**common, "outputs": "string"}
    # inputs and outputs are JSON documents carried as strings; references resolved.
    by_name = {s["name"]: s for s in steps["items"]}
    instance = json.loads(by_name["LaunchBuildInstance"]["outputs"])["instanceId"]
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance)
    assert json.loads(by_name["LaunchBuildInstance"]["inputs"]) == {"waitFor": "ssmAgent"}
    assert json.loads(by_name["WaitForApproval"]["outputs"]) == {"action": "RESUME", "reason": "Approved by the JS SDK"}
    assert json.loads(by_name["CreateOutputAMI"]["inputs"]) == {"instanceId": instance}
    assert json.loads(by_name["CreateOutputAMI"]["outputs"]) == {"imageId": runs["amis"][0]}
    assert json.loads(by_name["TerminateBuildInstance"]["inputs"]) == {"instanceId": instance}
    times = [t for s in steps["items"] for t in (s["startTime"], s["endTime"])]
    assert all(re.fullmatch(ISO, t) for t in times) and times == sorted(times)

    # GetWorkflowStepExecution: the same step plus its run, image, onFailure and timeout.
    assert seen["types"]["stepExecution"] == {
        "requestId": "string", "stepExecutionId": "string", "workflowBuildVersionArn": "string",
        "workflowExecutionId": "string", "imageBuildVersionArn": "string", "name": "string", "action": "string",
        "status": "string", "inputs": "string", "outputs": "string", "startTime": "string", "endTime": "string",
        "onFailure": "string", "timeoutSeconds": "number"}
    details = runs["stepDetails"]
    for name in APPROVAL_STEPS:
        detail = dict(details[name])
        assert re.fullmatch(r"[0-9a-f-]{36}", detail.pop("requestId"))
        assert {k: detail.pop(k) for k in ("workflowBuildVersionArn", "workflowExecutionId", "imageBuildVersionArn")} == {
            "workflowBuildVersionArn": workflow_arn, "workflowExecutionId": run_id,
            "imageBuildVersionArn": runs["imageArn"]}
        extra = {k: detail.pop(k) for k in ("onFailure", "timeoutSeconds")}
        assert detail == by_name[name], name
        assert extra == {"LaunchBuildInstance": {"onFailure": "Abort", "timeoutSeconds": 4500},
                         "WaitForApproval": {"onFailure": "Abort", "timeoutSeconds": 3600},
                         "CreateOutputAMI": {"onFailure": "Abort", "timeoutSeconds": 43200},
                         "TerminateBuildInstance": {"onFailure": "Continue", "timeoutSeconds": 1800}}[name]


def test_cleanup_left_nothing(seen):
    assert seen["remaining"] == {"components": 0, "images": 0, "workflows": 0}
