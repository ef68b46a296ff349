"""Small, valid documents and request bodies the service tests share."""
from __future__ import annotations

import json

ACCOUNT = "123456789012"
REGION = "us-east-1"
ARN_PREFIX = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}"

BUILD_COMPONENT_YAML = """\
name: hello
description: Says hello.
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
      description: What to say.
  - Target:
      type: string
phases:
  - name: build
    steps:
      - name: SayHello
        action: ExecuteBash
        inputs:
          commands:
            - echo "{{ Greeting }} {{ Target }}"
"""

TEST_COMPONENT_YAML = """\
schemaVersion: 1.0
phases:
  - name: test
    steps:
      - name: CheckTrue
        action: ExecuteBash
        inputs:
          commands:
            - "true"
"""

BUILD_COMPONENT_JSON = json.dumps({
    "schemaVersion": "1.0",
    "phases": [{"name": "build", "steps": [
        {"name": "Touch", "action": "CreateFile", "inputs": [{"path": "/tmp/kiln", "content": "x"}]},
    ]}],
}, indent=2)

def wait_workflow(on_failure: str = "Abort", timeout_seconds: int = 3600,
                  description: str | None = "Builds an AMI once someone approves it") -> str:
    """A BUILD workflow `wait-build` that launches an instance, waits for an approval
    (SendWorkflowStepAction) with `on_failure` and `timeout_seconds`, then makes the AMI."""
    return (
        "name: wait-build\n"
        + (f"description: {description}\n" if description else "")
        + "schemaVersion: 1.0\n"
        "steps:\n"
        "  - name: LaunchBuildInstance\n"
        "    action: LaunchInstance\n"
        "    onFailure: Abort\n"
        "    inputs:\n"
        '      waitFor: "ssmAgent"\n'
        "  - name: WaitForApproval\n"
        "    action: WaitForAction\n"
        f"    onFailure: {on_failure}\n"
        f"    timeoutSeconds: {timeout_seconds}\n"
        "  - name: CreateOutputAMI\n"
        "    action: CreateImage\n"
        "    onFailure: Abort\n"
        "    inputs:\n"
        '      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"\n'
        "  - name: TerminateBuildInstance\n"
        "    action: TerminateInstance\n"
        "    onFailure: Continue\n"
        "    inputs:\n"
        '      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"\n'
    )


BUILD_WORKFLOW_YAML = """\
name: my-build
description: Builds an AMI.
schemaVersion: 1.0
parameters:
  - name: waitForActionAtEnd
    type: boolean
    default: false
    description: Wait at the end.
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
outputs:
  - name: "ImageId"
    value: "$.stepOutputs.CreateOutputAMI.imageId"
"""

TEST_WORKFLOW_YAML = """\
name: my-test
schemaVersion: 1.0
steps:
  - name: LaunchTestInstance
    action: LaunchInstance
    onFailure: Abort
    inputs:
      waitFor: "ssmAgent"
  - name: RunTestSuite
    action: RunCommand
    onFailure: Abort
    inputs:
      documentName: "AWS-RunShellScript"
      instanceId.$: "$.stepOutputs.LaunchTestInstance.instanceId"
      parameters:
        commands:
          - "true"
  - name: TerminateTestInstance
    action: TerminateInstance
    onFailure: Continue
    inputs:
      instanceId.$: "$.stepOutputs.LaunchTestInstance.instanceId"
"""


def ami_distribution(region: str = REGION, name: str = "out-{{ imagebuilder:buildDate }}") -> dict:
    return {"region": region, "amiDistributionConfiguration": {"name": name}}
