"""Stored documents kept in memory until the SQLite database changes.

A document read is one indexed SELECT, but under load that SELECT is most of a
GetImage's cost (docs/performance.md). This cache keeps recently read
documents and drops them all as soon as any connection, in any process,
commits to the database, so a read through it sees exactly what a SELECT would.

A commit is noticed by the wal-index header (wal_index.py): the mark read before
the SELECT is the one a document is kept under, so a document that a commit
changed meanwhile is cached under the old header and never served.

Only for a SQLite database in a file (WAL): PostgreSQL replicas and in-memory
stores read without it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from kiln.store.wal_index import HEADER_BYTES, header


# What an entry costs besides its document's bytes, so the budget bounds the process's memory
# and not only the documents: the bytes object's header, the key tuple and the ARN string
# in it, the ordered dict's entry (tracemalloc: 301 bytes for an 80-character ARN), and the
# allocator's slack as entries come and go (RSS measured while a 64 MiB cache churned through
# 300,000 documents of 1.3-1.8 kB: +74 MiB counting 220 bytes, +65 MiB counting 520). Without
# it, a 64 MiB cache grew the server's RSS by 78 MiB at 100,000 images.
ENTRY_BYTES = 520
# Once full, one read document in this many replaces an older one. When the documents
# read outgrow the cache (GetImage over 100,000 or 1,000,000 images with a 64 MiB cache),
# replacing one on every miss cycled 3 kB objects through 64 MiB of memory and made reads
# slower than with no cache (0.90x at 100k, 0.95x at 1M: docs/performance.md); kept mostly
# as they are, the documents cached still answer their share of reads and a miss costs a
# lookup. A set of documents read again and again still comes in, a few reads later.
ADMIT_WHEN_FULL = 8


def _cost(key, doc: bytes) -> int:
    return len(doc) + len(key[2]) + ENTRY_BYTES


class DocumentCache:
    """Documents by key ((account, region, arn, type)), valid while the wal-index header is
    unchanged; at most `max_bytes` of entries (documents and their bookkeeping), the oldest
    dropped first."""

    def __init__(self, shm_path: str, max_bytes: int):
        self._header = header(shm_path)
        self.max_bytes = max_bytes
        self._docs: OrderedDict = OrderedDict()  # oldest first; popitem(last=False) is O(1)
        self._bytes = 0
        self._seen = self._header[:HEADER_BYTES]
        self._lock = threading.Lock()
        self._passed = 0  # misses not kept since the cache was last full and kept one

    def lookup(self, key):
        """(document or None, mark). Pass the mark to `keep` with what the SELECT read."""
        mark = self._header[:HEADER_BYTES]
        if mark == self._seen:
            return self._docs.get(key), mark
        with self._lock:
            if mark != self._seen:
                self._docs.clear()
                self._bytes = 0
                self._seen = mark
        return None, mark

    def keep(self, key, doc: bytes, mark: bytes) -> None:
        size = _cost(key, doc)
        if size > self.max_bytes:
            return
        if self._bytes + size > self.max_bytes:  # full: keeping it means dropping another
            self._passed += 1  # (unlocked: a count a thread loses now and then changes nothing)
            if self._passed < ADMIT_WHEN_FULL:
                return
            self._passed = 0
        with self._lock:
            if mark != self._seen:
                return  # the database changed since the lookup: the read may be older than what is cached now
            docs = self._docs
            old = docs.pop(key, None)
            if old is not None:
                self._bytes -= _cost(key, old)
            while self._bytes + size > self.max_bytes and docs:
                self._bytes -= _cost(*docs.popitem(last=False))
            docs[key] = doc
            self._bytes += size
