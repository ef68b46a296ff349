# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/component_data_source_test.go
#   at commit 0620f2a6a126dfcbc4aecbc9a117b0fbea1656ff: testAccComponentDataSourceConfig_buildVersionARN(rName), rName = "tf-acc-ds-component"
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
  name     = "tf-acc-ds-component"
  platform = "Linux"
  version  = "1.0.0"
}

data "aws_imagebuilder_component" "test" {
  arn = aws_imagebuilder_component.test.arn
}

# Added for kiln (not in the acceptance test's HCL): both sides of its TestCheckResourceAttrPair
# checks; the test compares every attribute they share (null and empty count as equal).
output "mismatches" {
  value = {
    data_source = data.aws_imagebuilder_component.test
    resource    = aws_imagebuilder_component.test
  }
}
