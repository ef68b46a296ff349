"""PostgreSQL plans that cannot go wrong without statistics: a store filled since its
last ANALYZE (or never analyzed, autovacuum off) still finds a row by its ARN through
the primary key, not by filtering every row of the account (revision 0005)."""
from __future__ import annotations

import psycopg
import pytest

from kiln.store import Store
from kiln.store.repository import _RAW_GET, Row, sort_key
from tests.support.postgres import postgres_database


@pytest.fixture(scope="module")
def filled():
    with postgres_database() as url:
        store = Store(url)
        store._statistics = None  # as a store filled by another process, or before kiln kept statistics
        rows = [Row(arn=f"arn:aws:imagebuilder:us-east-1:123456789012:image/n/1.0.0/{i}", type="image",
                    name_key="n", name="n", doc={"i": i}, major=1, build=i, created=0.0,
                    sort_key=sort_key("n", 1, 0, 0, i)) for i in range(1, 5001)]
        store.run(lambda tx: tx.insert_many(rows), "123456789012", "us-east-1")
        yield store, url
        store.close()


def _plan(url: str, sql: str, args: tuple) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        analyzed = conn.execute("SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables "
                                "WHERE relname = 'resources'").fetchone()
        assert analyzed == (None, None)  # the point: no statistics yet
        return "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql.replace("?", "%s"), args).fetchall())


def test_a_lookup_by_arn_uses_the_primary_key_without_statistics(filled):
    store, url = filled
    plan = _plan(url, _RAW_GET, ("123456789012", "us-east-1", "arn:aws:imagebuilder:us-east-1:123456789012:image/n/1.0.0/77"))
    assert "resources_pkey" in plan, plan
    assert "Filter" not in plan, plan


def test_a_list_page_walks_the_list_index_without_statistics(filled):
    store, url = filled
    sql = ("SELECT arn FROM resources WHERE account = ? AND region = ? AND type = ? "
           "ORDER BY sort_key LIMIT 26")
    plan = _plan(url, sql, ("123456789012", "us-east-1", "image"))
    assert "ix_resources_list" in plan, plan
    assert "Sort" not in plan, plan


def test_kiln_analyzes_a_store_it_filled(tmp_path):
    """Statistics kept fresh without a manual ANALYZE: after enough rows were added
    through the store, PostgreSQL's planner knows the table's size."""
    import time

    from kiln.store.repository import Statistics

    with postgres_database() as url:
        store = Store(url)
        try:
            rows = [Row(arn=f"a{i}", type="image", name_key="n", name="n", doc={}, build=i, created=0.0)
                    for i in range(Statistics.ANALYZE_AFTER + 10)]
            store.run(lambda tx: tx.insert_many(rows), "123456789012", "us-east-1")
            with psycopg.connect(url, autocommit=True) as conn:
                for _ in range(100):
                    n = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'resources'").fetchone()[0]
                    if n >= Statistics.ANALYZE_AFTER:
                        break
                    time.sleep(0.05)
            assert n == Statistics.ANALYZE_AFTER + 10
        finally:
            store.close()
