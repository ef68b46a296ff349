#!/usr/bin/env python3
"""The main Image Builder flow with boto3, against `kiln serve`.

    kiln serve --in-memory &            # listens on http://127.0.0.1:4599
    python examples/boto3_flow.py       # KILN_URL=http://host:port to point elsewhere

Creates a component from hello-component.yaml, an image recipe on the Amazon-managed
Amazon Linux 2023 image with that component and the managed update-linux, an
infrastructure configuration, a distribution configuration for two Regions, and an
image; waits for the image to be AVAILABLE; reads it back by build ARN, version ARN
and x.x.x wildcard; lists; shows an error; then deletes what it made.
"""
import os
import pathlib

import boto3

KILN_URL = os.environ.get("KILN_URL", "http://127.0.0.1:4599")
HERE = pathlib.Path(__file__).resolve().parent
PARENT_IMAGE = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"

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
    component_arn = ib.create_component(
        name="hello-kiln",
        semanticVersion="1.0.0",
        platform="Linux",
        description="Says hello",
        data=(HERE / "hello-component.yaml").read_text(),
    )["componentBuildVersionArn"]
    created.append(("delete_component", "componentBuildVersionArn", component_arn))
    print("component:", component_arn)

    recipe_arn = ib.create_image_recipe(
        name="hello-recipe",
        semanticVersion="1.0.0",
        parentImage=PARENT_IMAGE,
        components=[
            {"componentArn": component_arn,
             "parameters": [{"name": "Greeting", "value": ["hello from boto3"]}]},
            {"componentArn": UPDATE_LINUX},
        ],
    )["imageRecipeArn"]
    created.append(("delete_image_recipe", "imageRecipeArn", recipe_arn))
    print("recipe:", recipe_arn)

    infra_arn = ib.create_infrastructure_configuration(
        name="hello-infra",
        instanceProfileName="EC2InstanceProfileForImageBuilder",
        instanceTypes=["t3.micro"],
        terminateInstanceOnFailure=True,
    )["infrastructureConfigurationArn"]
    created.append(("delete_infrastructure_configuration", "infrastructureConfigurationArn", infra_arn))
    print("infrastructure configuration:", infra_arn)

    distribution_arn = ib.create_distribution_configuration(
        name="hello-distribution",
        distributions=[
            {"region": region,
             "amiDistributionConfiguration": {"name": "hello-kiln-{{ imagebuilder:buildDate }}"}}
            for region in ("us-east-1", "us-west-2")
        ],
    )["distributionConfigurationArn"]
    created.append(("delete_distribution_configuration", "distributionConfigurationArn", distribution_arn))
    print("distribution configuration:", distribution_arn)

    image_arn = ib.create_image(
        imageRecipeArn=recipe_arn,
        infrastructureConfigurationArn=infra_arn,
        distributionConfigurationArn=distribution_arn,
        tags={"project": "kiln-example"},
    )["imageBuildVersionArn"]
    created.append(("delete_image", "imageBuildVersionArn", image_arn))
    print("image:", image_arn)

    # The waiter polls every 60 s by default; kiln builds in seconds.
    ib.get_waiter("image_available").wait(imageBuildVersionArn=image_arn, WaiterConfig={"Delay": 1, "MaxAttempts": 120})

    image = ib.get_image(imageBuildVersionArn=image_arn)["image"]
    print("state:", image["state"]["status"])
    for ami in image["outputResources"]["amis"]:
        print("  AMI", ami["image"], "in", ami["region"])
    version_arn = image_arn.rsplit("/", 1)[0]                            # .../image/hello-recipe/1.0.0
    wildcard_arn = version_arn.rsplit("/", 1)[0] + "/x.x.x"               # .../image/hello-recipe/x.x.x
    for arn in (version_arn, wildcard_arn):
        resolved = ib.get_image(imageBuildVersionArn=arn)["image"]["arn"]
        print(f"get_image({arn}) -> {resolved}")
        assert resolved == image_arn

    for page in ib.get_paginator("list_images").paginate():
        for summary in page["imageVersionList"]:
            print("listed:", summary["arn"], summary["version"])
    builds = ib.list_image_build_versions(imageVersionArn=version_arn)["imageSummaryList"]
    print("builds of 1.0.0:", [b["arn"] for b in builds])

    try:
        ib.get_image(imageBuildVersionArn=version_arn.replace("hello-recipe", "no-such-image") + "/1")
    except ib.exceptions.ResourceNotFoundException as e:
        print("expected error:", e.response["Error"]["Code"], "-", e.response["Error"]["Message"])
    else:
        raise SystemExit("expected ResourceNotFoundException")
finally:
    for method, param, arn in reversed(created):
        getattr(ib, method)(**{param: arn})
    print("cleaned up", len(created), "resources")
