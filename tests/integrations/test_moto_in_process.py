"""kiln and moto in one process: `mock_aws` and `kiln.mock_imagebuilder()` both active.

A component document read from S3, a build whose AMIs EC2 describes and launches, an
SNS topic (with an SQS queue subscribed) receiving the build's state changes, the
EventBridge events on the default bus, parent images looked up in EC2 and SSM, and
lifecycle deletions deregistering AMIs. In-process, kiln delivers right after each commit,
so everything has arrived when the boto3 call that caused it returns.
"""
from __future__ import annotations

import json

import boto3
import pytest

import kiln
from kiln import admin
from tests.integrations.expected import sns_message, state_changes

moto = pytest.importorskip("moto", reason="moto is not installed: pip install -e '.[test]'")
from moto import mock_aws  # noqa: E402

ACCOUNT, OTHER = "123456789012", "111122223333"
REGION = "us-east-1"
DOCUMENT = """name: hello
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands: ["echo hello"]
"""


@pytest.fixture
def aws(monkeypatch):
    """moto's mock_aws and kiln's mock, both active; clients for both. moto's stock AMIs are
    not loaded (they make every EC2 call slow): linux_ami() registers a parent."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws(), kiln.mock_imagebuilder() as core:
        clients = {name: boto3.client(name, region_name=REGION) for name in ("s3", "ec2", "sns", "sqs", "events", "ssm")}
        clients["ib"] = boto3.client("imagebuilder", region_name=REGION)
        clients["kiln"] = core
        yield clients


def queue(aws, name="notifications"):
    url = aws["sqs"].create_queue(QueueName=name)["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def received(aws, url) -> list[dict]:
    found = []
    while True:
        batch = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        found += [json.loads(m["Body"]) for m in batch]


def linux_ami(ec2) -> str:
    return ec2.register_image(Name="base-linux", Architecture="x86_64", RootDeviceName="/dev/xvda")["ImageId"]


def component_from_s3(aws) -> str:
    aws["s3"].create_bucket(Bucket="ib-documents")
    aws["s3"].put_object(Bucket="ib-documents", Key="components/hello.yaml", Body=DOCUMENT.encode())
    return aws["ib"].create_component(name="hello", semanticVersion="1.0.0", platform="Linux",
                                      uri="s3://ib-documents/components/hello.yaml")["componentBuildVersionArn"]


def build(aws, topic=None, distribution=None, fail=None) -> dict:
    ib = aws["ib"]
    component = component_from_s3(aws)
    recipe = ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage=linux_ami(aws["ec2"]),
                                    components=[{"componentArn": component}])["imageRecipeArn"]
    infra = ib.create_infrastructure_configuration(name="demo", instanceProfileName="EC2InstanceProfileForImageBuilder",
                                                   **({"snsTopicArn": topic} if topic else {}))
    if fail:
        admin.plan_failure(aws["kiln"], fail, "Tests failed on the test instance.")
    extra = {"distributionConfigurationArn": distribution} if distribution else {}
    arn = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra["infrastructureConfigurationArn"],
                          **extra)["imageBuildVersionArn"]
    return {"arn": arn, "recipe": recipe, "infra": infra["infrastructureConfigurationArn"], "component": component}


# -- documents in S3 ------------------------------------------------------------------------------

def test_create_component_reads_its_document_from_s3(aws):
    arn = component_from_s3(aws)
    assert aws["ib"].get_component(componentBuildVersionArn=arn)["component"]["data"] == DOCUMENT


def test_create_workflow_and_container_recipe_read_from_s3(aws):
    aws["s3"].create_bucket(Bucket="docs")
    workflow = ("name: wait\nschemaVersion: 1.0\nsteps:\n  - name: Wait\n    action: WaitForAction\n"
                "    onFailure: Abort\n")
    aws["s3"].put_object(Bucket="docs", Key="wait.yaml", Body=workflow.encode())
    aws["s3"].put_object(Bucket="docs", Key="Dockerfile", Body=b"FROM {{{ imagebuilder:parentImage }}}\n")
    wf = aws["ib"].create_workflow(name="wait", semanticVersion="1.0.0", type="BUILD", uri="s3://docs/wait.yaml")
    assert aws["ib"].get_workflow(workflowBuildVersionArn=wf["workflowBuildVersionArn"])["workflow"]["data"] == workflow
    cr = aws["ib"].create_container_recipe(containerType="DOCKER", name="web", semanticVersion="1.0.0",
                                           parentImage="amazonlinux:latest", dockerfileTemplateUri="s3://docs/Dockerfile",
                                           targetRepository={"service": "ECR", "repositoryName": "web"})
    got = aws["ib"].get_container_recipe(containerRecipeArn=cr["containerRecipeArn"])["containerRecipe"]
    assert got["dockerfileTemplateData"] == "FROM {{{ imagebuilder:parentImage }}}\n"


@pytest.mark.parametrize("uri, detail", [
    ("s3://ib-documents/missing.yaml", "The object 'missing.yaml' does not exist in the bucket 'ib-documents'."),
    ("s3://no-such-bucket/hello.yaml", "The bucket 'no-such-bucket' does not exist."),
])
def test_a_document_s3_cannot_give_is_refused(aws, uri, detail):
    aws["s3"].create_bucket(Bucket="ib-documents")
    with pytest.raises(aws["ib"].exceptions.InvalidParameterValueException) as e:
        aws["ib"].create_component(name="hello", semanticVersion="1.0.0", platform="Linux", uri=uri)
    assert e.value.response["Error"]["Message"] == (
        f"The value supplied for parameter 'uri' is not valid. kiln could not read '{uri}' from S3: {detail}")
    assert aws["ib"].list_components()["componentVersionList"] == []


# -- AMIs that exist ------------------------------------------------------------------------------

def test_a_build_registers_its_ami_which_ec2_describes_and_launches(aws):
    arn = build(aws)["arn"]
    image = aws["ib"].get_image(imageBuildVersionArn=arn)["image"]
    assert image["state"]["status"] == "AVAILABLE"
    [ami] = image["outputResources"]["amis"]
    found = aws["ec2"].describe_images(ImageIds=[ami["image"]])["Images"]
    assert [(i["ImageId"], i["Name"], i["OwnerId"], i["State"]) for i in found] == [
        (ami["image"], ami["name"], ACCOUNT, "available")]
    assert {t["Key"]: t["Value"] for t in found[0]["Tags"]} == {"CreatedBy": "EC2 Image Builder",
                                                                "Ec2ImageBuilderArn": arn}
    launched = aws["ec2"].run_instances(ImageId=ami["image"], MinCount=1, MaxCount=1)["Instances"]
    assert launched[0]["ImageId"] == ami["image"]
    # The build's workflow step outputs name the same AMI (kiln adopts EC2's id everywhere).
    runs = aws["ib"].list_workflow_executions(imageBuildVersionArn=arn)["workflowExecutions"]
    steps = aws["ib"].list_workflow_step_executions(workflowExecutionId=runs[0]["workflowExecutionId"])["steps"]
    created = next(s for s in steps if s["action"] == "CreateImage")
    assert json.loads(created["outputs"]) == {"imageId": ami["image"]}


def test_distribution_registers_each_region_and_account_with_tags_and_launch_permissions(aws):
    ib = aws["ib"]
    dist = ib.create_distribution_configuration(name="dist", distributions=[
        {"region": REGION, "amiDistributionConfiguration": {
            "name": "golden {{ imagebuilder:buildDate }}", "description": "Golden image",
            "amiTags": {"team": "platform"}, "targetAccountIds": [OTHER],
            "launchPermission": {"userIds": ["444455556666"]}}},
        {"region": "eu-west-1", "amiDistributionConfiguration": {"name": "golden-eu {{ imagebuilder:buildDate }}"}},
    ])["distributionConfigurationArn"]
    arn = build(aws, distribution=dist)["arn"]
    amis = aws["ib"].get_image(imageBuildVersionArn=arn)["image"]["outputResources"]["amis"]
    assert [(a["region"], a["accountId"]) for a in amis] == [(REGION, ACCOUNT), (REGION, OTHER), ("eu-west-1", ACCOUNT)]
    for ami in amis:
        ec2 = boto3.client("ec2", region_name=ami["region"])
        ec2.meta.events.register("before-sign", lambda request, account=ami["accountId"], **_:
                                 request.headers.__setitem__("x-moto-account-id", account))
        [found] = ec2.describe_images(ImageIds=[ami["image"]])["Images"]
        assert (found["Name"], found["OwnerId"]) == (ami["name"], ami["accountId"])
        tags = {t["Key"]: t["Value"] for t in found["Tags"]}
        assert tags["CreatedBy"] == "EC2 Image Builder" and tags["Ec2ImageBuilderArn"] == arn
        if ami["region"] == REGION:
            assert found["Description"] == "Golden image" and tags["team"] == "platform"
    owner = amis[0]["image"]
    permissions = aws["ec2"].describe_image_attribute(ImageId=owner, Attribute="launchPermission")["LaunchPermissions"]
    assert permissions == [{"UserId": "444455556666"}]


def test_an_image_of_another_account_lands_in_that_account(aws):
    theirs = boto3.client("ec2", region_name=REGION)  # moto picks the account from this header
    theirs.meta.events.register("before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", OTHER))
    ib = boto3.client("imagebuilder", region_name=REGION, aws_access_key_id=OTHER, aws_secret_access_key="x")
    recipe = ib.create_image_recipe(name="other", semanticVersion="1.0.0", parentImage=linux_ami(theirs))
    infra = ib.create_infrastructure_configuration(name="other", instanceProfileName="p")
    arn = ib.create_image(imageRecipeArn=recipe["imageRecipeArn"],
                          infrastructureConfigurationArn=infra["infrastructureConfigurationArn"])["imageBuildVersionArn"]
    [ami] = ib.get_image(imageBuildVersionArn=arn)["image"]["outputResources"]["amis"]
    assert ami["image"] not in [i["ImageId"] for i in aws["ec2"].describe_images(Owners=["self"])["Images"]]
    assert theirs.describe_images(ImageIds=[ami["image"]])["Images"][0]["OwnerId"] == OTHER


def test_parent_images_are_looked_up_in_ec2_and_ssm(aws):
    ib, ami = aws["ib"], linux_ami(aws["ec2"])
    aws["ssm"].put_parameter(Name="/golden/base", Value=ami, Type="String")
    assert ib.create_image_recipe(name="from-ami", semanticVersion="1.0.0", parentImage=ami)["imageRecipeArn"]
    r = ib.create_image_recipe(name="from-ssm", semanticVersion="1.0.0", parentImage="ssm:/golden/base")["imageRecipeArn"]
    assert ib.get_image_recipe(imageRecipeArn=r)["imageRecipe"]["parentImage"] == "ssm:/golden/base"
    for parent, message in [
        ("ami-0123456789abcdef0", "The AMI 'ami-0123456789abcdef0' does not exist in us-east-1 or account "
                                  "123456789012 cannot use it."),
        ("ssm:/golden/missing", "The SSM parameter '/golden/missing' does not exist in us-east-1 for account "
                                "123456789012."),
    ]:
        with pytest.raises(ib.exceptions.InvalidParameterValueException) as e:
            ib.create_image_recipe(name="missing", semanticVersion="1.0.0", parentImage=parent)
        assert e.value.response["Error"]["Message"] == (
            f"The value supplied for parameter 'parentImage' is not valid. {message}")


def test_a_windows_parent_ami_makes_a_windows_recipe():
    with mock_aws(), kiln.mock_imagebuilder():  # moto's stock AMIs: one of them is Windows
        ec2 = boto3.client("ec2", region_name=REGION)
        windows = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "platform", "Values": ["windows"]}])
        ib = boto3.client("imagebuilder", region_name=REGION)
        arn = ib.create_image_recipe(name="windows", semanticVersion="1.0.0",
                                     parentImage=windows["Images"][0]["ImageId"])["imageRecipeArn"]
        assert ib.get_image_recipe(imageRecipeArn=arn)["imageRecipe"]["platform"] == "Windows"


def test_a_lifecycle_delete_deregisters_the_amis_and_their_snapshots(aws):
    arn = build(aws)["arn"]
    [ami] = aws["ib"].get_image(imageBuildVersionArn=arn)["image"]["outputResources"]["amis"]
    [found] = aws["ec2"].describe_images(ImageIds=[ami["image"]])["Images"]
    snapshot = found["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    started = aws["ib"].start_resource_state_update(
        resourceArn=arn, state={"status": "DELETED"}, executionRole="arn:aws:iam::123456789012:role/lifecycle",
        includeResources={"amis": True, "snapshots": True}, clientToken="t1")
    execution = aws["ib"].get_lifecycle_execution(lifecycleExecutionId=started["lifecycleExecutionId"])
    assert execution["lifecycleExecution"]["state"]["status"] == "SUCCESS"  # applied as kiln answered this call
    assert aws["ec2"].describe_images(ImageIds=[ami["image"]])["Images"] == []
    assert snapshot not in [s["SnapshotId"] for s in aws["ec2"].describe_snapshots(OwnerIds=["self"])["Snapshots"]]


# -- notifications ---------------------------------------------------------------------------------

def test_the_sns_topic_receives_the_message_image_builder_publishes(aws):
    topic = aws["sns"].create_topic(Name="image-builder")["TopicArn"]
    url, queue_arn = queue(aws)
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    made = build(aws, topic=topic)
    ib = aws["ib"]
    image = ib.get_image(imageBuildVersionArn=made["arn"])["image"]
    [notification] = received(aws, url)  # AVAILABLE only: the user guide names AVAILABLE and FAILED
    assert (notification["Type"], notification["TopicArn"]) == ("Notification", topic)
    message = json.loads(notification["Message"])
    expected = sns_message(image, ib.get_image_recipe(imageRecipeArn=made["recipe"])["imageRecipe"],
                           ib.get_infrastructure_configuration(infrastructureConfigurationArn=made["infra"])[
                               "infrastructureConfiguration"])
    assert message == expected
    assert message["outputResources"]["amis"][0]["image"] in [
        i["ImageId"] for i in aws["ec2"].describe_images(Owners=["self"])["Images"]]


def test_a_failed_build_sends_the_failure_message(aws):
    topic = aws["sns"].create_topic(Name="image-builder")["TopicArn"]
    url, queue_arn = queue(aws)
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    made = build(aws, topic=topic, fail="TESTING")
    image = aws["ib"].get_image(imageBuildVersionArn=made["arn"])["image"]
    assert image["state"]["status"] == "FAILED"
    [notification] = received(aws, url)
    message = json.loads(notification["Message"])
    assert message["state"] == {"status": "FAILED", "reason": "Tests failed on the test instance."}
    assert message["outputResources"] == {"amis": []}
    assert "buildExecutionId" not in message
    # It failed before distributing: no AMI of the build (only the parent registered) is in EC2.
    assert [i["Name"] for i in aws["ec2"].describe_images(Owners=["self"])["Images"]] == ["base-linux"]


def test_eventbridge_receives_every_state_change_and_the_waiting_step(aws):
    url, queue_arn = queue(aws, "events")
    aws["events"].put_rule(Name="image-builder", EventPattern=json.dumps({"source": ["aws.imagebuilder"]}))
    aws["events"].put_targets(Rule="image-builder", Targets=[{"Id": "queue", "Arn": queue_arn}])
    arn = build(aws)["arn"]
    events = received(aws, url)
    assert [(e["detail-type"], e["resources"], e["detail"]) for e in events] == state_changes(arn)
    assert all(e["source"] == "aws.imagebuilder" and e["region"] == REGION for e in events)

    ib = aws["ib"]
    workflow = ib.create_workflow(name="wait", semanticVersion="1.0.0", type="BUILD", data=(
        "name: wait\nschemaVersion: 1.0\nsteps:\n  - name: WaitForApproval\n    action: WaitForAction\n"
        "    onFailure: Abort\n"))["workflowBuildVersionArn"]
    recipe = ib.list_image_recipes()["imageRecipeSummaryList"][0]["arn"]
    infra = ib.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"][0]["arn"]
    waiting = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra, executionRole="ImageBuilder",
                              workflows=[{"workflowArn": workflow}])["imageBuildVersionArn"]
    [step] = ib.list_waiting_workflow_steps()["steps"]
    events = received(aws, url)
    assert [(e["detail-type"], e["resources"], e["detail"]) for e in events] == [
        *state_changes(waiting, ["PENDING", "BUILDING"]),
        ("EC2 Image Builder Workflow Step Waiting", [waiting], {
            "workflow-execution-id": step["workflowExecutionId"], "workflow-step-execution-id": step["stepExecutionId"],
            "workflow-step-name": "WaitForApproval"})]
