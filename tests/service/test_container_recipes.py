import pytest
from botocore.exceptions import ClientError

from tests.service.builders import ACCOUNT, AL2023, UPDATE_LINUX, component, error

ARN = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:container-recipe/demo/1.0.0"
BASE = ARN.rsplit("/", 1)[0]
TEMPLATE = "FROM {{{ imagebuilder:parentImage }}}\n{{{ imagebuilder:environments }}}\n{{{ imagebuilder:components }}}\n"
AL2_CONTAINER = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-x86-2/x.x.x"
REPO = {"service": "ECR", "repositoryName": "my-repo"}


def create(ib, name="demo", version="1.0.0", parent="amazonlinux:latest", components=None, **kwargs):
    if components is None:
        components = [{"componentArn": UPDATE_LINUX}]
    if components:
        kwargs["components"] = components
    kwargs.setdefault("dockerfileTemplateData", TEMPLATE)
    kwargs.setdefault("targetRepository", REPO)
    return ib.create_container_recipe(containerType="DOCKER", name=name, semanticVersion=version,
                                      parentImage=parent, **kwargs)["containerRecipeArn"]


def refused(ib, **kwargs):
    with pytest.raises(ClientError) as e:
        create(ib, **kwargs)
    return error(e)


def test_create_container_recipe_returns_arn_and_references(ib):
    out = ib.create_container_recipe(containerType="DOCKER", name="demo", semanticVersion="1.0.0",
                                     parentImage="amazonlinux:latest", dockerfileTemplateData=TEMPLATE,
                                     targetRepository=REPO, components=[{"componentArn": UPDATE_LINUX}])
    assert out["containerRecipeArn"] == ARN
    assert out["latestVersionReferences"] == {
        "latestVersionArn": f"{BASE}/x.x.x", "latestMajorVersionArn": f"{BASE}/1.x.x",
        "latestMinorVersionArn": f"{BASE}/1.0.x", "latestPatchVersionArn": f"{BASE}/1.0.0"}


