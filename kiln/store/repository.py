"""The repository: one transaction per API request, rows in and out as plain data.

SQLite (default, WAL) and PostgreSQL share this code; the few dialect differences
(how a write transaction starts, upserts) are isolated in small functions below.
"""
from __future__ import annotations

import os
import secrets
import threading
import time
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import Iterator

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from kiln.store import wal_index
from kiln.store.document_cache import DocumentCache
from kiln.store.schema_version import open_schema
from kiln.store.snapshot_reader import SnapshotReader
from kiln.store.wal_index import HEADER_BYTES
from kiln.store.schema import counters, execution_keys, faults, idempotency, references, resources, settings

MAX_NODE = 2**30 - 1  # a semantic-version node's maximum, per the model docs
DUE_CACHE_SECONDS = 0.05


def sort_key(name_key: str, major: int = 0, minor: int = 0, patch: int = 0, build: int = 0) -> str:
    """Ascending order of this string = by name, then version and build ascending: the
    order of AWS's List* responses; *BuildVersions lists walk it backwards (newest
    first). Revision 0002 rewrote older stores' keys to this form."""
    return f"{name_key} {major:010d}.{minor:010d}.{patch:010d}.{build:010d}"


def name_end(name_key: str) -> str:
    """A key after every row of `name_key` and before the next name's rows."""
    return f"{name_key} ~"


def version_of_key(key: str) -> str:
    """What the sort keys of one version's builds share: all but the build's ten digits.
    The version's rows are the keys from it up to it + "~" (after every build of the
    version, before the next version's)."""
    return key[:-10]


def _earlier(a: float | None, b: float | None) -> float | None:
    """The earlier of two times, either of which may be None (nothing)."""
    return a if b is None or (a is not None and a <= b) else b


