"""Builds as workflow runs, through boto3 (in-process, a real server, PostgreSQL): the
executions and steps a build records, failures that say where, and WaitForAction steps
resumed or stopped with SendWorkflowStepAction."""
from __future__ import annotations

import json
import re

import pytest

from kiln.pytest_plugin import KilnControl
from tests.service.builders import ACCOUNT, image, infrastructure, recipe
from tests.support.documents import wait_workflow
from tests.support.errors import raises

WF = re.compile(r"^wf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STEP = re.compile(r"^step-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MANAGED = "arn:aws:imagebuilder:us-east-1:aws:workflow"
BUILD_STEPS = ["LaunchBuildInstance", "ApplyBuildComponents", "InventoryCollection", "RunSanitizeScript",
               "RunSysPrepScript", "CreateOutputAMI", "TerminateBuildInstance"]


@pytest.fixture
def control(backend) -> KilnControl:
    if backend.kiln is not None:
        return KilnControl(kiln=backend.kiln)
    return KilnControl(url=backend.server.url)


def _runs(ib, arn) -> list[dict]:
    return ib.list_workflow_executions(imageBuildVersionArn=arn)["workflowExecutions"]


def _steps(ib, run_id) -> list[dict]:
    return ib.list_workflow_step_executions(workflowExecutionId=run_id)["steps"]


def _waiting_build(ib, on_failure="Abort"):
    workflow = ib.create_workflow(name="wait-build", semanticVersion="1.0.0", type="BUILD",
                                  data=wait_workflow(on_failure=on_failure))["workflowBuildVersionArn"]
    return image(ib, workflows=[{"workflowArn": workflow}], executionRole="ImageBuilderRole")


# -- default workflows ------------------------------------------------------------------------------

def test_a_build_runs_the_default_build_and_test_workflows(ib):
    arn = image(ib)
    runs = _runs(ib, arn)
    assert [(r["workflowBuildVersionArn"], r["type"], r["status"]) for r in runs] == [
        (f"{MANAGED}/build/build-image/1.0.3/1", "BUILD", "COMPLETED"),
        (f"{MANAGED}/test/test-image/1.0.3/1", "TEST", "COMPLETED")]
    build = runs[0]
    assert WF.match(build["workflowExecutionId"]) and build["retried"] is False
    # A Linux AMI: the Windows-only RunSysPrepScript step is skipped.
    assert (build["totalStepCount"], build["totalStepsSucceeded"], build["totalStepsFailed"],
            build["totalStepsSkipped"]) == (7, 6, 0, 1)
    assert ISO.match(build["startTime"]) and ISO.match(build["endTime"])
    steps = _steps(ib, build["workflowExecutionId"])
    assert [s["name"] for s in steps] == BUILD_STEPS
    by_name = {s["name"]: s for s in steps}
    launch = by_name["LaunchBuildInstance"]
    assert (launch["action"], launch["status"], launch["inputs"]) == ("LaunchInstance", "COMPLETED", '{"waitFor": "ssmAgent"}')
    instance = json.loads(launch["outputs"])["instanceId"]
    assert re.fullmatch(r"i-[0-9a-f]{17}", instance)
    # Later steps' JSONPath inputs resolved from earlier outputs; a skipped step keeps them unresolved.
    assert json.loads(by_name["CreateOutputAMI"]["inputs"]) == {"instanceId": instance}
    ami = ib.get_image(imageBuildVersionArn=arn)["image"]["outputResources"]["amis"][0]["image"]
    assert json.loads(by_name["CreateOutputAMI"]["outputs"]) == {"imageId": ami}
    sysprep = by_name["RunSysPrepScript"]
    assert sysprep["status"] == "SKIPPED" and "outputs" not in sysprep
    assert json.loads(sysprep["inputs"]) == {"instanceId.$": "$.stepOutputs.LaunchBuildInstance.instanceId"}
    assert json.loads(by_name["InventoryCollection"]["outputs"])["osVersion"] == "Amazon Linux 2023"


def test_get_workflow_execution_and_step_execution(ib):
    arn = image(ib)
    build = _runs(ib, arn)[0]
    got = ib.get_workflow_execution(workflowExecutionId=build["workflowExecutionId"])
    assert got["imageBuildVersionArn"] == arn and got["status"] == "COMPLETED" and got["totalStepCount"] == 7
    first = _steps(ib, build["workflowExecutionId"])[0]
    assert STEP.match(first["stepExecutionId"])
    step = ib.get_workflow_step_execution(stepExecutionId=first["stepExecutionId"])
    assert (step["name"], step["onFailure"], step["timeoutSeconds"]) == ("LaunchBuildInstance", "Abort", 4500)
    assert (step["workflowExecutionId"], step["imageBuildVersionArn"]) == (build["workflowExecutionId"], arn)


def test_a_builds_execution_ids_lead_to_it_and_go_with_it(backend, ib):
    # Every id of one build shares the plan's head, its execution key (one lookup row per
    # build, not one per run and step: kiln/service/workflow_runs.py); each still names its
    # own run or step.
    arn = image(ib)
    runs = _runs(ib, arn)
    steps = [s for r in runs for s in _steps(ib, r["workflowExecutionId"])]
    ids = [r["workflowExecutionId"] for r in runs] + [s["stepExecutionId"] for s in steps]
    assert len(set(ids)) == len(ids) == 2 + 7 + 4
    assert {i.split("-", 1)[1][:23] for i in ids} == {ids[0][3:26]}
    for s in steps:
        got = ib.get_workflow_step_execution(stepExecutionId=s["stepExecutionId"])
        assert (got["stepExecutionId"], got["name"], got["imageBuildVersionArn"]) == (s["stepExecutionId"], s["name"], arn)
    head = ids[0][3:26]
    if backend.kiln is not None:
        with backend.kiln.store.transaction(ACCOUNT, "us-east-1", write=False) as tx:
            assert tx.execution_key_build(head) == arn
            assert [r for r in tx.rows_of_scope(1000) if r.type == "workflow-run"] == []
    ib.delete_image(imageBuildVersionArn=arn)
    with raises("ResourceNotFoundException",
                f"The following resource 'WorkflowExecution' cannot be found: '{ids[0]}'."):
        ib.get_workflow_execution(workflowExecutionId=ids[0])
    with raises("ResourceNotFoundException",
                f"The following resource 'WorkflowStepExecution' cannot be found: '{ids[-1]}'."):
        ib.get_workflow_step_execution(stepExecutionId=ids[-1])
    if backend.kiln is not None:
        with backend.kiln.store.transaction(ACCOUNT, "us-east-1", write=False) as tx:
            assert tx.execution_key_build(head) is None


def test_without_tests_a_build_runs_no_test_workflow(ib):
    arn = image(ib, imageTestsConfiguration={"imageTestsEnabled": False})
    assert [r["type"] for r in _runs(ib, arn)] == ["BUILD"]


def test_steps_run_as_the_build_goes(backend, control):
    if backend.kiln is None:
        pytest.skip("manual build timing is set per in-process kiln")
    backend.kiln.seconds_per_state = None
    ib = backend.client()
    arn = image(ib)
    build, test = _runs(ib, arn)
    assert (build["status"], test["status"]) == ("PENDING", "PENDING")
    control.advance_builds(arn)  # BUILDING
    build, test = _runs(ib, arn)
    assert (build["status"], test["status"]) == ("RUNNING", "PENDING")
    statuses = [s["status"] for s in _steps(ib, build["workflowExecutionId"])]
    assert statuses == ["RUNNING", "PENDING", "PENDING", "PENDING", "SKIPPED", "PENDING", "PENDING"]
    control.advance_builds(arn)  # TESTING
    build, test = _runs(ib, arn)
    assert (build["status"], test["status"]) == ("COMPLETED", "RUNNING")


@pytest.mark.parametrize("missing", ["wf-00000000-0000-4000-a000-000000000000"])
def test_unknown_workflow_execution(ib, missing):
    with raises("ResourceNotFoundException", f"The following resource 'WorkflowExecution' cannot be found: '{missing}'."):
        ib.get_workflow_execution(workflowExecutionId=missing)


def test_list_workflow_executions_of_an_unknown_image(ib):
    arn = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/none/1.0.0/1"
    with raises("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{arn}'."):
        ib.list_workflow_executions(imageBuildVersionArn=arn)


# -- failures that say where ---------------------------------------------------------------------------

def test_a_failure_planned_at_a_named_step(ib, control):
    control.fail_next_build("BUILDING", "CreateImage failed: the snapshot could not be made.", step="CreateOutputAMI")
    arn = image(ib)
    state = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]
    build, test = _runs(ib, arn)
    context = state.pop("failureContext")
    assert state == {"status": "FAILED", "reason": "CreateImage failed: the snapshot could not be made."}
    assert context == {"imageStatus": "BUILDING", "workflowExecutionId": build["workflowExecutionId"],
                       "workflowArn": build["workflowBuildVersionArn"], "stepExecutionId": context["stepExecutionId"],
                       "failedStep": "CreateOutputAMI"}
    assert (build["status"], test["status"]) == ("FAILED", "CANCELLED")
    assert (build["totalStepsSucceeded"], build["totalStepsFailed"], build["totalStepsSkipped"]) == (4, 1, 1)
    steps = {s["name"]: s for s in _steps(ib, build["workflowExecutionId"])}
    failed = steps["CreateOutputAMI"]
    assert (failed["status"], failed["message"]) == ("FAILED", "CreateImage failed: the snapshot could not be made.")
    assert failed["stepExecutionId"] == context["stepExecutionId"]
    assert steps["TerminateBuildInstance"]["status"] == "CANCELLED"
    listed = ib.list_workflow_executions(imageBuildVersionArn=arn)
    assert listed["message"] == "CreateImage failed: the snapshot could not be made."


