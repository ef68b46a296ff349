"""List order: versions ascending within a name (sort_key), as AWS's List* responses show.

Before this revision sort_key put the newest version and build first; now it is
name, version, build, all ascending. Only the key's text
changes: the rows, columns and indexes stay as they are.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 1000


def _key(name_key: str, major: int, minor: int, patch: int, build: int) -> str:
    # kiln.store.repository.sort_key as of this revision, written out so that a later
    # change to that function cannot change what this revision did.
    return f"{name_key} {major:010d}.{minor:010d}.{patch:010d}.{build:010d}"


def upgrade() -> None:
    conn = op.get_bind()
    rows = sa.table("resources", sa.column("account"), sa.column("region"), sa.column("arn"), sa.column("name_key"),
                    sa.column("major"), sa.column("minor"), sa.column("patch"), sa.column("build"), sa.column("sort_key"))
    update = rows.update().where(
        rows.c.account == sa.bindparam("a"), rows.c.region == sa.bindparam("r"), rows.c.arn == sa.bindparam("n")
    ).values(sort_key=sa.bindparam("k"))
    found = conn.execute(sa.select(rows.c.account, rows.c.region, rows.c.arn, rows.c.name_key, rows.c.major,
                                   rows.c.minor, rows.c.patch, rows.c.build)).fetchall()
    for i in range(0, len(found), _BATCH):
        conn.execute(update, [{"a": r[0], "r": r[1], "n": r[2], "k": _key(r[3], r[4], r[5], r[6], r[7])}
                              for r in found[i:i + _BATCH]])


def downgrade() -> None:
    raise RuntimeError("kiln stores are upgraded only, never downgraded")
