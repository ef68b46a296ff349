# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/infrastructure_configuration_test.go
#   at commit 0c13352b9dda23e8267eabdddc6f57fe2a81fccd: testAccInfrastructureConfigurationConfig_snsTopicARN1(rName), rName = "tf-acc-infra-sns-topic-arn"
# Not Image Builder, replaced by literals: base config's aws_iam_instance_profile.test (named rName) -> its name; aws_sns_topic.test (name rName) -> its ARN
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-infra-sns-topic-arn" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-infra-sns-topic-arn"
  sns_topic_arn         = "arn:aws:sns:us-east-1:123456789012:tf-acc-infra-sns-topic-arn" # aws_sns_topic.test.arn
}
