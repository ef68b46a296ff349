"""Lifecycle executions: runs of lifecycle actions on images (DEPRECATE, DISABLE, DELETE,
back to AVAILABLE), started by StartResourceStateUpdate or by a lifecycle policy, and
the operations that read and cancel them.

An execution is a row of its own (LifecycleExecution document, `lce-…` id). What it
acts on is planned when it starts (`items`: an image and the action for it) and applied
when it falls due through the engine: at once, or at StartResourceStateUpdate's
`updateAt`. The per-resource results (the image, its AMIs and their snapshots, its
container images) are kept in the row's bookkeeping and served by
ListLifecycleExecutionResources.
"""
from __future__ import annotations

import hashlib

from kiln.engine.due import when_due
from kiln.errors import InvalidParameterCombinationException, InvalidRequestException, ResourceInUseException, invalid_value
from kiln.integrations import notes
from kiln.service import arns, operation, pagination, versioned
from kiln.service.resource import not_found, parse_arn
from kiln.store import Row

TYPE = "lifecycle-execution"
ACTION_STATE = {"DEPRECATE": "DEPRECATED", "DISABLE": "DISABLED", "DELETE": "DELETED", "AVAILABLE": "AVAILABLE"}
STATE_ACTION = {state: action for action, state in ACTION_STATE.items()}
TERMINAL = ("CANCELLED", "FAILED", "SUCCESS")
UPDATABLE = ("AVAILABLE", "DEPRECATED", "DISABLED", "FAILED", "CANCELLED")


def _id(*parts: str) -> str:
    h = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"lce-{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def start(ctx, items: list[dict], at: float, policy_arn: str | None = None, include: dict | None = None,
          exclusions: dict | None = None) -> str:
    """An execution acting on `items` ({"image": arn, "action": DEPRECATE|..., "reason": ...})
    at `at` (now, or later). Returns its id."""
    key = _id(ctx.account, ctx.region, policy_arn or "", str(ctx.now), *(i["image"] for i in items))
    doc = {"lifecycleExecutionId": key}
    if policy_arn:
        doc["lifecyclePolicyArn"] = policy_arn
    doc.update(resourcesImpactedSummary={"hasImpactedResources": bool(items)}, state={"status": "IN_PROGRESS"},
               startTime=ctx.now)
    book = {"items": items, "include": include or {}, "exclusions": exclusions or {}, "resources": []}
    ctx.tx.insert(Row(arn=key, type=TYPE, name_key="-", name="-", doc=doc, created=ctx.now, status="IN_PROGRESS",
                      timeline=book, next_due=at))
    return key


@when_due(TYPE)
def apply(ctx, row: Row) -> None:
    """The execution's actions fall due: each image takes its new state (and, with
    includeResources, its AMIs, snapshots and containers their action), recorded per resource."""
    book = row.timeline
    for item in book["items"]:
        image = ctx.tx.get(item["image"], "image")
        if image is None:
            continue
        book["resources"] += _act(ctx, row.arn, image, item, item.get("include", book["include"]),
                                  item.get("exclusions", book["exclusions"]))
        ctx.tx.save(image)
    row.doc["state"] = {"status": "SUCCESS"}
    row.doc["endTime"] = ctx.now
    row.status = "SUCCESS"
    row.next_due = None


