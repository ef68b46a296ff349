"""Alembic migrations of kiln's store, shipped inside the package and run by
kiln/store/schema_version.py (no alembic.ini: the configuration is made in code).

A new revision: copy the newest file in versions/, give it a new `revision` id,
set `down_revision` to the one before, write upgrade() with `alembic.op`, and
change kiln/store/schema.py to match (tests/store/test_schema_version.py checks
that a store migrated from the baseline equals a new one made from schema.py).
"""
