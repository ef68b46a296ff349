"""A build's workflow runs as data: which step runs when, and what happens at a wait,
a failure or a cancellation.

A build's timeline (timeline.py) moves through states (BUILDING, TESTING, ...); each
state may hold workflow runs (`tl["runs"][i]`, planned by kiln/service/workflow_runs.py
when the build starts), and each run its steps. When the build enters a state, its
steps are given times: one after the other, sharing the state's duration evenly
(skipped steps take none). A step's status at any moment follows from those times, so
a read in the middle of a state shows the step that is running then, without a write.

What cannot be timed in advance is stored as it happens: a WaitForAction step holds
the build (`tl["wait"]`) until SendWorkflowStepAction or its timeout; a failure marks
its step FAILED and what had not run CANCELLED.

A run:  {"id", "arn", "type", "status"?, "start"?, "end"?, "retried", "steps": [...], ...}
A step: {"id", "name", "action", "onFailure", "skip", "inputs", "outputs", "start"?, "end"?,
         "status"? (set only for FAILED and CANCELLED), "message"?, ...}
"""
from __future__ import annotations

WAIT = "WaitForAction"


def enter(tl: dict, stage: int, at: float) -> None:
    """The build entered state `stage` at `at`: time its steps, and set when the state
    ends (the next state's due time): after its last step, at a wait's timeout, or never
    on its own (manual timing, or a wait without timeout)."""
    runs = tl.get("runs", [])[stage] if tl.get("runs") else []
    per = tl.get("per")
    if not runs:  # a state no workflow runs in (PENDING, INTEGRATING): its usual duration
        _set_stage_end(tl, stage, at + per if per is not None else None)
        return
    timed = sum(1 for r in runs for s in r["steps"] if not s["skip"] and s["action"] != WAIT)
    tl.setdefault("per_step", {})[str(stage)] = (per / timed) if per is not None and timed else (0.0 if per is not None else None)
    _time_from(tl, stage, at, 0, 0)


def _time_from(tl: dict, stage: int, at: float, run_index: int, step_index: int) -> None:
    """Give times to the steps of `stage` from (run_index, step_index) on, starting at `at`."""
    runs = tl["runs"][stage]
    per_step = tl["per_step"][str(stage)]
    t = at
    for r in range(run_index, len(runs)):
        run = runs[r]
        run.setdefault("start", t)
        for s in range(step_index if r == run_index else 0, len(run["steps"])):
            step = run["steps"][s]
            if step["skip"]:
                step["start"] = step["end"] = t
                continue
            step["start"] = t
            if step["action"] == WAIT:
                timeout = step.get("timeoutSeconds")
                tl["wait"] = {"stage": stage, "run": r, "step": s, "timeout": t + timeout if timeout else None}
                _set_stage_end(tl, stage, tl["wait"]["timeout"])
                return
            if per_step is None:  # manual timing: this step runs until an advance ends the state
                _set_stage_end(tl, stage, None)
                return
            step["end"] = t = t + per_step
        run["end"] = t
    _set_stage_end(tl, stage, t)


def _set_stage_end(tl: dict, stage: int, due: float | None) -> None:
    if stage + 1 < len(tl["steps"]):
        tl["steps"][stage + 1][1] = due


def run_to_wait(tl: dict, stage: int, at: float) -> bool:
    """Manual timing: an advance at `at` ends the step now running, then the state's
    steps run up to its next WaitForAction, which begins to wait. Returns False when no
    wait is left in the state (the advance then ends the state, as `leave` does)."""
    if tl.get("per") is not None or tl.get("wait"):
        return False
    runs = _runs(tl, stage)
    for r, run in enumerate(runs):
        for s, step in enumerate(run["steps"]):
            if step["skip"] or step["action"] != WAIT or step.get("start") is not None or "status" in step:
                continue
            # The first wait not yet begun: what runs before it ends now, then it begins.
            for earlier in (x for rr in runs[:r + 1] for x in (rr["steps"] if rr is not run else rr["steps"][:s])):
                if "status" in earlier:
                    continue
                if earlier.get("start") is None:
                    earlier["start"] = at
                if earlier.get("end") is None:
                    earlier["end"] = at
            for done in runs[:r]:
                if done.get("end") is None:
                    done["end"] = at
                done.setdefault("start", at)
            run.setdefault("start", at)
            _time_from(tl, stage, at, r, s)
            return True
    return False


def leave(tl: dict, stage: int, at: float) -> None:
    """The state ended at `at` (its last step done, or an advance moved it on): what
    has not ended ends now."""
    for run in _runs(tl, stage):
        for step in run["steps"]:
            if "status" in step:
                continue
            if step.get("start") is None:
                step["start"] = at
            if step.get("end") is None or step["end"] > at:
                step["end"] = at
        if run.get("end") is None or run["end"] > at:
            run["end"] = at
        run.setdefault("start", at)


