"""Stored documents kept in memory until the SQLite database changes.

A document read is one indexed SELECT, but under load that SELECT is most of a
GetImage's cost (docs/performance.md). This cache keeps recently read
documents and drops them all as soon as any connection, in any process,
commits to the database, so a read through it sees exactly what a SELECT would.

How a commit is noticed without asking SQLite (a PRAGMA data_version costs as
much as the read it would save): in WAL mode every commit rewrites the
wal-index header at the start of the `-shm` file, which all connections to the
database share through mmap (https://www.sqlite.org/walformat.html, section
2.2: its iChange counter is "incremented with each transaction"). Comparing
those 48 bytes with the ones seen when the documents were cached is the whole
check. The header is read before the SELECT, so a document that a commit
changed meanwhile is cached under the old header and never served.

Only for a SQLite database in a file (WAL): PostgreSQL replicas and in-memory
stores read without it.
"""
from __future__ import annotations

import mmap
import os
import threading
from collections import OrderedDict

HEADER_BYTES = 48  # one copy of the wal-index header

# One read-only mapping per -shm file (device, inode), kept while the file exists:
# closing a descriptor of a file drops every POSIX lock this process holds on it,
# and SQLite's connections hold theirs on the -shm. SQLite unlinks the -shm only
# when the last connection to the database closes, so a mapping of an unlinked
# file is one no connection uses any more, and can be closed. While it is open its
# inode cannot be reused, so a (device, inode) key never names the wrong file.
_MAPPINGS: dict[tuple[int, int], tuple[int, mmap.mmap]] = {}
_MAPPINGS_LOCK = threading.Lock()


def _header_mapping(shm_path: str) -> mmap.mmap:
    with _MAPPINGS_LOCK:
        for key, (fd, mapping) in list(_MAPPINGS.items()):
            if os.fstat(fd).st_nlink == 0:
                del _MAPPINGS[key]
                mapping.close()
                os.close(fd)
        st = os.stat(shm_path)
        key = (st.st_dev, st.st_ino)
        entry = _MAPPINGS.get(key)
        if entry is None:
            fd = os.open(shm_path, os.O_RDONLY)
            entry = _MAPPINGS[key] = (fd, mmap.mmap(fd, HEADER_BYTES, mmap.MAP_SHARED, mmap.PROT_READ))
        return entry[1]


class DocumentCache:
    """Documents by key, valid while the wal-index header is unchanged; at most
    `max_bytes` of documents, the oldest dropped first."""

    def __init__(self, shm_path: str, max_bytes: int):
        self._header = _header_mapping(shm_path)
        self.max_bytes = max_bytes
        self._docs: OrderedDict = OrderedDict()  # oldest first; popitem(last=False) is O(1)
        self._bytes = 0
        self._seen = self._header[:HEADER_BYTES]
        self._lock = threading.Lock()

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
        size = len(doc)
        if size > self.max_bytes:
            return
        with self._lock:
            if mark != self._seen:
                return  # the database changed since the lookup: the read may be older than what is cached now
            docs = self._docs
            old = docs.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            while self._bytes + size > self.max_bytes and docs:
                self._bytes -= len(docs.popitem(last=False)[1])
            docs[key] = doc
            self._bytes += size
