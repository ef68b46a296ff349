# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/components_data_source_test.go
#   at commit 1092b7a39c60752db60e43a49be19a12a7713002: testAccComponentsDataSourceConfig_component2(rName), rName = "tf-acc-ds-components"
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
  name     = "tf-acc-ds-components"
  platform = "Linux"
  version  = "1.0.0"
}

data "aws_imagebuilder_components" "test" {
  filter {
    name   = "name"
    values = [aws_imagebuilder_component.test.name]
  }
}

# Added for kiln (not in the acceptance test's HCL): its checks on the listed names/ARNs.
output "mismatches" {
  value = compact([toset(data.aws_imagebuilder_components.test.names) == toset([aws_imagebuilder_component.test.name]) ? "" : "names: ${jsonencode(data.aws_imagebuilder_components.test.names)}", length(data.aws_imagebuilder_components.test.arns) == 1 ? "" : "arns: ${jsonencode(data.aws_imagebuilder_components.test.arns)}"])
}
