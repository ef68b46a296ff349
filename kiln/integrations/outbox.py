"""The outbox: what kiln owes other services, written in the transaction that decided it,
sent after the commit.

`wrap_store` wraps the `run` of one store object: each write transaction gets a notes
frame (kiln/integrations/notes.py); when the transaction's function returns, its notes
become rows of type "outbox" inserted in that same transaction (so a rolled-back or
retried transaction leaves none); after the commit the Deliverer is told.

An outbox row's document:
    {"target": "ec2" | "sns" | "events" | "webhook", "image": <image ARN>, "kind": ...,
     ... what to send ..., "next": <epoch: not before>, "attempts": n, "error": <last>}
Rows are sent in the order they were written (name_key), one image's rows for one target
in order (a failing one holds the later ones back), and an image's SNS messages wait for
its AMIs to be registered in EC2 (the message names them). A row is claimed before it is
sent (its "next" moved a lease ahead, in a write transaction), so several processes on one
store send each row once; a process that dies mid-send leaves it to be sent again when the
lease ends. A failure is retried with exponential backoff (1 s, 2 s, 4 s, ... at most
5 minutes apart) up to MAX_ATTEMPTS times, then the row is kept with status FAILED and
the error, and a warning is logged.
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
import uuid

from kiln.integrations import notes, notifications
from kiln.store import Row

log = logging.getLogger("kiln.integrations")

TYPE = "outbox"
MAX_ATTEMPTS = 10
LEASE_SECONDS = 60.0
MAX_BACKOFF = 300.0
SNS_STATES = notifications.SNS_STATES
REGISTER_STATES = ("DISTRIBUTING", "AVAILABLE")  # an AMI build's AMIs exist in EC2 from distribution on
BUILDING_STATES = ("PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING")
_sequence = itertools.count()
_NO_LOCK = contextlib.nullcontext()


def shared_connection(store) -> bool:
    """SQLite in memory: every thread uses the same connection (a StaticPool), so a transaction
    on the deliverer's thread and one on a request's must not overlap."""
    return store.dialect == "sqlite" and store.engine.url.database in (None, "", ":memory:")


def wrap_store(integrations, store, lock=None) -> None:
    """`lock`: held around each of the store's transactions (and its reset), for a store whose
    one connection the deliverer's thread shares with the requests (shared_connection)."""
    original = store.run

    def run(fn, account, region, write=True, attempts=50):
        if lock is not None:
            with lock:
                return _run(fn, account, region, write, attempts)
        return _run(fn, account, region, write, attempts)

    def _run(fn, account, region, write, attempts):
        if not write or not integrations.enabled():
            return original(fn, account, region, write, attempts)
        wrote = []

        def attempt(tx):
            del wrote[:]
            frame = notes.push(integrations, account, region)
            try:
                result = fn(tx)
                for row_account, row_region, row in rows_for(integrations, frame.notes):
                    tx.scoped(row_account, row_region).insert(row)
                    wrote.append(row)
            finally:
                notes.pop(frame)
            return result

        result = original(attempt, account, region, write, attempts)
        integrations.deliverer.committed(bool(wrote))
        return result

    original_close, original_reset = store.close, store.reset

    def close():
        integrations.stop()
        original_close()

    def reset():
        if lock is None:
            return original_reset()
        with lock:
            return original_reset()

    store.run = run
    store.close = close
    store.reset = reset


def _row(account: str, region: str, doc: dict) -> tuple[str, str, Row]:
    """An outbox row, with the account and Region it belongs to (the image's)."""
    key = f"{time.time_ns():020d}.{next(_sequence) % 1000000:06d}"
    doc = {**doc, "next": 0.0, "attempts": 0}
    return account, region, Row(arn=f"kiln:outbox/{uuid.uuid4()}", type=TYPE, name_key=key, name=doc["target"],
                                doc=doc, status="PENDING", created=time.time())