def resume(tl: dict, at: float, failed: str | None = None) -> None:
    """The waiting step ends at `at`: done (RESUME), or FAILED with `failed` as its
    message when its onFailure is Continue. The state's other steps are timed from there."""
    wait = tl.pop("wait")
    stage, r, s = wait["stage"], wait["run"], wait["step"]
    step = tl["runs"][stage][r]["steps"][s]
    step["end"] = at
    if failed is not None:
        step["status"], step["message"] = "FAILED", failed
    _time_from(tl, stage, at, r, s + 1)


def fail(tl: dict, stage: int, at: float, message: str, step_name: str | None = None,
         component: dict | None = None) -> dict | None:
    """A step of state `stage` fails at `at`. Returns the failure context for the image,
    or None when the failure does not fail the build (the step's onFailure is Continue,
    or its run is a test workflow whose onFailure is CONTINUE)."""
    runs = _runs(tl, stage)
    found = _failing_step(runs, step_name)
    if found is None:  # a state no workflow step runs in: distribution and its configuration
        context = {"imageStatus": tl["steps"][stage][0]}
        if context["imageStatus"] in ("DISTRIBUTING", "INTEGRATING"):
            context["distributionFailure"] = {"errorMessage": message}
        return context
    r, s = found
    run, step = runs[r], runs[r]["steps"][s]
    step["status"], step["message"] = "FAILED", message
    if step.get("start") is None:
        step["start"] = at
    if step.get("end") is None or step["end"] > at:
        step["end"] = at
    context = {"imageStatus": tl["steps"][stage][0], "workflowExecutionId": run["id"], "workflowArn": run["arn"],
               "stepExecutionId": step["id"], "failedStep": step["name"]}
    if component and step["action"] == "ExecuteComponents":
        context["componentFailure"] = {**component, "errorMessage": message}
    if step["onFailure"] == "Continue":
        return None
    _cancel_after(run, s + 1, at)
    run["status"], run["end"] = "FAILED", at
    run["message"] = f"Workflow Execution ID: '{run['id']}' failed with reason: {message}"
    if run.get("onFailure") == "CONTINUE":
        return None
    for later in runs[r + 1:]:
        later["status"] = "CANCELLED"
        _cancel_after(later, 0, at)
    return context


def cancel(tl: dict, stage: int, at: float) -> None:
    """CancelImageCreation at `at`: the running step and everything after it is CANCELLED."""
    tl.pop("wait", None)
    for run in _runs(tl, stage):
        if "status" in run or (run.get("end") is not None and run["end"] <= at):
            continue
        run["status"], run["end"] = "CANCELLED", at
        run.setdefault("start", at)
        for step in run["steps"]:
            if "status" in step or (step.get("end") is not None and step["end"] <= at):
                continue
            step["status"] = "CANCELLED"
            if step.get("start") is not None and step["start"] <= at:
                step["end"] = at
            else:
                step["start"] = step["end"] = None


def abandon_after(tl: dict, stage: int) -> None:
    """The build ended in `stage` (failed or cancelled): the runs of the states it will
    not reach never start."""
    for runs in (tl.get("runs") or [])[stage + 1:]:
        for run in runs:
            run["status"] = "CANCELLED"
            _cancel_after(run, 0, 0.0)


def _cancel_after(run: dict, first: int, at: float) -> None:
    for step in run["steps"][first:]:
        if "status" not in step and not step["skip"]:
            step["status"] = "CANCELLED"
            step["start"] = step["end"] = None


def _runs(tl: dict, stage: int) -> list[dict]:
    runs = tl.get("runs")
    return runs[stage] if runs and stage < len(runs) else []


def _failing_step(runs: list[dict], name: str | None) -> tuple[int, int] | None:
    """The step a planned failure hits: the one named, else the state's first
    ExecuteComponents step (where builds usually fail), else its last step that runs."""
    candidates = [(r, s) for r, run in enumerate(runs) for s, step in enumerate(run["steps"])
                  if not step["skip"] and "status" not in step]
    if name is not None:
        named = [(r, s) for r, s in candidates if runs[r]["steps"][s]["name"] == name]
        return named[0] if named else None
    components = [(r, s) for r, s in candidates if runs[r]["steps"][s]["action"] == "ExecuteComponents"]
    if components:
        return components[0]
    return candidates[-1] if candidates else None


def stage_of_step(tl: dict, name: str) -> int | None:
    """The state whose runs have a step called `name`."""
    for stage, runs in enumerate(tl.get("runs") or ()):
        if any(step["name"] == name for run in runs for step in run["steps"]):
            return stage
    return None


def step_status(step: dict, now: float) -> str:
    if step["skip"]:
        return "SKIPPED"
    if "status" in step:
        return step["status"]
    if step.get("end") is not None and step["end"] <= now:
        return "COMPLETED"
    if step.get("start") is not None and step["start"] <= now:
        return "RUNNING"
    return "PENDING"


def run_status(run: dict, now: float) -> str:
    if "status" in run:
        return run["status"]
    if run.get("end") is not None and run["end"] <= now:
        return "COMPLETED"
    if run.get("start") is not None and run["start"] <= now:
        return "RUNNING"
    return "PENDING"
