"""Small makers for the resources image tests need, through the public API."""
from __future__ import annotations

ACCOUNT = "123456789012"
AL2023 = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"

HELLO = """name: hello
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
  - Target:
      type: string
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        inputs:
          commands: ["echo {{ Greeting }} {{ Target }}"]
"""


def component(ib, name="hello", version="1.0.0", data=HELLO, platform="Linux"):
    return ib.create_component(name=name, semanticVersion=version, platform=platform, data=data)["componentBuildVersionArn"]


def recipe(ib, name="demo", version="1.0.0", parent=AL2023, components=None):
    if components is None:
        components = [{"componentArn": UPDATE_LINUX}]
    return ib.create_image_recipe(name=name, semanticVersion=version, parentImage=parent, components=components)["imageRecipeArn"]


def infrastructure(ib, name="infra"):
    return ib.create_infrastructure_configuration(name=name, instanceProfileName="EC2InstanceProfileForImageBuilder")[
        "infrastructureConfigurationArn"]


def distribution(ib, name="dist", regions=("us-east-1", "eu-west-1")):
    return ib.create_distribution_configuration(name=name, distributions=[
        {"region": r, "amiDistributionConfiguration": {"name": f"{name}-{r} {{{{ imagebuilder:buildDate }}}}"}}
        for r in regions
    ])["distributionConfigurationArn"]


def image(ib, recipe_arn=None, infra_arn=None, **kwargs):
    recipe_arn = recipe_arn or recipe(ib)
    infra_arn = infra_arn or infrastructure(ib)
    return ib.create_image(imageRecipeArn=recipe_arn, infrastructureConfigurationArn=infra_arn, **kwargs)["imageBuildVersionArn"]


def error(excinfo) -> tuple[str, str, int]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]
