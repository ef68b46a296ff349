"""Lifecycle policy runs: once a day on kiln's clock (as AWS runs them) and on request,
a policy selects its images, applies its rules, and records what it did as a lifecycle
execution (kiln/service/lifecycle_executions.py).

Selection: the policy's `resourceType` (AMI_IMAGE: AMI images, CONTAINER_IMAGE: DOCKER
images) and `resourceSelection` (images built from the listed recipes, name and
semantic version with x wildcards; or images carrying any of the listed tags), among
images that are AVAILABLE, DEPRECATED or DISABLED. Rules are counted per image name (a
recipe's builds): an AGE rule acts on images at least `value` `unit`s old but keeps the
newest `retainAtLeast`; a COUNT rule keeps the newest `value` and acts on the rest;
images with any of the rule's `exclusionRules.tagMap` tags are left alone. An image that
several rules reach takes the most severe action (DELETE, then DISABLE, then DEPRECATE),
and only an action that changes it (DEPRECATE an AVAILABLE image, DISABLE an AVAILABLE
or DEPRECATED one, DELETE any).
"""
from __future__ import annotations

import calendar
from datetime import datetime, timezone

from kiln.engine.due import when_due
from kiln.service import lifecycle_executions
from kiln.service.versions import matches, wildcard
from kiln.store import Row

POLICY = "lifecycle-policy"
DAY = 86400.0
SEVERITY = {"DEPRECATE": 1, "DISABLE": 2, "DELETE": 3}
ACTS_ON = {"DEPRECATE": ("AVAILABLE",), "DISABLE": ("AVAILABLE", "DEPRECATED"),
           "DELETE": ("AVAILABLE", "DEPRECATED", "DISABLED")}
ELIGIBLE = ("AVAILABLE", "DEPRECATED", "DISABLED")


def first_run(created: float) -> float:
    """When a new (or updated) policy first runs: a day after it was made, then daily."""
    return created + DAY


def _older_than(created: float, now: float, value: int, unit: str) -> bool:
    """Whether `created` is at least `value` `unit`s before `now` (months and years by the calendar)."""
    if unit in ("DAYS", "WEEKS"):
        return now - created >= value * DAY * (7 if unit == "WEEKS" else 1)
    t = datetime.fromtimestamp(created, timezone.utc)
    months = value * (12 if unit == "YEARS" else 1) + t.month - 1
    year, month = t.year + months // 12, months % 12 + 1
    day = min(t.day, calendar.monthrange(year, month)[1])
    return now >= t.replace(year=year, month=month, day=day).timestamp()


def _selected(policy: dict, image: Row) -> bool:
    doc = image.doc
    if image.status not in ELIGIBLE:
        return False
    if doc.get("type", "AMI") != ("DOCKER" if policy["resourceType"] == "CONTAINER_IMAGE" else "AMI"):
        return False
    selection = policy.get("resourceSelection") or {}
    if selection.get("tagMap"):
        tags = doc.get("tags") or {}
        return any(tags.get(k) == v for k, v in selection["tagMap"].items())
    recipe = doc.get("imageRecipe") or doc.get("containerRecipe") or {}
    for wanted in selection.get("recipes") or ():
        if recipe.get("name") == wanted["name"] and matches(wildcard(wanted["semanticVersion"], "semanticVersion"),
                                                            (image.major, image.minor, image.patch)):
            return True
    return False


def plan(policy: dict, images: list[Row], now: float) -> list[dict]:
    """What one run does: [{"image", "action", "reason", "include", "exclusions"}]."""
    chosen: dict[str, tuple[dict, dict]] = {}
    groups: dict[str, list[Row]] = {}
    for image in images:
        if _selected(policy, image):
            groups.setdefault(image.name_key, []).append(image)
    for rule in policy.get("policyDetails") or ():
        action, filt = rule["action"]["type"], rule["filter"]
        skip_tags = (rule.get("exclusionRules") or {}).get("tagMap") or {}
        for group in groups.values():
            candidates = sorted((i for i in group if not any((i.doc.get("tags") or {}).get(k) == v for k, v in skip_tags.items())),
                                key=lambda i: (i.created, i.arn), reverse=True)  # newest first
            if filt["type"] == "COUNT":
                hit = candidates[filt["value"]:]
                reason = f"The image is not among the newest {filt['value']}."
            else:
                kept = candidates[:filt.get("retainAtLeast") or 0]
                hit = [i for i in candidates if i not in kept and _older_than(i.created, now, filt["value"], filt["unit"])]
                reason = f"The image is older than {filt['value']} {filt['unit'].lower()}."
            for image in hit:
                if image.status not in ACTS_ON[action]:
                    continue
                current = chosen.get(image.arn)
                if current is None or SEVERITY[action] > SEVERITY[current[0]["action"]]:
                    chosen[image.arn] = ({"image": image.arn, "action": action, "reason": reason,
                                          "include": rule["action"].get("includeResources") or {},
                                          "exclusions": {"amis": (rule.get("exclusionRules") or {}).get("amis")}
                                          if (rule.get("exclusionRules") or {}).get("amis") else {}}, rule)
    return [item for item, _ in sorted(chosen.values(), key=lambda c: c[0]["image"])]


def run(ctx, policy: Row) -> str:
    """Run `policy` now (ctx.now): plan its actions and record them as an execution that
    applies at once. Returns the execution id."""
    images = ctx.tx.page("image", None, 1_000_000)
    items = plan(policy.doc, images, ctx.now)
    key = lifecycle_executions.start(ctx, items, ctx.now, policy_arn=policy.arn)
    policy.doc["dateLastRun"] = ctx.now
    return key


@when_due(POLICY)
def daily(ctx, row: Row) -> None:
    """A policy's daily run fell due at ctx.now (DISABLED policies do not run)."""
    if row.doc.get("status", "ENABLED") == "ENABLED":
        run(ctx, row)
    row.next_due = ctx.now + DAY
