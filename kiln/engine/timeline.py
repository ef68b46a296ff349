"""An image build as a timeline stored with the image (architecture principle 5).

At CreateImage the whole build is planned: the states it will visit, when each is
due, where it fails (if an admin planned a failure) and what it produces when it
completes. The due-work engine (due.py) applies each state change when it falls
due, through the handler registered below for rows of type "image". No thread
watches time pass, restarts lose nothing, and replicas sharing one database
compute the same result.
"""
from __future__ import annotations

from kiln.engine import workflow_steps
from kiln.engine.due import DueEngine, when_due
from kiln.integrations import notes
from kiln.store import Row, Store

IN_PROGRESS = ("PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING")
TERMINAL = ("AVAILABLE", "FAILED", "CANCELLED")
LIFECYCLE = ("PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE")
SCAN_STATES = {"TESTING": "SCANNING", "DISTRIBUTING": "COLLECTING"}  # scanState while the build is in these


def plan(created: float, seconds_per_state: float | None, tests_enabled: bool, fault: tuple | None, done: dict,
         runs: dict[str, list] | None = None, states: tuple[str, ...] = LIFECYCLE) -> dict:
    """The timeline of a new build. `done` holds the document fields set on AVAILABLE;
    `runs` the workflow runs of each state (workflow_steps.py), when the build has them;
    `states` the states it visits (a distribution-only run has no BUILDING)."""
    states = [s for s in states if tests_enabled or s != "TESTING"]
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
    if runs is not None:
        tl.update(v=2, per=seconds_per_state, runs=[runs.get(state, []) for state, _ in steps])
    if fault is not None:
        try:
            set_fault(tl, *fault)
        except ValueError:  # a next-build failure naming a step this build does not have
            set_fault(tl, fault[0], fault[1], None, *fault[3:])
    return tl


def set_fault(tl: dict, state: str | None, reason: str, step: str | None = None, component: dict | None = None) -> None:
    """Make the build fail in `state` (at the workflow step named `step`, if given; in a
    component phase, `component`, if given: the failure context then says which). A state
    it skips (TESTING with tests off) or has already left means the next state it is still
    to be in."""
    extra = {"component": component} if component else {}
    if step is not None:
        stage = workflow_steps.stage_of_step(tl, step)
        if stage is None or stage < tl["at"]:
            raise ValueError(f"the build has no step '{step}' still to run")
        tl["fail"] = {"state": tl["steps"][stage][0], "reason": reason, "step": step, **extra}
        return
    order = LIFECYCLE.index(state or "BUILDING")
    for s, _ in tl["steps"][tl["at"]:]:
        if LIFECYCLE.index(s) >= order and s != "AVAILABLE":
            tl["fail"] = {"state": s, "reason": reason, **extra}
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
    waiting = tl.get("wait")
    changed = False
    steps = tl["steps"]
    while tl["at"] + 1 < len(steps):
        due = steps[tl["at"] + 1][1]
        if due is None or due > now:
            break
        current = steps[tl["at"]][0]
        if tl.get("wait"):  # the waiting step's timeout ran out
            if _fail(row, tl, due, "Step timed out.", tl["wait"]):
                return True
            changed = True
            continue
        fail = tl.get("fail")
        if fail and fail["state"] == current:
            tl["fail"] = None
            if _fail(row, tl, due, fail["reason"], None, fail.get("step"), fail.get("component")):
                return True
            if tl.get("wait") or steps[tl["at"] + 1][1] != due:
                changed = True
                continue
        if "runs" in tl and workflow_steps.run_to_wait(tl, tl["at"], due):
            changed = True  # (manual timing) the advance reached a WaitForAction: the state goes on, waiting
            continue
        if "runs" in tl:
            workflow_steps.leave(tl, tl["at"], due)
        tl["at"] += 1
        state = steps[tl["at"]][0]
        _set_state(row, {"status": state}, due)
        if "runs" in tl:
            workflow_steps.enter(tl, tl["at"], due)
        if state == "AVAILABLE":
            row.doc.update(tl["done"])
        changed = True
    if changed or row.next_due != next_due(tl):
        row.next_due = next_due(tl) if row.status not in TERMINAL else None
        changed = True
    _note_wait(row, waiting)
    return changed


