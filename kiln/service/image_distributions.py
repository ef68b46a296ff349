"""DistributeImage: an existing AMI (an AMI id, an `ssm:` parameter or an Image Builder
image) distributed by a distribution configuration, without building it again. The
call creates a new image resource that tracks the distribution-only run: PENDING, then
DISTRIBUTING while the `distribute-image` workflow runs, INTEGRATING, AVAILABLE."""
from __future__ import annotations

import re

from kiln.engine import timeline
from kiln.engine.timeline import IN_PROGRESS
from kiln.errors import invalid_value
from kiln.service import arns, distribution_configurations, images, operation, versioned, workflow_runs
from kiln.service.resource import iso, not_found
from kiln.store import Row

STATES = ("PENDING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE")
_AMI = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$")


def _source(ctx, source: str) -> tuple[str, str, str, dict]:
    """(name, version, platform, extra document fields) of the image resource that
    tracks distributing `source`."""
    if source.startswith("arn:"):
        parsed = arns.parse(source)
        if parsed is None or parsed.kind != "image" or parsed.version is None:
            raise invalid_value("sourceImage", f"'{source}' is not an AMI ID, an ssm: parameter or an image ARN.")
        row = versioned.resolve(ctx, parsed, "sourceImage", status=None if parsed.build is not None else "AVAILABLE")
        if row is None or row.status != "AVAILABLE":
            raise not_found("Image", source)
        version = row.doc["version"].split("/")[0]
        extra = {"osVersion": row.doc["osVersion"]} if row.doc.get("osVersion") else {}
        return row.doc["name"], version, row.doc.get("platform", "Linux"), extra
    if _AMI.match(source):
        return source, "1.0.0", "Linux", {}
    if source.startswith("ssm:") and len(source) > 4:
        # The parameter's name, made a valid image name: what its ARN segment would be.
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", source[4:].rsplit("/", 1)[-1]).strip("-")[:128] or "ssm-image"
        return name, "1.0.0", "Linux", {}
    raise invalid_value("sourceImage", f"'{source}' is not an AMI ID, an ssm: parameter or an image ARN.")


@operation("DistributeImage")
def distribute_image(ctx, request):
    name, version, platform, extra = _source(ctx, request["sourceImage"])
    distribution = distribution_configurations.get_row(ctx, request["distributionConfigurationArn"]).doc
    key = arns.name_key(name)
    build = ctx.tx.next_number(f"{images.TYPE}/{key}/{version}")
    arn = arns.make(ctx, images.TYPE, key, version, build)
    done = {"outputResources": {"amis": images.output_amis(ctx, name, distribution.get("description"), distribution, build)}}
    workflow = f"arn:{ctx.partition}:imagebuilder:{ctx.region}:aws:workflow/distribution/distribute-image/x.x.x"
    runs = workflow_runs.plan(ctx, arn, {"workflows": [{"workflowArn": workflow}]}, platform, False,
                              extra.get("osVersion"), done)
    workflow_runs.register(ctx, arn, runs)
    plan = timeline.plan(ctx.now, ctx.seconds_per_state, False, ctx.tx.take_fault(arn), done, runs, STATES)
    doc = {"arn": arn, "type": "AMI", "name": name, "version": f"{version}/{build}", "platform": platform, **extra,
           "state": {"status": "PENDING"}, "distributionConfiguration": distribution, "dateCreated": iso(ctx.now),
           "outputResources": {"amis": []}, "tags": request.get("tags") or {}, "buildType": "USER_INITIATED",
           "executionRole": request["executionRole"]}
    if request.get("loggingConfiguration"):
        doc["loggingConfiguration"] = request["loggingConfiguration"]
    major, minor, patch = (int(n) for n in version.split("."))
    row = Row(arn=arn, type=images.TYPE, name_key=key, name=name, doc=doc, major=major, minor=minor, patch=patch,
              build=build, status="PENDING", created=ctx.now, timeline=plan)
    timeline.apply(row, ctx.now)
    row.next_due = timeline.next_due(plan) if row.status in IN_PROGRESS else None
    ctx.tx.insert(row)
    images.ensure_version_row(ctx, row, extra.get("osVersion"))
    return {"clientToken": request["clientToken"], "imageBuildVersionArn": arn}
