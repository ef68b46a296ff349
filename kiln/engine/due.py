"""Due work: what happens when time reaches a stored row.

A resource family whose rows change with time (an image build's states; later a
pipeline's schedule, a workflow step, a lifecycle policy) stores the moment its
next change is due in the row's `next_due` column, and registers what that change
is, for its row type, the way service handlers register operations:

    @when_due("image")
    def image_due(ctx, row):      # ctx.tx: scoped to the row's account and region
        ...                       # ctx.now: the moment the row fell due
        row.next_due = ...        # the next moment, or None; the engine saves the row

The engine (DueEngine.run) applies due work in time order, one row at a time, each
in a write transaction of its own, scoped to that row's account and region, until
nothing is due by `until`. Work that due work creates is picked up in the same run
when it is due by then (a schedule firing creates a build whose first state is due at
once). A handler runs with `now` equal to the moment its row fell due, not the
request's time, so a clock advanced by 30 days gives 30 daily builds, each with its
own date. Whatever a handler writes it writes in that one transaction.

No thread watches time pass: a request first asks the engine to catch up (one
indexed probe, remembered for 50 ms, when nothing is due; Store.has_due), and so
does a clock advance. Several processes or replicas on one store apply each piece of
due work exactly once: the store claims the row inside the write transaction
(Store.apply_next_due).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from kiln.store import Row, Store, Tx

# How long run() waits for due rows another replica holds before giving up (it then
# applies them later, at the next request or tick).
HELD_WAIT_SECONDS = 10.0

# Row type -> fn(ctx, row): what happens when a row of that type falls due.
DUE_HANDLERS: dict[str, Callable] = {}


def when_due(type_: str):
    """Register fn(ctx, row) as what happens when a row of `type_` falls due. It
    must move `row.next_due` past `ctx.now` (or to None): the engine saves the row."""

    def register(fn: Callable) -> Callable:
        if type_ in DUE_HANDLERS:
            raise RuntimeError(f"two due handlers for {type_}")
        DUE_HANDLERS[type_] = fn
        return fn

    return register


@dataclass
class DueContext:
    """What a due handler is given when no richer context is configured."""

    tx: Tx
    account: str
    region: str
    now: float


def _plain_context(tx: Tx, now: float) -> DueContext:
    return DueContext(tx, tx.account, tx.region, now)


class DueEngine:
    """Applies the store's due work. `context(tx, now)` makes what handlers receive as
    `ctx` (kiln/core.py gives the service layer's Context, so a handler can do what
    an operation does)."""

    def __init__(self, store: Store, context: Callable[[Tx, float], object] = _plain_context):
        self.store = store
        self.context = context

    def catch_up(self, now: float) -> int:
        """Before serving a request: apply what is due by `now`. Costs one probe (or
        none, inside the probe's 50 ms memory) when nothing is."""
        if not self.store.has_due(now):
            return 0
        return self.run(now)

    def run(self, until: float, wait: bool = False) -> int:
        """Apply every piece of work due by `until`, earliest first, including work
        that it creates. Returns how many pieces this process applied."""
        applied = 0
        held_since = None
        while True:
            earliest = self.store.earliest_due()
            if earliest is None or earliest > until:
                return applied
            if self.store.apply_next_due(until, self._apply):
                applied += 1
                held_since = None
                continue
            # PostgreSQL: another replica is applying the earliest row right now (SKIP
            # LOCKED). A request leaves it to that replica (it must not hold up the
            # event loop); a clock advance (`wait`) waits, so that what fell due exists
            # when it answers. Bounded, in case that replica died holding the lock.
            if not wait:
                return applied
            held_since = held_since or time.monotonic()
            if time.monotonic() - held_since > HELD_WAIT_SECONDS:
                return applied
            time.sleep(0.002)

    def _apply(self, tx: Tx, row: Row) -> None:
        handler = DUE_HANDLERS.get(row.type)
        if handler is None:
            raise LookupError(f"no due handler is registered for rows of type {row.type!r} (due at {row.next_due})")
        due = row.next_due
        handler(self.context(tx, due), row)
        if row.next_due is not None and row.next_due <= due:
            raise RuntimeError(f"the due handler for {row.type!r} left {row.arn} due at {row.next_due}, "
                               f"not after {due}: it would run forever")
