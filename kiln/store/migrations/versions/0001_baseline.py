"""The baseline: the schema of every kiln before schema versions (commit 4be168a).

A store written then has these tables and no version table; kiln stamps it with
this revision when it first opens it (kiln/store/schema_version.py).

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BYTEWISE = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("arn", sa.String(1024), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("major", sa.BigInteger, nullable=False),
        sa.Column("minor", sa.BigInteger, nullable=False),
        sa.Column("patch", sa.BigInteger, nullable=False),
        sa.Column("build", sa.BigInteger, nullable=False),
        sa.Column("sort_key", _BYTEWISE, nullable=False),
        sa.Column("status", sa.String(32)),
        sa.Column("created", sa.Float(precision=53), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("next_due", sa.Float(precision=53)),
        sa.Column("timeline", sa.Text),
    )
    op.create_index("ix_resources_list", "resources", ["account", "region", "type", "sort_key"])
    op.create_index("ix_resources_version", "resources",
                    ["account", "region", "type", "name_key", "major", "minor", "patch", "build"])
    op.create_index("ix_resources_due", "resources", ["next_due"])
    op.create_table(
        "counters",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("scope", sa.String(600), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "references",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("from_arn", sa.String(1024), primary_key=True),
        sa.Column("to_arn", sa.String(1024), primary_key=True),
    )
    op.create_index("ix_references_to", "references", ["account", "region", "to_arn"])
    op.create_table(
        "idempotency",
        sa.Column("account", sa.String(12), primary_key=True),
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("operation", sa.String(64), primary_key=True),
        sa.Column("token", sa.String(128), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created", sa.Float(precision=53), nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "faults",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(12)),
        sa.Column("region", sa.String(32)),
        sa.Column("image_arn", sa.String(1024)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("faults", "settings", "idempotency", "references", "counters", "resources"):
        op.drop_table(table)
