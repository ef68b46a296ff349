# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_recipe_test.go
#   at commit 010408c1e37d7052d6801bc25365f30b84b2e41c: testAccImageRecipeConfig_blockDeviceMappingEBSKMSKeyID(rName), rName = "tf-acc-recipe-bdm-ebs-kms-key-id"
# Not Image Builder, replaced by literals: aws_kms_key.test.arn -> a literal key ARN
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
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
  name     = "tf-acc-recipe-bdm-ebs-kms-key-id"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  block_device_mapping {
    ebs {
      kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" # aws_kms_key.test.arn
    }
  }

  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-recipe-bdm-ebs-kms-key-id"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}
