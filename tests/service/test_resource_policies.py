"""Resource policies through boto3: Put/Get{Component,Image,ImageRecipe,ContainerRecipe}Policy,
the policy document's validation, and what Get answers when no policy is set."""
from __future__ import annotations

import json

import pytest

from tests.service.builders import ACCOUNT, component, image, recipe
from tests.support.errors import raises

OTHER = "210987654321"
PRINCIPALS = ("principals must be 12-digit AWS account IDs, arn:aws:iam::<account-id>:root, "
              "or AWS Organizations organization or organizational unit ARNs")
ACTIONS = {
    "component": ["imagebuilder:GetComponent", "imagebuilder:ListComponents"],
    "image": ["imagebuilder:GetImage", "imagebuilder:ListImages"],
    "image-recipe": ["imagebuilder:GetImageRecipe", "imagebuilder:ListImageRecipes"],
    "container-recipe": ["imagebuilder:GetContainerRecipe", "imagebuilder:ListContainerRecipes"],
}
TEMPLATE = "FROM {{{ imagebuilder:parentImage }}}\n{{{ imagebuilder:environments }}}\n{{{ imagebuilder:components }}}\n"


def policy(arn, kind, principals=(OTHER,), **statement) -> str:
    body = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": ACTIONS[kind], "Resource": [arn]}
    body.update(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": [body]})


def container_recipe(ib, name="box"):
    return ib.create_container_recipe(
        containerType="DOCKER", name=name, semanticVersion="1.0.0", parentImage="amazonlinux:latest",
        components=[{"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"}],
        dockerfileTemplateData=TEMPLATE, targetRepository={"service": "ECR", "repositoryName": "box"},
    )["containerRecipeArn"]


# -- put / get round trips ----------------------------------------------------------------

def test_put_component_policy_then_get_returns_it_verbatim(ib):
    arn = component(ib)
    text = policy(arn, "component")
    out = ib.put_component_policy(componentArn=arn, policy=text)
    assert out["componentArn"] == arn and out["requestId"]
    assert ib.get_component_policy(componentArn=arn)["policy"] == text


def test_put_image_policy_then_get(ib):
    arn = image(ib)
    text = policy(arn, "image", principals=[f"arn:aws:iam::{OTHER}:root"])
    assert ib.put_image_policy(imageArn=arn, policy=text)["imageArn"] == arn
    assert ib.get_image_policy(imageArn=arn)["policy"] == text


def test_put_image_recipe_policy_then_get(ib):
    arn = recipe(ib)
    text = policy(arn, "image-recipe")
    assert ib.put_image_recipe_policy(imageRecipeArn=arn, policy=text)["imageRecipeArn"] == arn
    assert ib.get_image_recipe_policy(imageRecipeArn=arn)["policy"] == text


def test_put_container_recipe_policy_then_get(ib):
    arn = container_recipe(ib)
    text = policy(arn, "container-recipe")
    assert ib.put_container_recipe_policy(containerRecipeArn=arn, policy=text)["containerRecipeArn"] == arn
    assert ib.get_container_recipe_policy(containerRecipeArn=arn)["policy"] == text


def test_put_policy_replaces_the_previous_one(ib):
    arn = component(ib)
    ib.put_component_policy(componentArn=arn, policy=policy(arn, "component"))
    second = policy(arn, "component", principals=["111122223333"])
    ib.put_component_policy(componentArn=arn, policy=second)
    assert ib.get_component_policy(componentArn=arn)["policy"] == second


def test_policy_accepts_single_values_organizations_and_no_resource(ib):
    arn = component(ib)
    text = json.dumps({"Statement": {
        "Effect": "Allow", "Action": "imagebuilder:getcomponent",
        "Principal": {"AWS": ["arn:aws:organizations::111122223333:organization/o-abcdef1234",
                              "arn:aws:organizations::111122223333:ou/o-abcdef1234/ou-ab12-cdef5678"]}}})
    ib.put_component_policy(componentArn=arn, policy=text)
    assert ib.get_component_policy(componentArn=arn)["policy"] == text


# -- no policy set ----------------------------------------------------------------------

def test_get_policies_without_one_return_an_empty_object(ib):
    assert ib.get_image_policy(imageArn=image(ib))["policy"] == "{}"
    assert ib.get_image_recipe_policy(imageRecipeArn=recipe(ib, name="other"))["policy"] == "{}"
    assert ib.get_container_recipe_policy(containerRecipeArn=container_recipe(ib))["policy"] == "{}"


def test_get_component_policy_without_one_is_not_found(ib):
    arn = component(ib)
    with raises("ResourceNotFoundException", f"The following resource 'ComponentPolicy' cannot be found: '{arn}'."):
        ib.get_component_policy(componentArn=arn)


# -- which resources -----------------------------------------------------------------------

def test_put_policy_on_missing_resource_is_not_found(ib):
    arn = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:component/nothing/1.0.0/1"
    with raises("ResourceNotFoundException", f"The following resource 'Component' cannot be found: '{arn}'."):
        ib.put_component_policy(componentArn=arn, policy=policy(arn, "component"))
    arn = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/nothing/1.0.0"
    with raises("ResourceNotFoundException", f"The following resource 'ImageRecipe' cannot be found: '{arn}'."):
        ib.get_image_recipe_policy(imageRecipeArn=arn)


def test_policy_of_another_accounts_resource_is_not_found(backend):
    arn = component(backend.client())
    other = backend.client(access_key=OTHER)
    with raises("ResourceNotFoundException", f"The following resource 'Component' cannot be found: '{arn}'."):
        other.put_component_policy(componentArn=arn, policy=policy(arn, "component"))
    with raises("ResourceNotFoundException", f"The following resource 'Component' cannot be found: '{arn}'."):
        other.get_component_policy(componentArn=arn)


def test_policy_of_an_aws_managed_resource_is_refused(ib):
    arn = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.0.2/1"
    with raises("InvalidParameterValueException",
                f"The value supplied for parameter 'componentArn' is not valid. '{arn}' is not yours: "
                "a policy can be applied only to a resource you own."):
        ib.put_component_policy(componentArn=arn, policy=policy(arn, "component"))


def test_recipe_policy_with_wildcard_version_is_refused(ib):
    recipe(ib)
    arn = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/demo/1.0.x"
    with raises("InvalidParameterValueException",
                f"The value supplied for parameter 'imageRecipeArn' is not valid. '{arn}' has a wildcard version: "
                "a policy applies to one recipe version; name it without x."):
        ib.put_image_recipe_policy(imageRecipeArn=arn, policy=policy(arn, "image-recipe"))


# -- the document ----------------------------------------------------------------------------

def _refused(ib, arn, text, detail):
    with raises("InvalidParameterValueException", f"The value supplied for parameter 'policy' is not valid. {detail}"):
        ib.put_component_policy(componentArn=arn, policy=text)


@pytest.fixture
def built(ib):
    return ib, component(ib)


def test_policy_not_json(built):
    ib, arn = built
    _refused(ib, arn, "{not json", "The policy is not valid JSON.")
    _refused(ib, arn, "[]", "The policy must be a JSON object.")


def test_policy_structure(built):
    ib, arn = built
    _refused(ib, arn, json.dumps({"Statement": [], "Foo": 1}),
             "The policy has an unsupported element 'Foo'. Supported: Version, Id, Statement.")
    _refused(ib, arn, json.dumps({"Version": "2020-01-01", "Statement": []}),
             "The policy Version '2020-01-01' is not supported. Use 2012-10-17.")
    _refused(ib, arn, json.dumps({"Version": "2012-10-17", "Statement": []}),
             "The policy must have a Statement: an object or a non-empty list of objects.")
    _refused(ib, arn, json.dumps({"Statement": ["x"]}), "Statement[0] must be a JSON object.")


def test_policy_statement_elements(built):
    ib, arn = built
    _refused(ib, arn, policy(arn, "component", Condition={}),
             "Statement[0] has an unsupported element 'Condition'. Supported: Sid, Effect, Principal, Action, Resource.")
    _refused(ib, arn, policy(arn, "component", Effect="Deny"),
             'Statement[0] has Effect "Deny"; a policy that shares a resource can only Allow.')
    _refused(ib, arn, policy(arn, "component", Principal="*"),
             f'Statement[0] has Principal "*"; give {{"AWS": [...]}}: {PRINCIPALS}.')
    _refused(ib, arn, policy(arn, "component", principals=["*"]), f"Statement[0] has principal '*': {PRINCIPALS}.")
    _refused(ib, arn, policy(arn, "component", principals=["1234"]), f"Statement[0] has principal '1234': {PRINCIPALS}.")
    _refused(ib, arn, policy(arn, "component", principals=[]),
             "Statement[0] Principal AWS must be a string or a non-empty list of strings.")


def test_policy_actions_per_resource_type(built):
    ib, arn = built
    _refused(ib, arn, policy(arn, "component", Action=["imagebuilder:GetImage"]),
             "Statement[0] has action 'imagebuilder:GetImage', which Component policies cannot allow. "
             "Allowed actions: imagebuilder:GetComponent, imagebuilder:ListComponents.")
    _refused(ib, arn, policy(arn, "component", Action="imagebuilder:*"),
             "Statement[0] has action 'imagebuilder:*', which Component policies cannot allow. "
             "Allowed actions: imagebuilder:GetComponent, imagebuilder:ListComponents.")
    image_arn = image(ib)
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'policy' is not valid. Statement[0] has action "
                "'imagebuilder:GetComponent', which Image policies cannot allow. "
                "Allowed actions: imagebuilder:GetImage, imagebuilder:ListImages."):
        ib.put_image_policy(imageArn=image_arn, policy=policy(image_arn, "component"))


def test_policy_resource_must_be_the_resource(built):
    ib, arn = built
    elsewhere = arn.replace("/1.0.0/1", "/2.0.0/1")
    _refused(ib, arn, policy(elsewhere, "component"),
             f"Statement[0] names resource '{elsewhere}'; the policy of '{arn}' can name only that resource.")


def test_refused_policy_changes_nothing(built):
    ib, arn = built
    good = policy(arn, "component")
    ib.put_component_policy(componentArn=arn, policy=good)
    _refused(ib, arn, policy(arn, "component", Effect="Deny"),
             'Statement[0] has Effect "Deny"; a policy that shares a resource can only Allow.')
    assert ib.get_component_policy(componentArn=arn)["policy"] == good
