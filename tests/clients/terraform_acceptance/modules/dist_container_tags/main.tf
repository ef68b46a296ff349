# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configuration_test.go
#   at commit 009770e311b4f68aff290ab481398a1ba2a997de: testAccDistributionConfigurationConfig_containerTags(rName, "tag1"), rName = "tf-acc-dist-container-tags"
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-dist-container-tags"

  distribution {
    container_distribution_configuration {
      target_repository {
        repository_name = "repository-name"
        service         = "ECR"
      }

      container_tags = ["tag1"]
    }

    region = local.region
  }
}
