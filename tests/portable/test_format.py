"""The portable file: what its header says, and files written by earlier kilns (checked in under
tests/portable/fixtures/ by make_fixture.py) go on importing, with the answers they held."""
from __future__ import annotations

import glob
import json
import os

import pytest

import kiln
from kiln import portable
from kiln.pytest_plugin import KilnControl
from kiln.store.schema_version import HEAD
from tests.portable.state import FROZEN_AT, HELLO, OTHER, RELEASE, answers
from tests.portable.test_round_trip import cli, clients, store
from tests.support.postgres import available

FIXTURES = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "*.jsonl")))
ACCOUNT_ARN = "arn:aws:imagebuilder:us-east-1:123456789012"


def test_the_newest_schema_revision_is_the_stores_and_has_a_fixture():
    # A new store revision (kiln/store/migrations) must be added to portable.REVISIONS, with a mapping of
    # older rows in portable.UPGRADES when it changes a column, and a new fixture (make_fixture.py).
    assert portable.REVISIONS[-1] == HEAD
    name = f"kiln-state-v{portable.VERSION}-r{HEAD}.jsonl"
    assert name in [os.path.basename(f) for f in FIXTURES]


def test_the_header_names_the_format_its_version_kiln_the_schema_revision_and_the_clock(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{folder / 'kiln.db'}") as k:
        KilnControl(kiln=k).freeze_clock("2027-05-01T00:00:00Z")
    out = cli("export", "--data-dir", str(folder), "--region", "us-east-1")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    header = lines[0]
    assert header.pop("exportedAt").endswith("Z")
    assert header == {"format": "kiln-state", "version": 1, "kiln": kiln.__version__, "schemaRevision": HEAD,
                      "clock": {"at": "2027-05-01T00:00:00.000Z", "epochSeconds": 1809129600.0, "frozen": True},
                      "selection": {"accounts": None, "regions": ["us-east-1"]}}
    assert lines[1:] == [{"end": {"rows": {"resources": 0, "counters": 0, "references": 0, "idempotency": 0,
                                           "execution_keys": 0, "faults": 0}}}]


@pytest.mark.parametrize("fixture", FIXTURES, ids=os.path.basename)
def test_a_file_written_by_an_earlier_kiln_imports_with_its_answers(fixture, tmp_path):
    with store("sqlite", tmp_path, "target") as (where, url):
        done = cli("import", fixture, *where)
        assert done.exit_code == 0, done.output
        with kiln.mock_imagebuilder(database_url=url) as k:
            assert portable.iso(k.clock.frozen) == FROZEN_AT.replace("Z", ".000Z")  # frozen there, as exported
            seen = answers(clients(), images=[RELEASE])
            _check(k)
    if available():
        with store("postgres", tmp_path, "pg") as (where, url):
            assert cli("import", fixture, *where).exit_code == 0
            with kiln.mock_imagebuilder(database_url=url):
                assert answers(clients(), images=[RELEASE]) == seen


def _check(k):
    """What tests/portable/state.py's build_state made, as the API answers it."""
    ib = clients()
    policy = f"{ACCOUNT_ARN}:lifecycle-policy/newest-two"
    [run] = ib.list_lifecycle_executions(resourceArn=policy)["lifecycleExecutions"]
    assert run["state"]["status"] == "SUCCESS"
    deleted = ib.get_image(imageBuildVersionArn=f"{ACCOUNT_ARN}:image/demo/1.0.0/1")["image"]
    assert (deleted["state"], deleted["lifecycleExecutionId"]) == ({"status": "DELETED"}, run["lifecycleExecutionId"])
    assert [r["resourceId"] for r in ib.list_lifecycle_execution_resources(
        lifecycleExecutionId=run["lifecycleExecutionId"])["resources"]] == [deleted["arn"]]
    assert ib.get_image_policy(imageArn=deleted["arn"])["policy"]
    built = ib.get_image(imageBuildVersionArn=f"{ACCOUNT_ARN}:image/demo/1.0.0/2")["image"]
    assert built["state"] == {"status": "AVAILABLE"} and built["tags"] == {"n": "1"}
    assert built["outputResources"]["amis"][0]["image"].startswith("ami-")
    assert [p["packageName"] for p in ib.list_image_packages(imageBuildVersionArn=built["arn"])["imagePackageList"]] == [
        "bash"]
    failed = ib.get_image(imageBuildVersionArn=f"{ACCOUNT_ARN}:image/demo/1.0.0/4")["image"]["state"]
    assert (failed["status"], failed["reason"], failed["failureContext"]["failedStep"]) == (
        "FAILED", "The build instance ran out of disk.", "ApplyBuildComponents")
    waiting = ib.list_waiting_workflow_steps()["steps"]
    assert [(s["imageBuildVersionArn"], s["name"]) for s in waiting] == [
        (f"{ACCOUNT_ARN}:image/demo/1.0.0/5", "WaitForApproval")]
    component = ib.get_component(componentBuildVersionArn=f"{ACCOUNT_ARN}:component/hello/1.0.0/1")["component"]
    assert (component["data"], component["tags"]) == (HELLO, {"team": "platform"})
    pipeline = ib.get_image_pipeline(imagePipelineArn=f"{ACCOUNT_ARN}:image-pipeline/nightly")["imagePipeline"]
    assert pipeline["schedule"]["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert [i["arn"] for i in ib.list_image_pipeline_images(imagePipelineArn=pipeline["arn"])["imageSummaryList"]] == [
        f"{ACCOUNT_ARN}:image/demo/1.0.0/6"]
    assert ib.list_tags_for_resource(resourceArn=f"{ACCOUNT_ARN}:infrastructure-configuration/infra")["tags"] == {
        "owner": "ci"}
    assert ib.get_image(imageBuildVersionArn=RELEASE)["image"]["version"] == "2027.2.1/1"
    assert [c["name"] for c in clients(OTHER).list_components(owner="Self")["componentVersionList"]] == ["theirs"]
    assert [c["name"] for c in clients(region="eu-west-1").list_infrastructure_configurations()[
        "infrastructureConfigurationSummaryList"]] == ["eu-infra"]
    # Going on: the next build is number 7, and fails as planned before the export.
    nxt = ib.create_image(imageRecipeArn=f"{ACCOUNT_ARN}:image-recipe/demo/1.0.0",
                          infrastructureConfigurationArn=f"{ACCOUNT_ARN}:infrastructure-configuration/infra")
    assert nxt["imageBuildVersionArn"] == f"{ACCOUNT_ARN}:image/demo/1.0.0/7"
    assert ib.get_image(imageBuildVersionArn=nxt["imageBuildVersionArn"])["image"]["state"]["reason"] == \
        "Planned before the export."


def test_rows_of_an_older_schema_revision_are_mapped_to_this_kilns(tmp_path, monkeypatch):
    """How a future revision keeps old files importing: its mapping of the rows before it."""
    with open(FIXTURES[-1], "rb") as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0])
    header["schemaRevision"] = "0004"
    old = tmp_path / "old.jsonl"
    old.write_bytes(b"\n".join([json.dumps(header).encode(), *lines[1:]]) + b"\n")

    def rename(table, row):
        if table == "resources" and row["type"] == "infrastructure-configuration" and row["name"] == "eu-infra":
            row["doc"]["description"] = "mapped from 0004"
        return table, row

    monkeypatch.setattr(portable, "REVISIONS", ("0004",) + portable.REVISIONS)
    monkeypatch.setattr(portable, "UPGRADES", {"0004": rename})
    with store("sqlite", tmp_path, "target") as (where, url):
        assert cli("import", str(old), *where).exit_code == 0
        with kiln.mock_imagebuilder(database_url=url):
            europe = clients(region="eu-west-1")
            arn = europe.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"][0]["arn"]
            got = europe.get_infrastructure_configuration(infrastructureConfigurationArn=arn)
            assert got["infrastructureConfiguration"]["description"] == "mapped from 0004"
