# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_instanceProfileName2(rName), rName = "tf-acc-infra-instance-profile-name"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name; aws_iam_instance_profile.test2 (named rName-2) -> its name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-infra-instance-profile-name-2" # aws_iam_instance_profile.test2.name
  name                  = "tf-acc-infra-instance-profile-name"
}
