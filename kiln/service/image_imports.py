"""ImportVmImage and ImportDiskImage: images that come from outside Image Builder.

Each creates a build version of the given name and version (the next build number, as
CreateImage does), PENDING at first, then BUILDING while EC2's VM import task (or the
ISO conversion) runs, then AVAILABLE on kiln's clock with one AMI in the Region, so it
can be a recipe's parent image. `buildType` is IMPORT or IMPORT_ISO and `imageSource`
IMPORTED, as the model documents them.
"""
from __future__ import annotations

import re

from kiln.engine import timeline
from kiln.engine.timeline import IN_PROGRESS
from kiln.errors import invalid_value
from kiln.service import arns, images, operation
from kiln.service.resource import iso, unversioned
from kiln.service.versions import parse_version
from kiln.store import Row

STATES = ("PENDING", "BUILDING", "AVAILABLE")
_ISO_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.(iso|ISO|Iso)$")
WINDOWS_11 = "Microsoft Windows 11"


def _import(ctx, request: dict, build_type: str, extra: dict) -> Row:
    name = request["name"]
    key = arns.name_key(name)
    parse_version(request["semanticVersion"])
    version = request["semanticVersion"]
    existing = ctx.tx.latest(images.TYPE, key, *parse_version(version))
    if existing is not None:  # the same numbers, however spelled: add to that version
        version = existing.doc["version"].split("/")[0]
    build = ctx.tx.next_number(f"{images.TYPE}/{key}/{version}")
    arn = arns.make(ctx, images.TYPE, key, version, build)
    ami = {"region": ctx.region, "image": images.ami_id(ctx.account, ctx.region, name, str(build), "import"),
           "name": f"{name} {images.build_date(ctx.now)}"}
    if request.get("description"):
        ami["description"] = request["description"]
    ami["accountId"] = ctx.account
    done: dict = {"outputResources": {"amis": [ami]}}
    doc = {"arn": arn, "type": "AMI", "name": name, "version": f"{version}/{build}", "platform": request["platform"]}
    if request.get("osVersion"):
        doc["osVersion"] = request["osVersion"]
    doc.update(state={"status": "PENDING"}, **extra, dateCreated=iso(ctx.now), outputResources={"amis": []},
               tags=request.get("tags") or {}, buildType=build_type, imageSource="IMPORTED")
    for k in ("executionRole", "loggingConfiguration"):
        if request.get(k):
            doc[k] = request[k]
    major, minor, patch = parse_version(version)
    plan = timeline.plan(ctx.now, ctx.seconds_per_state, False, ctx.tx.take_fault(arn), done, states=STATES)
    row = Row(arn=arn, type=images.TYPE, name_key=key, name=name, doc=doc, major=major, minor=minor, patch=patch,
              build=build, status="PENDING", created=ctx.now, timeline=plan)
    timeline.apply(row, ctx.now)
    row.next_due = timeline.next_due(plan) if row.status in IN_PROGRESS else None
    ctx.tx.insert(row)
    images.ensure_version_row(ctx, row, request.get("osVersion"))
    return row


@operation("ImportVmImage")
def import_vm_image(ctx, request):
    if not re.fullmatch(r"import-ami-[0-9a-f]{8,17}", request["vmImportTaskId"]):
        raise invalid_value("vmImportTaskId", f"'{request['vmImportTaskId']}' is not a VM import task ID "
                            "(import-ami- followed by 8 or 17 hexadecimal digits, as EC2's ImportImage returns).")
    group = (request.get("loggingConfiguration") or {}).get("logGroupName")
    if group and not group.startswith("/aws/imagebuilder/"):
        raise invalid_value("loggingConfiguration.logGroupName",
                            f"'{group}' is not in the /aws/imagebuilder/ namespace, which ImportVmImage requires.")
    row = _import(ctx, request, "IMPORT", {})
    return {"imageArn": row.arn, "clientToken": request["clientToken"]}


@operation("ImportDiskImage")
def import_disk_image(ctx, request):
    if request["platform"] != "Windows":
        raise invalid_value("platform", f"'{request['platform']}' is not supported. Allowed values: Windows.")
    if request["osVersion"] != WINDOWS_11:
        raise invalid_value("osVersion", f"'{request['osVersion']}' is not supported. The only supported value is {WINDOWS_11}.")
    if not _ISO_URI.match(request["uri"]):
        raise invalid_value("uri", f"'{request['uri']}' is not an ISO file in Amazon S3: use s3://bucket/key with a key "
                            "ending in .iso.")
    group = (request.get("loggingConfiguration") or {}).get("logGroupName")
    if group and not group.startswith("/aws/imagebuilder/") and not request.get("executionRole"):
        raise invalid_value("executionRole", "An execution role is required when the log group is outside the "
                            "/aws/imagebuilder/ namespace.")
    infra = unversioned(ctx, request["infrastructureConfigurationArn"], "infrastructureConfigurationArn",
                        "infrastructure-configuration", "InfrastructureConfiguration")
    row = _import(ctx, request, "IMPORT_ISO", {"infrastructureConfiguration": infra.doc})
    return {"clientToken": request["clientToken"], "imageBuildVersionArn": row.arn}
