"""New versions of AWS-managed images and components, published on request, as AWS
releases a new Amazon Linux image or a new update-linux build.

What a pipeline waiting for dependency updates waits for: a recipe whose parent
image or component is a wildcard (`amazon-linux-2023-x86/x.x.x`) resolves to the new
build from then on. A release is stored as a row of the account `aws` in its region
(kiln/service/versioned.py merges those rows with the catalog), so every process and
replica sees it, and a reset removes it.
"""
from __future__ import annotations

from kiln.service import arns, versioned
from kiln.service.images import ami_id, build_date
from kiln.service.resource import iso
from kiln.store import Row

KINDS = ("image", "component")


class ReleaseError(ValueError):
    """A release that cannot be made (answered 400 by the admin route)."""


def publish(ctx, arn: str) -> dict:
    """Publish `arn`, a build ARN of an existing managed family
    (arn:aws:imagebuilder:<region>:aws:image/<family>/<M.m.p>/<build>), as a copy of
    that family's newest build with the new version, made now. `ctx.tx` is scoped to
    the caller's view of the region; returns the new document."""
    parsed = arns.parse(arn)
    if parsed is None or parsed.kind not in KINDS or parsed.owner != arns.AWS_OWNER or parsed.build is None \
            or "x" in parsed.version:
        raise ReleaseError(f"'{arn}' is not the build ARN of an AWS-managed image or component "
                           "(arn:aws:imagebuilder:<region>:aws:image/<name>/<M.m.p>/<build>).")
    if parsed.region != ctx.region:
        raise ReleaseError(f"'{arn}' is in Region '{parsed.region}', not '{ctx.region}'.")
    table = versioned.managed_table(ctx, parsed.kind)
    family = [r for r in table.rows if r.name_key == parsed.name]
    if not family:
        raise ReleaseError(f"There is no AWS-managed {parsed.kind} named '{parsed.name}' to publish a version of.")
    if any(r.arn == arn for r in family):
        raise ReleaseError(f"'{arn}' is published already.")
    newest = max(family, key=lambda r: (r.major, r.minor, r.patch, r.build))
    major, minor, patch = (int(n) for n in parsed.version.split("."))
    doc = dict(newest.doc)
    doc.update(arn=arn, dateCreated=iso(ctx.now))
    if parsed.kind == "image":
        doc["version"] = f"{parsed.version}/{parsed.build}"
        doc["outputResources"] = {"amis": [
            {**ami, "image": ami_id("aws", ctx.region, arn, ami["region"]), "name": f"{doc['name']} {build_date(ctx.now)}"}
            for ami in (newest.doc.get("outputResources") or {}).get("amis") or ()]}
    else:
        doc["version"] = parsed.version
    ctx.tx.of(arns.AWS_OWNER).insert(Row(
        arn=arn, type=parsed.kind, name_key=parsed.name, name=newest.name, doc=doc, major=major, minor=minor,
        patch=patch, build=parsed.build, status=newest.status, created=ctx.now))
    return doc
