"""kiln's own controls, beside the AWS API: health, reset, the clock, and builds
advanced or failed on request. Served under /_kiln/ and used by the pytest plugin."""
from __future__ import annotations

from kiln.engine import timeline
from kiln.engine.timeline import IN_PROGRESS, LIFECYCLE
from kiln.protocol.spec import operations
from kiln.service import HANDLERS
from kiln.store.repository import Tx

FAILABLE = tuple(s for s in LIFECYCLE if s != "AVAILABLE")


class AdminError(ValueError):
    """A bad admin request (answered 400 with the message)."""


def health(kiln) -> dict:
    return {"status": "ok", "service": "imagebuilder", "database": kiln.store.dialect}


def reset(kiln) -> dict:
    """Empty the store and put the clock back to the real time (Store.reset does both)."""
    kiln.store.reset()
    return {"reset": True}


def operation_status() -> dict:
    modeled = sorted(operations())
    return {
        "implemented": [o for o in modeled if o in HANDLERS],
        "notImplemented": [o for o in modeled if o not in HANDLERS],
    }


def advance_clock(kiln, seconds: float) -> dict:
    """Move the deployment's clock (every process and replica on the store sees it)
    and apply what fell due on the way, each piece at its own moment."""
    kiln.clock.advance(seconds)
    now = kiln.clock.now()
    kiln.engine.run(now)
    return {"now": now}


def advance_builds(kiln, image_arn: str | None = None, to_end: bool = False) -> dict:
    """Move in-progress builds on by one state (or to the end): what manual
    build timing waits for. Returns the states the builds are now in."""
    now = kiln.clock.now()
    result: dict[str, str] = {}

    def run(tx: Tx):
        for scoped, row in tx.everywhere("image", arn=image_arn or None, statuses=IN_PROGRESS):
            while True:
                timeline.make_due(row, now)
                timeline.apply(row, now)
                if not to_end or row.status not in IN_PROGRESS:
                    break
            scoped.save(row)
            result[row.arn] = row.status

    kiln.store.run(run, "", "")
    if image_arn and image_arn not in result:
        raise AdminError(f"No build in progress has the ARN '{image_arn}'.")
    return {"builds": result}


def plan_failure(kiln, state: str, reason: str, image_arn: str | None = None,
                 account: str | None = None, region: str | None = None) -> dict:
    """Make a build (or the next build created) fail in `state` with `reason`."""
    if state not in FAILABLE:
        raise AdminError(f"state must be one of {', '.join(FAILABLE)}, not {state!r}.")
    if not reason:
        raise AdminError("reason must be a non-empty string.")

    def run(tx: Tx):
        if image_arn is None:
            tx.plan_fault(state, reason, account, region)
            return {"planned": "next build", "state": state}
        found = tx.everywhere("image", arn=image_arn)
        if not found:
            raise AdminError(f"No image has the ARN '{image_arn}'.")
        scoped, row = found[0]
        if row.status not in IN_PROGRESS:
            raise AdminError(f"The image '{image_arn}' is {row.status}; only a build in progress can be made to fail.")
        timeline.set_fault(row.timeline, state, reason)
        scoped.save(row)
        return {"planned": image_arn, "state": state}

    return kiln.store.run(run, "", "")
