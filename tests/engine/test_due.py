"""The due-work engine (kiln/engine/due.py), with row types registered here:
a daily "schedule" whose firing creates a "build" due at once, as a pipeline will."""
from __future__ import annotations

import threading

import pytest

from kiln.engine.due import DueEngine, when_due
from kiln.store import Row, Store
from tests.support.postgres import postgres_database

DAY = 86400.0
START = 1_700_000_000.0
applied: list[tuple[str, str, str, float]] = []  # (type, account, arn, now), in the order applied


@when_due("test/schedule")
def _fire(ctx, row):
    applied.append((row.type, ctx.account, row.arn, ctx.now))
    n = row.doc["fired"] = row.doc.get("fired", 0) + 1
    ctx.tx.insert(Row(arn=f"{row.arn}/build/{n}", type="test/build", name_key="b", name="b",
                      doc={"dateCreated": ctx.now, "steps": 0}, created=ctx.now, next_due=ctx.now))
    row.next_due = ctx.now + DAY


@when_due("test/build")
def _build_step(ctx, row):
    applied.append((row.type, ctx.account, row.arn, ctx.now))
    row.doc["steps"] += 1
    row.doc.setdefault("at", []).append(ctx.now)
    row.next_due = ctx.now + 60 if row.doc["steps"] < 3 else None  # three steps, a minute apart


@when_due("test/stuck")
def _stuck(ctx, row):
    pass  # leaves next_due where it was: a bug the engine must report, not loop on


def _add(store, account, arn, type_="test/schedule", due=START, region="us-east-1"):
    store.run(lambda tx: tx.insert(Row(arn=arn, type=type_, name_key="s", name="s", doc={}, created=START,
                                       next_due=due)), account, region)


def _get(store, account, arn, region="us-east-1"):
    return store.run(lambda tx: tx.get(arn), account, region, write=False)


@pytest.fixture
def store():
    applied.clear()
    s = Store("sqlite://")
    yield s
    s.close()


def test_thirty_days_give_thirty_builds_each_dated_when_its_firing_fell_due(store):
    _add(store, "111111111111", "sched")
    count = DueEngine(store).run(START + 30 * DAY - 1)
    builds = [_get(store, "111111111111", f"sched/build/{n}") for n in range(1, 31)]
    assert [b.doc["dateCreated"] for b in builds] == [START + d * DAY for d in range(30)]
    # Each build's steps ran in the same run, each at its own moment.
    assert all(b.doc["at"] == [b.created, b.created + 60, b.created + 120] and b.next_due is None for b in builds)
    assert _get(store, "111111111111", "sched/build/31") is None
    assert _get(store, "111111111111", "sched").next_due == START + 30 * DAY
    assert count == 30 + 30 * 3 == len(applied)
    # In time order: no piece applied before one due earlier.
    times = [now for *_, now in applied]
    assert times == sorted(times)


def test_each_piece_runs_in_its_own_account_and_region(store):
    _add(store, "111111111111", "a", due=START)
    _add(store, "222222222222", "b", due=START + 1, region="eu-west-1")
    DueEngine(store).run(START + 1)
    assert _get(store, "111111111111", "a/build/1").doc["steps"] == 1  # its later steps are not due yet
    assert _get(store, "222222222222", "b/build/1", region="eu-west-1") is not None
    assert _get(store, "111111111111", "b/build/1") is None and _get(store, "222222222222", "b/build/1") is None
    assert [(t, acct) for t, acct, *_ in applied] == [
        ("test/schedule", "111111111111"), ("test/build", "111111111111"),
        ("test/schedule", "222222222222"), ("test/build", "222222222222")]


def test_nothing_due_is_one_probe_and_nothing_applied(store):
    _add(store, "111111111111", "later", due=START + 10)
    engine = DueEngine(store)
    assert engine.catch_up(START + 9.999) == 0 and applied == []
    assert engine.catch_up(START + 10) == 2  # the firing, and its build's first step


def test_a_write_tells_its_own_process_what_it_planned_without_another_probe(store, monkeypatch):
    # Before every request the engine asks whether anything is due; the answer is kept 50 ms.
    # A write of this process folds what it planned into that answer instead of dropping it.
    probes = []
    asked = store.earliest_due
    monkeypatch.setattr(store, "earliest_due", lambda: probes.append(1) or asked())
    assert not store.has_due(START) and len(probes) == 1
    _add(store, "111111111111", "later", due=START + 10)
    _add(store, "111111111111", "idle", type_="test/idle", due=None)
    assert not store.has_due(START + 9) and len(probes) == 1  # known from the writes
    assert store.has_due(START + 10) and len(probes) == 2  # "due" is always asked again
    _add(store, "111111111111", "sooner", due=START + 5)
    assert store.has_due(START + 5) and len(probes) == 3


def test_a_handler_that_leaves_its_row_due_is_an_error_not_a_loop(store):
    _add(store, "111111111111", "stuck", type_="test/stuck")
    with pytest.raises(RuntimeError) as e:
        DueEngine(store).run(START)
    assert str(e.value) == ("the due handler for 'test/stuck' left stuck due at 1700000000.0, not after "
                            "1700000000.0: it would run forever")
    assert _get(store, "111111111111", "stuck").next_due == START  # rolled back with its transaction


def test_a_row_type_without_a_handler_is_named(store):
    _add(store, "111111111111", "x", type_="test/nobody")
    with pytest.raises(LookupError) as e:
        DueEngine(store).run(START)
    assert str(e.value) == "no due handler is registered for rows of type 'test/nobody' (due at 1700000000.0)"


def test_a_registered_type_cannot_be_registered_twice():
    with pytest.raises(RuntimeError) as e:
        when_due("test/build")(lambda ctx, row: None)
    assert str(e.value) == "two due handlers for test/build"


@pytest.fixture(params=["sqlite", "postgres"])
def shared_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/kiln.db"
    else:
        with postgres_database() as url:
            yield url


def test_two_processes_apply_each_piece_exactly_once(shared_url):
    """Four engines, each on its own Store (as four workers or replicas), race over
    the same due work: every firing and every build step is applied once."""
    applied.clear()
    stores = [Store(shared_url) for _ in range(4)]
    try:
        for i in range(6):
            _add(stores[0], "111111111111", f"s{i}", due=START + i)
        until = START + 5 * DAY - 1  # 5 firings each, 3 steps per build
        barrier = threading.Barrier(len(stores))
        errors = []

        def race(store):
            try:
                barrier.wait()
                DueEngine(store).run(until)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=race, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        keys = [(t, arn, now) for t, _, arn, now in applied]
        assert len(keys) == len(set(keys)) == 6 * 5 * (1 + 3)
        for i in range(6):
            assert _get(stores[0], "111111111111", f"s{i}").doc["fired"] == 5
            for n in range(1, 6):
                assert _get(stores[0], "111111111111", f"s{i}/build/{n}").doc["steps"] == 3
    finally:
        for s in stores:
            s.close()
