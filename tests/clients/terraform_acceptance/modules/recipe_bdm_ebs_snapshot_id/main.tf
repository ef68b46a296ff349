# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_recipe_test.go
#   at commit 010408c1e37d7052d6801bc25365f30b84b2e41c: testAccImageRecipeConfig_blockDeviceMappingEBSSnapshotID(rName), rName = "tf-acc-recipe-bdm-ebs-snapshot-id"
# Not Image Builder, replaced by literals: aws_ebs_snapshot.test.id -> a literal snap- id
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
  name     = "tf-acc-recipe-bdm-ebs-snapshot-id"
  platform = "Linux"
  version  = "1.0.0"
}

resource "aws_imagebuilder_image_recipe" "test" {
  block_device_mapping {
    ebs {
      snapshot_id = "snap-0123456789abcdef0" # aws_ebs_snapshot.test.id
    }
  }

  component {
    component_arn = aws_imagebuilder_component.test.arn
  }

  name         = "tf-acc-recipe-bdm-ebs-snapshot-id"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}
