# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_test.go
#   at commit a8f0c1960ffdbfcf862fbc00283102ec31cc94b4: testAccImageConfig_containerRecipeARN(rName), rName = "tf-acc-image-container-recipe-arn"
# Not Image Builder, replaced by literals: data aws_region/aws_partition -> locals; aws_iam_role/policy attachments/aws_iam_instance_profile, aws_vpc, aws_subnet, aws_default_security_group, aws_internet_gateway, aws_default_route_table -> literal names/ids (and the infrastructure configuration's depends_on dropped); aws_ecr_repository.test -> its name (rName).
# Every aws_imagebuilder_* argument is as the acceptance test sets it.

locals {
  # Stand-ins for data "aws_partition", data "aws_region" and data "aws_caller_identity".
  partition  = "aws"
  dns_suffix = "amazonaws.com"
  region     = "us-east-1"
  account_id = "123456789012"
}

data "aws_imagebuilder_component" "update-linux" {
  arn = "arn:${local.partition}:imagebuilder:${local.region}:aws:component/update-linux/1.0.0"
}

resource "aws_imagebuilder_container_recipe" "test" {
  component {
    component_arn = data.aws_imagebuilder_component.update-linux.arn
  }

  dockerfile_template_data = <<EOF
FROM {{{ imagebuilder:parentImage }}}
{{{ imagebuilder:environments }}}
{{{ imagebuilder:components }}}
EOF

  name           = "tf-acc-image-container-recipe-arn"
  container_type = "DOCKER"
  parent_image   = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-x86-latest/x.x.x"
  version        = "1.0.0"
  target_repository {
    repository_name = "tf-acc-image-container-recipe-arn" # aws_ecr_repository.test.name
    service         = "ECR"
  }
}

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-image-container-recipe-arn" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-image-container-recipe-arn"
  security_group_ids    = ["sg-0123456789abcdef0"] # [aws_default_security_group.test.id]
  subnet_id             = "subnet-0123456789abcdef0" # aws_subnet.test.id
}

resource "aws_imagebuilder_image" "test" {
  container_recipe_arn             = aws_imagebuilder_container_recipe.test.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.test.arn
}
