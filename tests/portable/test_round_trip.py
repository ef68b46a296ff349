"""Export from one kiln, import into another: every Get and List answer is the same, on
SQLite and PostgreSQL either way, and the imported state goes on as the original would
(build numbers, planned failures, client tokens, waiting steps, kiln's clock). Through the
public surface: boto3 on kiln.mock_imagebuilder, and the `kiln export` / `kiln import` commands."""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import time

import boto3
import pytest
from click.testing import CliRunner

import kiln
from kiln.cli import main
from kiln.pytest_plugin import KilnControl
from tests.portable.state import ACCOUNT, FROZEN_AT, OTHER, RELEASE, answers, build_state
from tests.support.postgres import postgres_database


def clients(account=ACCOUNT, region="us-east-1"):
    return boto3.client("imagebuilder", region_name=region, aws_access_key_id=account, aws_secret_access_key="x")


def cli(*args: str, input: str | None = None):
    """`kiln <args>` in this process, with no KILN_* setting from the environment."""
    env = {k: None for k in os.environ if k.startswith("KILN_")}
    return CliRunner().invoke(main, list(args), env=env, input=input)


@contextlib.contextmanager
def store(kind: str, tmp_path, name: str):
    """(the --data-dir/--database-url arguments, the URL) of a new store of that kind."""
    if kind == "postgres":
        with postgres_database() as url:
            yield ("--database-url", url), url
    else:
        folder = tmp_path / name
        folder.mkdir()
        yield ("--data-dir", str(folder)), f"sqlite:///{folder / 'kiln.db'}"


def everything() -> dict:
    """Every answer of the three callers build_state uses."""
    return {"main": answers(clients(), images=[RELEASE]), "other": answers(clients(OTHER)),
            "europe": answers(clients(region="eu-west-1"))}


def made(url: str) -> tuple[dict, dict]:
    """build_state in a store at `url`; (its ARNs, every answer)."""
    with kiln.mock_imagebuilder(database_url=url) as k:
        arns = build_state(clients(), KilnControl(kiln=k), other=clients(OTHER), europe=clients(region="eu-west-1"))
        return arns, everything()


@pytest.mark.parametrize("source,target", [("sqlite", "sqlite"), ("sqlite", "postgres"), ("postgres", "sqlite")])
def test_an_import_answers_every_get_and_list_as_the_export_did(source, target, tmp_path):
    path = str(tmp_path / "state.jsonl")
    with store(source, tmp_path, "source") as (where, url):
        arns, before = made(url)
        done = cli("export", *where, "-o", path)
        assert done.exit_code == 0, done.output
    assert re.fullmatch(rf"exported \d+ resources \(\d+ rows\) from .+ to {re.escape(path)}\n", done.stderr)
    with store(target, tmp_path, "target") as (where, url):
        done = cli("import", path, *where)
        assert done.exit_code == 0, done.output
        assert f"kiln's clock is frozen at {FROZEN_AT[:-1]}.000Z, as at the export" in done.stderr
        with kiln.mock_imagebuilder(database_url=url) as k:
            after = everything()
            assert after == before
            # ... and it goes on from there as the original would have.
            ib, control = clients(), KilnControl(kiln=k)
            image = ib.get_image(imageBuildVersionArn=arns["waiting"])["image"]
            assert image["state"]["status"] == "BUILDING"
            ib.send_workflow_step_action(stepExecutionId=ib.list_waiting_workflow_steps()["steps"][0]["stepExecutionId"],
                                         imageBuildVersionArn=arns["waiting"], action="RESUME")
            control.advance_clock(60)
            assert ib.get_image(imageBuildVersionArn=arns["waiting"])["image"]["state"]["status"] == "AVAILABLE"
            # Build numbers continue (3 was deleted, 6 is the pipeline's run), and the failure planned
            # before the export falls on the next build.
            nxt = ib.create_image(imageRecipeArn=arns["recipe"], infrastructureConfigurationArn=arns["infra"])
            assert nxt["imageBuildVersionArn"].endswith("/demo/1.0.0/7")
            state = ib.get_image(imageBuildVersionArn=nxt["imageBuildVersionArn"])["image"]["state"]
            assert (state["status"], state["reason"]) == ("FAILED", "Planned before the export.")
            # A client token used before the export replays its answer.
            again = ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux",
                                        data=before["main"][f"component {[arns['component']]}"]["component"]["data"],
                                        tags={"team": "platform"}, clientToken="component-token")
            assert again["componentBuildVersionArn"] == arns["component"]
            assert k.clock.frozen is not None


def _rows(path) -> list[dict]:
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.splitlines()]


