# The main Image Builder flow with Terraform's AWS provider, against `kiln serve`.
#
#   kiln serve --in-memory &                  # listens on http://127.0.0.1:4599
#   cd examples/terraform
#   terraform init && terraform apply         # TF_VAR_kiln_url=$KILN_URL to point elsewhere
#   terraform plan                            # "No changes": kiln reads back what was written
#   terraform destroy
#
# Offline (no registry.terraform.io): see README.md here for a provider mirror with
# TF_CLI_CONFIG_FILE and CHECKPOINT_DISABLE=1.
#
# Creates a component from ../hello-component.yaml, an image recipe on the Amazon-managed
# Amazon Linux 2023 image with that component and the managed update-linux, an
# infrastructure configuration, a distribution configuration for two Regions, and an
# image (Terraform waits until it is AVAILABLE).
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "kiln_url" {
  description = "Where kiln serves the Image Builder API"
  type        = string
  default     = "http://127.0.0.1:4599"
}

provider "aws" {
  region = "us-east-1"
  # kiln takes any credentials; a 12-digit access key id becomes the account id.
  access_key = "123456789012"
  secret_key = "kiln"
  # Nothing but Image Builder is emulated: don't ask STS or EC2 metadata for anything.
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    imagebuilder = var.kiln_url
  }
}

# The newest Amazon Linux 2023 image in Amazon's catalog (x.x.x resolves to a build).
data "aws_imagebuilder_image" "al2023" {
  arn = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
}

data "aws_imagebuilder_components" "update_linux" {
  owner = "Amazon"
  filter {
    name   = "name"
    values = ["update-linux"]
  }
}

resource "aws_imagebuilder_component" "hello" {
  name     = "hello-kiln"
  platform = "Linux"
  version  = "1.0.0"
  data     = file("${path.module}/../hello-component.yaml")
}

resource "aws_imagebuilder_image_recipe" "hello" {
  name         = "hello-recipe"
  version      = "1.0.0"
  parent_image = data.aws_imagebuilder_image.al2023.arn

  component {
    component_arn = aws_imagebuilder_component.hello.arn
    parameter {
      name  = "Greeting"
      value = "hello from Terraform"
    }
  }
  component {
    component_arn = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"
  }
}

resource "aws_imagebuilder_infrastructure_configuration" "hello" {
  name                  = "hello-infra"
  instance_profile_name = "EC2InstanceProfileForImageBuilder"
  instance_types        = ["t3.micro"]
}

resource "aws_imagebuilder_distribution_configuration" "hello" {
  name = "hello-distribution"

  dynamic "distribution" {
    for_each = ["us-east-1", "us-west-2"]
    content {
      region = distribution.value
      ami_distribution_configuration {
        name = "hello-kiln-{{ imagebuilder:buildDate }}"
      }
    }
  }
}

resource "aws_imagebuilder_image" "hello" {
  image_recipe_arn                 = aws_imagebuilder_image_recipe.hello.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.hello.arn
  distribution_configuration_arn   = aws_imagebuilder_distribution_configuration.hello.arn
  tags = {
    project = "kiln-example"
  }
}

output "parent_image_build" {
  description = "What amazon-linux-2023-x86/x.x.x resolved to"
  value       = data.aws_imagebuilder_image.al2023.build_version_arn
}

output "update_linux_versions" {
  value = data.aws_imagebuilder_components.update_linux.arns
}

output "image_arn" {
  value = aws_imagebuilder_image.hello.arn
}

output "amis" {
  value = { for ami in aws_imagebuilder_image.hello.output_resources[0].amis : ami.region => ami.image }
}
