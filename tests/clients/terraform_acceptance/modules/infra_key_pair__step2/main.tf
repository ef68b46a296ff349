# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_keyPair2(rName, publicKey), rName = "tf-acc-infra-key-pair"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name; aws_key_pair.test2 (key_name rName-2) -> its name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-infra-key-pair" # aws_iam_instance_profile.test.name
  key_pair              = "tf-acc-infra-key-pair-2" # aws_key_pair.test2.key_name
  name                  = "tf-acc-infra-key-pair"
}
