"""The two secondary indexes of `resources` lead with `type`.

Every query that uses them names the type; a lookup by ARN does not. Led by
(account, region), they matched a lookup by ARN as well as the primary key did, and
PostgreSQL without statistics (a store filled since its last ANALYZE) chose
ix_resources_list and filtered every row of the account: 3.7 ms for one GetImage of
11k rows instead of 0.1. Led by `type`, only the primary key fits that lookup.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_resources_list", table_name="resources")
    op.drop_index("ix_resources_version", table_name="resources")
    op.create_index("ix_resources_list", "resources", ["type", "account", "region", "sort_key"])
    op.create_index("ix_resources_version", "resources",
                    ["type", "account", "region", "name_key", "major", "minor", "patch", "build"])


def downgrade() -> None:
    raise RuntimeError("kiln stores are upgraded only, never downgraded")
