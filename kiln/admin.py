"""kiln's own controls, beside the AWS API: health, reset, the clock, and builds
advanced or failed on request. Served under /_kiln/ and used by the pytest plugin."""
from __future__ import annotations

import datetime
import math

from kiln import api_faults
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
    """Empty the store and put the clock back to the real time (Store.reset does both); the
    failure rules go back to those the kiln started with (kiln serve --faults, the mock's faults=)."""
    kiln.store.reset()
    api_faults.reset(kiln)
    return {"reset": True}


def operation_status() -> dict:
    modeled = sorted(operations())
    return {
        "implemented": [o for o in modeled if o in HANDLERS],
        "notImplemented": [o for o in modeled if o not in HANDLERS],
    }


# kiln's clock goes no further than this (3000-01-01T00:00:00Z): dates past it are not
# worth modelling, and past year 9999 no ISO 8601 timestamp (nor Python's datetime) can
# say them, so a clock moved there would break every request until a reset.
CLOCK_LIMIT = 32503680000.0


def _within_limit(kiln, to: float, what: str) -> None:
    if to > CLOCK_LIMIT:
        raise AdminError(f"{what} would move kiln's clock past 3000-01-01T00:00:00Z, as far as it goes; "
                         f"it stands at {datetime.datetime.fromtimestamp(kiln.clock.now(), datetime.timezone.utc).isoformat()}.")


def advance_clock(kiln, seconds: float) -> dict:
    """Move the deployment's clock (every process and replica on the store sees it)
    and apply what fell due on the way, each piece at its own moment."""
    try:
        finite = not isinstance(seconds, bool) and math.isfinite(seconds)
    except (TypeError, OverflowError):  # not a number, or an int no float can hold
        finite = False
    if not finite:
        raise AdminError(f"seconds must be a finite number, not {seconds!r}.")
    if seconds < 0:
        raise AdminError(f"seconds must be zero or more (kiln's clock only moves forward), not {seconds}.")
    _within_limit(kiln, kiln.clock.now() + seconds, f"Advancing {seconds} seconds")
    kiln.clock.advance(float(seconds))
    now = kiln.clock.now()
    kiln.engine.run(now, wait=True)
    return {"now": now}


def parse_time(text: str) -> float:
    """An ISO 8601 instant with its offset (2027-03-27T05:00:00Z) as epoch seconds."""
    try:
        t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AdminError(f"at must be an ISO 8601 time such as 2027-03-27T05:00:00Z, not {text!r}.") from None
    if t.tzinfo is None:
        raise AdminError(f"at must say its offset from UTC (end it with Z or +01:00), not {text!r}.")
    return t.timestamp()


def freeze_clock(kiln, at: float | None = None) -> dict:
    """Stop kiln's clock (at `at`, epoch seconds, if given: never earlier than now) and
    apply what fell due up to it; `advance_clock` then moves it in exact steps."""
    now = kiln.clock.now()
    if at is not None and at < now:
        raise AdminError(f"at must not be before kiln's clock ({now}); kiln's clock only moves forward.")
    if at is not None:
        _within_limit(kiln, at, "Freezing at that time")
    kiln.clock.freeze(at)
    now = kiln.clock.now()
    kiln.engine.run(now, wait=True)
    return {"now": now}


def unfreeze_clock(kiln) -> dict:
    """Let kiln's clock run again from where it stands."""
    kiln.clock.unfreeze()
    return {"now": kiln.clock.now()}


def publish_release(kiln, arn: str) -> dict:
    """Publish a new version of an AWS-managed image or component (`arn`: its new build
    ARN), as AWS does when it releases one: wildcards resolve to it from now on."""
    from kiln.service import arns, catalog_releases

    parsed = arns.parse(arn)
    if parsed is None:
        raise AdminError(f"'{arn}' is not an Image Builder ARN.")
    now = kiln.clock.now()
    try:
        doc = kiln.store.run(lambda tx: catalog_releases.publish(kiln.due_context(tx, now), arn),
                             arns.AWS_OWNER, parsed.region)
    except catalog_releases.ReleaseError as e:
        raise AdminError(str(e)) from None
    return {"published": arn, "dateCreated": doc["dateCreated"]}


def run_lifecycle_policy(kiln, arn: str) -> dict:
    """Run a lifecycle policy now, as its daily run would: answers the execution's id once
    its actions are applied."""
    from kiln.service import arns, lifecycle_runs

    parsed = arns.parse(arn)
    if parsed is None or parsed.kind != "lifecycle-policy":
        raise AdminError(f"'{arn}' is not a lifecycle policy ARN.")
    now = kiln.clock.now()

    def run(tx):
        row = tx.get(arn, lifecycle_runs.POLICY)
        if row is None:
            raise AdminError(f"No lifecycle policy has the ARN '{arn}'.")
        key = lifecycle_runs.run(kiln.due_context(tx, now), row)
        tx.save(row)
        return key

    key = kiln.store.run(run, parsed.owner, parsed.region)
    kiln.engine.run(now, wait=True)
    return {"lifecycleExecutionId": key}


def _component_of(row, failure: dict) -> dict:
    """A component failure of a given build: the component's build ARN as the build uses it."""
    from kiln.service import arns

    given = failure["componentArn"]
    parsed = arns.parse(given)
    key = parsed.name if parsed is not None else arns.name_key(given)
    recipe = row.doc.get("imageRecipe") or row.doc.get("containerRecipe") or {}
    for c in recipe.get("components") or ():
        if arns.parse(c["componentArn"]).name == key:
            return {**failure, "componentArn": c["componentArn"]}
    return failure


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


