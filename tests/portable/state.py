"""A store with something of everything, made through boto3 and kiln's controls, and
every answer the API gives about it: what an export must carry to another kiln."""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from tests.service.builders import AL2023, HELLO, UPDATE_LINUX
from tests.support.documents import wait_workflow

ACCOUNT = "123456789012"
OTHER = "210987654321"
FROZEN_AT = "2027-03-01T09:00:00Z"
RELEASE = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/2027.2.1/1"  # published by build_state
ROLE = "arn:aws:iam::123456789012:role/ImageBuilderLifecycle"
TEMPLATE = "FROM {{{ imagebuilder:parentImage }}}\n{{{ imagebuilder:environments }}}\n{{{ imagebuilder:components }}}\n"


def _policy(arn: str, action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [OTHER]}, "Action": [action], "Resource": [arn]}]})


def build_state(ib, control, other=None, europe=None) -> dict:
    """Fill the store (a frozen clock, so answers compare exactly); returns ARNs the tests use.
    `other`: a client of another account; `europe`: one of eu-west-1."""
    control.freeze_clock(FROZEN_AT)
    control.publish_release(RELEASE)  # a row of the account aws: the recipes' parent resolves to it
    arns = {}
    hello = ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux", data=HELLO,
                                tags={"team": "platform"}, clientToken="component-token")
    arns["component"] = hello["componentBuildVersionArn"]
    ib.create_component(name="hello", semanticVersion="1.1.0", platform="Linux", data=HELLO, description="newer")
    ib.put_component_policy(componentArn=arns["component"], policy=_policy(arns["component"], "imagebuilder:GetComponent"))
    recipe = ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage=AL2023,
                                    components=[{"componentArn": UPDATE_LINUX},
                                                {"componentArn": arns["component"],
                                                 "parameters": [{"name": "Target", "value": ["world"]}]}],
                                    tags={"stage": "test"})["imageRecipeArn"]
    arns["recipe"] = recipe
    ib.put_image_recipe_policy(imageRecipeArn=recipe, policy=_policy(recipe, "imagebuilder:GetImageRecipe"))
    ib.create_container_recipe(containerType="DOCKER", name="box", semanticVersion="1.0.0",
                               parentImage="amazonlinux:latest", dockerfileTemplateData=TEMPLATE,
                               targetRepository={"service": "ECR", "repositoryName": "box"},
                               components=[{"componentArn": UPDATE_LINUX}])
    infra = ib.create_infrastructure_configuration(name="infra", instanceProfileName="EC2InstanceProfileForImageBuilder",
                                                   instanceTypes=["t3.small"])["infrastructureConfigurationArn"]
    arns["infra"] = infra
    dist = ib.create_distribution_configuration(name="dist", distributions=[
        {"region": "us-east-1", "amiDistributionConfiguration": {"name": "demo {{ imagebuilder:buildDate }}"}}]
    )["distributionConfigurationArn"]
    # Builds: two that finished, the second of which is deleted (its number is never used again),
    # one that failed at a workflow step, one waiting for an approval.
    builds = [ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra,
                              distributionConfigurationArn=dist, tags={"n": str(i)})["imageBuildVersionArn"]
              for i in range(3)]
    arns["built"] = builds[0]
    ib.delete_image(imageBuildVersionArn=builds[2])
    ib.put_image_policy(imageArn=builds[0], policy=_policy(builds[0], "imagebuilder:GetImage"))
    control.seed_inventory(builds[1], packages=[{"packageName": "bash", "packageVersion": "5.2.15"}])
    control.fail_next_build("BUILDING", "The build instance ran out of disk.", step="ApplyBuildComponents")
    arns["failed"] = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra)["imageBuildVersionArn"]
    workflow = ib.create_workflow(name="wait-build", semanticVersion="1.0.0", type="BUILD",
                                  data=wait_workflow(description=None))["workflowBuildVersionArn"]
    arns["waiting"] = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra,
                                      workflows=[{"workflowArn": workflow}],
                                      executionRole="ImageBuilderRole")["imageBuildVersionArn"]
    arns["pipeline"] = ib.create_image_pipeline(
        name="nightly", imageRecipeArn=recipe, infrastructureConfigurationArn=infra,
        schedule={"scheduleExpression": "cron(0 3 * * ? *)", "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"},
        tags={"team": "platform"})["imagePipelineArn"]
    arns["run"] = ib.start_image_pipeline_execution(imagePipelineArn=arns["pipeline"])["imageBuildVersionArn"]
    arns["policy"] = ib.create_lifecycle_policy(
        name="newest-two", resourceType="AMI_IMAGE", executionRole=ROLE,
        resourceSelection={"recipes": [{"name": "demo", "semanticVersion": "1.0.0"}]},
        policyDetails=[{"action": {"type": "DELETE", "includeResources": {"amis": True}},
                        "filter": {"type": "COUNT", "value": 2}}])["lifecyclePolicyArn"]
    control.run_lifecycle_policy(arns["policy"])
    ib.tag_resource(resourceArn=infra, tags={"owner": "ci"})
    # A failure planned for the next build, which the import must carry too.
    control.fail_next_build("TESTING", "Planned before the export.")
    if other is not None:
        other.create_component(name="theirs", semanticVersion="2.0.0", platform="Linux", data=HELLO)
    if europe is not None:
        europe.create_infrastructure_configuration(name="eu-infra", instanceProfileName="EC2InstanceProfileForImageBuilder")
    return arns


