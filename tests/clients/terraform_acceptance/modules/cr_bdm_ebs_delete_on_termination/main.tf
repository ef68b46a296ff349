# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/container_recipe_test.go
#   at commit 011bc416d22bd792695cf70412b9f252cb1fa1d2: testAccContainerRecipeConfig_instanceConfigurationBlockDeviceMappingEBSDeleteOnTermination(rName), rName = "tf-acc-cr-bdm-ebs-delete-on-termination"
# Not Image Builder, replaced by literals: aws_ecr_repository.test -> its name (rName).
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_container_recipe" "test" {
  name           = "tf-acc-cr-bdm-ebs-delete-on-termination"
  container_type = "DOCKER"
  parent_image   = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-x86-2/x.x.x"
  version        = "1.0.0"

  component {
    component_arn = "arn:${local.partition}:imagebuilder:${local.region}:aws:component/update-linux/x.x.x"
  }

  dockerfile_template_data = <<EOF
FROM {{{ imagebuilder:parentImage }}}
{{{ imagebuilder:environments }}}
{{{ imagebuilder:components }}}
EOF

  target_repository {
    repository_name = "tf-acc-cr-bdm-ebs-delete-on-termination" # aws_ecr_repository.test.name
    service         = "ECR"
  }

  instance_configuration {
    block_device_mapping {
      ebs {
        delete_on_termination = true
      }
    }
  }
}