def test_chosen_accounts_and_regions_only(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    made(f"sqlite:///{source / 'kiln.db'}")
    theirs, europe = str(tmp_path / "theirs.jsonl"), str(tmp_path / "europe.jsonl.gz")
    assert cli("export", "--data-dir", str(source), "--account", OTHER, "-o", theirs).exit_code == 0
    assert cli("export", "--data-dir", str(source), "--region", "eu-west-1", "-o", europe).exit_code == 0
    header, *rows, end = _rows(theirs)
    assert header["selection"] == {"accounts": [OTHER], "regions": None}
    assert {r["row"]["account"] for r in rows if r["table"] != "faults"} == {OTHER}
    # Theirs: their component, and the marks of what the main account's policies share with them.
    assert sorted(r["row"]["type"] for r in rows if r["table"] == "resources") == [
        "component", "shared-resource/component", "shared-resource/image", "shared-resource/image-recipe"]
    assert end["end"]["rows"]["faults"] == 1  # the planned failure names no account: it goes with every choice
    header, *rows, end = _rows(europe)  # gzip-compressed, by its name
    assert {(r["row"]["account"], r["row"]["region"]) for r in rows if r["table"] != "faults"} == {(ACCOUNT, "eu-west-1")}

    target = tmp_path / "target"
    target.mkdir()
    assert cli("import", theirs, "--data-dir", str(target)).exit_code == 0
    assert cli("import", europe, "--data-dir", str(target)).exit_code == 0
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{target / 'kiln.db'}"):
        assert [c["name"] for c in clients(OTHER).list_components(owner="Self")["componentVersionList"]] == ["theirs"]
        assert clients().list_components(owner="Self")["componentVersionList"] == []
        assert [c["name"] for c in clients(region="eu-west-1").list_infrastructure_configurations()[
            "infrastructureConfigurationSummaryList"]] == ["eu-infra"]


def test_a_second_import_is_refused_unless_replace_which_empties_only_the_files_accounts_and_regions(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    arns, before = made(f"sqlite:///{source / 'kiln.db'}")
    path = str(tmp_path / "main.jsonl")
    assert cli("export", "--data-dir", str(source), "--account", ACCOUNT, "--region", "us-east-1", "-o", path).exit_code == 0
    assert cli("import", path, "--data-dir", str(target)).exit_code == 0
    url = f"sqlite:///{target / 'kiln.db'}"
    with kiln.mock_imagebuilder(database_url=url):
        clients().create_component(name="added", semanticVersion="1.0.0", platform="Linux", data=before["main"][
            f"component {[arns['component']]}"]["component"]["data"])
        clients(OTHER).create_component(name="elsewhere", semanticVersion="1.0.0", platform="Linux", data=before["main"][
            f"component {[arns['component']]}"]["component"]["data"])

    again = cli("import", path, "--data-dir", str(target))
    assert again.exit_code == 1
    assert again.stderr.startswith(f"Error: {target / 'kiln.db'} holds some of the file's state already "
                                   "(arn:aws:imagebuilder:us-east-1:123456789012:component/hello/1.0.0/1, ")
    assert again.stderr.rstrip().endswith("nothing was imported. Import into another store, or add --replace to "
                                          "empty the file's accounts and Regions first.")
    assert len(again.stderr.strip().splitlines()) == 1

    replaced = cli("import", path, "--data-dir", str(target), "--replace")
    assert replaced.exit_code == 0, replaced.output
    # The store held other state (another account): kiln's clock is not set back, only moved forward.
    assert "the store holds other state" in replaced.stderr
    with kiln.mock_imagebuilder(database_url=url):
        assert answers(clients(), images=[]) == {k: v for k, v in before["main"].items() if RELEASE not in k}
        assert [c["name"] for c in clients(OTHER).list_components(owner="Self")["componentVersionList"]] == ["elsewhere"]


def test_a_running_clock_runs_on_from_the_exported_instant_and_never_goes_back_in_a_store_with_state(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{source / 'kiln.db'}") as k:
        KilnControl(kiln=k).advance_clock(30 * 86400)  # a month ahead of the real time, running
        clients().create_infrastructure_configuration(name="ours", instanceProfileName="p")
        exported_at = k.clock.now()
    path = str(tmp_path / "s.jsonl")
    assert cli("export", "--data-dir", str(source), "-o", path).exit_code == 0
    header = _rows(path)[0]
    assert header["clock"]["frozen"] is False and header["clock"]["epochSeconds"] == pytest.approx(exported_at, abs=5)
    time.sleep(0.2)
    assert cli("import", path, "--data-dir", str(target)).exit_code == 0
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{target / 'kiln.db'}") as k:
        assert k.clock.frozen is None
        assert k.clock.now() == pytest.approx(header["clock"]["epochSeconds"], abs=1)  # not 0.2 s of real time later
        KilnControl(kiln=k).advance_clock(60 * 86400)
        ahead = k.clock.now()
    replaced = cli("import", path, "--data-dir", str(target), "--replace")
    assert replaced.exit_code == 0
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{target / 'kiln.db'}") as k:
        # --replace emptied the only state there was: the file's clock again.
        assert k.clock.now() == pytest.approx(header["clock"]["epochSeconds"], abs=5)
        clients(OTHER).create_infrastructure_configuration(name="theirs", instanceProfileName="p")
        KilnControl(kiln=k).advance_clock(60 * 86400)
        ahead = k.clock.now()
    assert cli("import", path, "--data-dir", str(target), "--replace").exit_code == 0
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{target / 'kiln.db'}") as k:
        assert k.clock.now() == pytest.approx(ahead, abs=5)  # another account's state keeps its time


def test_export_to_standard_output_and_import_from_standard_input(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{source / 'kiln.db'}"):
        clients().create_infrastructure_configuration(name="piped", instanceProfileName="p")
    out = cli("export", "--data-dir", str(source))
    assert out.exit_code == 0 and out.stdout.startswith('{"format":"kiln-state","version":1,')
    assert cli("import", "-", "--data-dir", str(target), input=out.stdout).exit_code == 0
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{target / 'kiln.db'}"):
        assert [c["name"] for c in clients().list_infrastructure_configurations()[
            "infrastructureConfigurationSummaryList"]] == ["piped"]