class Row:
    """One stored resource: its API document and the columns queries use.

    A row read from the store keeps its document as JSON text and parses it only
    when `doc` is used, so a read that serves the stored text parses nothing."""

    __slots__ = ("arn", "type", "name_key", "name", "_doc", "doc_text", "major", "minor", "patch", "build",
                 "status", "created", "content_hash", "next_due", "_timeline", "timeline_text", "sort_key")

    def __init__(self, arn: str, type: str, name_key: str, name: str, doc: dict | None = None,  # noqa: A002
                 major: int = 0, minor: int = 0, patch: int = 0, build: int = 0, status: str | None = None,
                 created: float = 0.0, content_hash: str | None = None, next_due: float | None = None,
                 timeline: dict | None = None, sort_key: str = "", doc_text: str | None = None,
                 timeline_text: str | None = None):
        self.arn, self.type, self.name_key, self.name = arn, type, name_key, name
        self._doc, self.doc_text = doc, doc_text
        self.major, self.minor, self.patch, self.build = major, minor, patch, build
        self.status, self.created, self.content_hash = status, created, content_hash
        self.next_due, self.sort_key = next_due, sort_key
        self._timeline, self.timeline_text = timeline, timeline_text

    @property
    def doc(self) -> dict:
        if self._doc is None:
            self._doc = orjson.loads(self.doc_text)
        return self._doc

    @doc.setter
    def doc(self, value: dict) -> None:
        self._doc = value

    @property
    def timeline(self) -> dict | None:
        """The engine's plan (a build's, a pipeline's book...), parsed when first used:
        a list page reads many rows and looks at the plans of none."""
        if self._timeline is None and self.timeline_text:
            self._timeline = orjson.loads(self.timeline_text)
        return self._timeline

    @timeline.setter
    def timeline(self, value: dict | None) -> None:
        self._timeline, self.timeline_text = value, None

    def stored_timeline(self) -> str | None:
        if self._timeline is None:
            return self.timeline_text or None
        return orjson.dumps(self._timeline).decode()

    def stored_json(self) -> str:
        """The document as JSON text: as read, unless it was used (and so may have changed)."""
        if self._doc is None and self.doc_text is not None:
            return self.doc_text
        return orjson.dumps(self.doc).decode()

    @property
    def version(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


_COLUMNS = (
    resources.c.arn, resources.c.type, resources.c.name_key, resources.c.name, resources.c.doc,
    resources.c.major, resources.c.minor, resources.c.patch, resources.c.build, resources.c.status,
    resources.c.created, resources.c.content_hash, resources.c.next_due, resources.c.timeline,
    resources.c.sort_key,
)


# Every statement a request makes runs as SQL text on the driver's own connection:
# building and compiling a SQLAlchemy statement costs several times the statement
# itself (a CreateImage made 26 of them: 9 ms of its 12). SQLAlchemy still owns the
# transaction around them. Written with "?" and turned into "%s" for psycopg.
_COLUMN_NAMES = [c.name for c in _COLUMNS]
_SELECT = f"SELECT {', '.join(_COLUMN_NAMES)} FROM resources"
_SCOPE = "account = ? AND region = ?"
# Rows of every account and region, each led by its scope (admin routes, due work).
_SELECT_ANY_SCOPE = f"SELECT account, region, {', '.join(_COLUMN_NAMES)} FROM resources"
_DELETE = f"DELETE FROM resources WHERE {_SCOPE} AND arn = ?"
_DELETE_REFERENCES = f'DELETE FROM "references" WHERE {_SCOPE} AND from_arn = ?'
# The primary key's columns only: with the secondary indexes led by type (revision 0005),
# no other index fits, so the plan cannot go wrong without statistics.
_RAW_GET = f"{_SELECT} WHERE {_SCOPE} AND arn = ?"
_RAW_DOC = "SELECT {doc}, type FROM resources WHERE account = ? AND region = ? AND arn = ?"
# As bytes (a BLOB cast): the fast path writes them into the response as they are.
_SQLITE_DOC = _RAW_DOC.format(doc="CAST(doc AS BLOB)")
_INSERT = (f"INSERT INTO resources (account, region, {', '.join(_COLUMN_NAMES)}) "
           f"VALUES (?, ?, {', '.join('?' for _ in _COLUMN_NAMES)})")
_INSERT_IF_ABSENT = _INSERT + " ON CONFLICT DO NOTHING"
_UPDATE = (f"UPDATE resources SET {', '.join(c + ' = ?' for c in _COLUMN_NAMES if c != 'arn')} "
           f"WHERE {_SCOPE} AND arn = ?")
_NEXT_NUMBER = ("INSERT INTO counters (account, region, scope, value) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (account, region, scope) DO UPDATE SET value = counters.value + 1 RETURNING value")
_SQL: dict[tuple[str, str], str] = {}
# A PostgreSQL write transaction's own BEGIN (see Store.transaction): REPEATABLE READ, so that
# replicas sharing the database never silently overwrite each other's changes.
_PG_BEGIN = b"BEGIN ISOLATION LEVEL REPEATABLE READ"
_PG_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE, named without importing psycopg


def _sql(dialect: str, text: str) -> str:
    """`text` in the dialect's parameter style (kiln runs on SQLite or PostgreSQL only)."""
    key = (dialect, text)
    sql = _SQL.get(key)
    if sql is None:
        sql = _SQL[key] = text if dialect == "sqlite" else text.replace("?", "%s")
    return sql


_new_object = object.__new__


def _row(r) -> Row:
    """A Row from a result row in _COLUMNS order. Filled slot by slot from the tuple: a call
    with 15 keywords took 1 µs of the 6 µs a list spends per entry; this takes 0.2."""
    row = _new_object(Row)
    (row.arn, row.type, row.name_key, row.name, row.doc_text, row.major, row.minor, row.patch, row.build,
     row.status, row.created, row.content_hash, row.next_due, row.timeline_text, row.sort_key) = r
    row._doc = None
    row._timeline = None
    return row


# sort_key starts with name_key + " ": bound it, so one name's rows are a range of
# ix_resources_list (a scan of that name only) instead of a filter over every row of the type.
_NAME_RANGE = "name_key = ? AND sort_key >= ? AND sort_key < ?"


def _name_args(name_key: str) -> tuple:
    return (name_key, name_key + " ", name_key + "!")


class Tx:
    """One request's view of the store, scoped to the caller's account and region."""

    def __init__(self, conn: Connection, account: str, region: str, shape=None, root: "Tx | None" = None):
        self.conn = conn
        self.account = account
        self.region = region
        self.shape = shape  # Store.shape: the document filter of a row type, or None
        self._driver = conn.connection.driver_connection
        self._dialect = conn.dialect.name
        # What the transaction wrote, counted on its first Tx (scoped views share it): rows
        # added (Store keeps PostgreSQL's statistics fresh by them) and the earliest next_due.
        self._root = root if root is not None else self
        self.inserted = 0
        self.earliest_written: float | None = None
        self._ahead: dict = {}  # (account, region, arn) -> the cursor of a prefetched get (root only)

    def _run(self, text: str, args: tuple = ()):
        ahead = self._root._ahead
        if ahead and not text.startswith("SELECT"):
            ahead.clear()  # prefetched answers hold until the transaction's next write
        return self._driver.execute(_sql(self._dialect, text), args)

    def _run_many(self, text: str, rows: list[tuple]) -> None:
        """One statement for each of `rows` (an executemany: one call into the driver)."""
        if rows:
            self._root._ahead.clear()
            self._driver.cursor().executemany(_sql(self._dialect, text), rows)

    def _rows(self, text: str, args: tuple) -> list[Row]:
        return [_row(r) for r in self._run(text, args).fetchall()]

    def scoped(self, account: str, region: str) -> "Tx":
        """The same transaction, scoped to another account and region."""
        return Tx(self.conn, account, region, self.shape, self._root)

    def of(self, account: str) -> "Tx":
        """The same transaction, scoped to another account in this region (the
        AWS-managed resources kiln keeps under the account `aws`)."""
        return self.scoped(account, self.region)

    # -- resources -------------------------------------------------------
    def prefetch(self, arns) -> None:
        """Ask for these rows now without waiting for them; get() takes the answer (until
        the transaction's next write). On PostgreSQL they travel with the next statement
        that waits (Store.transaction's pipeline): a CreateImage's recipe, configuration
        and idempotency lookups cost one round trip, not three. On SQLite a read costs no
        round trip: nothing to do."""
        if self._dialect == "sqlite" or not _pipelines():
            return
        ahead = self._root._ahead
        for arn in arns:
            key = (self.account, self.region, arn)
            if key not in ahead:
                ahead[key] = self._run(_RAW_GET, key)

    def get(self, arn: str, type_: str | None = None) -> Row | None:
        key = (self.account, self.region, arn)
        ahead = self._root._ahead
        cursor = ahead.pop(key, None) if ahead else None
        r = (cursor if cursor is not None else self._run(_RAW_GET, key)).fetchone()
        if r is None or (type_ is not None and r[1] != type_):
            return None
        return _row(r)

    def doc_text(self, arn: str, type_: str) -> str | None:
        """Only the stored document of one row: what a Get that serves it as stored needs."""
        r = self._run(_RAW_DOC.format(doc="doc"), (self.account, self.region, arn)).fetchone()
        return r[0] if r is not None and r[1] == type_ else None

    def _wrote_due(self, next_due: float | None) -> None:
        self._root.earliest_written = _earlier(self._root.earliest_written, next_due)

    def insert(self, row: Row, statement: str = _INSERT) -> None:
        self._run(statement, (self.account, self.region) + self._values(row))
        self._root.inserted += 1
        self._wrote_due(row.next_due)

    def insert_if_absent(self, row: Row) -> None:
        """Insert the row unless one with its ARN exists: a write with no read before it
        (on PostgreSQL, sent without waiting, as the transaction's other writes)."""
        self.insert(row, _INSERT_IF_ABSENT)

    def insert_many(self, rows: list[Row]) -> None:
        """Several rows in one statement execution."""
        self._run_many(_INSERT, [(self.account, self.region) + self._values(r) for r in rows])
        self._root.inserted += len(rows)
        for r in rows:
            self._wrote_due(r.next_due)

    def save(self, row: Row) -> None:
        """Write back a row read in this transaction (document, status, engine columns)."""
        values = self._values(row)
        self._run(_UPDATE, values[1:] + (self.account, self.region, row.arn))
        self._wrote_due(row.next_due)

    def delete(self, arn: str) -> None:
        self._run(_DELETE, (self.account, self.region, arn))
        self._run(_DELETE_REFERENCES, (self.account, self.region, arn))

    def delete_many(self, arns: list[str]) -> None:
        """Several rows (and what they referenced) in one statement execution each."""
        args = [(self.account, self.region, arn) for arn in arns]
        self._run_many(_DELETE, args)
        self._run_many(_DELETE_REFERENCES, args)

    def _values(self, row: Row) -> tuple:
        """The row's columns in _COLUMNS order, as stored."""
        return (
            row.arn, row.type, row.name_key, row.name, self._stored_doc(row),
            row.major, row.minor, row.patch, row.build, row.status, row.created, row.content_hash,
            row.next_due, row.stored_timeline(),
            row.sort_key or sort_key(row.name_key, row.major, row.minor, row.patch, row.build),
        )

    def _stored_doc(self, row: Row) -> str:
        """The document as stored: filtered by the shape the layer above gives for its
        type (so Gets can serve the stored text as it is), else as it is."""
        keep = self.shape(row.type) if self.shape is not None else None
        if keep is None:
            return row.stored_json()
        return orjson.dumps(keep(row.doc)).decode()

    def _matching(self, type_: str, name_key: str, major, minor, patch, status) -> tuple[str, tuple]:
        sql = f"{_SELECT} WHERE {_SCOPE} AND type = ? AND {_NAME_RANGE}"
        # The leading version nodes given narrow the key range to theirs (sort keys spell
        # them out), so asking for a version that does not exist yet reads no row of the
        # name's other versions.
        prefix = name_key + " "
        for v in (major, minor, patch):
            if v is None:
                break
            prefix += f"{v:010d}."
        args = (self.account, self.region, type_, name_key, prefix, prefix + "~")
        for col, v in (("major", major), ("minor", minor), ("patch", patch)):
            if v is not None:
                sql += f" AND {col} = ?"
                args += (v,)
        if status is not None:
            sql += " AND status = ?"
            args += (status,)
        # Newest first, by sort_key: within one name it orders as (major, minor, patch, build)
        # does, and it is the index's own order, so LIMIT 1 reads one row. (Ordering by the
        # version columns made SQLite read every row of the name's range and sort them: a
        # CreateComponent slowed from 0.5 to 3 ms as one name reached 3,000 versions.)
        return sql + " ORDER BY sort_key DESC", args

    def versions(self, type_: str, name_key: str, major=None, minor=None, patch=None, status=None) -> list[Row]:
        """Rows of one name, newest first; None nodes are wildcards."""
        return self._rows(*self._matching(type_, name_key, major, minor, patch, status))

    def latest(self, type_: str, name_key: str, major=None, minor=None, patch=None, status=None) -> Row | None:
        sql, args = self._matching(type_, name_key, major, minor, patch, status)
        r = self._run(sql + " LIMIT 1", args).fetchone()
        return _row(r) if r else None

    def page(self, type_: str, after: str | None, limit: int, name: str | None = None,
             name_key: str | None = None, descending: bool = False) -> list[Row]:
        """Keyset page in list order (or backwards): never an OFFSET scan."""
        sql = f"{_SELECT} WHERE {_SCOPE} AND type = ?"
        args: tuple = (self.account, self.region, type_)
        if after is not None:
            sql += " AND sort_key < ?" if descending else " AND sort_key > ?"
            args += (after,)
        if name is not None:
            sql += " AND name = ?"
            args += (name,)
        if name_key is not None:
            sql += f" AND {_NAME_RANGE}"
            args += _name_args(name_key)
        sql += (" ORDER BY sort_key DESC" if descending else " ORDER BY sort_key") + " LIMIT ?"
        return self._rows(sql, args + (limit,))

    def last_in_ranges(self, type_: str, ranges: list[tuple[str, str]]) -> list[Row]:
        """For each [low, high) range of sort keys, its last row of this type (the newest
        build of a version, the newest version of a name), in one statement: a list page
        of 25 versions asks this once instead of 25 times. A range with no row is left out."""
        found: list[Row] = []
        one = (f"SELECT * FROM ({_SELECT} WHERE type = ? AND {_SCOPE} AND sort_key >= ? AND sort_key < ? "
               "ORDER BY sort_key DESC LIMIT 1) AS r{i}")
        for start in range(0, len(ranges), 100):  # (SQLite allows 500 terms in a compound SELECT)
            part = ranges[start:start + 100]
            sql = " UNION ALL ".join(one.format(i=i) for i in range(len(part)))
            args = tuple(a for low, high in part for a in (type_, self.account, self.region, low, high))
            by_key = {r[14]: _row(r) for r in self._run(sql, args).fetchall()}
            # The answer's order is not promised: put the rows back in the ranges' order.
            for low, high in part:
                row = next((r for k, r in by_key.items() if low <= k < high), None)
                if row is not None:
                    found.append(row)
        return found

    def rows_of_scope(self, limit: int) -> list[Row]:
        """Every row of this account and region (of any type), up to `limit`, in list order
        within each type: for a small scope read whole (the AWS-managed releases)."""
        return self._rows(f"{_SELECT} WHERE {_SCOPE} ORDER BY type, sort_key LIMIT ?",
                          (self.account, self.region, limit))

    def with_status(self, type_: str, status: str) -> list[Row]:
        """This scope's rows of one type in one status (e.g. the builds in progress)."""
        return self._rows(f"{_SELECT} WHERE {_SCOPE} AND type = ? AND status = ?",
                          (self.account, self.region, type_, status))

    def exists_type(self, type_: str, name_key: str) -> bool:
        sql = f"SELECT arn FROM resources WHERE {_SCOPE} AND type = ? AND {_NAME_RANGE} LIMIT 1"
        return self._run(sql, (self.account, self.region, type_) + _name_args(name_key)).fetchone() is not None

    # -- counters --------------------------------------------------------
    def next_number(self, scope: str) -> int:
        """Next value of a monotonic counter (build numbers). Gap-free under concurrency:
        the row is created or locked by an upsert inside this write transaction."""
        return self._run(_NEXT_NUMBER, (self.account, self.region, scope)).fetchone()[0]

    # -- references ------------------------------------------------------
    def add_references(self, from_arn: str, to_arns) -> None:
        self._run_many('INSERT INTO "references" (account, region, from_arn, to_arn) VALUES (?, ?, ?, ?)',
                       [(self.account, self.region, from_arn, a) for a in sorted(set(to_arns))])

    def set_references(self, from_arn: str, to_arns) -> None:
        """What `from_arn` uses is now `to_arns` (an update that changes them)."""
        self._run(_DELETE_REFERENCES, (self.account, self.region, from_arn))
        self.add_references(from_arn, to_arns)

    def referrers(self, to_arn: str) -> list[str]:
        sql = f'SELECT from_arn FROM "references" WHERE {_SCOPE} AND to_arn = ?'
        return [r[0] for r in self._run(sql, (self.account, self.region, to_arn)).fetchall()]

    # -- execution keys: a build's workflow execution and step ids -> the build -----
    def add_execution_key(self, key: str, build_arn: str) -> None:
        self._run("INSERT INTO execution_keys (account, region, key, image_build_version_arn) VALUES (?, ?, ?, ?)",
                  (self.account, self.region, key, build_arn))

    def execution_key_build(self, key: str) -> str | None:
        r = self._run(f"SELECT image_build_version_arn FROM execution_keys WHERE {_SCOPE} AND key = ?",
                      (self.account, self.region, key)).fetchone()
        return r[0] if r is not None else None

    def delete_execution_keys(self, keys: list[str]) -> None:
        self._run_many(f"DELETE FROM execution_keys WHERE {_SCOPE} AND key = ?",
                       [(self.account, self.region, key) for key in keys])

    # -- idempotency -----------------------------------------------------
    def idempotent_get(self, operation: str, token: str) -> tuple[str, dict] | None:
        sql = f"SELECT request_hash, response FROM idempotency WHERE {_SCOPE} AND operation = ? AND token = ?"
        r = self._run(sql, (self.account, self.region, operation, token)).fetchone()
        return (r[0], orjson.loads(r[1])) if r else None

    def idempotent_put(self, operation: str, token: str, request_hash: str, response: dict, now: float) -> None:
        self._run("INSERT INTO idempotency (account, region, operation, token, request_hash, response, created) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (self.account, self.region, operation, token, request_hash, orjson.dumps(response).decode(), now))

    def everywhere(self, type_: str, arn: str | None = None, statuses=None) -> list[tuple["Tx", Row]]:
        """Rows of one type in every account and region (one ARN's, and only in
        `statuses`, when given), each with a Tx scoped to its own account and region
        (kiln's admin routes act across accounts)."""
        sql = f"{_SELECT_ANY_SCOPE} WHERE type = ?"
        args: tuple = (type_,)
        if arn is not None:
            sql += " AND arn = ?"
            args += (arn,)
        if statuses is not None:
            statuses = tuple(statuses)
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            args += statuses
        return [(self.scoped(r[0], r[1]), _row(r[2:])) for r in self._run(sql, args).fetchall()]

    # -- faults (admin) --------------------------------------------------
    def plan_fault(self, state: str, reason: str, account: str | None, region: str | None, step: str | None = None,
                   component: dict | None = None) -> None:
        """A failure for the next build created (in that account and region, when given)."""
        self._run("INSERT INTO faults (account, region, image_arn, state, reason, step, component) "
                  "VALUES (?, ?, NULL, ?, ?, ?, ?)",
                  (account, region, state, reason, step, orjson.dumps(component).decode() if component else None))

    def take_fault(self, image_arn: str) -> tuple[str, str, str | None, dict | None] | None:
        """The failure planned for this build: one aimed at it, else the next-build one:
        (state, reason, step or None, component phase or None)."""
        # One statement asked of every build: aimed-at-it first, then the oldest.
        sql = ("SELECT id, state, reason, step, component FROM faults "
               "WHERE (image_arn = ? OR image_arn IS NULL) AND (account IS NULL OR account = ?) "
               "AND (region IS NULL OR region = ?) ORDER BY image_arn IS NULL, id LIMIT 1")
        r = self._run(sql, (image_arn, self.account, self.region)).fetchone()
        if r is None:
            return None
        self._run("DELETE FROM faults WHERE id = ?", (r[0],))
        return r[1], r[2], r[3], orjson.loads(r[4]) if r[4] else None


# The tables of an account's and Region's state (not settings), in export order: faults
# last (kiln/portable.py's file lists them so; a new table goes before faults).
_KEPT = (resources, counters, references, idempotency, execution_keys, faults)
DOCUMENT_CACHE_BYTES = 64 << 20
# The earliest due piece of work. "IS NOT NULL" lets the index seek past the rows
# with nothing due (every finished build) instead of stepping over them.
_EARLIEST_DUE = "SELECT next_due FROM resources WHERE next_due IS NOT NULL ORDER BY next_due LIMIT 1"
# The deployment's clock (kiln/engine/clock.py): a settings row every process reads.
CLOCK_KEY = "clock"
_CLOCK_SQL = "SELECT value FROM settings WHERE key = ?"


def _merged_due(known: tuple[float | None, float] | None, written: float | None):
    """The due cache after a write: `known` (earliest, when asked) with the write's own
    earliest next_due folded in; nothing known stays unknown."""
    if known is None:
        return None
    earliest, asked = known
    return _earlier(earliest, written), asked


def _clock_text(offset: float, frozen: float | None) -> str:
    return orjson.dumps({"offset": offset, "frozen": frozen}).decode()


def _clock_state(text: str | None) -> tuple[float, float | None]:
    if not text:
        return 0.0, None
    value = orjson.loads(text)
    return float(value["offset"]), value["frozen"]


class Statistics:
    """PostgreSQL's planner statistics, kept fresh by kiln itself: autovacuum may be off,
    and it analyzes a table only a minute or more after 10% of it changed, while a CI
    job fills a store in seconds. After every ANALYZE_AFTER rows this process added
    (and a fifth of the table's size, once it is larger), ANALYZE runs on a thread of
    its own: no request waits for it. Also once at start when the table has rows and was never analyzed."""

    ANALYZE_AFTER = 1000

    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = threading.Lock()
        self._added = 0
        self._threshold = self.ANALYZE_AFTER
        self._running = False
        try:
            with engine.connect() as conn:
                never = conn.exec_driver_sql(
                    "SELECT last_analyze IS NULL AND last_autoanalyze IS NULL AND n_live_tup > 0 "
                    "FROM pg_stat_user_tables WHERE relname = 'resources'").scalar()
                conn.rollback()
        except sa.exc.DBAPIError:  # statistics views unreadable: leave it to autovacuum
            never = False
        if never:
            self._start()

    def added(self, rows: int) -> None:
        with self._lock:
            self._added += rows
            if self._added < self._threshold or self._running:
                return
        self._start()

    def _start(self) -> None:
        with self._lock:
            self._running, self._added = True, 0
        threading.Thread(target=self._analyze, name="kiln-analyze", daemon=True).start()

    def _analyze(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql('ANALYZE resources, "references", idempotency')
                rows = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'resources'").scalar()
            with self._lock:
                self._threshold = max(self.ANALYZE_AFTER, int((rows or 0) / 5))
        except Exception as e:  # noqa: BLE001 - statistics are an optimisation; a failure only logs
            import logging

            logging.getLogger("kiln").warning("ANALYZE of the PostgreSQL store failed: %s", e)
        finally:
            with self._lock:
                self._running = False


class Store:
    """`shape(type)`: the function that filters a document of that row type to its
    API shape before it is written (or None: stored as it is). Given by the layer
    above (kiln/core.py), so the store knows nothing of the API model."""

    def __init__(self, url: str, document_cache_bytes: int = DOCUMENT_CACHE_BYTES, shape=None):
        self.url = url
        self.engine = _engine(url)
        self.shape = shape
        self._local = threading.local()  # SQLite: each thread's read connection
        self.dialect = self.engine.dialect.name
        self._memory = self.dialect == "sqlite" and self.engine.url.database in (None, "", ":memory:")
        open_schema(self.engine, defaults={"pagination_secret": lambda: secrets.token_hex(32),
                                           CLOCK_KEY: lambda: _clock_text(0.0, None)})
        self.secret = self._setting("pagination_secret")
        self._due_cache: tuple[float | None, float] | None = None
        self._clock_cache: tuple[bytes | None, tuple[float, float | None]] | None = None
        self._pin = None
        self._snapshots: SnapshotReader | None = None
        self._wal_header = None
        self.documents = self._document_cache(document_cache_bytes)
        self._statistics = Statistics(self.engine) if self.dialect == "postgresql" else None

    def _document_cache(self, max_bytes: int) -> DocumentCache | None:
        """SQLite in a file (WAL) only: the cache (kiln/store/document_cache.py) and
        the shared read transactions (kiln/store/snapshot_reader.py) watch the -shm file."""
        path = self.engine.url.database
        if self.dialect != "sqlite" or not path or path == ":memory:" or os.name != "posix":
            return None  # (the -shm mapping is read the POSIX way)
        # One connection held open for the store's life keeps the -shm file (and so
        # the mapping of its header) in place: SQLite removes it when the last closes.
        # Document reads run on it.
        self._pin = self.engine.raw_connection()
        self._pin.cursor().execute("SELECT count(*) FROM sqlite_master").fetchall()
        try:
            cache = DocumentCache(path + "-shm", max(max_bytes, 0))
            self._wal_header = wal_index.header(path + "-shm")
        except OSError:  # no -shm (not in WAL mode): read without a cache
            return None
        self._snapshots = SnapshotReader(self._pin.driver_connection)
        return cache

    def _setting(self, key: str) -> str:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(settings.c.value).where(settings.c.key == key)).scalar_one()
            conn.rollback()
            return value

    @contextmanager
    def transaction(self, account: str, region: str, write: bool = True) -> Iterator[Tx]:
        if not write:
            # A read runs on this thread's read connection: SQLite in autocommit mode,
            # PostgreSQL in AUTOCOMMIT (each statement sees the newest committed state,
            # as READ COMMITTED would), so no pool checkout and no rollback round trip.
            conn = self._reader()
            try:
                yield Tx(conn, account, region, self.shape)
            except Exception as e:
                if not _is_driver_error(e) or not _broken(conn):
                    raise
                self._drop_reader()
                raise _lost(e) from e
            finally:
                if self.dialect == "sqlite":
                    conn.rollback()
            return
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                # pysqlite runs in autocommit mode (see _engine): the transaction is the
                # driver's own, begun and ended on it (SQLAlchemy's layers cost ~10% of a
                # CreateImage); BEGIN IMMEDIATE takes the write lock up front, so two
                # writers queue instead of deadlocking.
                driver = conn.connection.driver_connection
                driver.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(conn, account, region, self.shape)
                except BaseException:
                    driver.rollback()
                    raise
                driver.commit()
                return
            # PostgreSQL: the transaction runs in psycopg's pipeline mode. A write is sent
            # without waiting for its answer; a read sends whatever is queued with it and
            # waits once; the last writes travel with COMMIT. BEGIN is kiln's own statement
            # (the connection in autocommit for the while), so it travels with the first
            # read: psycopg's implicit BEGIN would wait for its answer. A CreateImage made
            # 13 round trips here, now 6 (with Tx.prefetch). A write that fails is reported
            # by the next read or by COMMIT, still inside this block, so Store.run sees it
            # as before. Without pipeline mode (a libpq older than 14) the same statements
            # run one at a time.
            driver = conn.connection.driver_connection
            driver.autocommit = True
            pipelined = _pipelines()
            try:
                with driver.pipeline() if pipelined else nullcontext() as pipeline:
                    driver.execute(_PG_BEGIN)
                    try:
                        yield Tx(conn, account, region, self.shape)
                    except BaseException:
                        # ROLLBACK, and the pipeline synced here: left to the block's end, a
                        # failed statement (a conflict Store.run retries) would make psycopg
                        # log a warning for every retry.
                        try:
                            driver.execute(b"ROLLBACK")
                            if pipeline is not None:
                                pipeline.sync()
                        except Exception:  # noqa: BLE001 - skipped after a failed statement, or the connection failed: below
                            pass
                        raise
                    driver.execute(b"COMMIT")
            except BaseException as e:
                if _broken(conn):
                    conn.invalidate()  # the server went away: the pool must not hand it out again
                    if _is_driver_error(e):
                        raise _lost(e) from e
                    raise
                if driver.info.transaction_status != _PG_IDLE:
                    driver.rollback()  # a statement failed: the queued ROLLBACK was skipped with the rest
                raise
            finally:
                if driver.closed or driver.info.transaction_status != _PG_IDLE:
                    if not conn.invalidated:
                        conn.invalidate()  # left inside a transaction (a failure while failing): never reused
                else:
                    driver.autocommit = False

    def read_doc(self, account: str, region: str, arn: str, type_: str) -> bytes | None:
        """Tx.doc_text in its own read, as bytes. A SQLite file is read through the
        document cache (dropped on any commit), then in a read transaction shared
        while no commit happens (kiln/store/snapshot_reader.py); SQLite in memory
        on this thread's read connection, in autocommit mode: one committed state."""
        if self.dialect != "sqlite":
            text = self.run(lambda tx: tx.doc_text(arn, type_), account, region, write=False)
            return text.encode() if text is not None else None
        params = (account, region, arn)
        cache = self.documents
        if cache is None:  # in memory (or no -shm to watch)
            cursor = getattr(self._local, "cursor", None)
            if cursor is None:
                cursor = self._local.cursor = self._reader().connection.driver_connection.cursor()
            r = cursor.execute(_SQLITE_DOC, params).fetchone()
            return r[0] if r is not None and r[1] == type_ else None
        key = (account, region, arn, type_)
        doc, mark = cache.lookup(key)
        if doc is not None:
            return doc
        r = self._snapshots.fetchone(_SQLITE_DOC, params, mark)
        if r is None or r[1] != type_:
            return None
        cache.keep(key, r[0], mark)
        return r[0]

    def read_doc_with_time(self, account: str, region: str, arn: str, type_: str):
        """PostgreSQL's GetImage read in one round trip: (the document as bytes or None,
        the clock's state, the earliest due time), which on SQLite would be three
        reads from memory. The fast path needs all three; each is a round trip alone."""
        sql = ("SELECT s.value, (SELECT next_due FROM resources WHERE next_due IS NOT NULL "
               "ORDER BY next_due LIMIT 1), r.doc, r.type FROM settings s "
               "LEFT JOIN resources r ON r.account = ? AND r.region = ? AND r.arn = ? WHERE s.key = ?")
        row = self._read_one(sql, (account, region, arn, CLOCK_KEY))
        if row is None:  # no clock row: only a store being reset; the general path answers
            return None, (0.0, None), 0.0
        self._due_cache = (row[1], time.monotonic())
        doc = row[2].encode() if row[2] is not None and row[3] == type_ else None
        return doc, _clock_state(row[0]), row[1]

    def _reader(self) -> Connection:
        """This thread's read connection (kept checked out: no pool round trip per read)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.engine.connect()
            if self.dialect != "sqlite":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._local.conn = conn
        return conn

    def _drop_reader(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        self._local.cursor = None
        if conn is not None:
            try:
                conn.invalidate()
            except Exception:  # already gone: nothing to release
                pass

    def run(self, fn, account: str, region: str, write: bool = True, attempts: int = 50):
        """Run fn(tx) in one transaction, retrying only lock contention and
        serialization failures, so "database is locked" never reaches a user."""
        delay = 0.002
        for attempt in range(attempts):
            try:
                if write:
                    # While it runs, this process's other requests ask the store; once it
                    # commits, what it wrote is known here without asking: the earliest due
                    # time it knew, or any earlier one the write planned. (A "due" answer is
                    # always asked again, so work the write finished or moved later costs one
                    # probe, never a missed transition; other processes' writes are noticed
                    # within DUE_CACHE_SECONDS, as before.)
                    known, self._due_cache = self._due_cache, None
                with self.transaction(account, region, write) as tx:
                    result = fn(tx)
                if write:
                    self._due_cache = _merged_due(known, tx.earliest_written)
                    if tx.inserted and self._statistics is not None:
                        self._statistics.added(tx.inserted)
                return result
            except Exception as e:
                if not _is_driver_error(e):
                    raise
                error = _wrapped(e)
                if attempt == attempts - 1 or not _retryable(error):
                    if error is e:
                        raise
                    raise error from e
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def has_due(self, now: float) -> bool:
        """Is any build transition due? Asked before every request, so the answer
        (the earliest due time) is remembered: until this process writes, for at
        most DUE_CACHE_SECONDS, which bounds how late a transition written by
        another replica can be noticed."""
        cached = self._due_cache
        if cached is not None and time.monotonic() - cached[1] < DUE_CACHE_SECONDS:
            earliest = cached[0]
            if earliest is None or now < earliest:
                return False
        earliest = self.earliest_due()
        return earliest is not None and earliest <= now

    def earliest_due(self) -> float | None:
        """When the earliest piece of due work is due (None: nothing is), asked now."""
        row = self._read_one(_EARLIEST_DUE, ())
        earliest = row[0] if row else None
        self._due_cache = (earliest, time.monotonic())
        return earliest

    def apply_next_due(self, until: float, apply) -> bool:
        """Claim the row with the earliest `next_due` not after `until` and call
        apply(tx, row), with tx scoped to the row's own account and region, then save
        the row; all in one write transaction of its own. False when no row was claimed.

        Exactly once across processes: on SQLite the write transaction holds the
        database's write lock from its start (BEGIN IMMEDIATE), so the row is chosen
        after any other process's change to it committed. On PostgreSQL the row is
        locked (FOR UPDATE); a row another replica is applying is skipped (SKIP
        LOCKED), and one it changed after this transaction began fails the
        transaction (REPEATABLE READ), which then runs again."""
        sql = f"{_SELECT_ANY_SCOPE} WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY next_due LIMIT 1"
        if self.dialect == "postgresql":
            sql += " FOR UPDATE SKIP LOCKED"

        def run(tx: Tx) -> bool:
            r = tx._run(sql, (until,)).fetchone()
            if r is None:
                return False
            scoped, row = tx.scoped(r[0], r[1]), _row(r[2:])
            apply(scoped, row)
            scoped.save(row)
            return True

        return self.run(run, "", "", write=True)

    # -- the deployment's clock ------------------------------------------
    def clock_state(self) -> tuple[float, float | None]:
        """(offset from the real time, frozen time or None), as stored. Asked on every
        request, so kept: on a SQLite file until the wal-index header shows a commit
        (by any process); in memory until this store changes it (nothing else can);
        on PostgreSQL it is read each time (one small row)."""
        cached = self._clock_cache
        header = self._wal_header
        if header is not None:
            mark = header[:HEADER_BYTES]
            if cached is not None and cached[0] == mark:
                return cached[1]
            state = self._read_clock()
            self._clock_cache = (mark, state)  # the mark taken before the read: a commit meanwhile re-reads
            return state
        if self._memory:
            if cached is None:
                cached = self._clock_cache = (None, self._read_clock())
            return cached[1]
        return self._read_clock()

    def _read_clock(self) -> tuple[float, float | None]:
        row = self._read_one(_CLOCK_SQL, (CLOCK_KEY,))
        return _clock_state(row[0] if row else None)

    def _read_one(self, text: str, args: tuple):
        """The first row of one statement, on this thread's read connection (reconnected
        once if the server dropped it)."""
        for attempt in (1, 2):
            conn = self._reader()
            try:
                return conn.connection.driver_connection.execute(_sql(self.dialect, text), args).fetchone()
            except Exception as e:
                if attempt == 2 or not _is_driver_error(e) or not _broken(conn):
                    raise
                self._drop_reader()

    def change_clock(self, change) -> tuple[float, float | None]:
        """Set the clock to change(offset, frozen) -> (offset, frozen), in one write
        transaction (two processes changing it at once both count)."""

        def run(tx: Tx):
            r = tx._run(_CLOCK_SQL, (CLOCK_KEY,)).fetchone()
            state = change(*_clock_state(r[0] if r else None))
            if r is None:
                tx._run("INSERT INTO settings (key, value) VALUES (?, ?)", (CLOCK_KEY, _clock_text(*state)))
            else:
                tx._run("UPDATE settings SET value = ? WHERE key = ?", (_clock_text(*state), CLOCK_KEY))
            return state

        try:
            return self.run(run, "", "", write=True)
        finally:
            self._clock_cache = None

    def reset(self) -> None:
        """Delete every resource and put the clock back to the real time."""
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # autocommit driver: the write lock, up front
            for table in _KEPT:
                conn.execute(table.delete())
            conn.execute(settings.update().where(settings.c.key == CLOCK_KEY).values(value=_clock_text(0.0, None)))
        self._due_cache = None
        self._clock_cache = None

    def close(self) -> None:
        self.documents = None
        if self._snapshots is not None:
            self._snapshots.close()
            self._snapshots = None
        if self._pin is not None:
            self._pin.close()
            self._pin = None
        self._local.cursor = None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self.engine.dispose()

    # -- every row, for kiln export and import (kiln/portable.py) ------------------
    def read_rows(self, accounts=None, regions=None) -> Iterator[tuple[str, dict]]:
        """Every row of the store, as (table name, {column: stored value}): documents and
        plans as their JSON text, as stored. Read in one transaction, so one consistent
        state even while a server writes. `accounts`, `regions`: only the rows of those (a
        fault planned for any account or Region goes with every choice). Settings first,
        then the tables of _KEPT, each in its primary key's order (faults: in the order they
        were planned)."""
        tables = (settings, *_KEPT)
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")  # one snapshot for every table (WAL)
            else:  # REPEATABLE READ (the engine's): one snapshot; rows fetched from a server-side cursor
                conn = conn.execution_options(stream_results=True, max_row_buffer=1000)
            try:
                for table in tables:
                    query = sa.select(table).order_by(*table.primary_key.columns)
                    for name, chosen in (("account", accounts), ("region", regions)):
                        if chosen is not None and name in table.c:
                            column, match = table.c[name], table.c[name].in_(list(chosen))
                            query = query.where(sa.or_(column.is_(None), match) if table is faults else match)
                    result = conn.execute(query)
                    names = [str(n) for n in result.keys()]  # plain str (SQLAlchemy gives a subclass)
                    for r in result:
                        yield table.name, dict(zip(names, r))
            finally:
                conn.rollback()

    def write_rows(self, rows: list, replace: bool = False, only_if_empty: bool = False, settings_for=None) -> dict:
        """Write `rows`, (table name, {column: value}) as read_rows gives them (not settings;
        faults without their id), in one write transaction. Answers {"written": {table: n},
        "conflicts": [(table, primary key)...], "alone": bool}:

        - `only_if_empty` and the store holds a row already: nothing is written ("written" None);
        - with `replace`, every row of each (account, Region) the rows name is deleted first
          (and the faults planned for exactly that account and Region); without it, rows whose
          primary key the store holds already are "conflicts" (up to 20) and nothing is written;
        - `settings_for(current settings {key: value}, alone)` gives the settings rows to
          write; `alone`: the store holds no row but these (after the deletions)."""
        kept = _KEPT
        by_name = {t.name: t for t in kept}
        grouped: dict[str, list[dict]] = {t.name: [] for t in kept}
        for table, row in rows:
            grouped[table].append(row)
        scopes = sorted({(r["account"], r["region"]) for table, r in rows
                         if table != "faults" and r.get("account") is not None and r.get("region") is not None})

        def anything(tx) -> bool:
            return any(tx._run(f'SELECT 1 FROM "{t.name}" LIMIT 1').fetchone() is not None for t in kept)

        def write(tx: Tx) -> dict:
            cursor = tx._driver.cursor()
            if only_if_empty and anything(tx):
                return {"written": None, "conflicts": [], "alone": False}
            if replace and scopes:
                for t in kept:
                    cursor.executemany(_sql(self.dialect, f'DELETE FROM "{t.name}" WHERE account = ? AND region = ?'), scopes)
            else:
                conflicts = []
                for t in kept:
                    if t is faults or not grouped[t.name]:
                        continue
                    key = [c.name for c in t.primary_key.columns]
                    ours = {tuple(r.get(c) for c in key) for r in grouped[t.name]}
                    sql = f'SELECT {", ".join(key)} FROM "{t.name}" WHERE account = ? AND region = ?'
                    for scope in scopes:
                        conflicts += [(t.name, tuple(k)) for k in tx._run(sql, scope).fetchall() if tuple(k) in ours]
                if conflicts:
                    return {"written": None, "conflicts": conflicts[:20], "alone": False}
            alone = not anything(tx)
            written = {}
            for name, table_rows in grouped.items():
                columns = [c.name for c in by_name[name].columns if not (by_name[name] is faults and c.name == "id")]
                if table_rows:
                    sql = (f'INSERT INTO "{name}" ({", ".join(columns)}) '
                           f'VALUES ({", ".join("?" for _ in columns)})')
                    cursor.executemany(_sql(self.dialect, sql), [tuple(r.get(c) for c in columns) for r in table_rows])
                written[name] = len(table_rows)
            if settings_for is not None:
                current = dict(tx._run("SELECT key, value FROM settings").fetchall())
                for key, value in settings_for(current, alone).items():
                    if key in current:
                        tx._run("UPDATE settings SET value = ? WHERE key = ?", (value, key))
                    else:
                        tx._run("INSERT INTO settings (key, value) VALUES (?, ?)", (key, value))
            tx.inserted += sum(written.values())
            return {"written": written, "conflicts": [], "alone": alone}

        try:
            return self.run(write, "", "", write=True)
        finally:
            self._due_cache = None  # the rows may bring due work, and a new clock
            self._clock_cache = None


@lru_cache(maxsize=1)
def _pipelines() -> bool:
    """Can psycopg's libpq run a pipeline (libpq 14 or later; psycopg[binary] bundles one)?"""
    import psycopg

    return psycopg.Pipeline.is_supported()


