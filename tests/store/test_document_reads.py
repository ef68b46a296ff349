"""A document read on a SQLite file (Store.read_doc: the document cache, then a read
transaction shared while nothing commits) sees every commit made before it, from
this process's connections or another process, with or without the cache."""
from __future__ import annotations

import sqlite3

import pytest

from kiln.store import Store
from tests.support.store_rows import insert, read, update, update_from_another_process


@pytest.fixture(params=[1000, 0], ids=["cache", "no cache"])
def store(request, tmp_path):
    s = Store(f"sqlite:///{tmp_path}/kiln.db", document_cache_bytes=request.param)
    yield s
    s.close()


def test_a_commit_from_another_process_is_seen_by_the_next_read(store, tmp_path):
    insert(store, "a", '{"v":1}')
    insert(store, "b", '{"v":1}')
    assert read(store, "a") == read(store, "b") == b'{"v":1}'
    assert store._snapshots.holding
    update_from_another_process(f"{tmp_path}/kiln.db", "b", '{"v":2}')
    assert read(store, "a") == b'{"v":1}'
    assert read(store, "b") == b'{"v":2}'  # not the copy kept, nor the state read, before the commit


def test_a_commit_on_another_connection_or_through_the_store_is_seen(store, tmp_path):
    insert(store, "a", '{"v":1}')
    assert read(store, "a") == b'{"v":1}'
    other = sqlite3.connect(f"{tmp_path}/kiln.db", isolation_level=None)
    other.execute("UPDATE resources SET doc = '{\"v\":2}' WHERE arn = 'a'")
    other.close()
    assert read(store, "a") == b'{"v":2}'
    update(store, "a", '{"v":3}')
    assert read(store, "a") == b'{"v":3}'
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM resources")
    assert read(store, "a") is None
