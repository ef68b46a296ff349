# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_recipes_data_source_test.go
#   at commit 15f63f0045b4d9811e221dfbdb899c1a3418153e: testAccImageRecipesDataSourceConfig_filter(rName), rName = "tf-acc-ds-image-recipes-filter"
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
  name     = "tf-acc-ds-image-recipes-filter"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-ds-image-recipes-filter"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}

data "aws_imagebuilder_image_recipes" "test" {
  filter {
    name   = "name"
    values = [aws_imagebuilder_image_recipe.test.name]
  }
}

# Added for kiln (not in the acceptance test's HCL): its checks on the listed names/ARNs.
output "mismatches" {
  value = compact([toset(data.aws_imagebuilder_image_recipes.test.names) == toset([aws_imagebuilder_image_recipe.test.name]) ? "" : "names: ${jsonencode(data.aws_imagebuilder_image_recipes.test.names)}", toset(data.aws_imagebuilder_image_recipes.test.arns) == toset([aws_imagebuilder_image_recipe.test.arn]) ? "" : "arns: ${jsonencode(data.aws_imagebuilder_image_recipes.test.arns)}"])
}
