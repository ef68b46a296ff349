# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/component_test.go
#   at commit 07e0d0b940f57c782f8fcc9ccfd8b19f59383b51: testAccComponentConfig_kmsKeyID(rName), rName = "tf-acc-component-kms-key-id"
# Not Image Builder, replaced by literals: aws_kms_key.test.arn -> a literal key ARN
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_component" "test" {
  data = yamlencode({
    phases = [{
      name = "build"
      steps = [{
        action = "ExecuteBash"
        inputs = {
          commands = ["echo 'hello world'"]
        }
        name      = "example"
        onFailure = "Continue"
      }]
    }]
    schemaVersion = 1.0
  })
  kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" # aws_kms_key.test.arn
  name       = "tf-acc-component-kms-key-id"
  platform   = "Linux"
  version    = "1.0.0"
}
