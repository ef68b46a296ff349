# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_subnetID1(rName), rName = "tf-acc-infra-subnet-id"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name; aws_security_group.test.id / aws_subnet.test.id -> literal ids
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-infra-subnet-id" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-infra-subnet-id"
  security_group_ids    = ["sg-0123456789abcdef0"] # [aws_security_group.test.id] # Required with subnet_id
  subnet_id             = "subnet-0123456789abcdef0" # aws_subnet.test.id
}
