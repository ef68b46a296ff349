"""Terraform's AWS provider against a running kiln, offline (the provider comes from a
local mirror). The provider diffs every field it wrote against what it reads back,
so a second plan with no changes proves kiln returns each field as stored."""
from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from clients.support import EXAMPLES, HERE, Terraform, client_env, list_everything, terraform_setup

EXE, MIRROR, WHY = terraform_setup()
pytestmark = pytest.mark.skipif(EXE is None, reason=WHY or "terraform unavailable")

CONFIG = HERE / "terraform"
NO_CHANGES = 0   # terraform plan -detailed-exitcode
CHANGES = 2


def _terraform(server, tmp_path, name="tf") -> Terraform:
    workdir = tmp_path / name
    shutil.copytree(CONFIG, workdir, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    shutil.copyfile(EXAMPLES / "hello-component.yaml", workdir / "hello-component.yaml")
    tf = Terraform(EXE, MIRROR, workdir, client_env(tmp_path))
    tf.env["TF_VAR_kiln_url"] = server.url
    tf.run("init", "-input=false")
    return tf


def _plan(tf: Terraform, *args: str):
    return tf.run("plan", "-detailed-exitcode", "-input=false", *args, check=False)


def test_apply_plan_update_destroy(timed_server, tmp_path):
    """Builds take 0.2 s per state here, so the provider really waits for AVAILABLE."""
    ib = timed_server.client()
    tf = _terraform(timed_server, tmp_path)

    tf.run("apply", "-auto-approve", "-input=false")
    out = tf.outputs()

    image_arn = out["image_arn"]
    assert image_arn == "arn:aws:imagebuilder:us-east-1:123456789012:image/tf-recipe/1.0.0/1"
    image = ib.get_image(imageBuildVersionArn=image_arn)["image"]
    assert image["state"]["status"] == "AVAILABLE"
    assert image["imageTestsConfiguration"] == {"imageTestsEnabled": True, "timeoutMinutes": 90}
    assert image["tags"] == {"project": "kiln-tests", "stage": "one"}
    assert out["image"]["name"] == "tf-recipe" and out["image"]["version"] == "1.0.0/1"
    assert out["image"]["os_version"] == "Amazon Linux 2023" and out["image"]["platform"] == "Linux"
    assert sorted((a["region"], a["account_id"]) for a in out["image"]["amis"]) == [
        ("us-east-1", "123456789012"), ("us-east-1", "210987654321"), ("us-west-2", "123456789012")]
    assert out["recipe_platform"] == "Linux"
    assert out["component"]["type"] == "BUILD" and out["component"]["owner"] == "123456789012"
    assert out["component"]["encrypted"] is True

    # Data sources over the AWS-managed catalog.
    managed = out["managed_image"]
    assert managed["arn"].endswith(":aws:image/amazon-linux-2023-x86/x.x.x")
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/\d+\.\d+\.\d+/\d+",
                        managed["build_version_arn"])
    assert managed["build_version_arn"].endswith("/" + managed["version"])
    assert managed["name"] == "Amazon Linux 2023 x86" and managed["os_version"] == "Amazon Linux 2023"
    assert managed["platform"] == "Linux" and managed["enhanced_image_metadata_enabled"] is True
    assert managed["image_recipe_arn"] in (None, "") and managed["image_tests_configuration"] == 0
    assert managed["output_resources"] == 1 and managed["amis"] == 1 and managed["tags"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", managed["date_created"])
    # The image was built on what x.x.x resolved to.
    assert image["imageRecipe"]["parentImage"] == managed["build_version_arn"]
    amazon = out["amazon_components"]
    assert amazon["names"] == ["update-linux"]
    assert amazon["arns"] and all(re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:component/update-linux/\d+\.\d+\.\d+", a)
                                  for a in amazon["arns"])

    # The image pipeline: a daily schedule at midnight in Europe/Berlin, read back with the
    # next run kiln computed from its own clock (the pipeline's creation time is on that clock).
    pipeline = out["pipeline"]
    assert pipeline["arn"] == "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/tf-nightly"
    assert pipeline["platform"] == "Linux" and pipeline["status"] == "ENABLED"
    assert pipeline["timezone"] == "Europe/Berlin" and pipeline["date_last_run"] == ""
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(stamp, pipeline["date_created"]) and re.fullmatch(stamp, pipeline["date_next_run"])
    created = datetime.strptime(pipeline["date_created"], "%Y-%m-%dT%H:%M:%S.%f%z")
    berlin = created.astimezone(ZoneInfo("Europe/Berlin"))
    midnight = datetime.combine(berlin.date() + timedelta(days=1), datetime.min.time(), ZoneInfo("Europe/Berlin"))
    assert pipeline["date_next_run"] == midnight.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    got = ib.get_image_pipeline(imagePipelineArn=pipeline["arn"])["imagePipeline"]
    assert got["schedule"] == {"scheduleExpression": "cron(0 0 * * ? *)", "timezone": "Europe/Berlin",
                               "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"}
    assert got["imageTestsConfiguration"] == {"imageTestsEnabled": True, "timeoutMinutes": 60}
    assert got["imageScanningConfiguration"] == {"imageScanningEnabled": True}
    assert [w["workflowArn"] for w in got["workflows"]] == [
        "arn:aws:imagebuilder:us-east-1:aws:workflow/build/build-image/x.x.x", pipeline["workflow_arn"]]
    assert got["workflows"][1]["parameters"] == [{"name": "waitForActionAtEnd", "value": ["false"]}]
    # The data sources: the hand-run pipeline (DISABLED, no schedule, so no next run) and the list.
    manual = out["pipeline_data_source"]
    assert manual["arn"] == pipeline["manual_arn"] and manual["name"] == "tf-manual"
    assert manual["platform"] == "Linux" and manual["status"] == "DISABLED"
    assert manual["date_next_run"] == "" and manual["date_last_run"] == "" and manual["schedule"] == 0
    assert manual["description"] == "Run by hand (one)" and manual["distribution_configuration_arn"] == ""
    assert manual["image_tests_configuration"] == [{"image_tests_enabled": True, "timeout_minutes": 720}]
    assert manual["image_scanning_configuration"] == [] and manual["tags"] == {"project": "kiln-tests", "stage": "one"}
    assert manual["image_recipe_arn"] == "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/tf-recipe/1.0.0"
    assert sorted(out["pipelines"]["names"]) == ["tf-manual", "tf-nightly"]
    assert sorted(out["pipelines"]["arns"]) == sorted([pipeline["arn"], pipeline["manual_arn"]])

    # The image built through workflow blocks: the managed build-image, then the custom smoke
    # test with waitForActionAtEnd=false, whose WaitForActionAtEnd step that parameter skips.
    built = out["workflow_image"]
    assert built["arn"] == "arn:aws:imagebuilder:us-east-1:123456789012:image/tf-recipe/1.0.0/2"
    assert built["execution_role"] == "arn:aws:iam::123456789012:role/ImageBuilderExecutionRole"
    assert built["workflows"] == 2 and built["amis"] == 1
    got = ib.get_image(imageBuildVersionArn=built["arn"])["image"]
    assert got["state"]["status"] == "AVAILABLE"
    assert got["executionRole"] == built["execution_role"]
    assert [w["workflowArn"] for w in got["workflows"]] == [
        "arn:aws:imagebuilder:us-east-1:aws:workflow/build/build-image/x.x.x", pipeline["workflow_arn"]]
    assert got["workflows"][1]["parameters"] == [{"name": "waitForActionAtEnd", "value": ["false"]}]
    assert (got["workflows"][1]["onFailure"], got["workflows"][1]["parallelGroup"]) == ("ABORT", "smoke")
    runs = ib.list_workflow_executions(imageBuildVersionArn=built["arn"])["workflowExecutions"]
    assert [(r["type"], r["status"]) for r in runs] == [("BUILD", "COMPLETED"), ("TEST", "COMPLETED")]
    # x.x.x ran the newest managed build-image.
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:workflow/build/build-image/\d+\.\d+\.\d+/\d+",
                        runs[0]["workflowBuildVersionArn"])
    smoke = runs[1]
    assert smoke["workflowBuildVersionArn"] == pipeline["workflow_arn"]   # the aws_imagebuilder_workflow build
    assert smoke["parallelGroup"] == "smoke" and smoke["retried"] is False
    assert (smoke["totalStepCount"], smoke["totalStepsSucceeded"], smoke["totalStepsSkipped"],
            smoke["totalStepsFailed"]) == (3, 2, 1, 0)
    steps = ib.list_workflow_step_executions(workflowExecutionId=smoke["workflowExecutionId"])["steps"]
    assert [(st["name"], st["status"]) for st in steps] == [
        ("LaunchTestInstance", "COMPLETED"), ("TerminateTestInstance", "COMPLETED"), ("WaitForActionAtEnd", "SKIPPED")]
    instance = json.loads(steps[0]["outputs"])["instanceId"]
    assert json.loads(steps[1]["inputs"]) == {"instanceId": instance}
    assert ib.list_waiting_workflow_steps()["steps"] == []

    # Every field reads back exactly as written.
    plan = _plan(tf)
    assert plan.returncode == NO_CHANGES, plan.stdout[-6000:] + plan.stderr

    # A tag change (and the configurations' descriptions) applies in place: nothing replaced.
    done = tf.run("apply", "-auto-approve", "-input=false", "-var", "stage=two")
    assert "Plan: 0 to add, 9 to change, 0 to destroy." in done.stdout, done.stdout[-6000:]
    assert "must be replaced" not in done.stdout
    assert tf.outputs()["image_arn"] == image_arn
    for arn in (image_arn, out["component"]["arn"], built["arn"]):
        assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"project": "kiln-tests", "stage": "two"}
    infra = ib.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"][0]
    assert infra["description"] == "t3 builders (two)" and infra["tags"]["stage"] == "two"
    dist = ib.get_distribution_configuration(distributionConfigurationArn=infra["arn"].replace(
        "infrastructure-configuration/tf-infra", "distribution-configuration/tf-dist"))["distributionConfiguration"]
    assert dist["description"] == "two Regions (two)" and len(dist["distributions"]) == 2
    nightly = ib.get_image_pipeline(imagePipelineArn=pipeline["arn"])["imagePipeline"]
    assert nightly["description"] == "Nightly hello image (two)" and nightly["tags"]["stage"] == "two"
    assert nightly["dateNextRun"] == pipeline["date_next_run"]
    assert tf.outputs()["pipeline_data_source"]["description"] == "Run by hand (two)"

    # Something deleted behind Terraform's back is planned again, not an error (the
    # provider reads ResourceNotFoundException as "gone"), and everything else,
    # updated just now, still reads back exactly as written.
    ib.delete_image(imageBuildVersionArn=image_arn)
    plan = _plan(tf, "-var", "stage=two")
    assert plan.returncode == CHANGES, plan.stdout[-6000:] + plan.stderr
    assert "aws_imagebuilder_image.image will be created" in plan.stdout
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.stdout, plan.stdout[-6000:]

    tf.run("destroy", "-auto-approve", "-input=false", "-var", "stage=two")
    assert list_everything(ib) == {k: [] for k in list_everything(ib)}
    assert ib.list_image_pipelines()["imagePipelineList"] == []


def test_failed_build_fails_the_apply(server, tmp_path):
    """The provider ends its wait on FAILED and reports the build's reason.
    (No destroy here: it costs half a minute of provider start-ups; the next test's
    server reset empties kiln.)"""
    server.control.fail_next_build("TESTING", "Test step 'SimpleBootTest' failed: the instance did not boot.")
    tf = _terraform(server, tmp_path)
    done = tf.run("apply", "-auto-approve", "-input=false", check=False)
    assert done.returncode == 1
    assert "FAILED" in done.stderr and "the instance did not boot" in done.stderr, done.stderr
    failed = server.client().list_image_build_versions()["imageSummaryList"]
    assert [i["state"] for i in failed] == [
        {"status": "FAILED", "reason": "Test step 'SimpleBootTest' failed: the instance did not boot.",
         "failureContext": failed[0]["state"]["failureContext"]}]
    assert failed[0]["state"]["failureContext"]["failedStep"] == "ApplyTestComponents"
