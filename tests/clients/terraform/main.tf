# The Image Builder flow through the hashicorp/aws provider, against kiln.
# tests/clients/test_terraform.py applies it, checks that a second plan shows no
# changes, changes `stage` (a tag: an in-place update) and destroys it.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "kiln_url" {
  type = string
}

variable "stage" {
  type    = string
  default = "one"
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "123456789012"
  secret_key                  = "x"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    imagebuilder = var.kiln_url
  }
}

locals {
  tags = { project = "kiln-tests", stage = var.stage }
}

data "aws_imagebuilder_image" "al2023" {
  arn = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
}

data "aws_imagebuilder_components" "amazon" {
  owner = "Amazon"
  filter {
    name   = "name"
    values = ["update-linux"]
  }
}

resource "aws_imagebuilder_component" "hello" {
  name        = "tf-hello"
  description = "Says hello"
  platform    = "Linux"
  version     = "1.0.0"
  data        = file("${path.module}/hello-component.yaml")
  tags        = local.tags
}

resource "aws_imagebuilder_image_recipe" "recipe" {
  name         = "tf-recipe"
  version      = "1.0.0"
  description  = "Amazon Linux 2023 with hello and update-linux"
  parent_image = data.aws_imagebuilder_image.al2023.arn

  component {
    component_arn = aws_imagebuilder_component.hello.arn
    parameter {
      name  = "Greeting"
      value = "hello from terraform"
    }
  }
  component {
    component_arn = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"
  }

  block_device_mapping {
    device_name = "/dev/xvda"
    ebs {
      delete_on_termination = true
      volume_size           = 16
      volume_type           = "gp3"
    }
  }

  tags = local.tags
}

resource "aws_imagebuilder_infrastructure_configuration" "infra" {
  name                          = "tf-infra"
  description                   = "t3 builders"
  instance_profile_name         = "EC2InstanceProfileForImageBuilder"
  instance_types                = ["t3.micro", "t3.small"]
  terminate_instance_on_failure = true
  resource_tags                 = { owner = "kiln" }
  tags                          = local.tags
}

resource "aws_imagebuilder_distribution_configuration" "dist" {
  name        = "tf-dist"
  description = "two Regions"

  distribution {
    region = "us-east-1"
    ami_distribution_configuration {
      name       = "tf-hello-{{ imagebuilder:buildDate }}"
      ami_tags   = { built_by = "kiln" }
    }
  }
  distribution {
    region = "us-west-2"
    ami_distribution_configuration {
      name = "tf-hello-{{ imagebuilder:buildDate }}"
    }
  }

  tags = local.tags
}

resource "aws_imagebuilder_image" "image" {
  image_recipe_arn                 = aws_imagebuilder_image_recipe.recipe.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.infra.arn
  distribution_configuration_arn   = aws_imagebuilder_distribution_configuration.dist.arn
  tags                             = local.tags
}

output "image_arn" {
  value = aws_imagebuilder_image.image.arn
}

output "image_status" {
  value = data.aws_imagebuilder_image.al2023.arn
}

output "managed_image_arn" {
  value = data.aws_imagebuilder_image.al2023.arn
}

output "managed_image_name" {
  value = data.aws_imagebuilder_image.al2023.name
}

output "amazon_component_arns" {
  value = data.aws_imagebuilder_components.amazon.arns
}

output "amis" {
  value = aws_imagebuilder_image.image.output_resources[0].amis
}
