"""Document reads that share one SQLite read transaction while the database is unchanged.

Beginning and ending a read transaction costs system calls: a POSIX lock and
unlock on the -shm file, and a stat of the database file. When the CPU caches are
cold, as they are between the calls of one client, that is about 3 µs of the
22 µs a document read takes (docs/performance.md). A read transaction sees the
database as it was at its first read. While the wal-index header (wal_index.py)
still equals the mark taken before that read, no commit has happened since. So
that state is still the newest, and later reads may share the transaction. When
the header changes, the transaction ends and the next read begins a new one.

An open read transaction holds back the WAL. A checkpoint copies no frame past
the state the transaction sees, and the WAL starts again from its beginning only
while no reader is inside it. So a transaction is kept open only:
  - while the WAL holds fewer than MAX_FRAMES frames (SQLite checkpoints at 1000).
    Once the WAL is larger, reads begin and end their own transactions, as if
    this module did not exist. The checkpoint can then copy the whole WAL, and
    the next write starts it again from the beginning;
  - until IDLE_SECONDS pass without a read. A thread then ends it, so an idle
    process holds nothing back.
"""
from __future__ import annotations

import logging
import sqlite3
import threading

from kiln.store.wal_index import frames

IDLE_SECONDS = 0.1
MAX_FRAMES = 500

log = logging.getLogger(__name__)


class SnapshotReader:
    """One-row SELECTs on `connection`: a sqlite3 connection in autocommit mode
    (isolation_level None) that nothing else uses."""

    def __init__(self, connection: sqlite3.Connection, idle_seconds: float = IDLE_SECONDS,
                 max_frames: int = MAX_FRAMES):
        self._connection = connection
        self._cursor = connection.cursor()
        self._idle_seconds = idle_seconds
        self._max_frames = max_frames
        self._lock = threading.Lock()  # taken on every read: a plain lock is cheaper to enter than a Condition
        self._ender_wakes = threading.Condition(self._lock)
        self._mark: bytes | None = None  # the header the open transaction began at; None: none is open
        self._reads = 0
        self._ender: threading.Thread | None = None
        self._closed = False

    def fetchone(self, sql: str, params: tuple, mark: bytes):
        """The first row of `sql`, read as of the last commit before `mark` was taken, or a later one."""
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the snapshot reader is closed")
            try:
                if mark != self._mark:
                    self._end()
                    if frames(mark) < self._max_frames:
                        self._begin(mark)
                row = self._cursor.execute(sql, params).fetchone()
            except BaseException:
                self._end()  # leave no transaction open behind a failed read
                raise
            self._reads += 1
            return row

    @property
    def holding(self) -> bool:
        """Is a read transaction open?"""
        return self._mark is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._end()
            self._ender_wakes.notify_all()

    def _begin(self, mark: bytes) -> None:
        # BEGIN (deferred) takes no snapshot yet; the SELECT that follows does, after `mark` was taken.
        self._cursor.execute("BEGIN")
        self._mark = mark
        if self._ender is None:
            self._ender = threading.Thread(target=self._end_when_idle, name="kiln-snapshot-reader", daemon=True)
            self._ender.start()

    def _end(self) -> None:
        try:
            self._connection.rollback()  # a read transaction: nothing to commit (and a no-op outside one)
        finally:
            self._mark = None  # after the rollback: `holding` false means the transaction has ended

    def _end_when_idle(self) -> None:
        """Runs while a transaction is open: ends it after a quiet IDLE_SECONDS, then returns."""
        with self._ender_wakes:
            try:
                while self._mark is not None:
                    reads = self._reads
                    self._ender_wakes.wait(self._idle_seconds)
                    if self._reads == reads:
                        self._end()
            except Exception:  # the next read ends it (_end), or fails and goes the general way
                log.exception("ending an idle read transaction")
                self._mark = None
            finally:
                self._ender = None
