# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/lifecycle_policy_test.go
#   at commit 0073593e7d6993ba482409f4dc35438daaa79bb3: testAccLifecyclePolicyConfig_resourceSelection(rName), rName = "tf-acc-lifecycle-resource-selection"
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

resource "aws_imagebuilder_component" "test" {
  data = yamlencode({
    phases = [{
      name = "build"
      steps = [{
        action = "ExecuteBash"
        inputs = {
          commands = ["echo 'hello world'"]
        }
        name      = "example"
        onFailure = "Continue"
      }]
    }]
    schemaVersion = 1.0
  })
  name     = "tf-acc-lifecycle-resource-selection"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-lifecycle-resource-selection"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}

resource "aws_imagebuilder_lifecycle_policy" "test" {
  name           = "tf-acc-lifecycle-resource-selection"
  description    = "Used for setting lifecycle policies"
  execution_role = "arn:${local.partition}:iam::${local.account_id}:role/tf-acc-lifecycle-resource-selection" # aws_iam_role.test.arn
  resource_type  = "AMI_IMAGE"
  policy_detail {
    action {
      type = "DELETE"
    }
    filter {
      type            = "AGE"
      value           = 6
      retain_at_least = 10
      unit            = "YEARS"
    }
  }
  resource_selection {
    recipe {
      name             = aws_imagebuilder_image_recipe.test.name
      semantic_version = aws_imagebuilder_image_recipe.test.version
    }
  }
}
