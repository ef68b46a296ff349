# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_instanceTypes2(rName), rName = "tf-acc-infra-instance-types"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name; AvailableEC2InstanceTypeForRegion("t3.large", "t2.large") -> "t3.large"
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_types        = ["t3.large"] # [data.aws_ec2_instance_type_offering.available.instance_type]
  instance_profile_name = "tf-acc-infra-instance-types" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-infra-instance-types"
}
