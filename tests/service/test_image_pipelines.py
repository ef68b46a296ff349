"""Image pipelines through boto3, in-process, against a real server and on PostgreSQL:
the resource, manual runs, schedules that fire on kiln's clock, start conditions and
auto-disable."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from kiln.pytest_plugin import KilnControl
from tests.service.builders import ACCOUNT, AL2023, component, distribution, infrastructure, recipe
from tests.support.documents import BUILD_COMPONENT_YAML
from tests.support.errors import raises

ARN = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-pipeline"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DAY = 86400


@pytest.fixture
def control(backend) -> KilnControl:
    if backend.kiln is not None:
        return KilnControl(kiln=backend.kiln)
    return KilnControl(url=backend.server.url)


def _pipeline(ib, name="nightly", **kwargs) -> str:
    if "imageRecipeArn" not in kwargs:
        kwargs["imageRecipeArn"] = recipe(ib)
    if "infrastructureConfigurationArn" not in kwargs:
        kwargs["infrastructureConfigurationArn"] = infrastructure(ib)
    return ib.create_image_pipeline(name=name, **kwargs)["imagePipelineArn"]


def _get(ib, arn) -> dict:
    return ib.get_image_pipeline(imagePipelineArn=arn)["imagePipeline"]


def _images(ib, arn) -> list[dict]:
    return [i for p in ib.get_paginator("list_image_pipeline_images").paginate(imagePipelineArn=arn)
            for i in p["imageSummaryList"]]


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# -- the resource ---------------------------------------------------------------------------

def test_create_image_pipeline_returns_every_field_with_its_default(ib):
    rec, infra = recipe(ib), infrastructure(ib)
    r = ib.create_image_pipeline(name="Nightly Build", imageRecipeArn=rec, infrastructureConfigurationArn=infra,
                                 clientToken="t1", tags={"team": "platform"})
    arn = r["imagePipelineArn"]
    assert (arn, r["clientToken"]) == (f"{ARN}/nightly-build", "t1")
    got = _get(ib, arn)
    assert ISO.match(got["dateCreated"]) and got.pop("dateUpdated") == got.pop("dateCreated")  # as AWS's samples
    assert got == {
        "arn": arn, "name": "Nightly Build", "platform": "Linux", "enhancedImageMetadataEnabled": True,
        "imageRecipeArn": rec, "infrastructureConfigurationArn": infra,
        "imageTestsConfiguration": {"imageTestsEnabled": True, "timeoutMinutes": 720},
        "status": "ENABLED", "tags": {"team": "platform"},  # no consecutiveFailures before a run
    }


def test_create_image_pipeline_with_a_schedule_says_when_it_runs_next(ib):
    arn = _pipeline(ib, schedule={"scheduleExpression": "cron(0 6 * * ? *)"}, distributionConfigurationArn=distribution(ib),
                    description="d", imageTags={"built-by": "pipeline"}, status="ENABLED")
    got = _get(ib, arn)
    assert got["schedule"] == {"scheduleExpression": "cron(0 6 * * ? *)",  # no timezone unless given: UTC
                               "pipelineExecutionStartCondition": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"}
    assert got["dateNextRun"].endswith("T06:00:00.000Z")
    assert 0 < _at(got["dateNextRun"]) - _at(got["dateCreated"]) <= DAY
    assert got["imageTags"] == {"built-by": "pipeline"} and got["description"] == "d"


def test_create_image_pipeline_name_already_exists(ib):
    arn = _pipeline(ib)
    first = _get(ib, arn)
    with raises("ResourceAlreadyExistsException", f"The following resource 'ImagePipeline' already exists: '{arn}'."):
        _pipeline(ib, name="NIGHTLY", imageRecipeArn=first["imageRecipeArn"],
                  infrastructureConfigurationArn=first["infrastructureConfigurationArn"])


def test_create_image_pipeline_recipe_not_found(ib):
    missing = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/missing/1.0.0"
    with raises("ResourceNotFoundException", f"The following resource 'ImageRecipe' cannot be found: '{missing}'."):
        _pipeline(ib, imageRecipeArn=missing)


def test_create_image_pipeline_bad_cron_is_refused(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'schedule.scheduleExpression' is not valid. Invalid schedule "
                "expression. Details: Invalid CRON expression: error at position 9, details: Unexpected end of expression."):
        _pipeline(ib, schedule={"scheduleExpression": "cron(0 6 * * *)"})
    assert ib.list_image_pipelines()["imagePipelineList"] == []


def test_create_image_pipeline_unknown_timezone_is_refused(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'schedule.timezone' is not valid. 'Mars/Olympus' is not a valid IANA time zone."):
        _pipeline(ib, schedule={"scheduleExpression": "cron(0 6 * * ? *)", "timezone": "Mars/Olympus"})


def test_get_image_pipeline_not_found(ib):
    with raises("ResourceNotFoundException", f"The following resource 'ImagePipeline' cannot be found: '{ARN}/none'."):
        _get(ib, f"{ARN}/none")


def test_update_image_pipeline_replaces_the_whole_pipeline(ib):
    arn = _pipeline(ib, description="first", status="DISABLED", imageTags={"a": "b"},
                    schedule={"scheduleExpression": "cron(0 6 * * ? *)"})
    infra = ib.get_image_pipeline(imagePipelineArn=arn)["imagePipeline"]["infrastructureConfigurationArn"]
    rec2 = recipe(ib, name="other")
    r = ib.update_image_pipeline(imagePipelineArn=arn, imageRecipeArn=rec2, infrastructureConfigurationArn=infra,
                                 clientToken="u1")
    assert r["imagePipelineArn"] == arn and "clientToken" not in r  # as AWS's UpdateImagePipeline sample
    got = _get(ib, arn)
    assert ISO.match(got.pop("dateUpdated")) and ISO.match(got.pop("dateCreated"))
    assert got == {"arn": arn, "name": "nightly", "platform": "Linux", "enhancedImageMetadataEnabled": True,
                   "imageRecipeArn": rec2, "infrastructureConfigurationArn": infra,
                   "imageTestsConfiguration": {"imageTestsEnabled": True, "timeoutMinutes": 720},
                   "status": "ENABLED", "tags": {}}


def test_update_image_pipeline_not_found(ib):
    infra = infrastructure(ib)
    with raises("ResourceNotFoundException", f"The following resource 'ImagePipeline' cannot be found: '{ARN}/none'."):
        ib.update_image_pipeline(imagePipelineArn=f"{ARN}/none", imageRecipeArn=recipe(ib), infrastructureConfigurationArn=infra)


def test_delete_image_pipeline_then_it_is_gone(ib):
    arn = _pipeline(ib)
    assert ib.delete_image_pipeline(imagePipelineArn=arn)["imagePipelineArn"] == arn
    with raises("ResourceNotFoundException", f"The following resource 'ImagePipeline' cannot be found: '{arn}'."):
        ib.delete_image_pipeline(imagePipelineArn=arn)


def test_a_pipeline_keeps_its_recipe_and_configurations_from_being_deleted(ib):
    rec, infra, dist = recipe(ib), infrastructure(ib), distribution(ib)
    arn = _pipeline(ib, imageRecipeArn=rec, infrastructureConfigurationArn=infra, distributionConfigurationArn=dist)
    for delete, used in ((lambda: ib.delete_image_recipe(imageRecipeArn=rec), rec),
                         (lambda: ib.delete_infrastructure_configuration(infrastructureConfigurationArn=infra), infra),
                         (lambda: ib.delete_distribution_configuration(distributionConfigurationArn=dist), dist)):
        with raises("ResourceDependencyException",
                    f"Resource dependency error: The resource ARN '{used}' has other resources depended on it."):
            delete()
    ib.delete_image_pipeline(imagePipelineArn=arn)
    ib.delete_image_recipe(imageRecipeArn=rec)


def test_update_image_pipeline_moves_what_it_keeps_from_deletion(ib):
    arn = _pipeline(ib)
    old = _get(ib, arn)["imageRecipeArn"]
    ib.update_image_pipeline(imagePipelineArn=arn, imageRecipeArn=recipe(ib, name="other"),
                             infrastructureConfigurationArn=_get(ib, arn)["infrastructureConfigurationArn"])
    ib.delete_image_recipe(imageRecipeArn=old)  # no longer used


def test_list_image_pipelines_filters(ib):
    rec, infra = recipe(ib), infrastructure(ib)
    _pipeline(ib, name="a-pipe", imageRecipeArn=rec, infrastructureConfigurationArn=infra)
    _pipeline(ib, name="b-pipe", status="DISABLED", imageRecipeArn=rec, infrastructureConfigurationArn=infra)
    names = lambda **kw: [p["name"] for p in ib.list_image_pipelines(**kw)["imagePipelineList"]]  # noqa: E731
    assert names() == ["a-pipe", "b-pipe"]
    assert names(filters=[{"name": "status", "values": ["DISABLED"]}]) == ["b-pipe"]
    assert names(filters=[{"name": "name", "values": ["a-*"]}]) == ["a-pipe"]


# -- manual runs ------------------------------------------------------------------------------

def test_start_image_pipeline_execution_builds_with_the_request_tags(ib):
    arn = _pipeline(ib, status="DISABLED", imageTags={"from": "schedule"})
    r = ib.start_image_pipeline_execution(imagePipelineArn=arn, clientToken="s1", tags={"run": "manual"})
    build = r["imageBuildVersionArn"]
    assert build == f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/demo/1.0.0/1" and r["clientToken"] == "s1"
    image = ib.get_image(imageBuildVersionArn=build)["image"]
    assert image["buildType"] == "USER_INITIATED" and image["tags"] == {"run": "manual"}
    assert image["sourcePipelineArn"] == arn and image["state"]["status"] == "AVAILABLE"
    got = _get(ib, arn)
    assert got["lastRunStatus"] == "AVAILABLE" and ISO.match(got["dateLastRun"])
    second = ib.start_image_pipeline_execution(imagePipelineArn=arn)["imageBuildVersionArn"]
    assert [i["arn"] for i in _images(ib, arn)] == [second, build]  # newest first


def test_start_image_pipeline_execution_not_found(ib):
    with raises("ResourceNotFoundException", f"The following resource 'ImagePipeline' cannot be found: '{ARN}/none'."):
        ib.start_image_pipeline_execution(imagePipelineArn=f"{ARN}/none")


def test_list_image_pipeline_images_of_an_unknown_pipeline_is_empty(ib):
    assert ib.list_image_pipeline_images(imagePipelineArn=f"{ARN}/none")["imageSummaryList"] == []


def test_a_pipeline_deleted_while_building_lets_the_build_finish(ib, control):
    arn = _pipeline(ib)
    build = ib.start_image_pipeline_execution(imagePipelineArn=arn)["imageBuildVersionArn"]
    ib.delete_image_pipeline(imagePipelineArn=arn)
    assert ib.get_image(imageBuildVersionArn=build)["image"]["sourcePipelineArn"] == arn


# -- schedules --------------------------------------------------------------------------------

def test_a_schedule_fires_on_kiln_clock_with_the_dates_it_fired_at(ib, control):
    control.freeze_clock("2027-01-10T12:00:00Z")
    arn = _pipeline(ib, imageTags={"built-by": "schedule"},
                    schedule={"scheduleExpression": "cron(0 6 * * ? *)", "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"})
    assert _get(ib, arn)["dateNextRun"] == "2027-01-11T06:00:00.000Z"
    control.advance_clock(3 * DAY)
    built = _images(ib, arn)
    assert [i["dateCreated"] for i in built] == ["2027-01-13T06:00:00.000Z", "2027-01-12T06:00:00.000Z",
                                                 "2027-01-11T06:00:00.000Z"]
    for summary in built:
        image = ib.get_image(imageBuildVersionArn=summary["arn"])["image"]
        assert image["buildType"] == "SCHEDULED" and image["tags"] == {"built-by": "schedule"}
    got = _get(ib, arn)
    assert got["dateLastRun"] == "2027-01-13T06:00:00.000Z" and got["dateNextRun"] == "2027-01-14T06:00:00.000Z"
    assert got["lastRunStatus"] == "AVAILABLE"


def test_a_schedule_in_berlin_keeps_local_time_across_daylight_saving(ib, control):
    control.freeze_clock("2027-03-27T12:00:00Z")
    arn = _pipeline(ib, schedule={"scheduleExpression": "cron(0 6 * * ? *)", "timezone": "Europe/Berlin"})
    assert _get(ib, arn)["dateNextRun"] == "2027-03-28T04:00:00.000Z"  # 06:00 CEST, the first summer day
    control.freeze_clock("2027-10-30T12:00:00Z")
    assert _get(ib, arn)["dateNextRun"] == "2027-10-31T05:00:00.000Z"  # 06:00 CET again


def test_waiting_for_dependency_updates_builds_only_after_one(ib, control):
    control.freeze_clock("2027-01-10T12:00:00Z")
    hello = component(ib, name="hello", version="1.0.0", data=BUILD_COMPONENT_YAML)
    rec = recipe(ib, components=[{"componentArn": hello.rsplit("/", 2)[0] + "/x.x.x",
                                  "parameters": [{"name": "Target", "value": ["world"]}]}])
    arn = _pipeline(ib, imageRecipeArn=rec, schedule={"scheduleExpression": "cron(0 6 * * ? *)"})
    control.advance_clock(3 * DAY)
    assert _images(ib, arn) == []  # nothing new to build from
    component(ib, name="hello", version="1.0.1", data=BUILD_COMPONENT_YAML)
    control.advance_clock(DAY)
    built = _images(ib, arn)
    assert [i["dateCreated"] for i in built] == ["2027-01-14T06:00:00.000Z"]
    used = ib.get_image(imageBuildVersionArn=built[0]["arn"])["image"]["imageRecipe"]["components"]
    assert used[0]["componentArn"].endswith("/hello/1.0.1/1")
    control.advance_clock(2 * DAY)
    assert len(_images(ib, arn)) == 1  # and not again until the next update


def test_a_pipeline_is_disabled_after_its_failure_count(ib, control):
    control.freeze_clock("2027-01-10T12:00:00Z")
    arn = _pipeline(ib, schedule={"scheduleExpression": "cron(0 6 * * ? *)", "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY",
                                  "autoDisablePolicy": {"failureCount": 2}})
    control.fail_next_build("BUILDING", "Step failed")
    control.advance_clock(DAY)
    got = _get(ib, arn)
    assert (got["status"], got["consecutiveFailures"], got["lastRunStatus"]) == ("ENABLED", 1, "FAILED")
    control.fail_next_build("BUILDING", "Step failed")
    control.advance_clock(DAY)
    got = _get(ib, arn)
    assert (got["status"], got["consecutiveFailures"]) == ("DISABLED", 2) and "dateNextRun" not in got
    control.advance_clock(3 * DAY)
    assert len(_images(ib, arn)) == 2  # a disabled pipeline does not run on its schedule
    assert ib.list_image_pipelines(filters=[{"name": "status", "values": ["DISABLED"]}])["imagePipelineList"][0]["arn"] == arn


def test_a_success_resets_the_failure_count_and_an_update_too(ib, control):
    control.freeze_clock("2027-01-10T12:00:00Z")
    arn = _pipeline(ib, schedule={"scheduleExpression": "cron(0 6 * * ? *)", "pipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY"})
    control.fail_next_build("BUILDING", "Step failed")
    control.advance_clock(DAY)
    assert _get(ib, arn)["consecutiveFailures"] == 1
    control.advance_clock(DAY)
    assert _get(ib, arn)["consecutiveFailures"] == 0
    control.fail_next_build("BUILDING", "Step failed")
    control.advance_clock(DAY)
    pipeline = _get(ib, arn)
    assert pipeline["consecutiveFailures"] == 1
    ib.update_image_pipeline(imagePipelineArn=arn, imageRecipeArn=pipeline["imageRecipeArn"],
                             infrastructureConfigurationArn=pipeline["infrastructureConfigurationArn"],
                             schedule=pipeline["schedule"])
    assert _get(ib, arn)["consecutiveFailures"] == 0


# -- a managed release is a dependency update ---------------------------------------------------

NEW_AL2023 = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/2027.1.12/1"


def test_publishing_a_managed_image_version_is_the_update_a_pipeline_waits_for(ib, control):
    control.freeze_clock("2027-01-10T12:00:00Z")
    arn = _pipeline(ib, imageRecipeArn=recipe(ib, parent=AL2023), schedule={"scheduleExpression": "cron(0 6 * * ? *)"})
    control.advance_clock(2 * DAY)
    assert _images(ib, arn) == []
    assert control.publish_release(NEW_AL2023) == {"published": NEW_AL2023, "dateCreated": "2027-01-12T12:00:00.000Z"}
    assert ib.get_image(imageBuildVersionArn=AL2023)["image"]["arn"] == NEW_AL2023
    listed = ib.list_images(owner="Amazon", filters=[{"name": "name", "values": ["Amazon Linux 2023 x86"]}])["imageVersionList"]
    assert listed[-1]["arn"] == NEW_AL2023.rsplit("/", 1)[0]  # versions ascending: the new one last
    control.advance_clock(DAY)
    built = _images(ib, arn)
    assert [i["dateCreated"] for i in built] == ["2027-01-13T06:00:00.000Z"]
    image = ib.get_image(imageBuildVersionArn=built[0]["arn"])["image"]
    assert image["imageRecipe"]["parentImage"] == NEW_AL2023


@pytest.mark.parametrize("arn, message", [
    ("arn:aws:imagebuilder:us-east-1:aws:image/no-such-os/2027.1.1/1",
     "There is no AWS-managed image named 'no-such-os' to publish a version of."),
    ("arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/2027.1.1",
     "'arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/2027.1.1' is not the build ARN of an "
     "AWS-managed image or component (arn:aws:imagebuilder:<region>:aws:image/<name>/<M.m.p>/<build>)."),
    (f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:component/hello/1.0.0/1",
     f"'arn:aws:imagebuilder:us-east-1:{ACCOUNT}:component/hello/1.0.0/1' is not the build ARN of an "
     "AWS-managed image or component (arn:aws:imagebuilder:<region>:aws:image/<name>/<M.m.p>/<build>)."),
])
def test_publishing_what_is_not_a_managed_family_is_refused(backend, control, arn, message):
    with pytest.raises((RuntimeError, ValueError)) as e:
        control.publish_release(arn)
    assert str(e.value).endswith(message)


def test_publishing_a_managed_component_version(ib, control):
    new = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/9.0.0/1"
    control.publish_release(new)
    got = ib.get_component(componentBuildVersionArn="arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x")
    assert got["component"]["arn"] == new and got["component"]["version"] == "9.0.0"
    with pytest.raises((RuntimeError, ValueError)) as e:
        control.publish_release(new)
    assert str(e.value).endswith(f"'{new}' is published already.")
