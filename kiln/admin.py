"""kiln's own controls, beside the AWS API: health, reset, the clock, and builds
advanced or failed on request. Served under /_kiln/ and used by the pytest plugin."""
from __future__ import annotations

import sqlalchemy as sa

from kiln.engine import timeline
from kiln.engine.timeline import IN_PROGRESS, LIFECYCLE
from kiln.protocol.spec import operations
from kiln.service import HANDLERS
from kiln.store.repository import Tx, _COLUMNS, _row
from kiln.store.schema import faults, resources

FAILABLE = tuple(s for s in LIFECYCLE if s != "AVAILABLE")


class AdminError(ValueError):
    """A bad admin request (answered 400 with the message)."""


def health(kiln) -> dict:
    return {"status": "ok", "service": "imagebuilder", "database": kiln.store.dialect}


def reset(kiln) -> dict:
    """Empty the store and put the clock back to the real time."""
    kiln.store.reset()
    kiln.clock.reset()
    return {"reset": True}


def operation_status() -> dict:
    modeled = sorted(operations())
    return {
        "implemented": [o for o in modeled if o in HANDLERS],
        "notImplemented": [o for o in modeled if o not in HANDLERS],
    }


def advance_clock(kiln, seconds: float) -> dict:
    kiln.clock.advance(seconds)
    return {"now": kiln.clock.now()}


def advance_builds(kiln, image_arn: str | None = None, to_end: bool = False) -> dict:
    """Move in-progress builds on by one state (or to the end): what manual
    build timing waits for. Returns the states the builds are now in."""
    now = kiln.clock.now()
    result: dict[str, str] = {}

    def run(tx: Tx):
        q = sa.select(resources.c.account, resources.c.region, *_COLUMNS).where(
            resources.c.type == "image", resources.c.status.in_(IN_PROGRESS)
        )
        if image_arn:
            q = q.where(resources.c.arn == image_arn)
        for r in tx.conn.execute(q).all():
            row = _row(r[2:])
            scoped = Tx(tx.conn, r[0], r[1])
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
            tx.conn.execute(faults.insert().values(account=account, region=region, image_arn=None, state=state, reason=reason))
            return {"planned": "next build", "state": state}
        q = sa.select(resources.c.account, resources.c.region, *_COLUMNS).where(
            resources.c.type == "image", resources.c.arn == image_arn
        )
        r = tx.conn.execute(q).first()
        if r is None:
            raise AdminError(f"No image has the ARN '{image_arn}'.")
        row = _row(r[2:])
        if row.status not in IN_PROGRESS:
            raise AdminError(f"The image '{image_arn}' is {row.status}; only a build in progress can be made to fail.")
        row.timeline["fail"] = timeline.plan(0, 0, True, (state, reason), {})["fail"]
        Tx(tx.conn, r[0], r[1]).save(row)
        return {"planned": image_arn, "state": state}

    return kiln.store.run(run, "", "")
