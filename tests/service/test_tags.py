"""TagResource, UntagResource and ListTagsForResource on each resource type kiln stores."""
from __future__ import annotations

import pytest

from tests.support.documents import ARN_PREFIX, BUILD_COMPONENT_YAML, BUILD_WORKFLOW_YAML, ami_distribution
from tests.support.errors import raises

TAG_KEY_PATTERN = r"^(?!aws:)[a-zA-Z0-9\s_.:/=+\-@]*$"


def _infrastructure(ib, tags):
    arn = ib.create_infrastructure_configuration(name="tagged", instanceProfileName="p", tags=tags)["infrastructureConfigurationArn"]
    return arn, lambda: ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)["infrastructureConfiguration"]


def _distribution(ib, tags):
    arn = ib.create_distribution_configuration(name="tagged", distributions=[ami_distribution()], tags=tags)["distributionConfigurationArn"]
    return arn, lambda: ib.get_distribution_configuration(distributionConfigurationArn=arn)["distributionConfiguration"]


def _component(ib, tags):
    arn = ib.create_component(name="tagged", semanticVersion="1.0.0", platform="Linux", data=BUILD_COMPONENT_YAML,
                              tags=tags)["componentBuildVersionArn"]
    return arn, lambda: ib.get_component(componentBuildVersionArn=arn)["component"]


def _workflow(ib, tags):
    arn = ib.create_workflow(name="tagged", semanticVersion="1.0.0", type="BUILD", data=BUILD_WORKFLOW_YAML,
                             tags=tags)["workflowBuildVersionArn"]
    return arn, lambda: ib.get_workflow(workflowBuildVersionArn=arn)["workflow"]


RESOURCES = {"infrastructure-configuration": _infrastructure, "distribution-configuration": _distribution,
             "component": _component, "workflow": _workflow}


@pytest.fixture(params=sorted(RESOURCES))
def resource(request, ib):
    """(arn, get) of a resource created with the tag {"created": "yes"}; get() reads the resource."""
    return RESOURCES[request.param](ib, {"created": "yes"})


def test_list_tags_for_resource_shows_the_tags_given_at_create(ib, resource):
    arn, get = resource
    r = ib.list_tags_for_resource(resourceArn=arn)
    assert r["tags"] == {"created": "yes"}
    assert "requestId" not in r


def test_tag_resource_adds_and_overwrites(ib, resource):
    arn, get = resource
    r = ib.tag_resource(resourceArn=arn, tags={"team": "platform", "created": "again"})
    assert set(r) == {"ResponseMetadata"}
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"created": "again", "team": "platform"}
    assert get()["tags"] == {"created": "again", "team": "platform"}


def test_untag_resource_removes_keys(ib, resource):
    arn, get = resource
    ib.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    r = ib.untag_resource(resourceArn=arn, tagKeys=["a", "created", "never-there"])
    assert set(r) == {"ResponseMetadata"}
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    assert get()["tags"] == {"b": "2"}


def test_untag_resource_every_key_leaves_an_empty_map(ib, resource):
    arn, get = resource
    ib.untag_resource(resourceArn=arn, tagKeys=["created"])
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    assert get()["tags"] == {}


def test_tag_resource_aws_prefix_rejected(ib, resource):
    arn, _ = resource
    with raises("InvalidParameterException",
                f"The value supplied for parameter 'tags['aws:team']' is not valid. 'tags['aws:team']' must match "
                f"pattern {TAG_KEY_PATTERN}"):
        ib.tag_resource(resourceArn=arn, tags={"aws:team": "x"})
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"created": "yes"}


def test_tag_resource_more_than_fifty_in_one_request(ib, resource):
    arn, _ = resource
    with raises("InvalidParameterException",
                "The value supplied for parameter 'tags' is not valid. 'tags' must have a number of entries less than "
                "or equal to 50."):
        ib.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(51)})


def test_tag_resource_more_than_fifty_in_total(ib, resource):
    arn, _ = resource
    ib.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(49)})  # 50 with "created"
    with raises("InvalidParameterException",
                "The value supplied for parameter 'tags' is not valid. A resource can have at most 50 tags; this "
                "request would leave it with 51."):
        ib.tag_resource(resourceArn=arn, tags={"one-more": "v"})
    assert len(ib.list_tags_for_resource(resourceArn=arn)["tags"]) == 50


def test_tag_resource_value_too_long(ib, resource):
    arn, _ = resource
    with raises("InvalidParameterException",
                "The value supplied for parameter 'tags.team' is not valid. 'tags.team' must have a length less than "
                "or equal to 256."):
        ib.tag_resource(resourceArn=arn, tags={"team": "x" * 257})


@pytest.mark.parametrize("call", ["tag", "untag", "list"])
def test_tag_resource_missing_resource(ib, call):
    arn = f"{ARN_PREFIX}:infrastructure-configuration/missing"
    with raises("ResourceNotFoundException", f"The resource '{arn}' cannot be found."):
        if call == "tag":
            ib.tag_resource(resourceArn=arn, tags={"a": "b"})
        elif call == "untag":
            ib.untag_resource(resourceArn=arn, tagKeys=["a"])
        else:
            ib.list_tags_for_resource(resourceArn=arn)


def test_tag_resource_another_accounts_resource_is_not_found(backend):
    arn, _ = _infrastructure(backend.client(access_key="111122223333"), {"a": "b"})
    theirs = backend.client(access_key="210987654321")
    with raises("ResourceNotFoundException", f"The resource '{arn}' cannot be found."):
        theirs.tag_resource(resourceArn=arn, tags={"a": "b"})


def test_tag_resource_managed_component_is_not_found(ib):
    arn = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/1.0.0/1"
    with raises("ResourceNotFoundException", f"The resource '{arn}' cannot be found."):
        ib.tag_resource(resourceArn=arn, tags={"a": "b"})


def test_tag_resource_not_an_image_builder_arn(ib):
    arn = "arn:aws:s3:::bucket"
    with raises("InvalidParameterException",
                "The value supplied for parameter 'resourceArn' is not valid. 'resourceArn' must match pattern "
                r"^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?|third-party):(?:image-recipe|"
                r"container-recipe|infrastructure-configuration|distribution-configuration|component|image|"
                r"image-pipeline|lifecycle-policy|workflow\/(?:build|test|distribution))/[a-z0-9-_]+"
                r"(?:/(?:(?:x|[0-9]+)\.(?:x|[0-9]+)\.(?:x|[0-9]+))(?:/[0-9]+)?)?$"):
        ib.list_tags_for_resource(resourceArn=arn)


def test_untag_resource_too_many_keys(ib, resource):
    arn, _ = resource
    with raises("InvalidParameterException",
                "The value supplied for parameter 'tagKeys' is not valid. 'tagKeys' must have a number of items less "
                "than or equal to 50."):
        ib.untag_resource(resourceArn=arn, tagKeys=[f"k{i}" for i in range(51)])


def test_untag_resource_deleted_resource_is_not_found(ib):
    arn, _ = _infrastructure(ib, {"a": "b"})
    ib.delete_infrastructure_configuration(infrastructureConfigurationArn=arn)
    with raises("ResourceNotFoundException", f"The resource '{arn}' cannot be found."):
        ib.list_tags_for_resource(resourceArn=arn)
