# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/container_recipe_test.go
#   at commit 011bc416d22bd792695cf70412b9f252cb1fa1d2: testAccContainerRecipeConfig_componentParameter(rName), rName = "tf-acc-cr-component-parameter"
# Not Image Builder, replaced by literals: aws_ecr_repository.test -> its name (rName).
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_component" "test" {
  data = <<EOF
phases:
  - name: build
    steps:
      - name: example
        action: ExecuteBash
        inputs:
          commands:
            - echo {{ Parameter1 }}
            - echo {{ Parameter2 }}
parameters:
  - Parameter1:
      type: string
  - Parameter2:
      type: string  
schemaVersion: 1.0
EOF

  name     = "tf-acc-cr-component-parameter"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_container_recipe" "test" {
  name           = "tf-acc-cr-component-parameter"
  container_type = "DOCKER"
  parent_image   = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-x86-2/x.x.x"
  version        = "1.0.0"

  component {
    component_arn = aws_imagebuilder_component.test.arn

    parameter {
      name  = "Parameter1"
      value = "Value1"
    }

    parameter {
      name  = "Parameter2"
      value = "Value2"
    }
  }

  dockerfile_template_data = <<EOF
FROM {{{ imagebuilder:parentImage }}}
{{{ imagebuilder:environments }}}
{{{ imagebuilder:components }}}
EOF

  target_repository {
    repository_name = "tf-acc-cr-component-parameter" # aws_ecr_repository.test.name
    service         = "ECR"
  }
}