def rows_for(integrations, taken: list) -> list[tuple[str, str, Row]]:
    """The outbox rows (account, Region, row) a transaction's notes call for, given what is
    reachable now."""
    rows: list[tuple[str, str, Row]] = []
    registering: set[str] = set()
    webhooks = integrations.settings.webhooks
    for kind, row, a, b, at in taken:
        arn = row.arn
        region, account = arn.split(":")[3], arn.split(":")[4]
        when = at if at is not None else time.time()
        events: list[dict] = []
        if kind == "state":
            previous, state = a, b
            events.append(notifications.state_change_event(arn, previous, state, when))
            status = state.get("status")
            built = previous.get("status") in BUILDING_STATES  # a build's change, not a lifecycle action's
            if built and status in REGISTER_STATES and row.doc.get("type") == "AMI" and integrations.has("ec2") \
                    and arn not in registering:
                registering.add(arn)
                rows.append(_row(account, region, {"target": "ec2", "kind": "register", "image": arn}))
            topic = (row.doc.get("infrastructureConfiguration") or {}).get("snsTopicArn")
            if built and status in SNS_STATES and topic and integrations.has("sns"):
                message = notifications.sns_message(row.doc, state)
                rows.append(_row(account, region, {"target": "sns", "image": arn, "topic": topic, "message": message}))
        elif kind == "wait":
            found = _waiting_step(row.timeline, a)
            if found is not None:
                run, step = found
                events.append(notifications.step_waiting_event(arn, run, step, step.get("start") or when))
        elif kind == "deleted" and integrations.has("ec2"):
            rows.append(_row(account, region, {"target": "ec2", "kind": "deregister", "image": arn, "amis": a,
                                               "snapshots": bool(b)}))
        for event in events:
            if integrations.has("events"):
                rows.append(_row(account, region, {"target": "events", "image": arn, "event": event}))
            for url in webhooks:
                rows.append(_row(account, region, {"target": "webhook", "image": arn, "url": url, "event": event}))
    return rows


def _waiting_step(tl: dict | None, wait: dict):
    try:
        run = tl["runs"][wait["stage"]][wait["run"]]
        return run, run["steps"][wait["step"]]
    except (KeyError, IndexError, TypeError):
        return None