def test_a_failure_at_a_step_that_continues_lets_the_build_go_on(ib, control):
    control.fail_next_build("BUILDING", "Could not terminate.", step="TerminateBuildInstance")
    arn = image(ib)
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"] == {"status": "AVAILABLE"}
    build = _runs(ib, arn)[0]
    assert (build["status"], build["totalStepsFailed"]) == ("COMPLETED", 1)


def test_a_failure_named_at_a_step_of_a_given_build(backend, control):
    if backend.kiln is None:
        pytest.skip("manual build timing is set per in-process kiln")
    backend.kiln.seconds_per_state = None
    ib = backend.client()
    arn = image(ib)
    with pytest.raises((RuntimeError, ValueError)) as e:
        control.fail_build(arn, "BUILDING", "boom", step="NoSuchStep")
    assert str(e.value).endswith(f"The image '{arn}' has no workflow step 'NoSuchStep' still to run.")
    assert control.fail_build(arn, "BUILDING", "Tests failed", step="ApplyTestComponents")["state"] == "TESTING"
    control.advance_builds(arn, to_end=True)
    context = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["failureContext"]
    assert (context["imageStatus"], context["failedStep"]) == ("TESTING", "ApplyTestComponents")


# -- WaitForAction ------------------------------------------------------------------------------------

