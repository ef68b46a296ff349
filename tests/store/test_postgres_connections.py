"""PostgreSQL without pre-ping: reads run on a connection each thread keeps (AUTOCOMMIT),
writes on pooled ones. When the server drops them (a restart, an idle timeout,
pg_terminate_backend), the next request still answers: the failed statement's work
runs again on a new connection (Store.run)."""
from __future__ import annotations

import uuid

import psycopg
import pytest

import kiln
from tests.support.postgres import SERVER, postgres_database

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def pg_kiln():
    with postgres_database() as url, kiln.mock_imagebuilder(database_url=url) as core:
        yield core, url.rsplit("/", 1)[1]


def _terminate_backends(database: str) -> int:
    with psycopg.connect(SERVER, autocommit=True) as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall()
    return len(rows)


def test_requests_answer_after_the_server_drops_every_connection(pg_kiln):
    import boto3

    core, database = pg_kiln
    ib = boto3.client("imagebuilder", region_name="us-east-1", aws_access_key_id="123456789012",
                      aws_secret_access_key="x")
    arn = ib.create_infrastructure_configuration(name=f"n-{uuid.uuid4().hex[:8]}",
                                                 instanceProfileName="p")["infrastructureConfigurationArn"]
    assert ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)["infrastructureConfiguration"]["arn"] == arn
    assert _terminate_backends(database) >= 1  # the read connection kept by this thread, at least
    # A read, then a write, each on a connection that is gone: both answer.
    got = ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)["infrastructureConfiguration"]
    assert got["arn"] == arn
    _terminate_backends(database)
    ib.tag_resource(resourceArn=arn, tags={"after": "restart"})
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"after": "restart"}


def test_reads_see_commits_at_once_without_a_transaction_left_open(pg_kiln):
    """The read connection runs in AUTOCOMMIT: no snapshot is held between requests
    (a held one would hide other replicas' commits and block VACUUM)."""
    import boto3

    core, database = pg_kiln
    ib = boto3.client("imagebuilder", region_name="us-east-1", aws_access_key_id="123456789012",
                      aws_secret_access_key="x")
    name = f"n-{uuid.uuid4().hex[:8]}"
    arn = ib.create_infrastructure_configuration(name=name, instanceProfileName="p")["infrastructureConfigurationArn"]
    ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)
    with psycopg.connect(SERVER.rsplit("/", 1)[0] + "/" + database, autocommit=True) as other:
        other.execute("UPDATE resources SET doc = jsonb_set(doc::jsonb, '{description}', '\"changed elsewhere\"')::text "
                      "WHERE arn = %s", (arn,))
        states = other.execute("SELECT state FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                               (database,)).fetchall()
    assert all(s[0] != "idle in transaction" for s in states), states
    got = ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)["infrastructureConfiguration"]
    assert got["description"] == "changed elsewhere"
