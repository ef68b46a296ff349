"""Planned failures can name a component phase (faults.component, JSON).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faults") as batch:
        batch.add_column(sa.Column("component", sa.Text))


def downgrade() -> None:
    raise RuntimeError("kiln stores are upgraded only, never downgraded")
