"""An image build as a timeline stored with the image (architecture principle 5).

At CreateImage the whole build is planned: the states it will visit, when each is
due, where it fails (if an admin planned a failure) and what it produces when it
completes. The due-work engine (due.py) applies each state change when it falls
due, through the handler registered below for rows of type "image". No thread
watches time pass, restarts lose nothing, and replicas sharing one database
compute the same result.
"""
from __future__ import annotations

from kiln.engine.due import DueEngine, when_due
from kiln.store import Row, Store

IN_PROGRESS = ("PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING")
TERMINAL = ("AVAILABLE", "FAILED", "CANCELLED")
LIFECYCLE = ("PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE")


def plan(created: float, seconds_per_state: float | None, tests_enabled: bool, fault: tuple[str, str] | None, done: dict) -> dict:
    """The timeline of a new build. `done` holds the document fields set on AVAILABLE."""
    states = [s for s in LIFECYCLE if tests_enabled or s != "TESTING"]
    steps = []
    for i, state in enumerate(states):
        if i == 0:
            due = created
        elif seconds_per_state is None:
            due = None  # manual: an admin call makes it due
        else:
            due = created + i * seconds_per_state
        steps.append([state, due])
    tl = {"steps": steps, "at": 0, "fail": None, "done": done}
    if fault is not None:
        set_fault(tl, *fault)
    return tl


def set_fault(tl: dict, state: str, reason: str) -> None:
    """Make the build fail in `state`. A state it skips (TESTING with tests off) or
    has already left means the next state it is still to be in."""
    order = LIFECYCLE.index(state)
    for s, _ in tl["steps"][tl["at"]:]:
        if LIFECYCLE.index(s) >= order and s != "AVAILABLE":
            tl["fail"] = {"state": s, "reason": reason}
            return
    tl["fail"] = None


def next_due(tl: dict) -> float | None:
    at = tl["at"]
    if at + 1 < len(tl["steps"]):
        return tl["steps"][at + 1][1]
    return None


def apply(row: Row, now: float) -> bool:
    """Apply every transition due by `now` to an image row. Returns whether it changed."""
    tl = row.timeline
    if tl is None or row.status in TERMINAL:
        return False
    changed = False
    steps = tl["steps"]
    while tl["at"] + 1 < len(steps):
        due = steps[tl["at"] + 1][1]
        if due is None or due > now:
            break
        current = steps[tl["at"]][0]
        fail = tl.get("fail")
        if fail and fail["state"] == current:
            _set_state(row, {"status": "FAILED", "reason": fail["reason"]})
            row.next_due = None
            return True
        tl["at"] += 1
        state = steps[tl["at"]][0]
        _set_state(row, {"status": state})
        if state == "AVAILABLE":
            row.doc.update(tl["done"])
        changed = True
    if changed or row.next_due != next_due(tl):
        row.next_due = next_due(tl) if row.status not in TERMINAL else None
        changed = True
    return changed


def _set_state(row: Row, state: dict) -> None:
    row.status = state["status"]
    row.doc["state"] = state
    if state["status"] in ("FAILED", "CANCELLED") and "scanState" in row.doc:
        # The image went terminal before its scan could finish.
        row.doc["scanState"] = {"status": "ABANDONED", "reason": f"The image is {state['status']}."}


def cancel(row: Row, reason: str) -> None:
    _set_state(row, {"status": "CANCELLED", "reason": reason})
    row.next_due = None


def make_due(row: Row, now: float) -> None:
    """Manual timing: the next state of this build becomes due now."""
    tl = row.timeline
    if tl and row.status not in TERMINAL and tl["at"] + 1 < len(tl["steps"]):
        step = tl["steps"][tl["at"] + 1]
        if step[1] is None or step[1] > now:
            step[1] = now
        row.next_due = step[1]


@when_due("image")
def image_due(ctx, row: Row) -> None:
    """An image build's next state fell due at ctx.now: apply it (and any other
    state due at that same moment)."""
    apply(row, ctx.now)
    if row.timeline is None or row.status in TERMINAL:
        row.next_due = None  # nothing more will happen to it


def advance_due(store: Store, now: float) -> None:
    """Apply every piece of due work before serving a request (kiln/core.py keeps one
    DueEngine; this is for scripts that have only a store, e.g. bench/)."""
    DueEngine(store).catch_up(now)
