# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configuration_test.go
#   at commit 009770e311b4f68aff290ab481398a1ba2a997de: testAccDistributionConfigurationConfig_licenseARNs2(rName), rName = "tf-acc-dist-license-arns"
# Not Image Builder, replaced by literals: aws_licensemanager_license_configuration.test2.id -> a literal license configuration ARN
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-dist-license-arns"

  distribution {
    license_configuration_arns = ["arn:aws:license-manager:us-east-1:123456789012:license-configuration:lic-fedcba9876543210fedcba9876543210"] # [aws_licensemanager_license_configuration.test2.id]
    region                     = local.region
  }
}