def test_a_build_waits_for_an_action_and_resumes(ib):
    arn = _waiting_build(ib)
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "BUILDING"
    waiting = ib.list_waiting_workflow_steps()["steps"]
    assert len(waiting) == 1
    step = waiting[0]
    assert (step["imageBuildVersionArn"], step["name"], step["action"]) == (arn, "WaitForApproval", "WaitForAction")
    assert step["workflowBuildVersionArn"] == f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:workflow/build/wait-build/1.0.0/1"
    assert ISO.match(step["startTime"])
    assert ib.get_workflow_step_execution(stepExecutionId=step["stepExecutionId"])["status"] == "RUNNING"
    r = ib.send_workflow_step_action(stepExecutionId=step["stepExecutionId"], imageBuildVersionArn=arn,
                                     action="RESUME", reason="Approved by QA", clientToken="a1")
    assert (r["stepExecutionId"], r["imageBuildVersionArn"], r["clientToken"]) == (step["stepExecutionId"], arn, "a1")
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "AVAILABLE"
    assert ib.list_waiting_workflow_steps()["steps"] == []
    resumed = ib.get_workflow_step_execution(stepExecutionId=step["stepExecutionId"])
    assert resumed["status"] == "COMPLETED"
    assert json.loads(resumed["outputs"]) == {"action": "RESUME", "reason": "Approved by QA"}
    with raises("InvalidRequestException",
                f"The workflow step '{step['stepExecutionId']}' is not waiting for an action: it is COMPLETED."):
        ib.send_workflow_step_action(stepExecutionId=step["stepExecutionId"], imageBuildVersionArn=arn, action="RESUME")


