"""kiln serve and moto_server as two processes: kiln serve is started with
--ec2-endpoint-url, --s3-endpoint-url, --sns-endpoint-url, --events-endpoint-url and
--ssm-endpoint-url all naming the moto_server. kiln serve's own thread applies the build's
states as they fall due and delivers the notifications: the test polls only the SQS queue."""
from __future__ import annotations

import json
import time

import boto3
import pytest

from tests.integrations.expected import sns_message, state_changes
from tests.support.server import KilnServer

pytest.importorskip("moto", reason="moto is not installed: pip install -e '.[test]'")

ACCOUNT, OTHER, REGION = "123456789012", "111122223333", "us-east-1"
DOCUMENT = b"""name: hello
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands: ["echo hello"]
"""


@pytest.fixture(scope="module")
def kiln_serve(moto_server):
    """kiln serve with every integration pointed at the moto_server; 0.2 s per build state."""
    url = moto_server.url
    server = KilnServer("--in-memory", "--build-timing", "0.2", "--ec2-endpoint-url", url, "--s3-endpoint-url", url,
                        "--sns-endpoint-url", url, "--events-endpoint-url", url, "--ssm-endpoint-url", url).start()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server, kiln_serve):
    moto_server.reset()
    kiln_serve.reset()
    keys = dict(region_name=REGION, aws_access_key_id=ACCOUNT, aws_secret_access_key="x")
    clients = {name: boto3.client(name, endpoint_url=moto_server.url, **keys)
               for name in ("s3", "ec2", "sns", "sqs", "events", "ssm")}
    clients["ib"] = boto3.client("imagebuilder", endpoint_url=kiln_serve.url, **keys)
    clients["kiln"] = kiln_serve
    return clients


def queue(aws, name):
    url = aws["sqs"].create_queue(QueueName=name)["QueueUrl"]
    return url, aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def wait_for(aws, url, count, timeout=20.0) -> list[dict]:
    found: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        batch = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        found += [json.loads(m["Body"]) for m in batch]
        for m in batch:
            aws["sqs"].delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return found


def test_a_build_of_an_s3_component_is_an_ami_in_ec2_and_notifies_sns_and_eventbridge(aws):
    ib, ec2 = aws["ib"], aws["ec2"]
    aws["s3"].create_bucket(Bucket="ib-documents")
    aws["s3"].put_object(Bucket="ib-documents", Key="hello.yaml", Body=DOCUMENT)
    topic = aws["sns"].create_topic(Name="image-builder")["TopicArn"]
    sns_queue, sns_queue_arn = queue(aws, "sns")
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_queue_arn)
    events_queue, events_queue_arn = queue(aws, "events")
    aws["events"].put_rule(Name="image-builder", EventPattern=json.dumps({"source": ["aws.imagebuilder"]}))
    aws["events"].put_targets(Rule="image-builder", Targets=[{"Id": "queue", "Arn": events_queue_arn}])
    parent = ec2.register_image(Name="base-linux", Architecture="x86_64", RootDeviceName="/dev/xvda")["ImageId"]
    aws["ssm"].put_parameter(Name="/golden/base", Value=parent, Type="String")

    component = ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux",
                                    uri="s3://ib-documents/hello.yaml")["componentBuildVersionArn"]
    assert ib.get_component(componentBuildVersionArn=component)["component"]["data"] == DOCUMENT.decode()
    recipe = ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage="ssm:/golden/base",
                                    components=[{"componentArn": component}])["imageRecipeArn"]
    infra = ib.create_infrastructure_configuration(name="demo", instanceProfileName="EC2InstanceProfileForImageBuilder",
                                                   snsTopicArn=topic)["infrastructureConfigurationArn"]
    arn = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra)["imageBuildVersionArn"]

    [notification] = wait_for(aws, sns_queue, 1)  # kiln serve applies the states on its own
    assert (notification["Type"], notification["TopicArn"]) == ("Notification", topic)
    image = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert image["state"]["status"] == "AVAILABLE"
    assert json.loads(notification["Message"]) == sns_message(
        image, ib.get_image_recipe(imageRecipeArn=recipe)["imageRecipe"],
        ib.get_infrastructure_configuration(infrastructureConfigurationArn=infra)["infrastructureConfiguration"])

    [ami] = image["outputResources"]["amis"]
    [found] = ec2.describe_images(ImageIds=[ami["image"]])["Images"]
    assert (found["Name"], found["OwnerId"]) == (ami["name"], ACCOUNT)
    assert ec2.run_instances(ImageId=ami["image"], MinCount=1, MaxCount=1)["Instances"][0]["ImageId"] == ami["image"]

    events = wait_for(aws, events_queue, 5)
    assert [(e["detail-type"], e["resources"], e["detail"]) for e in events] == state_changes(arn)


def test_another_accounts_build_is_registered_in_that_account(aws, moto_server):
    theirs = boto3.client("ec2", endpoint_url=moto_server.url, region_name=REGION, aws_access_key_id=OTHER,
                          aws_secret_access_key="x")
    theirs.meta.events.register("before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", OTHER))
    parent = theirs.register_image(Name="their-base", RootDeviceName="/dev/xvda")["ImageId"]
    ib = boto3.client("imagebuilder", endpoint_url=aws["kiln"].url, region_name=REGION, aws_access_key_id=OTHER,
                      aws_secret_access_key="x")
    with pytest.raises(ib.exceptions.InvalidParameterValueException):  # our own AMI is not theirs to use
        ib.create_image_recipe(name="mine", semanticVersion="1.0.0",
                               parentImage=aws["ec2"].register_image(Name="mine", RootDeviceName="/dev/xvda")["ImageId"])
    recipe = ib.create_image_recipe(name="theirs", semanticVersion="1.0.0", parentImage=parent)["imageRecipeArn"]
    infra = ib.create_infrastructure_configuration(name="theirs", instanceProfileName="p")["infrastructureConfigurationArn"]
    arn = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra)["imageBuildVersionArn"]
    ib.get_waiter("image_available").wait(imageBuildVersionArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    [ami] = ib.get_image(imageBuildVersionArn=arn)["image"]["outputResources"]["amis"]
    assert theirs.describe_images(ImageIds=[ami["image"]])["Images"][0]["OwnerId"] == OTHER


def test_a_document_missing_from_s3_is_refused(aws):
    aws["s3"].create_bucket(Bucket="ib-documents")
    with pytest.raises(aws["ib"].exceptions.InvalidParameterValueException) as e:
        aws["ib"].create_component(name="hello", semanticVersion="1.0.0", platform="Linux",
                                   uri="s3://ib-documents/missing.yaml")
    assert e.value.response["Error"]["Message"] == (
        "The value supplied for parameter 'uri' is not valid. kiln could not read 's3://ib-documents/missing.yaml' "
        "from S3: The object 'missing.yaml' does not exist in the bucket 'ib-documents'.")
