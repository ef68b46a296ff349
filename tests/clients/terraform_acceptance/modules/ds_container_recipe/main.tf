# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/container_recipe_data_source_test.go
#   at commit 0ca78c11b5ece5efe1431998b315d337a281151d: testAccContainerRecipeDataSourceConfig_arn(rName), rName = "tf-acc-ds-container-recipe"
# Not Image Builder, replaced by literals: aws_ecr_repository.test -> its name (rName).
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

resource "aws_imagebuilder_container_recipe" "test" {
  name           = "tf-acc-ds-container-recipe"
  container_type = "DOCKER"
  parent_image   = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-x86-2/x.x.x"
  version        = "1.0.0"

  component {
    component_arn = "arn:${local.partition}:imagebuilder:${local.region}:aws:component/update-linux/x.x.x"
  }

  dockerfile_template_data = <<EOF
FROM {{{ imagebuilder:parentImage }}}
{{{ imagebuilder:environments }}}
{{{ imagebuilder:components }}}
EOF

  target_repository {
    repository_name = "tf-acc-ds-container-recipe" # aws_ecr_repository.test.name
    service         = "ECR"
  }
}

data "aws_imagebuilder_container_recipe" "test" {
  arn = aws_imagebuilder_container_recipe.test.arn
}

# Added for kiln (not in the acceptance test's HCL): both sides of its TestCheckResourceAttrPair
# checks; the test compares every attribute they share (null and empty count as equal).
output "mismatches" {
  value = {
    data_source = data.aws_imagebuilder_container_recipe.test
    resource    = aws_imagebuilder_container_recipe.test
  }
}
