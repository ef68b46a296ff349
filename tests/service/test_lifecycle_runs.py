"""Lifecycle policies that run on kiln's clock, through boto3 (in-process, a real server,
PostgreSQL): images deprecated, disabled and deleted by age and count, on the right day."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kiln.pytest_plugin import KilnControl
from tests.service.builders import infrastructure, recipe

DAY = 86400
ROLE = "arn:aws:iam::123456789012:role/ImageBuilderLifecycle"


@pytest.fixture
def control(backend) -> KilnControl:
    if backend.kiln is not None:
        return KilnControl(kiln=backend.kiln)
    return KilnControl(url=backend.server.url)


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _builds(ib, control, count, every_days, tag_first=False):
    rec, infra = recipe(ib), infrastructure(ib)
    arns = []
    for i in range(count):
        tags = {"keep": "true"} if tag_first and i == 0 else {}
        arns.append(ib.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra, tags=tags or {"n": str(i)})[
            "imageBuildVersionArn"])
        control.advance_clock(every_days * DAY)
    return arns


def _status(ib, arn) -> str:
    return ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]


def test_deprecate_disable_delete_by_age_keeping_two_and_tagged_images(ib, control):
    control.freeze_clock("2027-01-01T00:00:00Z")
    arns = _builds(ib, control, 12, 30, tag_first=True)  # 12 builds a month apart: days 0, 30, ..., 330
    keep = {"tagMap": {"keep": "true"}}
    policy = ib.create_lifecycle_policy(
        name="age-out", resourceType="AMI_IMAGE", executionRole=ROLE,
        resourceSelection={"recipes": [{"name": "demo", "semanticVersion": "1.0.0"}]},
        policyDetails=[
            {"action": {"type": "DEPRECATE"}, "filter": {"type": "AGE", "value": 90, "unit": "DAYS"}, "exclusionRules": keep},
            {"action": {"type": "DISABLE"}, "filter": {"type": "AGE", "value": 180, "unit": "DAYS"}, "exclusionRules": keep},
            {"action": {"type": "DELETE", "includeResources": {"amis": True}},
             "filter": {"type": "AGE", "value": 365, "unit": "DAYS", "retainAtLeast": 2}, "exclusionRules": keep},
        ])["lifecyclePolicyArn"]
    # Now day 360. Runs daily from day 361: advance a year, day by day, watching build 6 (made on day 150).
    watched, seen = arns[5], {}
    for day in range(361, 361 + 366):
        control.advance_clock(DAY)
        status = _status(ib, watched)
        if status not in seen.values():
            seen[day] = status
    # Build 6, made on day 150: deprecated by the first run (day 361: already 211 days old) ... deleted at 365 days old.
    assert seen == {361: "DISABLED", 515: "DELETED"}, seen
    assert _status(ib, arns[0]) == "AVAILABLE"        # tagged keep=true: spared by every rule
    assert [_status(ib, a) for a in arns[-2:]] == ["DISABLED", "DISABLED"]  # the newest two are never deleted
    executions = [e for page in ib.get_paginator("list_lifecycle_executions").paginate(resourceArn=policy)
                  for e in page["lifecycleExecutions"]]
    assert len(executions) == 366 and all(e["state"]["status"] == "SUCCESS" for e in executions)
    got = ib.get_lifecycle_policy(lifecyclePolicyArn=policy)["lifecyclePolicy"]
    assert got["dateLastRun"].timestamp() == pytest.approx(_at("2027-01-01T00:00:00Z") + 726 * DAY)


def test_a_count_rule_deletes_all_but_the_newest_three_when_run_now(ib, control):
    control.freeze_clock("2027-01-01T00:00:00Z")
    arns = _builds(ib, control, 5, 1)
    policy = ib.create_lifecycle_policy(
        name="newest-three", resourceType="AMI_IMAGE", executionRole=ROLE,
        resourceSelection={"recipes": [{"name": "demo", "semanticVersion": "1.x.x"}]},
        policyDetails=[{"action": {"type": "DELETE", "includeResources": {"amis": True, "snapshots": True}},
                        "filter": {"type": "COUNT", "value": 3}}])["lifecyclePolicyArn"]
    key = control.run_lifecycle_policy(policy)
    assert [_status(ib, a) for a in arns] == ["DELETED", "DELETED", "AVAILABLE", "AVAILABLE", "AVAILABLE"]
    resources = ib.list_lifecycle_execution_resources(lifecycleExecutionId=key)["resources"]
    assert sorted(r["resourceId"] for r in resources) == sorted(arns[:2])
    assert all(r["action"]["name"] == "DELETE" and r["state"]["status"] == "SUCCESS" for r in resources)
    image = ib.get_image(imageBuildVersionArn=arns[0])["image"]
    assert image["lifecycleExecutionId"] == key
