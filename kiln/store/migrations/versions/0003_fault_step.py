"""Planned failures can name a workflow step (faults.step).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faults") as batch:
        batch.add_column(sa.Column("step", sa.String(128)))


def downgrade() -> None:
    raise RuntimeError("kiln stores are upgraded only, never downgraded")
