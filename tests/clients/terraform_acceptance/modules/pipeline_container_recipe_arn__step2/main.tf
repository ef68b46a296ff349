# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_pipeline_test.go
#   at commit 021e60b20cb737cff59c270d617f8fb237dec712: testAccImagePipelineConfig_containerRecipeARN2(rName), rName = "tf-acc-pipeline-container-recipe-arn"
# Not Image Builder, replaced by literals: data aws_region/aws_partition/aws_caller_identity -> locals; aws_iam_role/aws_iam_instance_profile -> the instance profile name (rName); aws_ecr_repository.test -> its name (rName).
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
  name     = "tf-acc-pipeline-container-recipe-arn"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-pipeline-container-recipe-arn"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}

resource "aws_imagebuilder_container_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  target_repository {
    repository_name = "tf-acc-pipeline-container-recipe-arn" # aws_ecr_repository.test.name
    service         = "ECR"
  }

  dockerfile_template_data = <<EOF
  FROM {{{ imagebuilder:parentImage }}}
  {{{ imagebuilder:environments }}}
  {{{ imagebuilder:components }}}
  EOF

  container_type    = "DOCKER"
  name              = "tf-acc-pipeline-container-recipe-arn"
  parent_image      = "amazonlinux:latest"
  working_directory = "/tmp"
  version           = "1.0.0"
}

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-pipeline-container-recipe-arn" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-pipeline-container-recipe-arn"
}

resource "aws_imagebuilder_container_recipe" "test2" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  dockerfile_template_data = <<EOF
FROM {{{ imagebuilder:parentImage }}}
{{{ imagebuilder:environments }}}
{{{ imagebuilder:components }}}
EOF

  name           = "tf-acc-pipeline-container-recipe-arn-2"
  container_type = "DOCKER"
  parent_image   = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-x86-latest/x.x.x"
  version        = "1.0.0"

  target_repository {
    repository_name = "tf-acc-pipeline-container-recipe-arn" # aws_ecr_repository.test.name
    service         = "ECR"
  }
}

resource "aws_imagebuilder_image_pipeline" "test" {
  container_recipe_arn             = aws_imagebuilder_container_recipe.test2.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.test.arn
  name                             = "tf-acc-pipeline-container-recipe-arn"
}
