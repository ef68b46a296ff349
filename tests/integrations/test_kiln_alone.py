"""kiln alone: with no endpoint configured and no moto mock active, the integrations do
nothing; `uri` documents are refused with a message that says how to configure S3."""
from __future__ import annotations

import importlib.util

import boto3
import pytest

import kiln
from kiln.core import Kiln
from kiln.integrations import ENDPOINT_VARIABLES, WEBHOOKS_VARIABLE
from kiln.service.images import ami_id
from kiln.store import Store
from tests.support.errors import raises

ACCOUNT, REGION = "123456789012", "us-east-1"
AL2023 = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
HOW = ("no S3 is configured. Start kiln with --s3-endpoint-url URL (KILN_S3_ENDPOINT_URL; a moto_server or MinIO), "
       "or use it in-process under moto's mock_aws; or pass the {what} inline in '{inline}'.")


@pytest.fixture(autouse=True)
def no_integration_settings(monkeypatch):
    for var in (*ENDPOINT_VARIABLES.values(), WEBHOOKS_VARIABLE):
        monkeypatch.delenv(var, raising=False)


def test_create_component_uri_refusal_says_how_to_configure_s3(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'uri' is not valid. kiln cannot read 's3://bucket/c.yaml': "
                + HOW.format(what="document", inline="data")):
        ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux", uri="s3://bucket/c.yaml")


def test_create_workflow_and_import_component_uri_refusals(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'uri' is not valid. kiln cannot read 's3://bucket/w.yaml': "
                + HOW.format(what="document", inline="data")):
        ib.create_workflow(name="workflow", semanticVersion="1.0.0", type="BUILD", uri="s3://bucket/w.yaml")
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'uri' is not valid. kiln cannot read 's3://bucket/script.sh': "
                + HOW.format(what="document", inline="data")):
        ib.import_component(name="my-app", semanticVersion="1.0.0", type="BUILD", format="SHELL", platform="Linux",
                            uri="s3://bucket/script.sh")


def test_dockerfile_template_uri_refusal(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'dockerfileTemplateUri' is not valid. kiln cannot read "
                "'s3://my-bucket/Dockerfile': " + HOW.format(what="template", inline="dockerfileTemplateData")):
        ib.create_container_recipe(containerType="DOCKER", name="demo", semanticVersion="1.0.0",
                                   parentImage="amazonlinux:latest", dockerfileTemplateUri="s3://my-bucket/Dockerfile",
                                   targetRepository={"service": "ECR", "repositoryName": "demo"})


def test_a_kiln_without_settings_attaches_nothing():
    store = Store("sqlite://")
    try:
        core = Kiln(store, 0.0)
        assert "run" not in vars(store)  # the store's own run(): no transaction is wrapped
        assert core.integrations.deliverer is None
    finally:
        store.close()


def test_in_process_without_moto_active_builds_as_before():
    if importlib.util.find_spec("moto") is not None:
        import moto  # noqa: F401  (imported but not active: still kiln alone)
    with kiln.mock_imagebuilder() as core:
        ib = boto3.client("imagebuilder", region_name=REGION)
        for parent in ("ami-0123456789abcdef0", "ssm:/golden/base", AL2023):  # accepted unchecked, as before
            name = f"r{len(parent)}"
            ib.create_image_recipe(name=name, semanticVersion="1.0.0", parentImage=parent)
        recipe = ib.list_image_recipes()["imageRecipeSummaryList"][-1]["arn"]
        infra = ib.create_infrastructure_configuration(name="demo", instanceProfileName="p",
                                                       snsTopicArn="arn:aws:sns:us-east-1:123456789012:t")
        arn = ib.create_image(imageRecipeArn=recipe,
                              infrastructureConfigurationArn=infra["infrastructureConfigurationArn"])["imageBuildVersionArn"]
        image = ib.get_image(imageBuildVersionArn=arn)["image"]
        name = image["name"]
        assert image["outputResources"]["amis"][0]["image"] == ami_id(ACCOUNT, REGION, name, "1", REGION, ACCOUNT)
        outbox = core.store.run(lambda tx: tx.everywhere("outbox"), "", "", write=False)
        assert outbox == []  # nothing was owed to anyone
