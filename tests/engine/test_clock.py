"""The clock lives in the store (kiln/engine/clock.py, Store.clock_state): every
process on one store reads the same one, and sees a move at once."""
from __future__ import annotations

import time

import pytest

from kiln.engine.clock import Clock
from kiln.store import Store
from tests.support.postgres import postgres_database


@pytest.fixture(params=["sqlite-file", "postgres"])
def two_stores(request, tmp_path):
    """Two Stores on one database, as two worker processes or two replicas have."""
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path}/kiln.db"
        stores = [Store(url), Store(url)]
        yield stores
    else:
        with postgres_database() as url:
            stores = [Store(url), Store(url)]
            yield stores
    for s in stores:
        s.close()


def test_a_move_through_one_process_is_seen_by_the_other_at_once(two_stores):
    a, b = (Clock(s) for s in two_stores)
    assert abs(b.now() - time.time()) < 1  # read (and kept) before the move
    a.advance(3600)
    assert 3599 < b.now() - time.time() < 3601
    b.freeze(1_000_000.0)
    assert a.now() == 1_000_000.0 and a.frozen == 1_000_000.0
    a.advance(60)
    assert b.now() == 1_000_060.0
    b.unfreeze()
    assert abs(a.now() - 1_000_060.0) < 1 and a.frozen is None
    two_stores[1].reset()  # /_kiln/reset: the clock goes back to the real time
    assert a.offset == 0.0 and abs(a.now() - time.time()) < 1


def test_two_moves_at_once_both_count(two_stores):
    import threading

    clocks = [Clock(s) for s in two_stores]
    clocks[0].freeze(0.0)
    threads = [threading.Thread(target=lambda c=c: [c.advance(1) for _ in range(20)]) for c in clocks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clocks[0].now() == clocks[1].now() == 40.0


def test_in_memory_the_clock_is_kept_until_the_store_changes_it():
    store = Store("sqlite://")
    clock = Clock(store)
    clock.freeze(5.0)
    assert clock.now() == 5.0
    clock.advance(1)
    assert clock.now() == 6.0
    store.reset()
    assert abs(clock.now() - time.time()) < 1
    store.close()


def test_a_clock_without_a_store_keeps_its_own_state():
    clock = Clock()
    clock.freeze(10.0)
    clock.advance(5)
    assert clock.now() == 15.0
    clock.reset()
    assert abs(clock.now() - time.time()) < 1
