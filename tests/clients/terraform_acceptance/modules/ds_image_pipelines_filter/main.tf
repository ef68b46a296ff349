# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_pipelines_data_source_test.go
#   at commit 1bdb601307b413ea03f805cae41e5a360616b885: testAccImagePipelinesDataSourceConfig_filter(rName), rName = "tf-acc-ds-image-pipelines-filter"
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
  name     = "tf-acc-ds-image-pipelines-filter"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-ds-image-pipelines-filter" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-ds-image-pipelines-filter"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-ds-image-pipelines-filter"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}

resource "aws_imagebuilder_image_pipeline" "test" {
  image_recipe_arn                 = aws_imagebuilder_image_recipe.test.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.test.arn
  name                             = "tf-acc-ds-image-pipelines-filter"
}

data "aws_imagebuilder_image_pipelines" "test" {
  filter {
    name   = "name"
    values = [aws_imagebuilder_image_pipeline.test.name]
  }
}

# Added for kiln (not in the acceptance test's HCL): its checks arns.# = names.# = 1,
# arns.0 = the pipeline's ARN, names.0 = its name.
output "mismatches" {
  value = compact([
    data.aws_imagebuilder_image_pipelines.test.arns == toset([aws_imagebuilder_image_pipeline.test.arn]) ? "" : "arns: ${jsonencode(data.aws_imagebuilder_image_pipelines.test.arns)}",
    data.aws_imagebuilder_image_pipelines.test.names == toset([aws_imagebuilder_image_pipeline.test.name]) ? "" : "names: ${jsonencode(data.aws_imagebuilder_image_pipelines.test.names)}",
  ])
}