def test_a_waiting_build_stopped_fails_there(ib):
    arn = _waiting_build(ib)
    step = ib.list_waiting_workflow_steps()["steps"][0]
    ib.send_workflow_step_action(stepExecutionId=step["stepExecutionId"], imageBuildVersionArn=arn, action="STOP",
                                 reason="Rejected")
    state = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]
    assert (state["status"], state["reason"], state["failureContext"]["failedStep"]) == ("FAILED", "Rejected", "WaitForApproval")
    stopped = ib.get_workflow_step_execution(stepExecutionId=step["stepExecutionId"])
    assert (stopped["status"], stopped["message"]) == ("FAILED", "Rejected")


def test_a_stopped_step_that_continues_lets_the_build_go_on(ib):
    arn = _waiting_build(ib, on_failure="Continue")
    step = ib.list_waiting_workflow_steps()["steps"][0]
    ib.send_workflow_step_action(stepExecutionId=step["stepExecutionId"], imageBuildVersionArn=arn, action="STOP")
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "AVAILABLE"


def test_a_waiting_step_times_out_on_kiln_clock(ib, control):
    arn = _waiting_build(ib)
    control.advance_clock(3601)
    state = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]
    assert (state["status"], state["reason"], state["failureContext"]["failedStep"]) == (
        "FAILED", "Step timed out.", "WaitForApproval")


def test_send_workflow_step_action_errors(ib):
    arn = _waiting_build(ib)
    step = ib.list_waiting_workflow_steps()["steps"][0]["stepExecutionId"]
    other = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/demo/1.0.0/9"
    with raises("InvalidParameterValueException",
                f"The value supplied for parameter 'imageBuildVersionArn' is not valid. The step '{step}' belongs to "
                f"the image '{arn}', not '{other}'."):
        ib.send_workflow_step_action(stepExecutionId=step, imageBuildVersionArn=other, action="RESUME")
    missing = "step-00000000-0000-4000-a000-000000000000"
    with raises("ResourceNotFoundException", f"The following resource 'WorkflowStepExecution' cannot be found: '{missing}'."):
        ib.send_workflow_step_action(stepExecutionId=missing, imageBuildVersionArn=arn, action="RESUME")


def test_cancelling_a_waiting_build(ib):
    arn = _waiting_build(ib)
    ib.cancel_image_creation(imageBuildVersionArn=arn)
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "CANCELLED"
    assert ib.list_waiting_workflow_steps()["steps"] == []
    build = _runs(ib, arn)[0]
    assert build["status"] == "CANCELLED"


def test_custom_workflows_need_an_execution_role(ib):
    workflow = ib.create_workflow(name="wait-build", semanticVersion="1.0.0", type="BUILD",
                                  data=wait_workflow())["workflowBuildVersionArn"]
    with raises("InvalidParameterCombinationException",
                "The value supplied for parameter 'executionRole' is not valid. An execution role is required when "
                "custom workflows are specified."):
        ib.create_image(imageRecipeArn=recipe(ib), infrastructureConfigurationArn=infrastructure(ib),
                        workflows=[{"workflowArn": workflow}])


# -- RetryImage and DistributeImage -----------------------------------------------------------------

def test_retry_image_reruns_a_failed_build_in_place(ib, control):
    control.fail_next_build("BUILDING", "Component failed.", step="ApplyBuildComponents")
    arn = image(ib)
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "FAILED"
    first = _runs(ib, arn)
    r = ib.retry_image(imageBuildVersionArn=arn, clientToken="r1")
    assert (r["imageBuildVersionArn"], r["clientToken"]) == (arn, "r1")
    image_doc = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert image_doc["state"] == {"status": "AVAILABLE"} and image_doc["outputResources"]["amis"]
    runs = _runs(ib, arn)
    # The superseded runs are still listed, marked retried; the new ones have new ids.
    assert [(r["type"], r["status"], r["retried"]) for r in runs] == [
        ("BUILD", "COMPLETED", False), ("TEST", "COMPLETED", False), ("BUILD", "FAILED", True), ("TEST", "CANCELLED", True)]
    assert {r["workflowExecutionId"] for r in runs[2:]} == {r["workflowExecutionId"] for r in first}
    assert not {r["workflowExecutionId"] for r in runs[:2]} & {r["workflowExecutionId"] for r in first}