def _fail(row: Row, tl: dict, at: float, reason: str, wait: dict | None, step: str | None = None,
          component: dict | None = None) -> bool:
    """A step fails at `at` (the waiting one when `wait` is given). Returns whether the
    build failed; if the step's onFailure lets it go on, the state's timing goes on."""
    if "runs" not in tl:
        _set_state(row, {"status": "FAILED", "reason": reason}, at)
        row.next_due = None
        return True
    if wait is not None:
        waiting = tl["runs"][wait["stage"]][wait["run"]]["steps"][wait["step"]]
        if waiting["onFailure"] == "Continue":
            workflow_steps.resume(tl, at, failed=reason)
            return False
        tl.pop("wait")
        step = waiting["name"]
    context = workflow_steps.fail(tl, tl["at"], at, reason, step, component)
    if context is None:
        return False
    workflow_steps.abandon_after(tl, tl["at"])
    _set_state(row, {"status": "FAILED", "reason": reason, "failureContext": context}, at)
    row.next_due = None
    return True


def step_action(row: Row, now: float, action: str, reason: str | None = None) -> None:
    """SendWorkflowStepAction on the build's waiting step: RESUME completes it, STOP
    fails it (its onFailure decides whether the build fails)."""
    tl = row.timeline
    waiting = tl.get("wait")
    if action == "RESUME":
        workflow_steps.resume(tl, now)
    elif not _fail(row, tl, now, reason or "The step was stopped.", tl["wait"]):
        pass
    if row.status in IN_PROGRESS:
        apply(row, now)
        row.next_due = next_due(tl)
    _note_wait(row, waiting)


def retry(row: Row, now: float, runs: dict[str, list]) -> None:
    """RetryImage: the FAILED or CANCELLED build goes back to the state it stopped in and
    runs it, and the states after it, again with new workflow runs (`runs`); the
    superseded runs stay listed, marked `retried`."""
    tl = row.timeline
    stage = tl["at"]
    for runs_of_stage in tl["runs"][stage:]:
        for run in runs_of_stage:
            run["retried"] = True
            tl.setdefault("retired", []).append(run)
    for i in range(stage, len(tl["steps"])):
        tl["runs"][i] = runs.get(tl["steps"][i][0], [])
    tl.pop("wait", None)
    tl["fail"] = None
    tl["at"] = stage - 1
    tl["steps"][stage][1] = now
    # The state before the one it runs again; apply() moves it on at once (its document
    # state stays FAILED/CANCELLED until then, so the integrations hear that change).
    row.status = tl["steps"][stage - 1][0]
    apply(row, now)
    row.next_due = next_due(tl) if row.status in IN_PROGRESS else None


def _set_state(row: Row, state: dict, at: float | None = None) -> None:
    notes.state_changed(row, row.doc.get("state"), state, at)  # for the integrations (nothing when none is on)
    row.status = state["status"]
    row.doc["state"] = state
    if "scanState" not in row.doc:
        return
    if state["status"] in ("FAILED", "CANCELLED"):
        # The image went terminal before its scan could finish.
        row.doc["scanState"] = {"status": "ABANDONED", "reason": f"The image is {state['status']}."}
    elif state["status"] in SCAN_STATES and row.doc["scanState"].get("status") not in ("COMPLETED", "ABANDONED"):
        # The scan runs alongside the build: Inspector scans the test instance, then
        # Image Builder collects the findings (COMPLETED comes with AVAILABLE).
        row.doc["scanState"] = {"status": SCAN_STATES[state["status"]]}


def cancel(row: Row, reason: str, now: float | None = None) -> None:
    tl = row.timeline
    if tl is not None and "runs" in tl and now is not None:
        workflow_steps.cancel(tl, tl["at"], now)
        workflow_steps.abandon_after(tl, tl["at"])
    _set_state(row, {"status": "CANCELLED", "reason": reason}, now)
    row.next_due = None


def _note_wait(row: Row, before: dict | None) -> None:
    """A WaitForAction step that started waiting since `before` (for the integrations' event)."""
    wait = row.timeline.get("wait") if row.timeline else None
    if wait and wait != before:
        notes.step_waiting(row, wait, None)


def make_due(row: Row, now: float) -> None:
    """Manual timing: the next state of this build becomes due now."""
    tl = row.timeline
    if tl and row.status not in TERMINAL and tl["at"] + 1 < len(tl["steps"]) and not tl.get("wait"):
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