def _is_driver_error(e: BaseException) -> bool:
    """SQLAlchemy's errors and the drivers' own (statements run on the driver's connection,
    so a lock, serialization or unique-key failure comes unwrapped). psycopg's are told by
    their module, so a SQLite kiln never imports psycopg (80 ms of start-up) to name them."""
    import sqlite3

    if isinstance(e, (sa.exc.DBAPIError, sqlite3.Error)):
        return True
    return isinstance(e, Exception) and type(e).__module__.startswith("psycopg")


def _wrapped(e: Exception) -> Exception:
    """A driver's error as SQLAlchemy's, as a statement run through SQLAlchemy would
    raise it: callers (a unique key taken by a concurrent writer, a full disk) see one family."""
    if isinstance(e, sa.exc.DBAPIError):
        return e
    name = type(e).__name__
    for kind in (sa.exc.IntegrityError, sa.exc.OperationalError):
        if name == kind.__name__ or any(c.__name__ == kind.__name__ for c in type(e).__mro__):
            return kind(None, None, e)
    return sa.exc.DBAPIError(None, None, e)


def _retryable(e: Exception) -> bool:
    cause = getattr(e, "orig", e)
    text = str(cause).lower()
    code = getattr(cause, "sqlstate", None)
    if isinstance(e, sa.exc.DBAPIError) and e.connection_invalidated:
        return True  # the connection was lost (a restarted server): a new one is taken
    return "locked" in text or "busy" in text or code in ("40001", "40P01") or "could not serialize" in text or "deadlock" in text


