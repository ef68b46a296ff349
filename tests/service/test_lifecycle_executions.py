"""StartResourceStateUpdate and lifecycle executions through boto3 (in-process, a real
server, PostgreSQL): immediate state changes, executions with underlying resources, a
deprecation scheduled on kiln's clock, and the rules the service enforces."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from kiln.pytest_plugin import KilnControl
from tests.service.builders import ACCOUNT, image
from tests.support.errors import raises

LCE = re.compile(r"^lce-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ROLE = "arn:aws:iam::123456789012:role/ImageBuilderLifecycle"


@pytest.fixture
def control(backend) -> KilnControl:
    if backend.kiln is not None:
        return KilnControl(kiln=backend.kiln)
    return KilnControl(url=backend.server.url)


def _state(ib, arn) -> dict:
    return ib.get_image(imageBuildVersionArn=arn)["image"]["state"]


def test_deprecate_disable_and_back_at_once(ib):
    arn = image(ib)
    r = ib.start_resource_state_update(resourceArn=arn, state={"status": "DEPRECATED"})
    assert r["resourceArn"] == arn and "lifecycleExecutionId" not in r  # applied at once, no execution
    got = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert got["state"] == {"status": "DEPRECATED"} and isinstance(got["deprecationTime"], datetime)  # epoch seconds on the wire
    version = arn.rsplit("/", 1)[0]
    with pytest.raises(Exception) as e:  # a deprecated build no longer resolves
        ib.get_image(imageBuildVersionArn=version)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    ib.start_resource_state_update(resourceArn=arn, state={"status": "DISABLED"})
    assert _state(ib, arn) == {"status": "DISABLED"}
    ib.start_resource_state_update(resourceArn=arn, state={"status": "AVAILABLE"})
    got = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert got["state"] == {"status": "AVAILABLE"} and "deprecationTime" not in got
    assert ib.get_image(imageBuildVersionArn=version)["image"]["arn"] == arn


def test_delete_with_underlying_resources_records_an_execution(ib):
    arn = image(ib)
    amis = ib.get_image(imageBuildVersionArn=arn)["image"]["outputResources"]["amis"]
    r = ib.start_resource_state_update(resourceArn=arn, state={"status": "DELETED"}, executionRole=ROLE,
                                       includeResources={"amis": True, "snapshots": True}, clientToken="l1")
    key = r["lifecycleExecutionId"]
    assert LCE.match(key) and r["resourceArn"] == arn
    got = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert got["state"] == {"status": "DELETED"} and got["lifecycleExecutionId"] == key
    execution = ib.get_lifecycle_execution(lifecycleExecutionId=key)["lifecycleExecution"]
    assert execution["state"] == {"status": "SUCCESS"} and execution["resourcesImpactedSummary"] == {"hasImpactedResources": True}
    assert execution["startTime"] <= execution["endTime"]
    resources = ib.list_lifecycle_execution_resources(lifecycleExecutionId=key)
    assert resources["lifecycleExecutionState"] == {"status": "SUCCESS"}
    assert [(x["resourceId"], x["action"]["name"], x["state"]["status"]) for x in resources["resources"]] == [(arn, "DELETE", "SUCCESS")]
    per_ami = ib.list_lifecycle_execution_resources(lifecycleExecutionId=key, parentResourceId=arn)["resources"]
    assert [x["resourceId"] for x in per_ami] == [a["image"] for a in amis]
    assert all(re.fullmatch(r"snap-[0-9a-f]{17}", x["snapshots"][0]["snapshotId"]) for x in per_ami)
    listed = ib.list_lifecycle_executions(resourceArn=arn)["lifecycleExecutions"]
    assert [e["lifecycleExecutionId"] for e in listed] == [key]


def test_a_deprecation_scheduled_for_later_happens_on_kiln_clock(ib, control):
    control.freeze_clock("2027-01-10T12:00:00Z")
    arn = image(ib)
    when = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    r = ib.start_resource_state_update(resourceArn=arn, state={"status": "DEPRECATED"}, updateAt=when)
    key = r["lifecycleExecutionId"]
    got = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert got["state"] == {"status": "AVAILABLE"} and got["deprecationTime"] == datetime.fromtimestamp(when, timezone.utc)
    assert ib.get_lifecycle_execution(lifecycleExecutionId=key)["lifecycleExecution"]["state"] == {"status": "IN_PROGRESS"}
    with raises("ResourceInUseException", f"The image '{arn}' already has a lifecycle execution in progress."):
        ib.start_resource_state_update(resourceArn=arn, state={"status": "DEPRECATED"}, updateAt=when + 60)
    control.advance_clock(5 * 86400)
    assert _state(ib, arn) == {"status": "DEPRECATED"}
    assert ib.get_lifecycle_execution(lifecycleExecutionId=key)["lifecycleExecution"]["state"] == {"status": "SUCCESS"}


def test_cancel_a_lifecycle_execution_while_it_waits(ib, control):
    control.freeze_clock("2027-01-10T12:00:00Z")
    arn = image(ib)
    key = ib.start_resource_state_update(resourceArn=arn, state={"status": "DEPRECATED"}, updateAt=1_800_000_000.0)[
        "lifecycleExecutionId"]
    assert ib.cancel_lifecycle_execution(lifecycleExecutionId=key, clientToken="c1")["lifecycleExecutionId"] == key
    control.advance_clock(10 * 86400)
    assert _state(ib, arn) == {"status": "AVAILABLE"}
    with raises("InvalidRequestException", f"The lifecycle execution '{key}' is CANCELLED and cannot be cancelled."):
        ib.cancel_lifecycle_execution(lifecycleExecutionId=key)


@pytest.mark.parametrize("kwargs, code, message", [
    (dict(state={"status": "DELETED"}), "InvalidParameterCombinationException",
     "To set an image to DELETED, you must include its underlying resources (includeResources). To delete only the "
     "Image Builder image, use DeleteImage."),
    (dict(state={"status": "DISABLED"}, includeResources={"amis": True}), "InvalidParameterCombinationException",
     "The parameters 'executionRole' and 'includeResources' must be specified together."),
    (dict(state={"status": "DISABLED"}, includeResources={"snapshots": True}, executionRole=ROLE),
     "InvalidParameterCombinationException",
     "The value supplied for parameter 'includeResources' is not valid. Snapshots and containers can only be included "
     "when the state is DELETED."),
    (dict(state={"status": "DISABLED"}, updateAt=1_900_000_000.0), "InvalidParameterValueException",
     "The value supplied for parameter 'updateAt' is not valid. updateAt is valid only when the target state is DEPRECATED."),
    (dict(state={"status": "DEPRECATED"}, updateAt=1_000_000_000.0), "InvalidParameterValueException",
     "The value supplied for parameter 'updateAt' is not valid. updateAt must be a future time."),
])
def test_start_resource_state_update_rules(ib, kwargs, code, message):
    arn = image(ib)
    with raises(code, message):
        ib.start_resource_state_update(resourceArn=arn, **kwargs)


def test_a_failed_build_can_only_be_deleted(ib, control):
    control.fail_next_build("BUILDING", "boom")
    arn = image(ib)
    with raises("InvalidRequestException", f"The image '{arn}' is FAILED; it can only move to DELETED."):
        ib.start_resource_state_update(resourceArn=arn, state={"status": "DEPRECATED"})


def test_unknown_lifecycle_execution_and_image(ib):
    key = "lce-00000000-0000-4000-a000-000000000000"
    with raises("ResourceNotFoundException", f"The following resource 'LifecycleExecution' cannot be found: '{key}'."):
        ib.get_lifecycle_execution(lifecycleExecutionId=key)
    arn = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/none/1.0.0/1"
    with raises("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{arn}'."):
        ib.start_resource_state_update(resourceArn=arn, state={"status": "DEPRECATED"})
