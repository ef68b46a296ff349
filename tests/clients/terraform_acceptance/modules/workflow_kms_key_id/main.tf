# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/workflow_test.go
#   at commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39: testAccWorkflowConfig_kmsKeyID(rName), rName = "tf-acc-workflow-kms-key-id"
# Not Image Builder, replaced by literals: aws_kms_key.test.arn -> a literal key ARN
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_workflow" "test" {
  name    = "tf-acc-workflow-kms-key-id"
  version = "1.0.0"
  type    = "TEST"

  kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" # aws_kms_key.test.arn

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
