# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_instanceMetadataOptions(rName), rName = "tf-acc-infra-instance-metadata-options"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-infra-instance-metadata-options" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-infra-instance-metadata-options"

  instance_metadata_options {
    http_put_response_hop_limit = 64
    http_tokens                 = "required"
  }
}
