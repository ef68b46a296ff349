"""Sharing through boto3: account A shares by resource policy with account B; B sees the
resources (Get, List owner=Shared) and uses them (a shared component in its own recipe, a
shared image as a parent image); account C, not named, sees nothing, exactly as if the
resources did not exist; A cannot delete what it shares."""
from __future__ import annotations

import json

import pytest

from tests.service.builders import ACCOUNT, component, image, infrastructure, recipe
from tests.service.test_resource_policies import ACTIONS, container_recipe
from tests.support.errors import raises

B, C = "210987654321", "333344445555"
REGION_PREFIX = "arn:aws:imagebuilder:us-east-1"


def share(ib, kind, arn, *accounts):
    text = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": list(accounts)}, "Action": ACTIONS[kind], "Resource": arn}]})
    put = {"component": ib.put_component_policy, "image": ib.put_image_policy,
           "image-recipe": ib.put_image_recipe_policy, "container-recipe": ib.put_container_recipe_policy}[kind]
    member = {"component": "componentArn", "image": "imageArn", "image-recipe": "imageRecipeArn",
              "container-recipe": "containerRecipeArn"}[kind]
    put(**{member: arn, "policy": text})


def not_found(label, arn):
    return raises("ResourceNotFoundException", f"The following resource '{label}' cannot be found: '{arn}'.")


@pytest.fixture
def accounts(backend):
    return backend.client(), backend.client(access_key=B), backend.client(access_key=C)


# -- components ----------------------------------------------------------------------------

def test_shared_component_is_seen_by_the_grantee_only(accounts):
    a, b, c = accounts
    arn = component(a, name="shared-thing")
    component(a, name="private-thing")
    share(a, "component", arn, B)
    got = b.get_component(componentBuildVersionArn=arn)["component"]
    assert got["arn"] == arn and got["owner"] == ACCOUNT
    listed = b.list_components(owner="Shared")["componentVersionList"]
    assert [(e["arn"], e["owner"]) for e in listed] == [(arn.rsplit("/", 1)[0], ACCOUNT)]
    assert b.list_components()["componentVersionList"] == []  # Self: B owns none
    with not_found("Component", arn):
        c.get_component(componentBuildVersionArn=arn)
    assert c.list_components(owner="Shared")["componentVersionList"] == []


def test_shared_component_resolves_by_version_and_wildcard_for_the_grantee(accounts):
    a, b, c = accounts
    arn = component(a, name="shared-thing", version="1.2.3")
    share(a, "component", arn, f"arn:aws:iam::{B}:root")
    for ref in (arn.rsplit("/", 1)[0], f"{REGION_PREFIX}:{ACCOUNT}:component/shared-thing/x.x.x"):
        assert b.get_component(componentBuildVersionArn=ref)["component"]["arn"] == arn
        with not_found("Component", ref):
            c.get_component(componentBuildVersionArn=ref)


def test_grantee_builds_a_recipe_and_an_image_on_a_shared_component(accounts):
    a, b, c = accounts
    arn = component(a, name="shared-thing")
    share(a, "component", arn, B)
    recipe_arn = recipe(b, name="mine", components=[{"componentArn": arn, "parameters": [{"name": "Target", "value": ["x"]}]}])
    built = image(b, recipe_arn=recipe_arn)
    assert b.get_image(imageBuildVersionArn=built)["image"]["imageRecipe"]["components"][0]["componentArn"] == arn
    with not_found("Component", arn):
        recipe(c, name="mine", components=[{"componentArn": arn}])


def test_policy_replaced_without_the_grantee_takes_the_share_back(accounts):
    a, b, _ = accounts
    arn = component(a, name="shared-thing")
    share(a, "component", arn, B)
    share(a, "component", arn, C)
    with not_found("Component", arn):
        b.get_component(componentBuildVersionArn=arn)
    assert b.list_components(owner="Shared")["componentVersionList"] == []


# -- images ----------------------------------------------------------------------------------

def test_shared_image_is_listed_got_and_used_as_a_parent(accounts):
    a, b, c = accounts
    built = image(a)
    share(a, "image", built, B, C)
    listed = b.list_images(owner="Shared")["imageVersionList"]
    assert [(e["arn"], e["version"], e["owner"]) for e in listed] == [(built.rsplit("/", 1)[0], "1.0.0", ACCOUNT)]
    assert b.get_image(imageBuildVersionArn=built)["image"]["arn"] == built
    wildcard = f"{REGION_PREFIX}:{ACCOUNT}:image/demo/x.x.x"
    for parent in (built, wildcard):
        child = recipe(b, name="child-" + str(len(parent)), parent=parent)
        assert b.get_image_recipe(imageRecipeArn=child)["imageRecipe"]["parentImage"] == parent
    assert b.get_image(imageBuildVersionArn=image(b, recipe_arn=child))["image"]["imageRecipe"]["parentImage"] == built


