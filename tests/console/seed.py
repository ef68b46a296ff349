"""A store worth looking at, made through boto3 and kiln's controls: pipelines with schedules,
a build that failed at a workflow step, a build waiting at a WaitForAction step, AVAILABLE
images, and a lifecycle policy with something to do."""
from __future__ import annotations

import time

from kiln.pytest_plugin import KilnControl
from tests.support.documents import wait_workflow

AL2023 = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"
FAILURE = "CreateImage failed: the snapshot snap-0abc could not be made (quota exceeded)."
HELLO = """name: hello
description: Says hello
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        inputs:
          commands: ["echo {{ Greeting }}"]
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands: ["test -f /etc/os-release"]
"""


def seed(ib, control: KilnControl) -> dict:
    """Make the store; answers the ARNs the tests look for."""
    hello = ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux", data=HELLO,
                                description="Says hello")["componentBuildVersionArn"]
    infra = ib.create_infrastructure_configuration(
        name="small", instanceProfileName="EC2InstanceProfileForImageBuilder", instanceTypes=["t3.small"])[
        "infrastructureConfigurationArn"]
    dist = ib.create_distribution_configuration(name="two-regions", distributions=[
        {"region": r, "amiDistributionConfiguration": {"name": f"web-{r} {{{{ imagebuilder:buildDate }}}}"}}
        for r in ("us-east-1", "eu-west-1")])["distributionConfigurationArn"]
    recipes = {}
    for name in ("web", "batch", "gated"):
        recipes[name] = ib.create_image_recipe(
            name=name, semanticVersion="1.0.0", parentImage=AL2023,
            components=[{"componentArn": UPDATE_LINUX}, {"componentArn": hello}])["imageRecipeArn"]
    pipelines = {}
    for name, recipe, schedule in (
            ("nightly-web", "web", {"scheduleExpression": "cron(0 3 * * ? *)", "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"}),
            ("weekday-batch", "batch", {"scheduleExpression": "cron(30 9 ? * MON-FRI *)", "timezone": "Europe/Berlin",
                                        "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"}),
            ("twice-a-day", "batch", {"scheduleExpression": "rate(12 hours)", "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"}),
            ("on-demand", "web", None)):
        kwargs = {"schedule": schedule} if schedule else {}
        pipelines[name] = ib.create_image_pipeline(
            name=name, imageRecipeArn=recipes[recipe], infrastructureConfigurationArn=infra,
            distributionConfigurationArn=dist, description=f"Builds {recipe}", tags={"team": "platform"}, **kwargs)[
            "imagePipelineArn"]

    def build(recipe, **kwargs):
        return ib.create_image(imageRecipeArn=recipes[recipe], infrastructureConfigurationArn=infra,
                               tags={"team": "platform"}, **kwargs)["imageBuildVersionArn"]

    # Three AVAILABLE builds of batch: a lifecycle policy keeping the newest one has two to delete.
    available = [build("batch") for _ in range(3)]
    # A build that fails at its CreateOutputAMI step.
    control.fail_next_build("BUILDING", FAILURE, step="CreateOutputAMI")
    failed = build("web")
    # A build waiting at WaitForApproval (the server's build timing moves it there).
    workflow = ib.create_workflow(name="wait-build", semanticVersion="1.0.0", type="BUILD",
                                  data=wait_workflow(timeout_seconds=43200),
                                  description="Builds an AMI once someone approves it")["workflowBuildVersionArn"]
    waiting = build("gated", workflows=[{"workflowArn": workflow}], executionRole="ImageBuilderRole")
    deadline = time.monotonic() + 30
    while True:
        states = {a: ib.get_image(imageBuildVersionArn=a)["image"]["state"]["status"] for a in available + [failed]}
        steps = ib.list_waiting_workflow_steps()["steps"]
        if set(states.values()) <= {"AVAILABLE", "FAILED"} and steps:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the seeded builds did not settle: {states}, waiting steps {steps}")
        time.sleep(0.2)
    policy = ib.create_lifecycle_policy(
        name="keep-newest-batch", description="Deletes all but the newest batch image", executionRole="LifecycleRole",
        resourceType="AMI_IMAGE",
        policyDetails=[{"action": {"type": "DELETE"}, "filter": {"type": "COUNT", "value": 1}}],
        resourceSelection={"recipes": [{"name": "batch", "semanticVersion": "1.x.x"}]})["lifecyclePolicyArn"]
    return {"failed": failed, "waiting": waiting, "available": available, "pipelines": pipelines, "policy": policy,
            "workflow": workflow, "component": hello}