def _act(ctx, execution: str, image: Row, item: dict, include: dict, exclusions: dict) -> list[dict]:
    action = item["action"]
    reason = item.get("reason") or "Resource state update requested."
    results = []
    skipped = False
    for ami in (image.doc.get("outputResources") or {}).get("amis") or () if include.get("amis") else ():
        excluded = _excluded(ami, image, exclusions)
        skipped = skipped or excluded
        state = {"status": "SKIPPED", "reason": "Excluded by the exclusion rules."} if excluded else {"status": "SUCCESS"}
        entry = {"accountId": ami.get("accountId", ctx.account), "resourceId": ami["image"], "state": state,
                 "action": {"name": action, "reason": reason}, "region": ami["region"]}
        if include.get("snapshots") and action == "DELETE":
            snap = "snap-" + hashlib.sha256(ami["image"].encode()).hexdigest()[:17]
            entry["snapshots"] = [{"snapshotId": snap, "state": dict(state)}]
        entry.update(startTime=ctx.now, endTime=ctx.now)
        results.append(entry)
    for container in (image.doc.get("outputResources") or {}).get("containers") or () if include.get("containers") else ():
        results.append({"accountId": ctx.account, "resourceId": container["imageUris"][0], "state": {"status": "SUCCESS"},
                        "action": {"name": action, "reason": reason}, "region": container["region"],
                        "imageUris": container["imageUris"], "startTime": ctx.now, "endTime": ctx.now})
    if action == "DELETE" and include.get("amis"):  # deleted from EC2 too, when kiln registered them there
        notes.amis_deleted(image, [ami for ami in (image.doc.get("outputResources") or {}).get("amis") or ()
                                   if not _excluded(ami, image, exclusions)], bool(include.get("snapshots")), ctx.now)
    keep = action == "DELETE" and skipped  # a skipped AMI keeps the image record it belongs to
    if keep:
        own = {"status": "SKIPPED", "reason": "Retained: one or more of its AMIs were excluded."}
    else:
        set_state(image, ACTION_STATE[action], ctx.now)
        image.doc["lifecycleExecutionId"] = execution
        own = {"status": "SUCCESS"}
    results.insert(0, {"accountId": ctx.account, "resourceId": image.arn, "state": own,
                       "action": {"name": action, "reason": reason}, "region": ctx.region,
                       "startTime": ctx.now, "endTime": ctx.now})
    return results


def _excluded(ami: dict, image: Row, rules: dict) -> bool:
    amis = (rules or {}).get("amis") or {}
    if amis.get("regions") and ami["region"] in amis["regions"]:
        return True
    if amis.get("sharedAccounts") and ami.get("accountId") in amis["sharedAccounts"]:
        return True
    tags = amis.get("tagMap") or {}
    if tags and any(image.doc.get("tags", {}).get(k) == v for k, v in tags.items()):
        return True
    return False


def set_state(image: Row, state: str, now: float) -> None:
    """An image's new lifecycle state (AVAILABLE again clears its deprecation time)."""
    notes.state_changed(image, image.doc.get("state"), {"status": state}, now)  # for the integrations
    image.status = state
    image.doc["state"] = {"status": state}
    if state == "DEPRECATED":
        image.doc.setdefault("deprecationTime", now)
    elif state == "AVAILABLE":
        image.doc.pop("deprecationTime", None)


def _running_for(ctx, image_arn: str) -> Row | None:
    for row in ctx.tx.with_status(TYPE, "IN_PROGRESS"):
        if any(i["image"] == image_arn for i in row.timeline["items"]):
            return row
    return None


@operation("StartResourceStateUpdate")
def start_resource_state_update(ctx, request):
    arn = request["resourceArn"]
    image = versioned.own(ctx, parse_arn("resourceArn", arn, ("image",)), "image", "Image", arn)
    target = request["state"]["status"]
    include = request.get("includeResources")
    role = request.get("executionRole")
    if image.status not in UPDATABLE:
        raise InvalidRequestException(f"The image '{arn}' is {image.status}; its state can change only from "
                                      f"{', '.join(UPDATABLE)}.")
    if image.status in ("FAILED", "CANCELLED") and target != "DELETED":
        raise InvalidRequestException(f"The image '{arn}' is {image.status}; it can only move to DELETED.")
    if image.doc.get("type") == "DOCKER" and target != "DELETED":
        raise InvalidRequestException(f"The image '{arn}' is a container image; its state can only move to DELETED.")
    if bool(include) != bool(role):
        raise InvalidParameterCombinationException(
            "The parameters 'executionRole' and 'includeResources' must be specified together.")
    if include and (include.get("snapshots") or include.get("containers")) and target != "DELETED":
        raise InvalidParameterCombinationException(
            "The value supplied for parameter 'includeResources' is not valid. Snapshots and containers can only be "
            "included when the state is DELETED.")
    if target == "DELETED" and not include:
        raise InvalidParameterCombinationException(
            "To set an image to DELETED, you must include its underlying resources (includeResources). To delete "
            "only the Image Builder image, use DeleteImage.")
    update_at = request.get("updateAt")
    if update_at is not None:
        if target != "DEPRECATED":
            raise invalid_value("updateAt", "updateAt is valid only when the target state is DEPRECATED.")
        if update_at <= ctx.now:
            raise invalid_value("updateAt", "updateAt must be a future time.")
    if not include and update_at is None:
        if image.status == target:
            raise InvalidRequestException(f"The image '{arn}' is already {target}.")
        set_state(image, target, ctx.now)
        ctx.tx.save(image)
        return {"resourceArn": image.arn}
    if _running_for(ctx, image.arn) is not None:
        raise ResourceInUseException(f"The image '{arn}' already has a lifecycle execution in progress.")
    if update_at is not None:
        image.doc["deprecationTime"] = update_at
        ctx.tx.save(image)
    item = {"image": image.arn, "action": STATE_ACTION[target], "reason": "Resource state update requested."}
    key = start(ctx, [item], update_at if update_at is not None else ctx.now, include=include,
                exclusions=request.get("exclusionRules"))
    return {"lifecycleExecutionId": key, "resourceArn": image.arn}


