"""Request ids (kiln.core.new_request_id): version 4 UUIDs, never repeated, not even by a forked worker."""
from __future__ import annotations

import os
import uuid

from kiln.core import new_request_id


def test_request_ids_are_distinct_version_4_uuids():
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        u = uuid.UUID(text)
        assert (u.version, u.variant, str(u)) == (4, uuid.RFC_4122, text)


def test_a_forked_process_does_not_repeat_the_ids_its_parent_made_ready():
    new_request_id()  # the parent has ids made and waiting
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, "\n".join(new_request_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child = set(f.read().split("\n"))
    os.waitpid(pid, 0)
    parent = {new_request_id() for _ in range(100)}
    assert len(child) == 100 and not child & parent
