"""`kiln serve --seed FILE` (KILN_SEED): a CI job's kiln starts warm. The file is imported when
the store is empty (new, or reset), and left alone when the store has state."""
from __future__ import annotations

import boto3
import pytest

import kiln
from tests.portable.state import RELEASE, answers
from tests.portable.test_format import FIXTURES
from tests.portable.test_round_trip import cli, store
from tests.support.server import KilnServer

FIXTURE = FIXTURES[-1]


def client(server, account="123456789012", region="us-east-1"):
    return boto3.client("imagebuilder", region_name=region, endpoint_url=server.url, aws_access_key_id=account,
                        aws_secret_access_key="x")


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """The fixture's answers, imported in-process."""
    with store("sqlite", tmp_path_factory.mktemp("expected"), "s") as (where, url):
        assert cli("import", FIXTURE, *where).exit_code == 0
        with kiln.mock_imagebuilder(database_url=url):
            return answers(boto3.client("imagebuilder", region_name="us-east-1"), images=[RELEASE])


@pytest.mark.parametrize("kind", ["in-memory", "postgres"])
def test_a_seeded_server_answers_as_the_file_did(kind, expected, tmp_path):
    with store("postgres", tmp_path, "pg") if kind == "postgres" else _nothing() as (where, _url):
        server = KilnServer(*(where or ("--in-memory",)), "--build-timing", "immediate", "--seed", FIXTURE).start()
        try:
            assert answers(client(server), images=[RELEASE]) == expected
            assert f"INFO kiln: seeded the store from {FIXTURE}: " in server.log()
            assert "kiln's clock is frozen at 2027-03-01T09:00:00.000Z, as at the export" in server.log()
            server.reset()  # POST /_kiln/reset empties it: the seed is not imported again until a restart
            assert client(server).list_images(owner="Self")["imageVersionList"] == []
        finally:
            server.stop()


class _nothing:
    def __enter__(self):
        return None, None

    def __exit__(self, *exc):
        return False


def test_a_store_with_state_is_not_seeded_again(tmp_path):
    data = tmp_path / "data"
    first = KilnServer("--data-dir", str(data), env={"KILN_SEED": FIXTURE}).start()
    try:
        assert "INFO kiln: seeded the store from" in first.log()  # by KILN_SEED
        client(first).create_infrastructure_configuration(name="made-after", instanceProfileName="p")
    finally:
        first.stop()
    again = KilnServer("--data-dir", str(data), "--seed", FIXTURE).start()
    try:
        names = [c["name"] for c in client(again).list_infrastructure_configurations()[
            "infrastructureConfigurationSummaryList"]]
        assert names == ["infra", "made-after"]
        assert (f"INFO kiln: the store holds state already: --seed {FIXTURE} was not imported (it seeds an empty "
                "store only)") in again.log()
    finally:
        again.stop()


def test_workers_starting_together_seed_the_store_once(tmp_path):
    server = KilnServer("--data-dir", str(tmp_path / "data"), "--workers", "2", "--seed", FIXTURE).start()
    try:
        for _ in range(4):  # whichever worker answers
            assert len(client(server).list_images(owner="Self")["imageVersionList"]) == 1
        log = server.log()
        assert log.count("seeded the store from") == 1, log
    finally:
        server.stop()