def test_get_container_recipe_returns_every_field(ib):
    hello = component(ib)
    components = [{"componentArn": hello, "parameters": [{"name": "Target", "value": ["world"]}]}]
    instance = {"image": "ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 40, "volumeType": "gp3"}}]}
    create(ib, components=components, description="d", instanceConfiguration=instance, workingDirectory="/app",
           kmsKeyId="arn:aws:kms:us-east-1:123456789012:alias/mine", tags={"k": "v"},
           platformOverride="Linux", imageOsVersionOverride="Amazon Linux 2023")
    r = ib.get_container_recipe(containerRecipeArn=ARN)["containerRecipe"]
    assert r == {"arn": ARN, "containerType": "DOCKER", "name": "demo", "description": "d", "platform": "Linux",
                 "owner": ACCOUNT, "version": "1.0.0", "components": components, "instanceConfiguration": instance,
                 "dockerfileTemplateData": TEMPLATE, "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:alias/mine",
                 "encrypted": True, "parentImage": "amazonlinux:latest", "dateCreated": r["dateCreated"],
                 "tags": {"k": "v"}, "workingDirectory": "/app", "targetRepository": REPO}


def test_get_container_recipe_optional_fields_only_when_given(ib):
    create(ib, components=[])
    r = ib.get_container_recipe(containerRecipeArn=ARN)["containerRecipe"]
    assert not {"components", "instanceConfiguration", "kmsKeyId", "workingDirectory", "description"} & set(r)
    assert r["encrypted"] is True and r["platform"] == "Linux"


def test_get_container_recipe_wildcard_picks_newest(ib):
    for v in ("1.0.0", "1.2.0", "2.0.0"):
        create(ib, version=v)
    assert ib.get_container_recipe(containerRecipeArn=f"{BASE}/x.x.x")["containerRecipe"]["version"] == "2.0.0"
    assert ib.get_container_recipe(containerRecipeArn=f"{BASE}/1.x.x")["containerRecipe"]["version"] == "1.2.0"


def test_create_container_recipe_auto_version(ib):
    arns = [create(ib, version=v) for v in ("1.0.x", "1.0.x", "1.x.x")]
    assert [a.rsplit("/", 1)[1] for a in arns] == ["1.0.0", "1.0.1", "1.1.0"]


def test_create_container_recipe_duplicate_is_refused(ib):
    create(ib)
    assert refused(ib) == ("ResourceAlreadyExistsException", f"The following resource 'ContainerRecipe' already exists: '{ARN}'.", 400)


def test_create_container_recipe_managed_container_parent(ib):
    create(ib, parent=AL2_CONTAINER)
    r = ib.get_container_recipe(containerRecipeArn=ARN)["containerRecipe"]
    assert r["parentImage"] == AL2_CONTAINER and r["platform"] == "Linux"


def test_create_container_recipe_windows_container_parent_sets_platform(ib):
    parent = "arn:aws:imagebuilder:us-east-1:aws:image/windows-server-2019-x86-core-ltsc2019-amd64/x.x.x"
    create(ib, parent=parent, components=[{"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-windows/x.x.x"}])
    assert ib.get_container_recipe(containerRecipeArn=ARN)["containerRecipe"]["platform"] == "Windows"


def test_create_container_recipe_ami_parent_is_refused(ib):
    assert refused(ib, parent=AL2023) == (
        "InvalidParameterValueException",
        f"The value supplied for parameter 'parentImage' is not valid. '{AL2023}' is an AMI image; "
        "a container recipe needs a container (DOCKER) image.", 400)


def test_create_container_recipe_unknown_parent_image(ib):
    parent = "arn:aws:imagebuilder:us-east-1:aws:image/no-such-image/x.x.x"
    assert refused(ib, parent=parent) == ("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{parent}'.", 404)


def test_create_container_recipe_bad_registry_uri(ib):
    assert refused(ib, parent="Not An Image") == (
        "InvalidParameterValueException",
        "The value supplied for parameter 'parentImage' is not valid. 'Not An Image' is not a valid image ARN or container image URI.", 400)


@pytest.mark.parametrize("parent", ["ubuntu", "public.ecr.aws/amazonlinux/amazonlinux:2023",
                                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-a/app:1.2"])
def test_create_container_recipe_registry_parents(ib, parent):
    create(ib, parent=parent)
    assert ib.get_container_recipe(containerRecipeArn=ARN)["containerRecipe"]["parentImage"] == parent


def test_create_container_recipe_platform_override_with_image_parent(ib):
    assert refused(ib, parent=AL2_CONTAINER, platformOverride="Linux") == (
        "InvalidParameterValueException",
        "You cannot specify a platform override when using an Image Builder Image as your parent", 400)


def test_create_container_recipe_macos_refused(ib):
    assert refused(ib, platformOverride="macOS") == (
        "InvalidParameterValueException", "Container recipes don't currently support the macOS platform", 400)


def test_create_container_recipe_windows_needs_os_version(ib):
    assert refused(ib, parent="mcr.microsoft.com/windows/servercore:ltsc2022", platformOverride="Windows", components=[]) == (
        "InvalidParameterValueException",
        "You must specify an image OsVersion override when using ECR Repositories as your parent image for Windows Platform", 400)
    create(ib, parent="mcr.microsoft.com/windows/servercore:ltsc2022", platformOverride="Windows",
           imageOsVersionOverride="Microsoft Windows Server 2022", components=[])
    assert ib.get_container_recipe(containerRecipeArn=ARN)["containerRecipe"]["platform"] == "Windows"


def test_create_container_recipe_template_both_or_neither(ib):
    msg = ("InvalidParameterCombinationException", "You must specify either dockerfileTemplateData or a dockerfileTemplateUri", 400)
    with pytest.raises(ClientError) as e:
        ib.create_container_recipe(containerType="DOCKER", name="demo", semanticVersion="1.0.0",
                                   parentImage="amazonlinux:latest", targetRepository=REPO)
    assert error(e) == msg
    assert refused(ib, dockerfileTemplateUri="s3://bucket/Dockerfile") == msg


def test_create_container_recipe_template_uri_is_refused_offline(ib):
    with pytest.raises(ClientError) as e:
        ib.create_container_recipe(containerType="DOCKER", name="demo", semanticVersion="1.0.0", parentImage="amazonlinux:latest",
                                   dockerfileTemplateUri="s3://my-bucket/templates/Dockerfile", targetRepository=REPO)
    assert error(e) == ("InvalidParameterValueException",
                        "The value supplied for parameter 'dockerfileTemplateUri' is not valid. kiln cannot read "
                        "'s3://my-bucket/templates/Dockerfile': no S3 is configured. Start kiln with "
                        "--s3-endpoint-url URL (KILN_S3_ENDPOINT_URL; a moto_server or MinIO), or use it in-process "
                        "under moto's mock_aws; or pass the template inline in 'dockerfileTemplateData'.", 400)
    with pytest.raises(ClientError) as e:
        ib.create_container_recipe(containerType="DOCKER", name="demo", semanticVersion="1.0.0", parentImage="amazonlinux:latest",
                                   dockerfileTemplateUri="https://example.com/Dockerfile", targetRepository=REPO)
    assert error(e) == ("InvalidParameterValueException", "Invalid S3 URI", 400)


def test_create_container_recipe_template_needs_parent_image_variable(ib):
    assert refused(ib, dockerfileTemplateData="FROM amazonlinux\n{{{ imagebuilder:environments }}}\n") == (
        "InvalidParameterValueException",
        "The value supplied for parameter 'dockerfileTemplateData' is not valid. "
        "The Dockerfile template must contain the '{{{ imagebuilder:parentImage }}}' variable.", 400)


def test_create_container_recipe_template_needs_environments_with_components(ib):
    template = "FROM {{{imagebuilder:parentImage}}}\nRUN echo hi\n"
    assert refused(ib, dockerfileTemplateData=template) == (
        "InvalidParameterValueException",
        "The value supplied for parameter 'dockerfileTemplateData' is not valid. The Dockerfile template must contain "
        "the '{{{ imagebuilder:environments }}}' variable when the recipe has components.", 400)
    create(ib, dockerfileTemplateData=template, components=[])  # no components: parentImage alone will do


def test_create_container_recipe_missing_component_parameter(ib):
    hello = component(ib)
    assert refused(ib, components=[{"componentArn": hello}]) == (
        "InvalidParameterCombinationException",
        "The value supplied for parameter 'components[0].parameters' is not valid. "
        "The following parameters have no default value and must be provided: Target", 400)


def test_create_container_recipe_instance_image(ib):
    assert refused(ib, instanceConfiguration={"image": "my-image"}) == (
        "InvalidParameterValueException",
        "The value supplied for parameter 'instanceConfiguration.image' is not valid. 'my-image' is not a valid AMI ID or SSM parameter.", 400)


def test_create_container_recipe_repository_name_only(ib):
    name = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-repo"
    assert refused(ib, targetRepository={"service": "ECR", "repositoryName": name}) == (
        "InvalidParameterValueException",
        f"The value supplied for parameter 'targetRepository.repositoryName' is not valid. '{name}' is not an Amazon ECR "
        "repository name (the name only, without the registry host).", 400)
    create(ib, targetRepository={"service": "ECR", "repositoryName": "team-a/my-repo"})


def test_create_container_recipe_dry_run(ib):
    with pytest.raises(ClientError) as e:
        create(ib, dryRun=True)
    assert error(e)[0::2] == ("DryRunOperationException", 412)
    assert ib.list_container_recipes()["containerRecipeSummaryList"] == []


def test_list_container_recipes_summaries_filters_and_owners(ib):
    create(ib, name="alpha", instanceConfiguration={"image": "ami-0123456789abcdef0"})
    create(ib, name="beta", parent=AL2_CONTAINER)
    summaries = ib.list_container_recipes()["containerRecipeSummaryList"]
    assert [s["name"] for s in summaries] == ["alpha", "beta"]
    assert set(summaries[0]) == {"arn", "containerType", "name", "platform", "owner", "parentImage", "dateCreated",
                                 "instanceImage", "tags"}
    assert summaries[0]["instanceImage"] == "ami-0123456789abcdef0" and "instanceImage" not in summaries[1]
    only = ib.list_container_recipes(filters=[{"name": "parentImage", "values": [AL2_CONTAINER]}])
    assert [s["name"] for s in only["containerRecipeSummaryList"]] == ["beta"]
    docker = ib.list_container_recipes(filters=[{"name": "containerType", "values": ["DOCKER"]}])
    assert len(docker["containerRecipeSummaryList"]) == 2
    assert ib.list_container_recipes(owner="Self")["containerRecipeSummaryList"] == summaries
    assert ib.list_container_recipes(owner="Amazon")["containerRecipeSummaryList"] == []
    assert ib.list_container_recipes(owner="Shared")["containerRecipeSummaryList"] == []


def test_list_container_recipes_unsupported_owner(ib):
    with pytest.raises(ClientError) as e:
        ib.list_container_recipes(owner="ThirdParty")
    assert error(e) == ("InvalidParameterValueException",
                        "The value supplied for parameter 'owner' is not valid. 'ThirdParty' is not a supported owner for "
                        "container recipes. Supported: Self, Shared, Amazon.", 400)


def test_delete_container_recipe_then_get_is_not_found(ib):
    create(ib)
    assert ib.delete_container_recipe(containerRecipeArn=ARN)["containerRecipeArn"] == ARN
    with pytest.raises(ClientError) as e:
        ib.get_container_recipe(containerRecipeArn=ARN)
    assert error(e) == ("ResourceNotFoundException", f"The following resource 'ContainerRecipe' cannot be found: '{ARN}'.", 404)


def test_delete_component_used_by_container_recipe_is_refused(ib):
    hello = component(ib)
    create(ib, components=[{"componentArn": hello, "parameters": [{"name": "Target", "value": ["x"]}]}])
    with pytest.raises(ClientError) as e:
        ib.delete_component(componentBuildVersionArn=hello)
    assert error(e) == ("ResourceDependencyException",
                        f"Resource dependency error: The resource ARN '{hello}' has other resources depended on it.", 400)
    ib.delete_container_recipe(containerRecipeArn=ARN)
    ib.delete_component(componentBuildVersionArn=hello)


def test_container_recipe_tags(ib):
    create(ib)
    ib.tag_resource(resourceArn=ARN, tags={"team": "a"})
    assert ib.list_tags_for_resource(resourceArn=ARN)["tags"] == {"team": "a"}
    assert ib.get_container_recipe(containerRecipeArn=ARN)["containerRecipe"]["tags"] == {"team": "a"}
