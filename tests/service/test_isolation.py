"""Isolation between accounts: account C, with no grant, can neither see nor change nor use
anything account A owns. Every Get, List, Update, Delete, Tag, policy and use operation on
A's resources answers C as if they did not exist, and A's resources are unchanged after."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.service.builders import ACCOUNT, component, distribution, image, infrastructure, recipe
from tests.service.test_resource_policies import ACTIONS, container_recipe
from tests.support.documents import BUILD_WORKFLOW_YAML

C = "333344445555"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lifecycle"


@pytest.fixture
def world(backend):
    a, c = backend.client(), backend.client(access_key=C)
    comp = component(a, name="a-comp")
    rec = recipe(a, name="a-recipe", components=[{"componentArn": comp, "parameters": [{"name": "Target", "value": ["w"]}]}])
    infra = infrastructure(a, name="a-infra")
    dist = distribution(a, name="a-dist")
    img = image(a, rec, infra)
    cr = container_recipe(a, name="a-box")
    pipe = a.create_image_pipeline(name="a-pipe", imageRecipeArn=rec,
                                   infrastructureConfigurationArn=infra)["imagePipelineArn"]
    wf = a.create_workflow(name="a-flow", semanticVersion="1.0.0", type="BUILD",
                           data=BUILD_WORKFLOW_YAML)["workflowBuildVersionArn"]
    lp = a.create_lifecycle_policy(
        name="a-policy", executionRole=ROLE, resourceType="AMI_IMAGE",
        policyDetails=[{"action": {"type": "DELETE"}, "filter": {"type": "AGE", "value": 6, "unit": "MONTHS"}}],
        resourceSelection={"tagMap": {"e": "t"}})["lifecyclePolicyArn"]
    execution = a.list_workflow_executions(imageBuildVersionArn=img)["workflowExecutions"][0]["workflowExecutionId"]
    step = a.list_workflow_step_executions(workflowExecutionId=execution)["steps"][0]["stepExecutionId"]
    arns = dict(comp=comp, rec=rec, infra=infra, dist=dist, img=img, cr=cr, pipe=pipe, wf=wf, lp=lp)
    return a, c, arns, execution, step


def _snapshot(a, arns) -> str:
    """Everything C might have changed, as A sees it."""
    seen = {
        "comp": a.get_component(componentBuildVersionArn=arns["comp"])["component"],
        "rec": a.get_image_recipe(imageRecipeArn=arns["rec"])["imageRecipe"],
        "infra": a.get_infrastructure_configuration(infrastructureConfigurationArn=arns["infra"])[
            "infrastructureConfiguration"],
        "dist": a.get_distribution_configuration(distributionConfigurationArn=arns["dist"])["distributionConfiguration"],
        "img": a.get_image(imageBuildVersionArn=arns["img"])["image"],
        "cr": a.get_container_recipe(containerRecipeArn=arns["cr"])["containerRecipe"],
        "pipe": a.get_image_pipeline(imagePipelineArn=arns["pipe"])["imagePipeline"],
        "wf": a.get_workflow(workflowBuildVersionArn=arns["wf"])["workflow"],
        "lp": a.get_lifecycle_policy(lifecyclePolicyArn=arns["lp"])["lifecyclePolicy"],
        "images": a.list_image_pipeline_images(imagePipelineArn=arns["pipe"])["imageSummaryList"],
        "lifecycle": a.list_lifecycle_executions(resourceArn=arns["lp"])["lifecycleExecutions"],
        "policies": [a.get_image_policy(imageArn=arns["img"])["policy"],
                     a.get_image_recipe_policy(imageRecipeArn=arns["rec"])["policy"]],
    }
    return json.dumps(seen, default=str, sort_keys=True)


def _calls(arns, execution, step):
    comp, rec, infra, dist, img, cr, pipe, wf, lp = (arns[k] for k in
                                                     ("comp", "rec", "infra", "dist", "img", "cr", "pipe", "wf", "lp"))
    grant = lambda kind, arn: json.dumps({"Version": "2012-10-17", "Statement": [{  # noqa: E731
        "Effect": "Allow", "Principal": {"AWS": [C]}, "Action": ACTIONS[kind], "Resource": arn}]})
    calls = [
        # Get
        ("get_component", dict(componentBuildVersionArn=comp)),
        ("get_image_recipe", dict(imageRecipeArn=rec)),
        ("get_infrastructure_configuration", dict(infrastructureConfigurationArn=infra)),
        ("get_distribution_configuration", dict(distributionConfigurationArn=dist)),
        ("get_image", dict(imageBuildVersionArn=img)),
        ("get_container_recipe", dict(containerRecipeArn=cr)),
        ("get_image_pipeline", dict(imagePipelineArn=pipe)),
        ("get_workflow", dict(workflowBuildVersionArn=wf)),
        ("get_lifecycle_policy", dict(lifecyclePolicyArn=lp)),
        ("get_workflow_execution", dict(workflowExecutionId=execution)),
        ("get_workflow_step_execution", dict(stepExecutionId=step)),
        ("get_component_policy", dict(componentArn=comp)),
        ("get_image_policy", dict(imageArn=img)),
        ("get_image_recipe_policy", dict(imageRecipeArn=rec)),
        ("get_container_recipe_policy", dict(containerRecipeArn=cr)),
        # List on A's resource
        ("list_component_build_versions", dict(componentVersionArn=comp.rsplit("/", 1)[0])),
        ("list_image_build_versions", dict(imageVersionArn=img.rsplit("/", 1)[0])),
        ("list_image_pipeline_images", dict(imagePipelineArn=pipe)),
        ("list_workflow_executions", dict(imageBuildVersionArn=img)),
        ("list_workflow_step_executions", dict(workflowExecutionId=execution)),
        ("list_workflow_build_versions", dict(workflowVersionArn=wf.rsplit("/", 1)[0])),
        ("list_image_packages", dict(imageBuildVersionArn=img)),
        ("list_lifecycle_executions", dict(resourceArn=lp)),
        # Update
        ("update_infrastructure_configuration", dict(infrastructureConfigurationArn=infra, instanceProfileName="mine")),
        ("update_distribution_configuration", dict(distributionConfigurationArn=dist, distributions=[
            {"region": "us-east-1", "amiDistributionConfiguration": {"name": "x-{{ imagebuilder:buildDate }}"}}])),
        ("update_image_pipeline", dict(imagePipelineArn=pipe, imageRecipeArn=rec, infrastructureConfigurationArn=infra)),
        ("update_lifecycle_policy", dict(lifecyclePolicyArn=lp, executionRole=ROLE, resourceType="AMI_IMAGE",
                                         policyDetails=[{"action": {"type": "DELETE"},
                                                         "filter": {"type": "COUNT", "value": 1}}],
                                         resourceSelection={"tagMap": {"e": "t"}})),
        # Policies: C cannot grant itself A's resources
        ("put_component_policy", dict(componentArn=comp, policy=grant("component", comp))),
        ("put_image_policy", dict(imageArn=img, policy=grant("image", img))),
        ("put_image_recipe_policy", dict(imageRecipeArn=rec, policy=grant("image-recipe", rec))),
        ("put_container_recipe_policy", dict(containerRecipeArn=cr, policy=grant("container-recipe", cr))),
        # Act on
        ("start_image_pipeline_execution", dict(imagePipelineArn=pipe)),
        ("cancel_image_creation", dict(imageBuildVersionArn=img)),
        ("start_resource_state_update", dict(resourceArn=img, state={"status": "DEPRECATED"})),
        ("distribute_image", dict(sourceImage=img, distributionConfigurationArn=dist,
                                  executionRole=f"arn:aws:iam::{C}:role/x")),
        # Use in C's own resources
        ("create_image_recipe", dict(name="c-recipe", semanticVersion="1.0.0", parentImage=img.rsplit("/", 1)[0],
                                     components=[{"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/"
                                                                  "update-linux/x.x.x"}])),
        ("create_image_recipe", dict(name="c-recipe2", semanticVersion="1.0.0",
                                     parentImage="arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x",
                                     components=[{"componentArn": comp, "parameters": [
                                         {"name": "Target", "value": ["w"]}]}])),
        ("create_image", dict(imageRecipeArn=rec, infrastructureConfigurationArn=infra)),
        ("create_image_pipeline", dict(name="c-pipe", imageRecipeArn=rec, infrastructureConfigurationArn=infra)),
    ]
    for arn in arns.values():
        calls += [("tag_resource", dict(resourceArn=arn, tags={"owner": "c"})),
                  ("untag_resource", dict(resourceArn=arn, tagKeys=["owner"])),
                  ("list_tags_for_resource", dict(resourceArn=arn))]
    # Deletes last: each must leave the resource where it was.
    calls += [
        ("delete_image_pipeline", dict(imagePipelineArn=pipe)),
        ("delete_image", dict(imageBuildVersionArn=img)),
        ("delete_image_recipe", dict(imageRecipeArn=rec)),
        ("delete_container_recipe", dict(containerRecipeArn=cr)),
        ("delete_component", dict(componentBuildVersionArn=comp)),
        ("delete_infrastructure_configuration", dict(infrastructureConfigurationArn=infra)),
        ("delete_distribution_configuration", dict(distributionConfigurationArn=dist)),
        ("delete_workflow", dict(workflowBuildVersionArn=wf)),
        ("delete_lifecycle_policy", dict(lifecyclePolicyArn=lp)),
    ]
    return calls


def test_an_account_without_a_grant_sees_changes_and_uses_nothing(world):
    a, c, arns, execution, step = world
    before = _snapshot(a, arns)
    answered = {}
    for method, kwargs in _calls(arns, execution, step):
        try:
            out = getattr(c, method)(**kwargs)
            # A list of what is on A's resource may answer as for any ARN that has nothing: empty.
            lists = {k: v for k, v in out.items() if isinstance(v, list)}
            if not (method.startswith("list_") and lists and not any(lists.values())):
                answered[f"{method} {sorted(kwargs)}"] = f"succeeded: {out}"
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code != "ResourceNotFoundException":
                answered[f"{method} {sorted(kwargs)}"] = f"{code}: {e.response['Error']['Message']}"
    assert answered == {}, "C was not answered 'not found':\n" + "\n".join(f"{k}: {v}" for k, v in answered.items())
    assert _snapshot(a, arns) == before


def test_an_account_without_a_grant_lists_nothing_of_anothers(world):
    a, c, arns, execution, step = world
    for owner in ("Self", "Shared"):
        assert c.list_components(owner=owner)["componentVersionList"] == []
        assert c.list_images(owner=owner)["imageVersionList"] == []
        assert c.list_image_recipes(owner=owner)["imageRecipeSummaryList"] == []
        assert c.list_container_recipes(owner=owner)["containerRecipeSummaryList"] == []
    assert c.list_workflows(owner="Self")["workflowVersionList"] == []
    assert c.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"] == []
    assert c.list_distribution_configurations()["distributionConfigurationSummaryList"] == []
    assert c.list_image_pipelines()["imagePipelineList"] == []
    assert c.list_lifecycle_policies()["lifecyclePolicySummaryList"] == []
    assert c.list_waiting_workflow_steps()["steps"] == []
    assert c.list_image_scan_findings()["findings"] == []
