# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_loggingS3LogsS3KeyPrefix(rName, "/prefix2/"), rName = "tf-acc-infra-logging-s3-key-prefix"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name; aws_s3_bucket.test (bucket rName) -> its name
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-infra-logging-s3-key-prefix" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-infra-logging-s3-key-prefix"

  logging {
    s3_logs {
      s3_bucket_name = "tf-acc-infra-logging-s3-key-prefix" # aws_s3_bucket.test.bucket
      s3_key_prefix  = "/prefix2/"
    }
  }
}