def test_retry_image_of_a_build_that_did_not_fail_is_refused(ib):
    arn = image(ib)
    with raises("InvalidRequestException", f"The image '{arn}' is AVAILABLE; only a FAILED or CANCELLED image can be retried."):
        ib.retry_image(imageBuildVersionArn=arn)


def test_distribute_image_of_an_ami(ib):
    dist = ib.create_distribution_configuration(name="copies", distributions=[
        {"region": r, "amiDistributionConfiguration": {"name": f"copy-{r} {{{{ imagebuilder:buildDate }}}}"}}
        for r in ("us-east-1", "eu-west-1")])[
        "distributionConfigurationArn"]
    r = ib.distribute_image(sourceImage="ami-1234567890abcdef0", distributionConfigurationArn=dist,
                            executionRole="arn:aws:iam::123456789012:role/ImageBuilderDistribution", clientToken="d1")
    arn = r["imageBuildVersionArn"]
    assert arn == f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/ami-1234567890abcdef0/1.0.0/1" and r["clientToken"] == "d1"
    got = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert got["state"] == {"status": "AVAILABLE"}
    assert [a["region"] for a in got["outputResources"]["amis"]] == ["us-east-1", "eu-west-1"]
    assert [(r["type"], r["workflowBuildVersionArn"].split("/")[-3]) for r in _runs(ib, arn)] == [("DISTRIBUTION", "distribute-image")]


def test_distribute_image_of_an_image_and_errors(ib):
    built = image(ib)
    dist = ib.create_distribution_configuration(name="copies", distributions=[
        {"region": "eu-west-1", "amiDistributionConfiguration": {"name": "copy {{ imagebuilder:buildDate }}"}}])[
        "distributionConfigurationArn"]
    arn = ib.distribute_image(sourceImage=built, distributionConfigurationArn=dist, executionRole="Role")["imageBuildVersionArn"]
    assert arn == built.rsplit("/", 1)[0] + "/2"  # the next build of the source's name and version
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'sourceImage' is not valid. 'not-an-image' is not an AMI ID, an ssm: "
                "parameter or an image ARN."):
        ib.distribute_image(sourceImage="not-an-image", distributionConfigurationArn=dist, executionRole="Role")


def test_a_failure_planned_in_a_component_phase_names_the_component(ib, control):
    control.fail_next_build(reason="exit status 1", component="update-linux", phase="build")
    arn = image(ib)
    context = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["failureContext"]
    assert (context["imageStatus"], context["failedStep"]) == ("BUILDING", "ApplyBuildComponents")
    failure = context["componentFailure"]
    assert failure["componentArn"].startswith("arn:aws:imagebuilder:us-east-1:aws:component/update-linux/")
    assert (failure["phaseName"], failure["errorMessage"]) == ("build", "exit status 1")


def test_with_manual_timing_an_advance_stops_at_a_wait_later_in_the_state(backend, control):
    """An advance ends the step running, then the state's steps run up to its next
    WaitForAction, which waits (found by the console's tests: it used to be skipped)."""
    if backend.kiln is None:
        pytest.skip("manual build timing is set per in-process kiln")
    backend.kiln.seconds_per_state = None
    ib = backend.client()
    arn = _waiting_build(ib)
    control.advance_builds(arn)  # BUILDING: LaunchBuildInstance runs
    [build] = [r for r in _runs(ib, arn) if r["type"] == "BUILD"]
    assert [s["status"] for s in _steps(ib, build["workflowExecutionId"])] == ["RUNNING", "PENDING", "PENDING", "PENDING"]
    assert ib.list_waiting_workflow_steps()["steps"] == []
    control.advance_builds(arn)  # LaunchBuildInstance done; WaitForApproval waits
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "BUILDING"
    assert [s["status"] for s in _steps(ib, build["workflowExecutionId"])] == ["COMPLETED", "RUNNING", "PENDING", "PENDING"]
    [step] = ib.list_waiting_workflow_steps()["steps"]
    assert step["name"] == "WaitForApproval"
    ib.send_workflow_step_action(stepExecutionId=step["stepExecutionId"], imageBuildVersionArn=arn, action="RESUME")
    assert [s["status"] for s in _steps(ib, build["workflowExecutionId"])] == ["COMPLETED", "COMPLETED", "RUNNING", "PENDING"]
    control.advance_builds(arn, to_end=True)
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "AVAILABLE"
