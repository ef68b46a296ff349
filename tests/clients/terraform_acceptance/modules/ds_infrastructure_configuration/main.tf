# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_data_source_test.go
#   at commit 0196297b77a41283fa7ac1660cea82f48f142e07: testAccInfrastructureConfigurationDataSourceConfig_arn(rName), rName = "tf-acc-ds-infrastructure-configuration"
# Not Image Builder, replaced by literals: aws_iam_instance_profile.test (named rName) -> its name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-ds-infrastructure-configuration" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-ds-infrastructure-configuration"
}

data "aws_imagebuilder_infrastructure_configuration" "test" {
  arn = aws_imagebuilder_infrastructure_configuration.test.arn
}

# Added for kiln (not in the acceptance test's HCL): both sides of its TestCheckResourceAttrPair
# checks; the test compares every attribute they share (null and empty count as equal).
output "mismatches" {
  value = {
    data_source = data.aws_imagebuilder_infrastructure_configuration.test
    resource    = aws_imagebuilder_infrastructure_configuration.test
  }
}
