# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/lifecycle_policy_test.go
#   at commit 0073593e7d6993ba482409f4dc35438daaa79bb3: testAccLifecyclePolicyConfig_tags2(rName, "key1", "value1updated", "key2", "value2"), rName = "tf-acc-lifecycle-tags"
# Not Image Builder, replaced by literals: testAccLifecyclePolicyConfig_base's aws_iam_role.test (named rName)
#   -> its ARN, and its aws_iam_role_policy_attachment.test (EC2ImageBuilderLifecycleExecutionPolicy) dropped
#   with the depends_on on it; data "aws_region"/"aws_partition" -> locals
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition" and data "aws_region".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_lifecycle_policy" "test" {
  name           = "tf-acc-lifecycle-tags"
  execution_role = "arn:${local.partition}:iam::${local.account_id}:role/tf-acc-lifecycle-tags" # aws_iam_role.test.arn
  resource_type  = "AMI_IMAGE"
  policy_detail {
    action {
      type = "DELETE"
    }
    filter {
      type  = "AGE"
      value = 6
      unit  = "YEARS"
    }
  }
  resource_selection {
    tag_map = {
      "key" = "value"
    }
  }

  tags = {
    "key1" = "value1updated"
    "key2" = "value2"
  }
}
