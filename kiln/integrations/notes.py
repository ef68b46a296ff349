"""What a write transaction did that the world outside kiln should hear about.

The engine and the service layer call these functions where an image's state changes,
a workflow step starts waiting, or a lifecycle action deletes AMIs. They only take a
note, in memory, on the frame of the write transaction running on this thread (none
when no integration is active: then they cost one attribute lookup and do nothing).
At the end of the transaction's function, kiln/integrations/outbox.py turns the notes
into outbox rows written in that same transaction; a transaction that is rolled back
or run again (Store.run retries lock contention) takes its notes with it.

Nothing here talks to another service: handlers run inside a transaction that may be
retried, and build states are applied lazily, so side effects wait for the commit.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

_local = threading.local()


@dataclass
class Frame:
    """One write transaction's notes, and who it runs for (the caller's account and Region)."""

    integrations: object
    account: str
    region: str
    notes: list = field(default_factory=list)


def push(integrations, account: str, region: str) -> Frame:
    frames = getattr(_local, "frames", None)
    if frames is None:
        frames = _local.frames = []
    frame = Frame(integrations, account, region)
    frames.append(frame)
    return frame


def pop(frame: Frame) -> None:
    frames = getattr(_local, "frames", None)
    if frames and frames[-1] is frame:
        frames.pop()


def current() -> Frame | None:
    """The frame of the write transaction running on this thread, when an integration is active."""
    frames = getattr(_local, "frames", None)
    return frames[-1] if frames else None


def state_changed(row, previous: dict | None, state: dict, at: float | None) -> None:
    """An image's status changed from `previous` to `state` at `at` (kiln's clock)."""
    frames = getattr(_local, "frames", None)
    if frames:
        frames[-1].notes.append(("state", row, dict(previous or {}), dict(state), at))


def step_waiting(row, wait: dict, at: float | None) -> None:
    """A build's WaitForAction step (tl["wait"]: stage, run, step) started waiting at `at`."""
    frames = getattr(_local, "frames", None)
    if frames:
        frames[-1].notes.append(("wait", row, dict(wait), None, at))


def amis_deleted(row, amis: list[dict], snapshots: bool, at: float | None) -> None:
    """A lifecycle action deleted these AMIs of an image (and their snapshots, when `snapshots`)."""
    frames = getattr(_local, "frames", None)
    if frames and amis:
        frames[-1].notes.append(("deleted", row, [dict(a) for a in amis], snapshots, at))
