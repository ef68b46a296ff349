# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/distribution_configurations_data_source_test.go
#   at commit 16e76651d0ed21d5e881d070bbc881fb5c81bd67: testAccDistributionConfigurationsDataSourceConfig_filter(rName), rName = "tf-acc-ds-distribution-configurations-filter"
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_distribution_configuration" "test" {
  name = "tf-acc-ds-distribution-configurations-filter"

  distribution {
    ami_distribution_configuration {
      name = "test-{{ imagebuilder:buildDate }}"
    }

    region = local.region
  }
}

data "aws_imagebuilder_distribution_configurations" "test" {
  filter {
    name   = "name"
    values = [aws_imagebuilder_distribution_configuration.test.name]
  }
}

# Added for kiln (not in the acceptance test's HCL): its checks on the listed names/ARNs.
output "mismatches" {
  value = compact([toset(data.aws_imagebuilder_distribution_configurations.test.names) == toset([aws_imagebuilder_distribution_configuration.test.name]) ? "" : "names: ${jsonencode(data.aws_imagebuilder_distribution_configurations.test.names)}", toset(data.aws_imagebuilder_distribution_configurations.test.arns) == toset([aws_imagebuilder_distribution_configuration.test.arn]) ? "" : "arns: ${jsonencode(data.aws_imagebuilder_distribution_configurations.test.arns)}"])
}
