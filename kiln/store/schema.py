"""SQLAlchemy Core schema, the same on SQLite and PostgreSQL.

One `resources` table holds every resource type. `doc` is the API-shaped document
as JSON text (architecture principle 3); the other columns are what queries need
(keys, version nodes for wildcard resolution, list order) or engine bookkeeping
(`next_due`, `timeline`), never a second copy of API fields to keep in sync.
Every row is keyed by (account, region): isolation is in the primary key.
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Keyset pagination compares sort keys bytewise; PostgreSQL's default collation
# would ignore punctuation, so the column is pinned to "C" there.
_BYTEWISE = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")

resources = sa.Table(
    "resources",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("arn", sa.String(1024), primary_key=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("name_key", sa.String(128), nullable=False),   # the ARN name segment
    sa.Column("name", sa.String(128), nullable=False),       # the name as the user spelled it
    sa.Column("major", sa.BigInteger, nullable=False, default=0),
    sa.Column("minor", sa.BigInteger, nullable=False, default=0),
    sa.Column("patch", sa.BigInteger, nullable=False, default=0),
    sa.Column("build", sa.BigInteger, nullable=False, default=0),
    # name_key + inverted version: ascending order = by name, newest version first.
    sa.Column("sort_key", _BYTEWISE, nullable=False),
    sa.Column("status", sa.String(32)),
    sa.Column("created", sa.Float(precision=53), nullable=False),
    sa.Column("content_hash", sa.String(64)),
    sa.Column("doc", sa.Text, nullable=False),
    sa.Column("next_due", sa.Float(precision=53)),           # engine: when the next transition is due
    sa.Column("timeline", sa.Text),                           # engine: the build plan, as JSON
)
# Led by `type` (revision 0005): every query using it names it, and a lookup by ARN,
# which does not, then fits only the primary key, whatever the planner knows. Version
# lookups use it too: a sort key spells out the name and version nodes, so a name's or a
# version's rows are one range of it (revision 0006 dropped ix_resources_version, which
# repeated that order column by column and cost every write a B-tree).
sa.Index("ix_resources_list", resources.c.type, resources.c.account, resources.c.region, resources.c.sort_key)
# Only rows with work due (revision 0006): most rows (finished builds, recipes,
# components...) have none, and every index entry is a page a commit writes.
sa.Index("ix_resources_due", resources.c.next_due, sqlite_where=resources.c.next_due.isnot(None),
         postgresql_where=resources.c.next_due.isnot(None))

# Monotonic counters (build numbers): never reused, even after a delete.
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("scope", sa.String(600), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

# A build's workflow execution and step ids share their head, the execution key
# (kiln/service/workflow_runs.py): it leads them to their build (revision 0006). One
# narrow row per build, in a table without rowid (on SQLite: one B-tree, one page a
# commit writes, where a `resources` row touched five).
execution_keys = sa.Table(
    "execution_keys",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("image_build_version_arn", sa.String(1024), nullable=False),
    sqlite_with_rowid=False,
)

# "from_arn uses to_arn": what blocks a delete with ResourceDependencyException.
references = sa.Table(
    "references",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("from_arn", sa.String(1024), primary_key=True),
    sa.Column("to_arn", sa.String(1024), primary_key=True),
)
sa.Index("ix_references_to", references.c.account, references.c.region, references.c.to_arn)

idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("operation", sa.String(64), primary_key=True),
    sa.Column("token", sa.String(128), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("created", sa.Float(precision=53), nullable=False),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Failures injected through /_kiln/ for users testing their failure handling.
faults = sa.Table(
    "faults",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(12)),
    sa.Column("region", sa.String(32)),
    sa.Column("image_arn", sa.String(1024)),   # NULL: the next build created
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("step", sa.String(128)),          # the workflow step that fails (revision 0003)
    sa.Column("component", sa.Text),            # the component phase that fails, as JSON (revision 0004)
)
