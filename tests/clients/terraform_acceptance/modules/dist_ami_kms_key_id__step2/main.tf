# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configuration_test.go
#   at commit 009770e311b4f68aff290ab481398a1ba2a997de: testAccDistributionConfigurationConfig_amiKMSKeyID2(rName), rName = "tf-acc-dist-ami-kms-key-id"
# Not Image Builder, replaced by literals: aws_kms_key.test2.arn -> a literal key ARN
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-dist-ami-kms-key-id"

  distribution {
    ami_distribution_configuration {
      kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000" # aws_kms_key.test2.arn
    }

    region = local.region
  }
}
