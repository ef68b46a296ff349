# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_tags1(rName, "key1", "value1"), rName = "tf-acc-infra-tags"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-infra-tags" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-infra-tags"

  tags = {
    "key1" = "value1"
  }
}
