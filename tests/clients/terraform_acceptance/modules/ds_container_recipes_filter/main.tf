# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/container_recipes_data_source_test.go
#   at commit 1ea76608046c7000110f5440070b4642ae4e676d: testAccContainerRecipesDataSourceConfig_filter(rName), rName = "tf-acc-ds-container-recipes-filter"
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
  name           = "tf-acc-ds-container-recipes-filter"
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
    repository_name = "tf-acc-ds-container-recipes-filter" # aws_ecr_repository.test.name
    service         = "ECR"
  }
}

data "aws_imagebuilder_container_recipes" "test" {
  filter {
    name   = "name"
    values = [aws_imagebuilder_container_recipe.test.name]
  }
}

# Added for kiln (not in the acceptance test's HCL): its checks on the listed names (names.# = 1,
# names.0 = the recipe's name), and the ARNs likewise.
output "mismatches" {
  value = compact([jsonencode(data.aws_imagebuilder_container_recipes.test.names) == jsonencode([aws_imagebuilder_container_recipe.test.name]) ? "" : "names: ${jsonencode(data.aws_imagebuilder_container_recipes.test.names)}", toset(data.aws_imagebuilder_container_recipes.test.arns) == toset([aws_imagebuilder_container_recipe.test.arn]) ? "" : "arns: ${jsonencode(data.aws_imagebuilder_container_recipes.test.arns)}"])
}
