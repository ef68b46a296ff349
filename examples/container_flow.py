#!/usr/bin/env python3
"""A container image built by a pipeline into two Regions, with boto3, against `kiln serve`.

    kiln serve --in-memory &                 # listens on http://127.0.0.1:4599
    python examples/container_flow.py        # KILN_URL=http://host:port to point elsewhere

Imports a shell script as a component (ImportComponent, format SHELL: Image Builder wraps it
into a one-step component document), creates a container recipe on the Amazon-managed Amazon
Linux container image with that component and the managed update-linux (a Dockerfile template
with the three placeholders), an infrastructure configuration, a distribution configuration
that pushes to ECR in two Regions (containerDistributionConfiguration), and a pipeline; starts
it, waits for the image to be AVAILABLE, prints the ECR image URIs of each Region; then deletes
what it made.
"""
import os

import boto3

KILN_URL = os.environ.get("KILN_URL", "http://127.0.0.1:4599")
PARENT_IMAGE = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-x86-latest/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"

# The Dockerfile template: Image Builder fills in the parent image, the environment it needs
# and the RUN steps of the components.
DOCKERFILE = """FROM {{{ imagebuilder:parentImage }}}
{{{ imagebuilder:environments }}}
{{{ imagebuilder:components }}}
"""

# A plain shell script, imported as a BUILD component.
SCRIPT = """#!/bin/bash
set -euo pipefail
mkdir -p /opt/hello
echo "hello from an imported shell script" > /opt/hello/greeting.txt
"""

ib = boto3.client(
    "imagebuilder",
    region_name="us-east-1",
    endpoint_url=KILN_URL,
    # kiln takes any credentials; a 12-digit access key id becomes the account id.
    aws_access_key_id="123456789012",
    aws_secret_access_key="kiln",
)

created = []  # (delete method, argument name, ARN), deleted in reverse order at the end
try:
    component_arn = ib.import_component(
        name="hello-script",
        semanticVersion="1.0.0",
        type="BUILD",
        format="SHELL",
        platform="Linux",
        description="A shell script, imported",
        data=SCRIPT,
    )["componentBuildVersionArn"]
    created.append(("delete_component", "componentBuildVersionArn", component_arn))
    print("imported component:", component_arn)
    document = ib.get_component(componentBuildVersionArn=component_arn)["component"]["data"]
    print("  wrapped into a component document of", len(document.splitlines()), "lines")

    recipe_arn = ib.create_container_recipe(
        containerType="DOCKER",
        name="hello-container",
        semanticVersion="1.0.0",
        parentImage=PARENT_IMAGE,
        components=[{"componentArn": component_arn}, {"componentArn": UPDATE_LINUX}],
        dockerfileTemplateData=DOCKERFILE,
        targetRepository={"service": "ECR", "repositoryName": "hello-container"},
        workingDirectory="/tmp",
    )["containerRecipeArn"]
    created.append(("delete_container_recipe", "containerRecipeArn", recipe_arn))
    print("container recipe:", recipe_arn)

    infra_arn = ib.create_infrastructure_configuration(
        name="hello-container-infra",
        instanceProfileName="EC2InstanceProfileForImageBuilderECRContainerBuilds",
        instanceTypes=["t3.micro"],
        terminateInstanceOnFailure=True,
    )["infrastructureConfigurationArn"]
    created.append(("delete_infrastructure_configuration", "infrastructureConfigurationArn", infra_arn))
    print("infrastructure configuration:", infra_arn)

    distribution_arn = ib.create_distribution_configuration(
        name="hello-container-distribution",
        distributions=[
            {"region": "us-east-1",
             "containerDistributionConfiguration": {
                 "description": "hello-container in us-east-1",
                 "containerTags": ["latest"],
                 "targetRepository": {"service": "ECR", "repositoryName": "hello-container"}}},
            {"region": "us-west-2",
             "containerDistributionConfiguration": {
                 "containerTags": ["latest", "stable"],
                 "targetRepository": {"service": "ECR", "repositoryName": "hello-container-west"}}},
        ],
    )["distributionConfigurationArn"]
    created.append(("delete_distribution_configuration", "distributionConfigurationArn", distribution_arn))
    print("distribution configuration:", distribution_arn)

    pipeline_arn = ib.create_image_pipeline(
        name="hello-container-pipeline",
        containerRecipeArn=recipe_arn,
        infrastructureConfigurationArn=infra_arn,
        distributionConfigurationArn=distribution_arn,
    )["imagePipelineArn"]
    created.append(("delete_image_pipeline", "imagePipelineArn", pipeline_arn))
    print("pipeline:", pipeline_arn)

    image_arn = ib.start_image_pipeline_execution(imagePipelineArn=pipeline_arn)["imageBuildVersionArn"]
    created.append(("delete_image", "imageBuildVersionArn", image_arn))
    print("image:", image_arn)

    # The waiter polls every 60 s by default; kiln builds in seconds.
    ib.get_waiter("image_available").wait(imageBuildVersionArn=image_arn, WaiterConfig={"Delay": 1, "MaxAttempts": 120})

    image = ib.get_image(imageBuildVersionArn=image_arn)["image"]
    print("state:", image["state"]["status"], "type:", image["type"])
    print("built from:", image["containerRecipe"]["arn"])
    for container in image["outputResources"]["containers"]:
        for uri in container["imageUris"]:
            print("  ECR", container["region"], uri)
finally:
    for method, param, arn in reversed(created):
        getattr(ib, method)(**{param: arn})
    print("cleaned up", len(created), "resources")
