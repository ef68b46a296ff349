# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configuration_test.go
#   at commit 009770e311b4f68aff290ab481398a1ba2a997de: testAccDistributionConfigurationConfig_amiLaunchPermissionOrganizationalUnitARNs(rName), rName = "tf-acc-dist-ami-launch-permission-ou-arns"
# Not Image Builder, replaced by literals: aws_organizations_organizational_unit.test.arn -> a literal OU ARN
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-dist-ami-launch-permission-ou-arns"
  distribution {
    ami_distribution_configuration {
      launch_permission {
        organizational_unit_arns = ["arn:aws:organizations::123456789012:ou/o-exampleorg1/ou-ab12-cdef3456"] # [aws_organizations_organizational_unit.test.arn]
      }
    }
    region = local.region
  }
}
