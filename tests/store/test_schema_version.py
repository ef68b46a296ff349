"""Schema versions (kiln/store/schema_version.py): a store written before them
(tests/store/fixtures/v0.db, made by kiln at 4be168a) opens and is read through
boto3; an upgrade runs in place; a store from a newer kiln is refused."""
from __future__ import annotations

import os
import shutil
import sqlite3
import threading

import boto3
import pytest
import sqlalchemy as sa

import kiln
from kiln import admin
from kiln.store import Store, StoreTooNew
from kiln.store import schema, schema_version
from kiln.store.schema_version import HEAD, MIGRATIONS, VERSION_TABLE, open_schema
from tests.support.postgres import postgres_database

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "v0.db")
BASE = "arn:aws:imagebuilder:us-east-1:123456789012"

# A revision after the head, as a later kiln would ship it.
NEXT = '''
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("extra", sa.Text))
    op.execute("UPDATE resources SET extra = 'moved ' || type")
'''


@pytest.fixture
def v0(tmp_path):
    path = tmp_path / "kiln.db"
    shutil.copy(FIXTURE, path)
    return str(path)


def _version(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    finally:
        conn.close()


def _client():
    return boto3.client("imagebuilder", region_name="us-east-1", aws_access_key_id="123456789012",
                        aws_secret_access_key="x")


def _read_through_boto3(url):
    with kiln.mock_imagebuilder(database_url=url, build_timing="manual") as core:
        ib = _client()
        comp = ib.get_component(componentBuildVersionArn=f"{BASE}:component/hello/1.0.0/1")["component"]
        assert comp["name"] == "hello" and comp["tags"] == {"team": "core"}
        recipe = ib.get_image_recipe(imageRecipeArn=f"{BASE}:image-recipe/demo/1.0.0")["imageRecipe"]
        assert recipe["components"] == [{"componentArn": f"{BASE}:component/hello/1.0.0/1"}]
        assert ib.get_infrastructure_configuration(
            infrastructureConfigurationArn=f"{BASE}:infrastructure-configuration/infra"
        )["infrastructureConfiguration"]["instanceProfileName"] == "EC2InstanceProfileForImageBuilder"
        assert ib.get_image(imageBuildVersionArn=f"{BASE}:image/demo/1.0.0/1")["image"]["state"] == {"status": "AVAILABLE"}
        # The build left in progress still has its timeline, and the engine moves it on.
        pending = f"{BASE}:image/demo/1.0.0/2"
        assert ib.get_image(imageBuildVersionArn=pending)["image"]["state"] == {"status": "PENDING"}
        assert admin.advance_builds(core, pending, to_end=True) == {"builds": {pending: "AVAILABLE"}}
        assert ib.get_image(imageBuildVersionArn=pending)["image"]["state"] == {"status": "AVAILABLE"}
        versions = ib.list_images()["imageVersionList"]
        assert [v["arn"] for v in versions] == [f"{BASE}:image/demo/1.0.0"]
        # New work goes on from the stored counters: the next build is number 3.
        made = ib.create_image(imageRecipeArn=recipe["arn"], infrastructureConfigurationArn=f"{BASE}:infrastructure-configuration/infra")
        assert made["imageBuildVersionArn"] == f"{BASE}:image/demo/1.0.0/3"


def test_a_store_written_before_schema_versions_opens_and_reads_through_boto3(v0):
    with pytest.raises(sqlite3.OperationalError):
        _version(v0)
    _read_through_boto3(f"sqlite:///{v0}")
    assert _version(v0) == [(HEAD,)]


def test_an_upgrade_runs_in_place_and_keeps_the_data(v0, tmp_path):
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "0099_next.py").write_text(NEXT.format(head=HEAD))
    engine = sa.create_engine(f"sqlite:///{v0}")
    assert open_schema(engine, str(location)) == "0001"
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT type, extra FROM resources ORDER BY type").fetchall()
    engine.dispose()
    assert ("component", "moved component") in rows and len(rows) == 6
    assert _version(v0) == [("0099",)]


def test_a_store_from_a_newer_kiln_is_refused(v0):
    Store(f"sqlite:///{v0}").close()
    conn = sqlite3.connect(v0)
    conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreTooNew) as e:
        Store(f"sqlite:///{v0}")
    assert str(e.value) == (
        f"the store sqlite:///{v0} was written by a newer kiln (schema revision 0099; this kiln knows revisions "
        f"up to {HEAD}): upgrade kiln (pip install -U kiln) to open it.")
    assert _version(v0) == [("0099",)]  # untouched


def _differences(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), schema.metadata)


def test_every_way_to_the_head_gives_the_schema_of_schema_py(v0, tmp_path):
    """A stamped old store, a store migrated from nothing by the revisions, and a new
    store (create_all) all equal kiln/store/schema.py."""
    from alembic import command

    Store(f"sqlite:///{v0}").close()
    scratch = sa.create_engine(f"sqlite:///{tmp_path}/scratch.db")
    with scratch.begin() as conn:
        cfg = schema_version._config(MIGRATIONS)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    new = Store(f"sqlite:///{tmp_path}/new.db")
    for engine in (sa.create_engine(f"sqlite:///{v0}"), scratch, new.engine):
        assert _differences(engine) == []
    new.close()


def test_head_names_the_newest_revision():
    assert schema_version.head() == HEAD


def test_processes_opening_an_old_store_at_once_upgrade_it_once(v0):
    stores, errors = [], []
    barrier = threading.Barrier(4)

    def open_it():
        try:
            barrier.wait()
            stores.append(Store(f"sqlite:///{v0}"))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert _version(v0) == [(HEAD,)]
    for s in stores:
        s.close()


# -- PostgreSQL (skipped when none answers) -----------------------------------

def _copy_v0_to(url):
    """What kiln at 4be168a would have left in PostgreSQL: its tables (create_all, no
    version table) holding the fixture's rows."""
    source = sa.create_engine(f"sqlite:///{FIXTURE}")
    target = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    old = sa.MetaData()  # the tables as that kiln had them, not as today's schema.py has them
    old.reflect(source)
    old.create_all(target)
    with source.connect() as src, target.begin() as dst:
        for table in old.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(table.select())]
            if rows:
                dst.execute(table.insert(), rows)
    source.dispose()
    return target


def test_postgresql_a_store_written_before_schema_versions_opens_and_reads_through_boto3():
    with postgres_database() as url:
        target = _copy_v0_to(url)
        _read_through_boto3(url)
        with target.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [(HEAD,)]
            conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '0099'")
            conn.commit()
        assert _differences(target) == []
        target.dispose()
        with pytest.raises(StoreTooNew) as e:
            Store(url)
        assert str(e.value).startswith(f"the store postgresql+psycopg://{url.split('://', 1)[1]} was written by a newer "
                                       "kiln (schema revision 0099;")


def test_postgresql_replicas_starting_at_once_on_a_new_database():
    with postgres_database() as url:
        stores, errors = [], []
        barrier = threading.Barrier(4)

        def open_it():
            try:
                barrier.wait()
                stores.append(Store(url))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        with stores[0].engine.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [(HEAD,)]
        assert len({s.secret for s in stores}) == 1
        for s in stores:
            s.close()