def _lost(e: Exception) -> sa.exc.DBAPIError:
    """A failure on a connection the server dropped: retryable on a new one."""
    return sa.exc.OperationalError(None, None, getattr(e, "orig", e), connection_invalidated=True)


def _broken(conn: Connection) -> bool:
    """Has the database server gone away from this connection (psycopg knows; SQLite's never do)?"""
    try:
        driver = conn.connection.driver_connection
    except Exception:  # invalidated already
        return True
    return bool(getattr(driver, "broken", False) or (getattr(driver, "closed", False) is True))


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        from sqlalchemy.pool import StaticPool

        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs = {"connect_args": {"check_same_thread": False, "isolation_level": None, "timeout": 30}}
        if in_memory:
            kwargs["poolclass"] = StaticPool  # one shared connection, or each would be a fresh empty DB
        engine = sa.create_engine(url, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # First, so that switching a store to WAL waits for a process that is
            # upgrading it (the switch needs the file to itself) instead of failing.
            cur.execute("PRAGMA busy_timeout=30000")
            if not in_memory:
                _switch_to_wal(cur)
                # WAL + NORMAL: a commit survives a killed process (it is in the WAL
                # before COMMIT returns); only an OS crash could lose the last ones.
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.close()

        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    # No pre-ping: it cost a round trip per checkout (2.5x the GetImage query). A connection
    # the server dropped fails its first statement; Store.run then runs the work again
    # on a new one (_broken, _retryable). Room for the read connection each request
    # thread keeps (kiln/http/app.py's pool) besides the write connections.
    # Replicas share PostgreSQL: a write that read a row another replica changed
    # meanwhile fails with a serialization error and runs again (Store.run), instead
    # of silently overwriting that change. Reads run on AUTOCOMMIT connections.
    return sa.create_engine(url, pool_pre_ping=False, pool_size=20, max_overflow=50,
                            isolation_level="REPEATABLE READ")


def _switch_to_wal(cur, attempts: int = 300) -> None:
    """PRAGMA journal_mode=WAL, again while another connection has the file locked: the
    switch can answer "database is locked" at once, without waiting for busy_timeout
    (seen about once in 15 when four processes open an old rollback-journal store together)."""
    import sqlite3
    import time

    for attempt in range(attempts):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def sqlite_url(data_dir: str | None) -> str:
    if data_dir is None:
        return "sqlite://"
    os.makedirs(data_dir, exist_ok=True)
    return f"sqlite:///{os.path.join(data_dir, 'kiln.db')}"