PHASE_STATE = {"build": "BUILDING", "validate": "BUILDING", "test": "TESTING"}


def plan_failure(kiln, state: str, reason: str, image_arn: str | None = None,
                 account: str | None = None, region: str | None = None, step: str | None = None,
                 component: str | None = None, phase: str | None = None, component_step: str | None = None) -> dict:
    """Make a build (or the next build created) fail in `state` with `reason`, at the
    workflow step named `step` if given (its state is then the step's), or in a component's
    phase (`component`: its name or ARN; `phase`: build, validate or test), which the failed
    image's failureContext.componentFailure then names."""
    failure = None
    if component is not None or phase is not None:
        if not component or phase not in PHASE_STATE:
            raise AdminError("component and phase go together: phase must be one of build, validate, test.")
        state = PHASE_STATE[phase]
        failure = {"componentArn": component, "phaseName": phase}
        if component_step:
            failure["stepName"] = component_step
    if step is not None:
        state = state or "BUILDING"
    if state not in FAILABLE:
        raise AdminError(f"state must be one of {', '.join(FAILABLE)}, not {state!r}.")
    if not reason:
        raise AdminError("reason must be a non-empty string.")

    def run(tx: Tx):
        if image_arn is None:
            tx.plan_fault(state, reason, account, region, step, failure)
            return {"planned": "next build", "state": state, **({"step": step} if step else {})}
        found = tx.everywhere("image", arn=image_arn)
        if not found:
            raise AdminError(f"No image has the ARN '{image_arn}'.")
        scoped, row = found[0]
        if row.status not in IN_PROGRESS:
            raise AdminError(f"The image '{image_arn}' is {row.status}; only a build in progress can be made to fail.")
        try:
            timeline.set_fault(row.timeline, state, reason, step, failure and _component_of(row, failure))
        except ValueError as e:
            raise AdminError(f"The image '{image_arn}' has no workflow step '{step}' still to run.") from e
        scoped.save(row)
        return {"planned": image_arn, "state": row.timeline["fail"]["state"], **({"step": step} if step else {})}

    return kiln.store.run(run, "", "")


def seed_inventory(kiln, image_arn: str, packages: list | None = None, findings: list | None = None) -> dict:
    """Give an image (a build ARN, or a version or wildcard ARN: its newest AVAILABLE build;
    an AWS-managed image too) the packages (`[{"packageName", "packageVersion"}]`) and scan
    findings (ImageScanFinding objects) that ListImagePackages, ListImageScanFindings and
    ListImageScanFindingAggregations list for it and for every image built from it. A list
    given replaces the one seeded before; one left out (None) is kept. kiln invents none."""
    from kiln.errors import ApiError
    from kiln.service import arns, image_scans

    if not isinstance(image_arn, str) or not image_arn:
        raise AdminError("imageArn is required: the ARN of the image the packages and findings belong to.")
    if packages is None and findings is None:
        raise AdminError("Give packages, findings or both: the image's inventory and its scan findings.")
    parsed = arns.parse(image_arn)
    if parsed is None or parsed.kind != "image":
        raise AdminError(f"imageArn must be an Image Builder image ARN, not {image_arn!r}.")
    try:
        image_scans.check_seed(packages, findings)
    except image_scans.SeedError as e:
        raise AdminError(str(e)) from None
    now = kiln.clock.now()
    try:
        return kiln.store.run(lambda tx: image_scans.seed(kiln.due_context(tx, now), image_arn, packages, findings),
                              parsed.owner, parsed.region)
    except ApiError as e:
        raise AdminError(e.message) from None
    except image_scans.SeedError as e:
        raise AdminError(str(e)) from None


def list_faults(kiln) -> dict:
    """The failure rules in force in this process (kiln/api_faults.py), in the order they are tried."""
    return {"rules": api_faults.listed(kiln)}


def add_faults(kiln, args: dict) -> dict:
    """Add failure rules: `args` is one rule's fields, or {"rules": [rule, ...]}. Answers them with
    their ids. AdminError names the first field kiln cannot use."""
    try:
        if "rules" in args:
            if len(args) > 1:
                others = ", ".join(k for k in args if k != "rules")
                raise AdminError(f"Give one rule's fields or rules (a list of rules), not both: {others} "
                                 "would go inside a rule.")
            if not args["rules"]:
                raise AdminError("rules must hold at least one rule.")
            rules = api_faults.parse_rules(args["rules"])
        else:
            if not args:
                raise AdminError("Give a rule (its fields: " + ", ".join(api_faults.FIELDS) + ") or rules.")
            rules = [api_faults.parse_rule(args)]
    except api_faults.RuleError as e:
        raise AdminError(str(e)) from None
    return {"added": api_faults.add(kiln, rules)}


def clear_faults(kiln, rule_id: str | None = None) -> dict:
    """Remove one failure rule (by the id it was answered with) or every one."""
    try:
        return {"cleared": api_faults.clear(kiln, rule_id)}
    except KeyError:
        raise AdminError(f"No fault rule has the id {rule_id!r}; GET /_kiln/faults lists them.") from None


def faults(kiln, path: str, args: dict) -> dict:
    """/_kiln/faults (list), /_kiln/faults/add, /_kiln/faults/clear."""
    if path == "/_kiln/faults/add":
        return add_faults(kiln, args)
    if path == "/_kiln/faults/clear":
        return clear_faults(kiln, args.get("id"))
    return list_faults(kiln)