def test_unshared_image_is_not_found_for_other_accounts(accounts):
    a, b, _ = accounts
    built = image(a)
    with not_found("Image", built):
        b.get_image(imageBuildVersionArn=built)
    with not_found("Image", built):
        recipe(b, name="child", parent=built)
    assert b.list_images(owner="Shared")["imageVersionList"] == []


# -- recipes ---------------------------------------------------------------------------------

def test_shared_image_recipe_is_listed_and_got(accounts):
    a, b, c = accounts
    arn = recipe(a, name="shared-recipe")
    recipe(a, name="private-recipe")
    share(a, "image-recipe", arn, B)
    assert [(e["arn"], e["owner"]) for e in b.list_image_recipes(owner="Shared")["imageRecipeSummaryList"]] == [(arn, ACCOUNT)]
    assert b.get_image_recipe(imageRecipeArn=arn)["imageRecipe"]["arn"] == arn
    assert b.list_image_recipes()["imageRecipeSummaryList"] == []
    with not_found("ImageRecipe", arn):
        c.get_image_recipe(imageRecipeArn=arn)
    assert c.list_image_recipes(owner="Shared")["imageRecipeSummaryList"] == []


def test_shared_container_recipe_is_listed_and_got(accounts):
    a, b, c = accounts
    arn = container_recipe(a)
    share(a, "container-recipe", arn, B)
    assert [e["arn"] for e in b.list_container_recipes(owner="Shared")["containerRecipeSummaryList"]] == [arn]
    assert b.get_container_recipe(containerRecipeArn=arn)["containerRecipe"]["owner"] == ACCOUNT
    with not_found("ContainerRecipe", arn):
        c.get_container_recipe(containerRecipeArn=arn)
    assert c.list_container_recipes(owner="Shared")["containerRecipeSummaryList"] == []


# -- the owner cannot delete what it shares --------------------------------------------------

def test_owner_cannot_delete_shared_resources(accounts):
    a, _, _ = accounts
    comp = component(a, name="shared-thing")
    built = image(a)
    rec = recipe(a, name="shared-recipe")
    box = container_recipe(a)
    share(a, "component", comp, B)
    share(a, "image", built, B)
    share(a, "image-recipe", rec, B)
    share(a, "container-recipe", box, B)
    for delete, member, arn in ((a.delete_component, "componentBuildVersionArn", comp),
                                (a.delete_image, "imageBuildVersionArn", built),
                                (a.delete_image_recipe, "imageRecipeArn", rec),
                                (a.delete_container_recipe, "containerRecipeArn", box)):
        with raises("ResourceDependencyException",
                    f"Resource dependency error: The resource ARN '{arn}' has other resources depended on it."):
            delete(**{member: arn})
    assert a.get_component(componentBuildVersionArn=comp)["component"]["arn"] == comp


def test_grantee_cannot_delete_or_reshare(accounts):
    a, b, _ = accounts
    arn = component(a, name="shared-thing")
    share(a, "component", arn, B)
    with not_found("Component", arn):
        b.delete_component(componentBuildVersionArn=arn)
    with not_found("Component", arn):
        share(b, "component", arn, C)


def test_build_version_lists_of_a_shared_version_show_only_the_shared_builds(accounts):
    a, b, c = accounts
    shared = component(a, name="builds", version="2.0.0")
    share(a, "component", shared, B)
    version = shared.rsplit("/", 1)[0]
    listed = b.list_component_build_versions(componentVersionArn=version)["componentSummaryList"]
    assert [(e["arn"], e["owner"]) for e in listed] == [(shared, ACCOUNT)]
    assert c.list_component_build_versions(componentVersionArn=version)["componentSummaryList"] == []

    recipe_arn, infra_arn = recipe(a), infrastructure(a)
    first = image(a, recipe_arn=recipe_arn, infra_arn=infra_arn)
    second = image(a, recipe_arn=recipe_arn, infra_arn=infra_arn)  # build 2 of the same version, not shared
    assert second.endswith("/2")
    share(a, "image", first, B)
    image_version = first.rsplit("/", 1)[0]
    listed = b.list_image_build_versions(imageVersionArn=image_version)["imageSummaryList"]
    assert [(e["arn"], e["owner"]) for e in listed] == [(first, ACCOUNT)]
    assert c.list_image_build_versions(imageVersionArn=image_version)["imageSummaryList"] == []
    assert [(e["arn"], e["owner"]) for e in a.list_image_build_versions(imageVersionArn=image_version)[
        "imageSummaryList"]] == [(second, ACCOUNT), (first, ACCOUNT)]  # the owner sees both, newest first
