# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_recipe_test.go
#   at commit 010408c1e37d7052d6801bc25365f30b84b2e41c: testAccImageRecipeConfig_pipelineDependency(rName), rName = "tf-acc-recipe-pipeline-dependency"
# Not Image Builder, replaced by literals: data aws_region/aws_partition -> locals; aws_iam_role/aws_iam_instance_profile -> the instance profile name (rName).
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
  name     = "tf-acc-recipe-pipeline-dependency"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_component" "test2" {
  data = yamlencode({
    phases = [{
      name = "build"
      steps = [{
        action = "ExecuteBash"
        inputs = {
          commands = ["echo 'Hej världen!'"]
        }
        name      = "example"
        onFailure = "Continue"
      }]
    }]
    schemaVersion = 1.0
  })
  name     = "tf-acc-recipe-pipeline-dependency-2"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-recipe-pipeline-dependency" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-recipe-pipeline-dependency"
}

resource "aws_imagebuilder_image_pipeline" "test" {
  description                      = "Världens finaste beskrivning."
  image_recipe_arn                 = aws_imagebuilder_image_recipe.test.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.test.arn
  name                             = "tf-acc-recipe-pipeline-dependency"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-recipe-pipeline-dependency"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}
