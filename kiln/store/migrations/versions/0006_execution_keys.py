"""Execution keys get a table of their own; resources keep the indexes their queries use.

A build's workflow execution and step ids used to reach it through one `resources` row
per id (13 for a default build); from this revision the ids of a build share a head, the
execution key, kept in `execution_keys` (without rowid on SQLite: one B-tree). Rows of
older builds keep working: ids of the older form are still looked up in `resources`.
`ix_resources_due` becomes partial (`next_due IS NOT NULL`): the queries using it say so,
and rows with nothing due (most of them) no longer cost an index entry on every write.
`ix_resources_version` goes: every version lookup names a sort-key range of one name,
which `ix_resources_list` serves in the same order (SQLite already chose it). A
CreateImage's commit wrote 16.9 WAL pages before this revision, 11.4 after.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_keys",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("image_build_version_arn", sa.String(1024), nullable=False),
        sqlite_with_rowid=False,
    )
    op.drop_index("ix_resources_version", table_name="resources")
    op.drop_index("ix_resources_due", table_name="resources")
    due = sa.text("next_due IS NOT NULL")
    op.create_index("ix_resources_due", "resources", ["next_due"], sqlite_where=due, postgresql_where=due)


def downgrade() -> None:
    raise RuntimeError("kiln stores are upgraded only, never downgraded")
