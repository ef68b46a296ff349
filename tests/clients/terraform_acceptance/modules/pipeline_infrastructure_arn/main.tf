# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_pipeline_test.go
#   at commit 021e60b20cb737cff59c270d617f8fb237dec712: testAccImagePipelineConfig_name(rName), rName = "tf-acc-pipeline-infrastructure-arn"
# Not Image Builder, replaced by literals: data aws_region/aws_partition/aws_caller_identity -> locals; aws_iam_role/aws_iam_instance_profile -> the instance profile name (rName).
# Left out of testAccImagePipelineConfig_base: aws_ecr_repository.test and aws_imagebuilder_container_recipe.test (this config does not use them; kiln has no container recipes yet).
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
  name     = "tf-acc-pipeline-infrastructure-arn"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-pipeline-infrastructure-arn"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-pipeline-infrastructure-arn" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-pipeline-infrastructure-arn"
}

resource "aws_imagebuilder_image_pipeline" "test" {
  image_recipe_arn                 = aws_imagebuilder_image_recipe.test.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.test.arn
  name                             = "tf-acc-pipeline-infrastructure-arn"
}