def _execution(ctx, key: str) -> Row:
    row = ctx.tx.get(key, TYPE)
    if row is None:
        raise not_found("LifecycleExecution", key)
    return row


@operation("GetLifecycleExecution")
def get_lifecycle_execution(ctx, request):
    return {"lifecycleExecution": _execution(ctx, request["lifecycleExecutionId"]).doc}


@operation("CancelLifecycleExecution")
def cancel_lifecycle_execution(ctx, request):
    row = _execution(ctx, request["lifecycleExecutionId"])
    if row.doc["state"]["status"] in TERMINAL:
        raise InvalidRequestException(f"The lifecycle execution '{row.arn}' is {row.doc['state']['status']} and "
                                      "cannot be cancelled.")
    row.doc["state"] = {"status": "CANCELLED", "reason": "The lifecycle execution was cancelled by the user."}
    row.doc["endTime"] = ctx.now
    row.status, row.next_due = "CANCELLED", None
    ctx.tx.save(row)
    return {"lifecycleExecutionId": row.arn}


@operation("ListLifecycleExecutions")
def list_lifecycle_executions(ctx, request):
    arn = request["resourceArn"]
    parsed = arns.parse(arn)
    if parsed is None or parsed.kind not in ("lifecycle-policy", "image") or (parsed.kind == "image" and parsed.build is None):
        raise invalid_value("resourceArn", f"'{arn}' is not a lifecycle policy ARN or an image build version ARN.")
    rows = [r for r in ctx.tx.page(TYPE, None, 100_000)
            if r.doc.get("lifecyclePolicyArn") == arn or any(i["image"] == arn for i in r.timeline["items"])]
    rows.sort(key=lambda r: (-r.created, r.arn))  # newest first
    docs, token = pagination.page_list(ctx.secret, "ListLifecycleExecutions", request, [r.doc for r in rows])
    return {"lifecycleExecutions": docs, "nextToken": token}


@operation("ListLifecycleExecutionResources")
def list_lifecycle_execution_resources(ctx, request):
    row = _execution(ctx, request["lifecycleExecutionId"])
    resources = row.timeline["resources"]
    parent = request.get("parentResourceId")
    if parent:
        images = {r["resourceId"] for r in resources if r["resourceId"].startswith("arn:")}
        if parent not in images:
            resources = []
        else:
            image = ctx.tx.get(parent, "image")
            owned = {a["image"] for a in ((image.doc if image else {}).get("outputResources") or {}).get("amis") or ()}
            owned |= {c["imageUris"][0] for c in ((image.doc if image else {}).get("outputResources") or {}).get("containers") or ()}
            resources = [r for r in resources if r["resourceId"] in owned]
    else:
        resources = [r for r in resources if r["resourceId"].startswith("arn:")]
    page, token = pagination.page_list(ctx.secret, "ListLifecycleExecutionResources", request, resources)
    return {"lifecycleExecutionId": row.arn, "lifecycleExecutionState": row.doc["state"],
            "resources": page, "nextToken": token}

