# Replayed from hashicorp/terraform-provider-aws internal/service/imagebuilder/image_test.go
#   at commit 090344804c490a98599aee521af0ce5ac61b9cb1: testAccImageTags2Config(rName, "key1", "value1updated", "key2", "value2"), rName = "tf-acc-image-tags"
# Not Image Builder, replaced by literals: testAccImageBaseConfig: aws_iam_instance_profile/role/policy attachments, aws_vpc, aws_subnet, aws_default_security_group, aws_internet_gateway, aws_default_route_table -> literal names/ids (and the infrastructure configuration's depends_on dropped)
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

resource "aws_imagebuilder_image_recipe" "test" {
  component {
    component_arn = data.aws_imagebuilder_component.update-linux.arn
  }

  name         = "tf-acc-image-tags"
  parent_image = "arn:${local.partition}:imagebuilder:${local.region}:aws:image/amazon-linux-2-x86/x.x.x"
  version      = "1.0.0"
}

resource "aws_imagebuilder_infrastructure_configuration" "test" {
  instance_profile_name = "tf-acc-image-tags" # aws_iam_instance_profile.test.name
  name                  = "tf-acc-image-tags"
  security_group_ids    = ["sg-0123456789abcdef0"] # [aws_default_security_group.test.id]
  subnet_id             = "subnet-0123456789abcdef0" # aws_subnet.test.id
}

resource "aws_imagebuilder_image" "test" {
  image_recipe_arn                 = aws_imagebuilder_image_recipe.test.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.test.arn

  tags = {
    "key1" = "value1updated"
    "key2" = "value2"
  }
}
