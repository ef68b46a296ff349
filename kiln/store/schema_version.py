"""Schema versions: a store records the revision of its schema, and opening it
brings it up to this kiln's, or refuses it if a newer kiln wrote it.

The revisions are Alembic migrations shipped in kiln/store/migrations/ and run
in code (Alembic's documented "share a connection" recipe: no alembic.ini). Alembic
rather than something smaller because later changes will need what it already
does well: SQLite's copy-and-move ALTER TABLE ("batch" mode), one script per
revision with a clear order, and a schema comparison (tests/store/test_schema_version.py
checks a migrated store against kiln/store/schema.py).

Opening a store, in one transaction that holds the store's write lock for the
whole check-and-upgrade (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-level
advisory lock), so two processes starting at once upgrade it once:

- the version table (kiln_schema_version) names this kiln's head: nothing to do;
- it names an older revision this kiln knows: upgrade to the head;
- it names a revision this kiln does not know: StoreTooNew;
- there is no version table but kiln's tables are there: a store written before
  schema versions (the baseline, revision 0001): stamp it 0001, then upgrade;
- nothing at all: a new store, made from kiln/store/schema.py (create_all) and
  stamped with the head, Alembic's recipe for a new database: five times
  cheaper than running every revision, which matters to the in-process mock
  (a new store per activation). The test above keeps the two equal.

DDL is transactional on both SQLite and PostgreSQL, so a failed upgrade leaves the
store as it was.
"""
from __future__ import annotations

import functools
import os

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

VERSION_TABLE = "kiln_schema_version"
BASELINE = "0001"
# The newest revision in migrations/versions/ (a test keeps them equal). A store
# already there is opened with one plain SELECT: Alembic is imported (0.15 s)
# only when there is something to do.
HEAD = "0006"
MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
# pg_advisory_xact_lock key: "kiln" in ASCII. Held until the opening transaction ends.
_ADVISORY_LOCK = 0x6B696C6E


class StoreTooNew(Exception):
    """The store was written by a newer kiln: this one cannot know its schema."""


def _config(location: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", location)
    return cfg


@functools.lru_cache(maxsize=None)
def _script(location: str):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(location))


def head(location: str = MIGRATIONS) -> str:
    return _script(location).get_current_head()


def current(conn: Connection) -> str | None:
    """The revision a store records, or None (no version table, or an empty one)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def open_schema(engine: Engine, location: str = MIGRATIONS, defaults: dict | None = None) -> str:
    """Bring the store's schema to this kiln's head (see the module docstring);
    returns the revision it had before (None: a new store). `defaults`: settings
    rows (key -> function making the value) to add if missing, in the same
    transaction, so processes starting at once agree on one value."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # READ COMMITTED (the store's own transactions run REPEATABLE READ): after
            # waiting for the lock, see what the process that held it created.
            conn.execution_options(isolation_level="READ COMMITTED")
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%d)" % _ADVISORY_LOCK)
        try:
            before = _upgrade(conn, location, engine)
            _ensure_settings(conn, defaults or {})
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return before


def _ensure_settings(conn: Connection, defaults: dict) -> None:
    from kiln.store.schema import settings

    have = {r[0] for r in conn.execute(sa.select(settings.c.key).where(settings.c.key.in_(list(defaults))))}
    for key, make in defaults.items():
        if key not in have:
            conn.execute(settings.insert().values(key=key, value=make()))


def _upgrade(conn: Connection, location: str, engine: Engine) -> str | None:
    tables = set(sa.inspect(conn).get_table_names())
    if VERSION_TABLE in tables and location == MIGRATIONS:
        found = [r[0] for r in conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")]
        if found == [HEAD]:
            return HEAD
    from alembic import command
    from alembic.util import CommandError

    script = _script(location)
    target = script.get_current_head()
    before = current(conn)
    if before is None and "resources" in tables:
        before = BASELINE  # written before schema versions
        stamp = True
    else:
        stamp = False
    if before is not None:
        try:
            known = script.get_revision(before) is not None
        except CommandError:
            known = False
        if not known:
            where = engine.url.render_as_string(hide_password=True)
            raise StoreTooNew(
                f"the store {where} was written by a newer kiln (schema revision {before}; this kiln "
                f"knows revisions up to {target}): upgrade kiln (pip install -U kiln) to open it."
            )
        if before == target and not stamp:
            return before
    if not tables:
        from alembic.runtime.migration import MigrationContext

        from kiln.store.schema import metadata

        metadata.create_all(conn)
        MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).stamp(script, target)
        return None
    cfg = _config(location)
    cfg.attributes["connection"] = conn
    if stamp:
        command.stamp(cfg, BASELINE)
    command.upgrade(cfg, "head")
    return before
