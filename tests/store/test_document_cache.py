"""The document cache (kiln/store/document_cache.py): it keeps nothing read before the
last commit it has seen, and it stays in its bound. That a read through it sees every
commit is tested in test_document_reads.py."""
from __future__ import annotations

import os
import sqlite3

import pytest

from kiln.store import Store
from tests.support.store_rows import insert, read


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path}/kiln.db", document_cache_bytes=4000)
    yield s
    s.close()


def test_a_read_older_than_the_last_seen_commit_is_not_kept(store):
    insert(store, "a", '{"v":1}')
    key = ("1", "r", "k", "image")
    doc, mark = store.documents.lookup(key)
    insert(store, "b", '{"v":1}')
    store.documents.lookup(key)  # sees the commit
    store.documents.keep(key, b"stale", mark)
    assert store.documents.lookup(key)[0] is None


def test_documents_kept_stay_within_the_bound_and_a_full_cache_takes_one_read_in_eight(store):
    from kiln.store.document_cache import ADMIT_WHEN_FULL, ENTRY_BYTES

    for i in range(30):
        insert(store, f"arn{i}", '{"pad":"' + "x" * 90 + '"}')  # 100 bytes each
    for i in range(30):
        assert read(store, f"arn{i}") is not None
    # Each entry counts its document (100 bytes), its ARN and ENTRY_BYTES of bookkeeping
    # (the process's memory, not only the documents, stays within the bound): 6 fit in 4,000.
    kept = store.documents._docs
    fit = 4000 // (100 + len("arn20") + ENTRY_BYTES)
    assert sum(len(d) + len(k[2]) + ENTRY_BYTES for k, d in kept.items()) <= 4000
    # The first reads fill it; after that one read in ADMIT_WHEN_FULL replaces the oldest.
    admitted = list(range(fit - 1 + ADMIT_WHEN_FULL, 30, ADMIT_WHEN_FULL))
    assert [k[2] for k in kept] == [f"arn{i}" for i in list(range(len(admitted), fit)) + admitted]


def test_a_document_read_again_and_again_comes_into_a_full_cache(store):
    from kiln.store.document_cache import ADMIT_WHEN_FULL

    for i in range(10):
        insert(store, f"arn{i}", '{"pad":"' + "x" * 90 + '"}')
    for i in range(9):
        read(store, f"arn{i}")
    for _ in range(ADMIT_WHEN_FULL):
        assert read(store, "arn9") == b'{"pad":"' + b"x" * 90 + b'"}'
    assert ("123456789012", "us-east-1", "arn9", "image") in store.documents._docs


def test_an_in_memory_store_reads_without_a_cache_and_a_cache_of_0_bytes_keeps_nothing(tmp_path):
    memory = Store("sqlite://")
    off = Store(f"sqlite:///{tmp_path}/kiln.db", document_cache_bytes=0)
    try:
        assert memory.documents is None
        insert(memory, "a", '{"v":1}')
        assert read(memory, "a") == b'{"v":1}'
        insert(off, "a", '{"v":1}')
        assert read(off, "a") == b'{"v":1}'
        assert not off.documents._docs
    finally:
        memory.close()
        off.close()


def test_postgresql_reads_without_a_cache(postgres_url):
    store = Store(postgres_url)
    try:
        assert store.documents is None
    finally:
        store.close()


def test_a_store_reopened_on_the_same_file_sees_later_commits(tmp_path):
    """Closing the last store removes the -shm; the next one must watch the new file,
    not a mapping of the removed one (whose header would never change again)."""
    from kiln.store import wal_index

    url = f"sqlite:///{tmp_path}/kiln.db"
    first = Store(url)
    insert(first, "a", '{"v":1}')
    first.close()
    assert not (tmp_path / "kiln.db-shm").exists()
    for _ in range(3):
        store = Store(url)
        assert read(store, "a") is not None
        other = sqlite3.connect(f"{tmp_path}/kiln.db", isolation_level=None)
        other.execute("UPDATE resources SET doc = '{\"v\":2}' WHERE arn = 'a'")
        assert read(store, "a") == b'{"v":2}'
        other.execute("UPDATE resources SET doc = '{\"v\":1}' WHERE arn = 'a'")
        other.close()
        assert read(store, "a") == b'{"v":1}'
        store.close()
    # The mappings of removed -shm files are let go of when the next cache is made.
    (tmp_path / "other").mkdir()
    other = Store(f"sqlite:///{tmp_path}/other/kiln.db")
    links = [os.fstat(fd).st_nlink for fd, _ in wal_index._MAPPINGS.values()]
    other.close()
    assert links and all(n > 0 for n in links), links


def test_reset_drops_kept_documents(store):
    insert(store, "a", '{"v":1}')
    assert read(store, "a") == b'{"v":1}'
    store.reset()
    assert read(store, "a") is None
