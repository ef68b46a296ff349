# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/workflow_test.go
#   at commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39: testAccWorkflowConfig_changeDescription(rName, "description1"), rName = "tf-acc-workflow-change-description"
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_workflow" "test" {
  name    = "tf-acc-workflow-change-description"
  version = "1.0.0"
  type    = "TEST"

  change_description = "description1"

  data = <<-EOT
  name: test-image
  description: Workflow to test an image
  schemaVersion: 1.0

  parameters:
    - name: waitForActionAtEnd
      type: boolean

  steps:
    - name: LaunchTestInstance
      action: LaunchInstance
      onFailure: Abort
      inputs:
        waitFor: "ssmAgent"

    - name: TerminateTestInstance
      action: TerminateInstance
      onFailure: Continue
      inputs:
        instanceId.$: "$.stepOutputs.LaunchTestInstance.instanceId"

    - name: WaitForActionAtEnd
      action: WaitForAction
      if:
        booleanEquals: true
        value: "$.parameters.waitForActionAtEnd"
  EOT
}
