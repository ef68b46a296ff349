# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configuration_test.go
#   at commit 009770e311b4f68aff290ab481398a1ba2a997de: testAccDistributionConfigurationConfig_launchTemplateIDDefault(rName), rName = "tf-acc-dist-launch-template"
# Not Image Builder, replaced by literals: aws_launch_template.test.id -> a literal lt- id
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-dist-launch-template"

  distribution {
    launch_template_configuration {
      default            = true
      launch_template_id = "lt-0123456789abcdef0" # aws_launch_template.test.id
      account_id         = local.account_id
    }

    region = local.region
  }
}
