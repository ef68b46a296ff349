# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_recipes_data_source_test.go
#   at commit 15f63f0045b4d9811e221dfbdb899c1a3418153e: testAccImageRecipesDataSourceConfig_owner(rName), rName = "tf-acc-ds-image-recipes-owner"
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
    schemaVersion = 1.0
  })
  name     = "tf-acc-ds-image-recipes-owner"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-ds-image-recipes-owner"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}

data "aws_imagebuilder_image_recipes" "amazon" {
  owner = "Amazon"

  depends_on = [
    aws_imagebuilder_image_recipe.test
  ]
}

data "aws_imagebuilder_image_recipes" "self" {
  owner = "Self"

  depends_on = [
    aws_imagebuilder_image_recipe.test
  ]
}

# Added for kiln (not in the acceptance test's HCL): its checks on the listed names/ARNs.
output "mismatches" {
  value = compact([contains(data.aws_imagebuilder_image_recipes.self.arns, aws_imagebuilder_image_recipe.test.arn) ? "" : "self: ${jsonencode(data.aws_imagebuilder_image_recipes.self.arns)}", !contains(data.aws_imagebuilder_image_recipes.amazon.arns, aws_imagebuilder_image_recipe.test.arn) ? "" : "amazon: ${jsonencode(data.aws_imagebuilder_image_recipes.amazon.arns)}"])
}
