# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_recipe_data_source_test.go
#   at commit 1049654fb0818bacf8518f017816daafa8a8ad8e: testAccImageRecipeDataSourceConfig_arn(rName), rName = "tf-acc-ds-image-recipe"
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

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
    parameters = [{
      Parameter1 = {
        type = "string"
      }
    }]
    schemaVersion = 1.0
  })
  name     = "tf-acc-ds-image-recipe"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn

    parameter {
      name  = "Parameter1"
      value = "Value1"
    }
  }

  name             = "tf-acc-ds-image-recipe"
  parent_image     = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version          = "1.0.0"
  user_data_base64 = base64encode("helloworld")
}

data "aws_imagebuilder_image_recipe" "test" {
  arn = aws_imagebuilder_image_recipe.test.arn
}

# Added for kiln (not in the acceptance test's HCL): both sides of its TestCheckResourceAttrPair
# checks; the test compares every attribute they share (null and empty count as equal).
output "mismatches" {
  value = {
    data_source = data.aws_imagebuilder_image_recipe.test
    resource    = aws_imagebuilder_image_recipe.test
  }
}
