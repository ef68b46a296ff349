"""Shared read transactions (kiln/store/snapshot_reader.py): reads share one while
nothing commits; it is let go when the process idles or the WAL grows, or a read
fails; and the WAL stays bounded under reads and writes. That a read sees every
commit made before it is tested in test_document_reads.py."""
from __future__ import annotations

import os
import sqlite3
import time

import pytest

from kiln.store import Store
from kiln.store.snapshot_reader import SnapshotReader
from kiln.store.wal_index import HEADER_BYTES, frames, header
from tests.support.store_rows import insert, read, update

@pytest.fixture
def store(tmp_path):
    """Nothing kept in memory: every read goes to the shared transaction."""
    s = Store(f"sqlite:///{tmp_path}/kiln.db", document_cache_bytes=0)
    yield s
    s.close()


def _wait_until(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_reads_share_one_transaction_while_nothing_commits(store):
    insert(store, "a", '{"v":1}')
    insert(store, "b", '{"v":2}')
    assert read(store, "a") == b'{"v":1}'
    assert store._snapshots.holding
    assert read(store, "b") == b'{"v":2}'
    assert read(store, "missing") is None
    assert store._snapshots.holding


def test_an_idle_reader_lets_its_transaction_go(tmp_path):
    path = f"{tmp_path}/kiln.db"
    Store(f"sqlite:///{path}").close()  # the schema
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    marks = header(path + "-shm")
    reader = SnapshotReader(connection, idle_seconds=0.05)
    try:
        assert reader.fetchone("SELECT count(*) FROM resources", (), marks[:HEADER_BYTES]) == (0,)
        thread = reader._ender
        assert reader.holding and connection.in_transaction and thread.is_alive()
        assert _wait_until(lambda: not reader.holding)
        assert not connection.in_transaction
        thread.join(5)  # the thread lives only while a transaction is open
        assert not thread.is_alive() and reader._ender is None
        # A checkpoint that copies everything and starts the WAL again is possible once it has gone.
        writer.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
        assert writer.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0] == 0  # 0: not blocked
        assert reader.fetchone("SELECT count(*) FROM settings WHERE key = 'k'", (), marks[:HEADER_BYTES]) == (1,)
    finally:
        reader.close()
        connection.close()
        writer.close()


def test_reads_do_not_hold_a_transaction_while_the_wal_is_large(tmp_path):
    path = f"{tmp_path}/kiln.db"
    Store(f"sqlite:///{path}").close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")  # a frame or more in the WAL
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    mark = header(path + "-shm")[:HEADER_BYTES]
    assert frames(mark) >= 1
    reader = SnapshotReader(connection, max_frames=1)
    try:
        assert reader.fetchone("SELECT value FROM settings WHERE key = 'k'", (), mark) == ("v",)
        assert not reader.holding and not connection.in_transaction
    finally:
        reader.close()
        connection.close()
        writer.close()


def test_a_failed_read_leaves_no_transaction_open(store):
    insert(store, "a", '{"v":1}')
    mark = store.documents.lookup(("k",))[1]
    with pytest.raises(sqlite3.OperationalError, match="no such table: absent_table"):
        store._snapshots.fetchone("SELECT 1 FROM absent_table", (), mark)
    assert not store._snapshots.holding
    assert not store._pin.driver_connection.in_transaction
    assert read(store, "a") == b'{"v":1}'


def test_closing_the_store_ends_the_transaction_and_its_thread(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/kiln.db")
    insert(store, "a", '{"v":1}')
    assert read(store, "a") == b'{"v":1}'
    reader = store._snapshots
    thread = reader._ender
    assert reader.holding and thread.is_alive()
    store.close()
    assert not reader.holding
    thread.join(5)
    assert not thread.is_alive()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        reader.fetchone("SELECT 1", (), b"")


def test_the_wal_stays_bounded_while_reads_and_writes_interleave(tmp_path):
    """Each read holds its transaction open across the next commit. Were that kept up
    while the WAL grows, no checkpoint could copy all of it, and the WAL would never
    start again from its beginning: 12 MB here instead of 4 (checked with
    max_frames=10**9, which never lets go; reads that never hold end at 4 MB too)."""
    store = Store(f"sqlite:///{tmp_path}/kiln.db", document_cache_bytes=0)
    try:
        insert(store, "a", '{"v":0}')
        for i in range(3000):
            update(store, "a", '{"v":%d}' % i)
            assert read(store, "a") == b'{"v":%d}' % i
            read(store, "a")
        wal = os.path.getsize(f"{tmp_path}/kiln.db-wal")
        # SQLite checkpoints at 1000 pages (4 MiB): the WAL may reach a little past that, never far.
        assert wal < 6 * 1024 * 1024, wal
    finally:
        store.close()