class Deliverer:
    """Sends the outbox. Synchronously after each commit (in-process), or on a thread of its
    own that also applies due work as it falls due (kiln serve)."""

    def __init__(self, integrations, kiln):
        self.integrations = integrations
        self.kiln = kiln
        self.store = kiln.store
        self.synchronous = integrations.settings.synchronous
        self._busy = threading.local()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiting = True  # rows may be owed (a stored outbox from before a restart, failures to retry)
        # SQLite in memory: the thread's transactions and the requests' take turns (outbox.shared_connection).
        self.lock = threading.RLock() if not self.synchronous and shared_connection(self.store) else None

    # -- when -----------------------------------------------------------------
    def committed(self, wrote: bool) -> None:
        """A write transaction committed (`wrote`: with outbox rows)."""
        if self.synchronous:
            if wrote or self._waiting:
                try:
                    self.drain()
                except Exception:  # noqa: BLE001 - the caller's transaction committed: never fail its request
                    log.exception("kiln could not deliver its outbox; it tries again after the next commit")
                    self._waiting = True
        elif wrote:
            self._waiting = True
            self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kiln-integrations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _loop(self) -> None:
        """kiln serve: apply due work when it falls due (so notifications need no client
        polling), then send what is owed; sleep until the next due moment (at most 0.5 s)."""
        failures = 0
        while not self._stop.is_set():
            try:
                with self.lock or _NO_LOCK:
                    self.kiln.engine.catch_up(self.kiln.clock.now())
                if self._waiting:  # only when rows were written or wait for a retry: an idle kiln reads nothing
                    self.drain()
                with self.lock or _NO_LOCK:
                    earliest = self.store.earliest_due()
                pause = 0.5 if earliest is None else min(0.5, max(0.01, earliest - self.kiln.clock.now()))
                failures = 0
            except Exception:  # noqa: BLE001 - a store hiccup: try again shortly
                failures += 1
                if failures == 1:
                    log.exception("kiln's integrations thread could not catch up or deliver; retrying")
                pause = min(5.0, 0.5 * failures)
            self._wake.wait(pause)
            self._wake.clear()

    # -- sending ----------------------------------------------------------------
    def drain(self) -> int:
        """Send every outbox row that is due, in order. Returns how many were sent."""
        if getattr(self._busy, "on", False):
            return 0  # a send's own transactions committing: the running drain goes on
        self._busy.on = True
        try:
            return self._drain()
        finally:
            self._busy.on = False

    def _drain(self) -> int:
        self._waiting = False  # a commit from now on sets it again
        pending = self.store.run(
            lambda tx: [(t.account, t.region, r) for t, r in tx.everywhere(TYPE, statuses=("PENDING",))],
            "", "", write=False)
        pending.sort(key=lambda item: item[2].name_key)
        held: set[tuple[str, str]] = set()
        sent = 0
        waiting = False
        for account, region, row in pending:
            doc = row.doc
            image, target = doc.get("image", ""), doc["target"]
            lane = (image, target if target != "webhook" else f"webhook {doc.get('url')}")
            if lane in held or (target == "sns" and (image, "ec2") in held):
                held.add(lane)
                continue
            now = time.time()
            if doc.get("next", 0) > now:
                held.add(lane)
                waiting = True
                continue
            claimed = self._claim(account, region, row.arn, now)
            if claimed is None:
                held.add(lane)
                continue
            try:
                self._send(claimed.doc, account, region)
            except Exception as e:  # noqa: BLE001 - any failure of the peer is retried
                held.add(lane)
                waiting = self._failed(account, region, claimed, e) or waiting
                continue
            self.store.run(lambda tx, arn=row.arn: tx.delete(arn), account, region)
            sent += 1
        if waiting:
            self._waiting = True
        return sent

    def _claim(self, account: str, region: str, arn: str, now: float) -> Row | None:
        def claim(tx):
            row = tx.get(arn, TYPE)
            if row is None or row.status != "PENDING" or row.doc.get("next", 0) > now:
                return None
            row.doc["next"] = now + LEASE_SECONDS
            row.doc["attempts"] = row.doc.get("attempts", 0) + 1
            tx.save(row)
            return row

        return self.store.run(claim, account, region)

    def _failed(self, account: str, region: str, row: Row, error: Exception) -> bool:
        """Record a failed send; returns whether it will be tried again."""
        attempts = row.doc.get("attempts", 1)
        text = f"{type(error).__name__}: {error}"
        final = attempts >= MAX_ATTEMPTS
        delay = min(MAX_BACKOFF, 2.0 ** (attempts - 1))

        def record(tx):
            found = tx.get(row.arn, TYPE)
            if found is None:
                return
            found.doc["error"] = text
            found.doc["next"] = time.time() + delay
            if final:
                found.status = "FAILED"
            tx.save(found)

        self.store.run(record, account, region)
        target = row.doc["target"] if row.doc["target"] != "webhook" else f"webhook {row.doc.get('url')}"
        if final:
            log.warning("kiln gave up sending to %s for %s after %d attempts: %s", target, row.doc.get("image"),
                        attempts, text)
        else:
            log.info("sending to %s for %s failed (attempt %d, next in %.0f s): %s", target, row.doc.get("image"),
                     attempts, delay, text)
        return not final

    def _send(self, doc: dict, account: str, region: str) -> None:
        from kiln.integrations import ec2

        target = doc["target"]
        if target == "ec2":
            if doc["kind"] == "register":
                ec2.register(self.integrations, self.store, doc["image"])
            else:
                ec2.deregister(self.integrations, doc["amis"], doc.get("snapshots", False))
        elif target == "sns":
            message = ec2.with_registered_ids(self.store, doc["image"], doc["message"])
            notifications.publish(self.integrations, doc["topic"], message)
        elif target == "events":
            notifications.put_event(self.integrations, doc["event"])
        elif target == "webhook":
            notifications.post(doc["url"], doc["event"])
        else:
            raise ValueError(f"unknown outbox target {target!r}")
