# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/component_test.go
#   at commit 07e0d0b940f57c782f8fcc9ccfd8b19f59383b51: testAccComponentConfig_tags1(rName, "key1", "value1"), rName = "tf-acc-component-tags"
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
  name     = "tf-acc-component-tags"
  platform = "Linux"
  version  = "1.0.0"

  tags = {
    "key1" = "value1"
  }
}
