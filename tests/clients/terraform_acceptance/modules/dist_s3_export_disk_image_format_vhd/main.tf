# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configuration_test.go
#   at commit 009770e311b4f68aff290ab481398a1ba2a997de: testAccDistributionConfigurationConfig_diskImageFormat(rName, "VHD"), rName = "tf-acc-dist-s3-export-disk-image-format-vhd"
# Not Image Builder, replaced by literals: aws_s3_bucket.test.id -> its bucket name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-dist-s3-export-disk-image-format-vhd"

  distribution {
    s3_export_configuration {
      disk_image_format = "VHD"
      role_name = "role-name"
      s3_bucket = "tf-acc-dist-s3-export-disk-image-format-vhd" # aws_s3_bucket.test.id
    }

    region = local.region
  }
}
