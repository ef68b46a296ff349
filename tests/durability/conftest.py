"""Stores for the durability tests: a SQLite data dir, and a PostgreSQL database
made for the test and dropped after it (skipped when no PostgreSQL answers)."""
from __future__ import annotations

import pytest

from tests.support.postgres import postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def store_args(request, tmp_path):
    """`kiln serve` arguments for one shared store."""
    if request.param == "sqlite":
        yield ["--data-dir", str(tmp_path)]
    else:
        with postgres_database() as url:
            yield ["--database-url", url]
