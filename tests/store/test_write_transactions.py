"""A write transaction is all or nothing on both backends. On PostgreSQL it runs in
psycopg's pipeline mode (writes sent without waiting, BEGIN queued with the first read,
the last writes with COMMIT): a write that fails is still reported by Store.run, what
came before it is not kept, and the connection is clean for the next request."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiln.store import repository
from kiln.store.repository import Row, Store
from tests.support.postgres import postgres_database

ACCOUNT, REGION = "123456789012", "us-east-1"
ARN = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:infrastructure-configuration/"


class Refused(Exception):
    pass


def _open(kind: str, tmp_path, monkeypatch):
    if kind == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'kiln.db'}")
        yield s
        s.close()
        return
    if kind == "postgres-no-pipeline":  # a libpq older than 14: the statements one at a time
        monkeypatch.setattr(repository, "_pipelines", lambda: False)
    with postgres_database() as url:
        s = Store(url)
        yield s
        s.close()


@pytest.fixture(params=["sqlite", "postgres", "postgres-no-pipeline"])
def store(request, tmp_path, monkeypatch):
    yield from _open(request.param, tmp_path, monkeypatch)


@pytest.fixture(params=["postgres", "postgres-no-pipeline"])
def pg_store(request, tmp_path, monkeypatch):
    yield from _open(request.param, tmp_path, monkeypatch)


def _row(name: str) -> Row:
    return Row(arn=ARN + name, type="infrastructure-configuration", name_key=name, name=name,
               doc={"arn": ARN + name, "name": name})


def _names(store: Store) -> list[str]:
    return store.run(lambda tx: [r.name for r in tx.page("infrastructure-configuration", None, 100)],
                     ACCOUNT, REGION, write=False)


def _open_transactions(store: Store) -> int:
    if store.dialect != "postgresql":
        return 0
    with store.engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND state LIKE 'idle in transaction%%'").scalar()
        conn.rollback()
        return n


def test_writes_before_an_error_are_not_kept(store):
    def work(tx):
        tx.insert(_row("first"))
        tx.insert(_row("second"))
        raise Refused("the handler refused after writing")

    with pytest.raises(Refused):
        store.run(work, ACCOUNT, REGION)
    assert _names(store) == []
    assert _open_transactions(store) == 0
    store.run(lambda tx: tx.insert(_row("after")), ACCOUNT, REGION)
    assert _names(store) == ["after"]


def test_a_failing_write_with_no_read_after_it_is_reported_and_undoes_the_transaction(store):
    store.run(lambda tx: tx.insert(_row("taken")), ACCOUNT, REGION)

    def work(tx):
        tx.insert(_row("kept-only-if-all-succeed"))
        tx.insert(_row("taken"))  # the primary key is taken: on PostgreSQL known only at COMMIT

    with pytest.raises(sa.exc.IntegrityError):
        store.run(work, ACCOUNT, REGION)
    assert _names(store) == ["taken"]
    assert _open_transactions(store) == 0
    store.run(lambda tx: tx.insert(_row("next")), ACCOUNT, REGION)
    assert _names(store) == ["next", "taken"]


def test_a_failing_write_is_reported_by_the_next_read(store):
    store.run(lambda tx: tx.insert(_row("taken")), ACCOUNT, REGION)
    reached = []

    def work(tx):
        tx.insert(_row("taken"))
        tx.get(ARN + "taken")
        reached.append("the read after the failed write answered")

    with pytest.raises(sa.exc.IntegrityError):
        store.run(work, ACCOUNT, REGION)
    assert reached == []
    assert _open_transactions(store) == 0


def test_a_prefetched_row_is_answered_until_the_next_write(store):
    store.run(lambda tx: tx.insert(_row("there")), ACCOUNT, REGION)

    def work(tx):
        tx.prefetch([ARN + "there", ARN + "later"])
        found = tx.get(ARN + "there", "infrastructure-configuration")
        tx.insert(_row("later"))  # after the prefetch: its answer (no such row) must not be used
        return found.name, tx.get(ARN + "later").name, tx.get(ARN + "there", "image")

    assert store.run(work, ACCOUNT, REGION) == ("there", "later", None)
    assert _open_transactions(store) == 0


def test_insert_if_absent_leaves_an_existing_row_as_it_is(store):
    store.run(lambda tx: tx.insert(_row("one")), ACCOUNT, REGION)
    changed = _row("one")
    changed.doc = {"arn": ARN + "one", "name": "one", "description": "not written"}
    store.run(lambda tx: (tx.insert_if_absent(changed), tx.insert_if_absent(_row("two"))), ACCOUNT, REGION)
    docs = store.run(lambda tx: [tx.get(ARN + n).doc for n in ("one", "two")], ACCOUNT, REGION, write=False)
    assert docs == [{"arn": ARN + "one", "name": "one"}, {"arn": ARN + "two", "name": "two"}]


def test_concurrent_writers_on_one_row_are_retried_quietly(store, caplog):
    """Four threads taking build numbers from one counter: the conflicts PostgreSQL
    reports are retried by Store.run, each number is taken once, and nothing is logged
    (psycopg warned on every retried conflict once; a server whose stderr nobody reads
    then blocked in its logger)."""
    import logging
    import threading

    taken: list[int] = []
    lock = threading.Lock()

    def worker():
        for _ in range(25):
            n = store.run(lambda tx: tx.next_number("image/contended/1.0.0"), ACCOUNT, REGION)
            with lock:
                taken.append(n)

    with caplog.at_level(logging.WARNING):
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(taken) == list(range(1, 101))
    assert [r.getMessage() for r in caplog.records] == []
    assert _open_transactions(store) == 0


def test_a_connection_lost_inside_a_transaction_is_not_reused_and_the_work_runs_again(pg_store):
    import psycopg

    from tests.support.postgres import SERVER

    attempts = []

    def work(tx):
        attempts.append(tx._driver.info.backend_pid)
        tx.get(ARN + "nothing")  # a round trip: the transaction is open on the server
        if len(attempts) == 1:
            with psycopg.connect(SERVER, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (attempts[0],))
        tx.insert(_row("written-once"))

    pg_store.run(work, ACCOUNT, REGION)
    assert len(attempts) == 2 and attempts[0] != attempts[1]
    assert _names(pg_store) == ["written-once"]
    assert _open_transactions(pg_store) == 0
    pg_store.run(lambda tx: tx.insert(_row("and-after")), ACCOUNT, REGION)
    assert _names(pg_store) == ["and-after", "written-once"]
