# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configuration_data_source_test.go
#   at commit 009770e311b4f68aff290ab481398a1ba2a997de: testAccDistributionConfigurationDataSourceConfig_arn(rName), rName = "tf-acc-ds-distribution-configuration"
# Not Image Builder, replaced by literals: aws_launch_template.test.id -> a literal lt- id; aws_s3_bucket.test.id -> its bucket name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-ds-distribution-configuration"

  distribution {
    ami_distribution_configuration {
      name = "{{ imagebuilder:buildDate }}"
    }

    container_distribution_configuration {
      target_repository {
        repository_name = "repository-name"
        service         = "ECR"
      }
    }

    launch_template_configuration {
      account_id         = local.account_id
      default            = false
      launch_template_id = "lt-0123456789abcdef0" # aws_launch_template.test.id
    }

    fast_launch_configuration {
      account_id = local.account_id
      enabled    = true

      launch_template {
        launch_template_id      = "lt-0123456789abcdef0" # aws_launch_template.test.id
        launch_template_version = "1"
      }

      max_parallel_launches = 6

      snapshot_configuration {
        target_resource_count = 1
      }
    }

    s3_export_configuration {
      disk_image_format = "RAW"
      role_name = "role-name"
      s3_bucket = "tf-acc-ds-distribution-configuration" # aws_s3_bucket.test.id
      s3_prefix = "prefix/"
    }

    region = local.region
  }
}

data "aws_imagebuilder_distribution_configuration" "test" {
  arn = aws_imagebuilder_distribution_configuration.test.arn
}

# Added for kiln (not in the acceptance test's HCL): both sides of its TestCheckResourceAttrPair
# checks; the test compares every attribute they share (null and empty count as equal).
output "mismatches" {
  value = {
    data_source = data.aws_imagebuilder_distribution_configuration.test
    resource    = aws_imagebuilder_distribution_configuration.test
  }
}