def _call(ib, operation: str, **kwargs):
    try:
        out = getattr(ib, operation)(**kwargs)
    except ClientError as e:
        return {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
    out.pop("ResponseMetadata", None)
    out.pop("requestId", None)
    out.pop("nextToken", None)
    return out


def _all(ib, operation: str, key: str, **kwargs) -> list:
    """Every item of a list, page by page (the tokens are the store's own: not compared)."""
    items, token = [], None
    while True:
        page = getattr(ib, operation)(**kwargs, **({"nextToken": token} if token else {}))
        items += page[key]
        token = page.get("nextToken")
        if not token:
            return items


def answers(ib, images=()) -> dict:
    """Every Get and List answer about the caller's account and Region, by call (and GetImage
    of each of `images`)."""
    seen: dict = {}
    tagged = []

    def get(label, operation, **kwargs):
        seen[f"{label} {sorted(kwargs.values())}"] = _call(ib, operation, **kwargs)

    def listed(label, operation, key, **kwargs):
        items = _all(ib, operation, key, **kwargs)
        seen[f"{label} {sorted(kwargs.values())}"] = items
        return items

    for arn in images:
        get("image", "get_image", imageBuildVersionArn=arn)
    for version in listed("components", "list_components", "componentVersionList", owner="Self"):
        for build in listed("component builds", "list_component_build_versions", "componentSummaryList",
                            componentVersionArn=version["arn"]):
            get("component", "get_component", componentBuildVersionArn=build["arn"])
            get("component policy", "get_component_policy", componentArn=build["arn"])
            tagged.append(build["arn"])
    for recipe in listed("recipes", "list_image_recipes", "imageRecipeSummaryList", owner="Self"):
        get("recipe", "get_image_recipe", imageRecipeArn=recipe["arn"])
        get("recipe policy", "get_image_recipe_policy", imageRecipeArn=recipe["arn"])
        tagged.append(recipe["arn"])
    for recipe in listed("container recipes", "list_container_recipes", "containerRecipeSummaryList", owner="Self"):
        get("container recipe", "get_container_recipe", containerRecipeArn=recipe["arn"])
        tagged.append(recipe["arn"])
    for infra in listed("infras", "list_infrastructure_configurations", "infrastructureConfigurationSummaryList"):
        get("infra", "get_infrastructure_configuration", infrastructureConfigurationArn=infra["arn"])
        tagged.append(infra["arn"])
    for dist in listed("dists", "list_distribution_configurations", "distributionConfigurationSummaryList"):
        get("dist", "get_distribution_configuration", distributionConfigurationArn=dist["arn"])
        tagged.append(dist["arn"])
    for version in listed("images", "list_images", "imageVersionList", owner="Self"):
        for build in listed("image builds", "list_image_build_versions", "imageSummaryList",
                            imageVersionArn=version["arn"]):
            get("image", "get_image", imageBuildVersionArn=build["arn"])
            get("image policy", "get_image_policy", imageArn=build["arn"])
            listed("packages", "list_image_packages", "imagePackageList", imageBuildVersionArn=build["arn"])
            tagged.append(build["arn"])
            for run in listed("workflow runs", "list_workflow_executions", "workflowExecutions",
                              imageBuildVersionArn=build["arn"]):
                get("workflow run", "get_workflow_execution", workflowExecutionId=run["workflowExecutionId"])
                for step in listed("steps", "list_workflow_step_executions", "steps",
                                   workflowExecutionId=run["workflowExecutionId"]):
                    get("step", "get_workflow_step_execution", stepExecutionId=step["stepExecutionId"])
    listed("waiting steps", "list_waiting_workflow_steps", "steps")
    for pipeline in listed("pipelines", "list_image_pipelines", "imagePipelineList"):
        get("pipeline", "get_image_pipeline", imagePipelineArn=pipeline["arn"])
        listed("pipeline images", "list_image_pipeline_images", "imageSummaryList", imagePipelineArn=pipeline["arn"])
        tagged.append(pipeline["arn"])
    for workflow in listed("workflows", "list_workflows", "workflowVersionList", owner="Self"):
        for build in listed("workflow builds", "list_workflow_build_versions", "workflowSummaryList",
                            workflowVersionArn=workflow["arn"]):
            get("workflow", "get_workflow", workflowBuildVersionArn=build["arn"])
            tagged.append(build["arn"])
    for policy in listed("lifecycle policies", "list_lifecycle_policies", "lifecyclePolicySummaryList"):
        get("lifecycle policy", "get_lifecycle_policy", lifecyclePolicyArn=policy["arn"])
        tagged.append(policy["arn"])
        for run in listed("lifecycle runs", "list_lifecycle_executions", "lifecycleExecutions", resourceArn=policy["arn"]):
            get("lifecycle run", "get_lifecycle_execution", lifecycleExecutionId=run["lifecycleExecutionId"])
            listed("lifecycle resources", "list_lifecycle_execution_resources", "resources",
                   lifecycleExecutionId=run["lifecycleExecutionId"])
    for arn in tagged:
        get("tags", "list_tags_for_resource", resourceArn=arn)
    return seen
