#!/usr/bin/env python3
"""A build that waits for a human: a WaitForAction step, with boto3, against `kiln serve`.

    kiln serve --in-memory &            # listens on http://127.0.0.1:4599
    python examples/approval_flow.py    # KILN_URL=http://host:port to point elsewhere

Creates a custom BUILD workflow whose WaitForApproval step (action WaitForAction) holds the
build until someone answers it, an image recipe on the Amazon-managed Amazon Linux 2023
image, an infrastructure configuration, and two images built with that workflow (custom
workflows need an execution role). For each: waits until its step shows up in
ListWaitingWorkflowSteps, then answers with SendWorkflowStepAction: RESUME for the first
(it goes on to AVAILABLE), STOP for the second (it FAILS at that step). Prints the workflow
executions and steps of both, then deletes what it made.
"""
import json
import os
import time

import boto3

KILN_URL = os.environ.get("KILN_URL", "http://127.0.0.1:4599")
PARENT_IMAGE = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ImageBuilderExecutionRole"

APPROVAL_WORKFLOW = """\
name: build-with-approval
description: Builds an AMI once someone approves the build instance
schemaVersion: 1.0
steps:
  - name: LaunchBuildInstance
    action: LaunchInstance
    onFailure: Abort
    inputs:
      waitFor: "ssmAgent"
  - name: ApplyBuildComponents
    action: ExecuteComponents
    onFailure: Abort
    inputs:
      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"
  - name: WaitForApproval
    action: WaitForAction
    onFailure: Abort
    timeoutSeconds: 3600
  - name: CreateOutputAMI
    action: CreateImage
    onFailure: Abort
    inputs:
      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"
  - name: TerminateBuildInstance
    action: TerminateInstance
    onFailure: Continue
    inputs:
      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"
"""

ib = boto3.client(
    "imagebuilder",
    region_name="us-east-1",
    endpoint_url=KILN_URL,
    # kiln takes any credentials; a 12-digit access key id becomes the account id.
    aws_access_key_id="123456789012",
    aws_secret_access_key="kiln",
)


def waiting_step(image_arn, timeout=120):
    """The step of `image_arn` that waits for an action, once the build reaches it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for page in ib.get_paginator("list_waiting_workflow_steps").paginate():
            for step in page["steps"]:
                if step["imageBuildVersionArn"] == image_arn:
                    return step
        time.sleep(0.5)
    raise SystemExit(f"{image_arn} never reached a WaitForAction step")


def wait_until_done(image_arn, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = ib.get_image(imageBuildVersionArn=image_arn)["image"]["state"]
        if state["status"] in ("AVAILABLE", "FAILED", "CANCELLED"):
            return state
        time.sleep(0.5)
    raise SystemExit(f"{image_arn} did not finish")


def show_runs(image_arn):
    for page in ib.get_paginator("list_workflow_executions").paginate(imageBuildVersionArn=image_arn):
        for run in page["workflowExecutions"]:
            print(f"  workflow {run['workflowBuildVersionArn'].split(':workflow/')[1]} ({run['type']}): "
                  f"{run['status']}, {run['totalStepsSucceeded']}/{run['totalStepCount']} steps succeeded, "
                  f"{run['totalStepsFailed']} failed")
            steps = ib.get_paginator("list_workflow_step_executions").paginate(
                workflowExecutionId=run["workflowExecutionId"])
            for step in (s for p in steps for s in p["steps"]):
                line = f"    {step['name']:<24} {step['action']:<18} {step['status']}"
                if step.get("outputs"):
                    line += f"  outputs {json.loads(step['outputs'])}"
                if step.get("message"):
                    line += f"  ({step['message']})"
                print(line)


created = []  # (delete method, argument name, ARN), deleted in reverse order at the end
try:
    workflow_arn = ib.create_workflow(
        name="build-with-approval",
        semanticVersion="1.0.0",
        type="BUILD",
        description="Waits for an approval before creating the AMI",
        data=APPROVAL_WORKFLOW,
    )["workflowBuildVersionArn"]
    created.append(("delete_workflow", "workflowBuildVersionArn", workflow_arn))
    print("workflow:", workflow_arn)

    recipe_arn = ib.create_image_recipe(
        name="approval-recipe",
        semanticVersion="1.0.0",
        parentImage=PARENT_IMAGE,
        components=[{"componentArn": UPDATE_LINUX}],
    )["imageRecipeArn"]
    created.append(("delete_image_recipe", "imageRecipeArn", recipe_arn))
    print("recipe:", recipe_arn)

    infra_arn = ib.create_infrastructure_configuration(
        name="approval-infra",
        instanceProfileName="EC2InstanceProfileForImageBuilder",
        instanceTypes=["t3.micro"],
    )["infrastructureConfigurationArn"]
    created.append(("delete_infrastructure_configuration", "infrastructureConfigurationArn", infra_arn))
    print("infrastructure configuration:", infra_arn)

    for action, reason in (("RESUME", "Looks good - approved"), ("STOP", "Rejected: wrong kernel")):
        image_arn = ib.create_image(
            imageRecipeArn=recipe_arn,
            infrastructureConfigurationArn=infra_arn,
            imageTestsConfiguration={"imageTestsEnabled": False},
            workflows=[{"workflowArn": workflow_arn}],   # replaces the default build-image workflow
            executionRole=EXECUTION_ROLE,                # required with custom workflows
        )["imageBuildVersionArn"]
        created.append(("delete_image", "imageBuildVersionArn", image_arn))
        print()
        print("image:", image_arn)

        step = waiting_step(image_arn)
        status = ib.get_image(imageBuildVersionArn=image_arn)["image"]["state"]["status"]
        print(f"waiting: step {step['name']} ({step['action']}) {step['stepExecutionId']} "
              f"since {step['startTime']}; image is {status}")

        ib.send_workflow_step_action(stepExecutionId=step["stepExecutionId"], imageBuildVersionArn=image_arn,
                                     action=action, reason=reason)
        print(f"sent {action}: {reason}")

        state = wait_until_done(image_arn)
        print("state:", state["status"] + (f" - {state['reason']}" if state.get("reason") else ""))
        if state.get("failureContext"):   # where the build stopped
            context = state["failureContext"]
            print(f"  failed at step {context['failedStep']} ({context['stepExecutionId']}) while {context['imageStatus']}")
        show_runs(image_arn)
finally:
    for method, param, arn in reversed(created):
        getattr(ib, method)(**{param: arn})
    print()
    print("cleaned up", len(created), "resources")
