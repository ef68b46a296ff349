import pytest
from botocore.exceptions import ClientError

from tests.service.builders import ACCOUNT, AL2023, HELLO, UPDATE_LINUX, component, error, image, infrastructure, recipe

ARN = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/demo/1.0.0"


def test_create_image_recipe_returns_arn_and_references(ib):
    out = ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage=AL2023,
                                 components=[{"componentArn": UPDATE_LINUX}])
    assert out["imageRecipeArn"] == ARN
    refs = out["latestVersionReferences"]
    base = ARN.rsplit("/", 1)[0]
    assert refs == {"latestVersionArn": f"{base}/x.x.x", "latestMajorVersionArn": f"{base}/1.x.x",
                    "latestMinorVersionArn": f"{base}/1.0.x", "latestPatchVersionArn": f"{base}/1.0.0"}


def test_get_image_recipe_returns_fields_as_submitted(ib):
    hello = component(ib)
    components = [{"componentArn": hello, "parameters": [{"name": "Target", "value": ["world"]}]},
                  {"componentArn": UPDATE_LINUX}]
    ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage=AL2023, components=components,
                           description="d", workingDirectory="/opt/build", tags={"k": "v"},
                           blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 20, "volumeType": "gp3"}}])
    r = ib.get_image_recipe(imageRecipeArn=ARN)["imageRecipe"]
    assert r["arn"] == ARN and r["name"] == "demo" and r["version"] == "1.0.0"
    assert "type" not in r  # the model: "This field isn't currently returned in responses."
    assert r["parentImage"] == AL2023                       # wildcard kept
    assert r["components"] == components                    # exactly as written
    assert r["platform"] == "Linux" and r["owner"] == ACCOUNT and r["description"] == "d"
    assert r["workingDirectory"] == "/opt/build" and r["tags"] == {"k": "v"}
    assert r["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 20, "volumeType": "gp3"}}]


def test_get_image_recipe_working_directory_only_when_given(ib):
    # The Terraform provider's acceptance configurations set none and expect none back
    # (tests/clients/test_terraform_acceptance.py); the build would use /tmp.
    recipe(ib)
    assert "workingDirectory" not in ib.get_image_recipe(imageRecipeArn=ARN)["imageRecipe"]


def test_get_image_recipe_wildcard_picks_newest(ib):
    recipe(ib, version="1.0.0")
    recipe(ib, version="1.2.0")
    recipe(ib, version="2.0.0")
    base = ARN.rsplit("/", 1)[0]
    assert ib.get_image_recipe(imageRecipeArn=f"{base}/x.x.x")["imageRecipe"]["version"] == "2.0.0"
    assert ib.get_image_recipe(imageRecipeArn=f"{base}/1.x.x")["imageRecipe"]["version"] == "1.2.0"


def test_create_image_recipe_auto_version(ib):
    first = ib.create_image_recipe(name="auto", semanticVersion="1.0.x", parentImage=AL2023, components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
    second = ib.create_image_recipe(name="auto", semanticVersion="1.0.x", parentImage=AL2023, components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
    third = ib.create_image_recipe(name="auto", semanticVersion="1.x.x", parentImage=AL2023, components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
    assert [a.rsplit("/", 1)[1] for a in (first, second, third)] == ["1.0.0", "1.0.1", "1.1.0"]


def test_create_image_recipe_duplicate_is_refused(ib):
    recipe(ib)
    with pytest.raises(ClientError) as e:
        recipe(ib)
    assert error(e) == ("ResourceAlreadyExistsException", f"The following resource 'ImageRecipe' already exists: '{ARN}'.", 400)


def test_create_image_recipe_unknown_component_parameter(ib):
    hello = component(ib)
    with pytest.raises(ClientError) as e:
        recipe(ib, components=[{"componentArn": hello, "parameters": [
            {"name": "Target", "value": ["x"]}, {"name": "S3BucketName", "value": ["b"]}]}])
    assert error(e) == ("InvalidParameterCombinationException",
                        "The value supplied for parameter 'components[0].parameters' is not valid. "
                        "The following parameters are not defined in the provided component: S3BucketName", 400)


def test_create_image_recipe_missing_required_component_parameter(ib):
    hello = component(ib)
    with pytest.raises(ClientError) as e:
        recipe(ib, components=[{"componentArn": hello}])
    assert error(e) == ("InvalidParameterCombinationException",
                        "The value supplied for parameter 'components[0].parameters' is not valid. "
                        "The following parameters have no default value and must be provided: Target", 400)


def test_create_image_recipe_component_twice(ib):
    with pytest.raises(ClientError) as e:
        recipe(ib, components=[{"componentArn": UPDATE_LINUX},
                               {"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.0.0"}])
    assert error(e) == ("InvalidParameterValueException",
                        "The value supplied for parameter 'components' is not valid. The component 'update-linux' appears "
                        "in components[0] and components[1]; a recipe can use each component once.", 400)


def test_create_image_recipe_missing_component(ib):
    missing = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:component/nope/1.0.0"
    with pytest.raises(ClientError) as e:
        recipe(ib, components=[{"componentArn": missing}])
    assert error(e) == ("ResourceNotFoundException", f"The following resource 'Component' cannot be found: '{missing}'.", 404)


def test_create_image_recipe_windows_component_on_linux(ib):
    win = "arn:aws:imagebuilder:us-east-1:aws:component/update-windows/x.x.x"
    with pytest.raises(ClientError) as e:
        recipe(ib, components=[{"componentArn": win}])
    code, message, status = error(e)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("The value supplied for parameter 'components[0].componentArn' is not valid. The component ")
    assert message.endswith("is for Windows, but the recipe's parent image is Linux.")


@pytest.mark.parametrize("parent", ["ami-0123456789abcdef0", "ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                                    "arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-server-22-lts-x86/2025.x.x"])
def test_create_image_recipe_parent_forms(ib, parent):
    recipe(ib, parent=parent)
    assert ib.get_image_recipe(imageRecipeArn=ARN)["imageRecipe"]["parentImage"] == parent


def test_create_image_recipe_parent_windows_sets_platform(ib):
    recipe(ib, parent="arn:aws:imagebuilder:us-east-1:aws:image/windows-server-2022-english-full-base-x86/x.x.x",
           components=[{"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-windows/x.x.x"}])
    assert ib.get_image_recipe(imageRecipeArn=ARN)["imageRecipe"]["platform"] == "Windows"


def test_create_image_recipe_unknown_parent_image(ib):
    parent = "arn:aws:imagebuilder:us-east-1:aws:image/no-such-image/x.x.x"
    with pytest.raises(ClientError) as e:
        recipe(ib, parent=parent)
    assert error(e) == ("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{parent}'.", 404)


def test_create_image_recipe_bad_parent_image(ib):
    with pytest.raises(ClientError) as e:
        recipe(ib, parent="not an image")
    assert error(e) == ("InvalidParameterValueException",
                        "The value supplied for parameter 'parentImage' is not valid. 'not an image' is not a valid image ARN, "
                        "AMI ID, SSM parameter or AWS Marketplace product ID.", 400)


def test_create_image_recipe_dry_run(ib):
    with pytest.raises(ClientError) as e:
        ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage=AL2023, components=[{"componentArn": UPDATE_LINUX}], dryRun=True)
    assert error(e)[0::2] == ("DryRunOperationException", 412)
    assert ib.list_image_recipes()["imageRecipeSummaryList"] == []


def test_list_image_recipes_summaries_and_filters(ib):
    recipe(ib, name="alpha")
    recipe(ib, name="beta", parent="ami-0123456789abcdef0")
    summaries = ib.list_image_recipes()["imageRecipeSummaryList"]
    assert [s["name"] for s in summaries] == ["alpha", "beta"]
    assert set(summaries[0]) == {"arn", "name", "platform", "owner", "parentImage", "dateCreated", "tags"}
    only = ib.list_image_recipes(filters=[{"name": "parentImage", "values": ["ami-0123456789abcdef0"]}])
    assert [s["name"] for s in only["imageRecipeSummaryList"]] == ["beta"]
    assert ib.list_image_recipes(owner="Amazon")["imageRecipeSummaryList"] == []


def test_delete_image_recipe_then_get_is_not_found(ib):
    recipe(ib)
    assert ib.delete_image_recipe(imageRecipeArn=ARN)["imageRecipeArn"] == ARN
    with pytest.raises(ClientError) as e:
        ib.get_image_recipe(imageRecipeArn=ARN)
    assert error(e) == ("ResourceNotFoundException", f"The following resource 'ImageRecipe' cannot be found: '{ARN}'.", 404)


def test_delete_component_used_by_recipe_is_refused(ib):
    hello = component(ib)
    recipe(ib, components=[{"componentArn": hello, "parameters": [{"name": "Target", "value": ["x"]}]}])
    with pytest.raises(ClientError) as e:
        ib.delete_component(componentBuildVersionArn=hello)
    assert error(e) == ("ResourceDependencyException",
                        f"Resource dependency error: The resource ARN '{hello}' has other resources depended on it.", 400)
    ib.delete_image_recipe(imageRecipeArn=ARN)
    ib.delete_component(componentBuildVersionArn=hello)


def test_image_recipe_tags(ib):
    recipe(ib)
    ib.tag_resource(resourceArn=ARN, tags={"team": "a"})
    assert ib.list_tags_for_resource(resourceArn=ARN)["tags"] == {"team": "a"}
    assert ib.get_image_recipe(imageRecipeArn=ARN)["imageRecipe"]["tags"] == {"team": "a"}


def test_create_image_recipe_auto_version_with_a_fixed_node_after_the_x(ib):
    # The Terraform provider's auto-versioning tests write "1.x.0": the next minor, patch 0.
    first = ib.create_image_recipe(name="auto", semanticVersion="1.x.0", parentImage=AL2023,
                                   components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
    second = ib.create_image_recipe(name="auto", semanticVersion="1.x.0", parentImage=AL2023,
                                    components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
    assert (first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]) == ("1.0.0", "1.1.0")
