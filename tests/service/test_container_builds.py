"""Container builds through boto3 (in-process, a real server, PostgreSQL): a container
recipe built by CreateImage or a pipeline runs the container workflows and ends with
ECR image URIs in each distribution Region."""
from __future__ import annotations

from tests.service.builders import ACCOUNT, UPDATE_LINUX, infrastructure

TEMPLATE = "FROM {{{ imagebuilder:parentImage }}}\n{{{ imagebuilder:environments }}}\n{{{ imagebuilder:components }}}\n"
ECR = f"{ACCOUNT}.dkr.ecr"


def _container_recipe(ib, name="web", parent="amazonlinux:latest"):
    return ib.create_container_recipe(
        containerType="DOCKER", name=name, semanticVersion="1.0.0", parentImage=parent,
        components=[{"componentArn": UPDATE_LINUX}], dockerfileTemplateData=TEMPLATE,
        targetRepository={"service": "ECR", "repositoryName": "web"})["containerRecipeArn"]


def _distribution(ib):
    return ib.create_distribution_configuration(name="containers", distributions=[
        {"region": "us-east-1", "containerDistributionConfiguration": {
            "containerTags": ["latest"], "targetRepository": {"service": "ECR", "repositoryName": "web"}}},
        {"region": "eu-west-1", "containerDistributionConfiguration": {
            "containerTags": ["latest", "stable"], "targetRepository": {"service": "ECR", "repositoryName": "web-eu"}}},
    ])["distributionConfigurationArn"]


def test_a_container_build_ends_with_ecr_uris_in_each_region(ib):
    recipe = _container_recipe(ib)
    arn = ib.create_image(containerRecipeArn=recipe, infrastructureConfigurationArn=infrastructure(ib),
                          distributionConfigurationArn=_distribution(ib))["imageBuildVersionArn"]
    assert arn == f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/web/1.0.0/1"
    image = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert (image["type"], image["state"]) == ("DOCKER", {"status": "AVAILABLE"})
    assert "imageRecipe" not in image and image["containerRecipe"]["arn"] == recipe
    assert image["containerRecipe"]["components"][0]["componentArn"].startswith(UPDATE_LINUX.rsplit("/", 1)[0] + "/")
    assert image["outputResources"] == {"containers": [
        {"region": "us-east-1", "imageUris": [f"{ECR}.us-east-1.amazonaws.com/web:1.0.0-1", f"{ECR}.us-east-1.amazonaws.com/web:latest"]},
        {"region": "eu-west-1", "imageUris": [f"{ECR}.eu-west-1.amazonaws.com/web-eu:1.0.0-1",
                                              f"{ECR}.eu-west-1.amazonaws.com/web-eu:latest",
                                              f"{ECR}.eu-west-1.amazonaws.com/web-eu:stable"]}]}
    runs = ib.list_workflow_executions(imageBuildVersionArn=arn)["workflowExecutions"]
    assert [(r["workflowBuildVersionArn"].split("/")[-3], r["type"], r["status"]) for r in runs] == [
        ("build-container", "BUILD", "COMPLETED"), ("test-container", "TEST", "COMPLETED"),
        ("distribute-container", "DISTRIBUTION", "COMPLETED")]
    listed = ib.list_images(filters=[{"name": "type", "values": ["DOCKER"]}])["imageVersionList"]
    assert [v["arn"] for v in listed] == [arn.rsplit("/", 1)[0]]


def test_a_container_build_without_distribution_pushes_to_the_recipe_repository(ib):
    arn = ib.create_image(containerRecipeArn=_container_recipe(ib), infrastructureConfigurationArn=infrastructure(ib))[
        "imageBuildVersionArn"]
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["outputResources"] == {"containers": [
        {"region": "us-east-1", "imageUris": [f"{ECR}.us-east-1.amazonaws.com/web:1.0.0-1"]}]}


def test_a_container_pipeline_builds_into_two_regions(ib):
    recipe = _container_recipe(ib)
    pipeline = ib.create_image_pipeline(name="containers", containerRecipeArn=recipe,
                                        infrastructureConfigurationArn=infrastructure(ib),
                                        distributionConfigurationArn=_distribution(ib))["imagePipelineArn"]
    got = ib.get_image_pipeline(imagePipelineArn=pipeline)["imagePipeline"]
    assert got["containerRecipeArn"] == recipe and "imageRecipeArn" not in got and got["platform"] == "Linux"
    arn = ib.start_image_pipeline_execution(imagePipelineArn=pipeline)["imageBuildVersionArn"]
    image = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert image["type"] == "DOCKER" and [c["region"] for c in image["outputResources"]["containers"]] == ["us-east-1", "eu-west-1"]
    assert [i["arn"] for i in ib.list_image_pipeline_images(imagePipelineArn=pipeline)["imageSummaryList"]] == [arn]
