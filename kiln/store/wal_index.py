"""The wal-index header of a SQLite database in WAL mode: how any process can tell,
without asking SQLite, that a commit has happened.

Every commit rewrites the header at the start of the database's `-shm` file, which
all connections to the database share through mmap
(https://www.sqlite.org/walformat.html, section 2.2: its iChange counter is
"incremented with each transaction"). A copy of its 48 bytes (a mark) taken before a
read therefore equals the header of any later moment only if no commit has happened
in between. A PRAGMA data_version would tell the same, at the cost of a statement.

The document cache (document_cache.py) and the shared read transactions
(snapshot_reader.py) both rest on this.
"""
from __future__ import annotations

import mmap
import os
import sys
import threading

HEADER_BYTES = 48  # one copy of the header
_MX_FRAME = slice(16, 20)  # u32, native byte order: frames in the WAL (0: empty or restarted)

# One read-only mapping per -shm file (device, inode), kept while the file exists:
# closing a descriptor of a file drops every POSIX lock this process holds on it,
# and SQLite's connections hold theirs on the -shm. SQLite unlinks the -shm only
# when the last connection to the database closes, so a mapping of an unlinked
# file is one no connection uses any more, and can be closed. While it is open its
# inode cannot be reused, so a (device, inode) key never names the wrong file.
_MAPPINGS: dict[tuple[int, int], tuple[int, mmap.mmap]] = {}
_MAPPINGS_LOCK = threading.Lock()


def header(shm_path: str) -> mmap.mmap:
    """The header of the -shm file at `shm_path`, mapped read-only: `[:HEADER_BYTES]` is a mark."""
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


def frames(mark: bytes) -> int:
    """How many frames the WAL held at `mark`."""
    return int.from_bytes(mark[_MX_FRAME], sys.byteorder)
