# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_pipeline_data_source_test.go
#   at commit 108f85fd2bfcd9e85ed93fddb752c5cc10dba1ff: testAccImagePipelineDataSourceConfig_containerRecipeARN(rName), rName = "tf-acc-ds-image-pipeline-container"
# Not Image Builder, replaced by literals: data aws_region/aws_partition -> locals; aws_iam_role/aws_iam_instance_profile -> the instance profile name (rName); aws_ecr_repository.test -> its name (rName).
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
  name     = "tf-acc-ds-image-pipeline-container"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-ds-image-pipeline-container" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-ds-image-pipeline-container"
}

resource "aws_imagebuilder_container_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  dockerfile_template_data = <<EOF
FROM {{{ imagebuilder:parentImage }}}
{{{ imagebuilder:environments }}}
{{{ imagebuilder:components }}}
EOF

  name           = "tf-acc-ds-image-pipeline-container"
  container_type = "DOCKER"
  parent_image   = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-x86-latest/x.x.x"
  version        = "1.0.0"

  target_repository {
    repository_name = "tf-acc-ds-image-pipeline-container" # aws_ecr_repository.test.name
    service         = "ECR"
  }
}

resource "aws_imagebuilder_image_pipeline" "test" {
  container_recipe_arn             = aws_imagebuilder_container_recipe.test.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.test.arn
  name                             = "tf-acc-ds-image-pipeline-container"

  image_scanning_configuration {
    image_scanning_enabled = true

    ecr_configuration {
      container_tags  = ["a", "b"]
      repository_name = "tf-acc-ds-image-pipeline-container" # aws_ecr_repository.test.name
    }
  }
}

data "aws_imagebuilder_image_pipeline" "test" {
  arn = aws_imagebuilder_image_pipeline.test.arn
}

# Added for kiln (not in the acceptance test's HCL): both sides of its TestCheckResourceAttrPair
# checks; the test compares every attribute they share (null and empty count as equal).
output "mismatches" {
  value = {
    data_source = data.aws_imagebuilder_image_pipeline.test
    resource    = aws_imagebuilder_image_pipeline.test
  }
}
