"""Components: AWSTOE documents, versioned, with service-assigned build numbers."""
from __future__ import annotations

import hashlib

import orjson

from kiln.errors import InvalidParameterCombinationException
from kiln.integrations import s3
from kiln.protocol.stored import fragment
from kiln.service import arns, list_entries, operation, sharing, versioned
from kiln.service.component_documents import parse_component_document
from kiln.service.filters import compile_filters, group_by
from kiln.service.resource import check_dry_run, iso, not_found, parse_arn, references
from kiln.service.versions import parse_version
from kiln.store import Row

TYPE = "component"
LABEL = "Component"


def read_document(request: dict) -> str:
    """Exactly one of inline `data` or `uri`."""
    data, uri = request.get("data"), request.get("uri")
    if (data is None) == (uri is None):
        raise InvalidParameterCombinationException(
            "You must specify exactly one of the parameters 'data' and 'uri'."
        )
    if uri is not None:
        # Read once, now, from the S3 endpoint configured or moto's mock_aws; refused (saying
        # how to configure one) without either (kiln/integrations/s3.py).
        return s3.read(uri, "uri", "data")
    return data


def content_hash(request: dict, exclude=("clientToken", "tags", "dryRun", "name", "semanticVersion")) -> str:
    content = {k: v for k, v in request.items() if k not in exclude}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


@operation("CreateComponent")
def create_component(ctx, request):
    return create_build(ctx, request, read_document(request))


def create_build(ctx, request: dict, data: str) -> dict:
    """A new component build from the document `data` (CreateComponent's, or the one
    ImportComponent wraps a script into); versions and content as the request says."""
    document = parse_component_document(data)
    nodes = parse_version(request["semanticVersion"])
    arn, build = versioned.new_build(ctx, TYPE, LABEL, request["name"], nodes, request["semanticVersion"], content_hash(request))
    check_dry_run(request)
    # `version` is M.m.p; the build number is only in the ARN (as GetComponent shows).
    doc = {"arn": arn, "name": request["name"], "version": arn.split("/")[-2]}
    # changeDescription only when given: the Terraform provider's acceptance tests
    # (TestAccImageBuilderComponent_basic, ..._Workflow_basic) expect none from AWS, and
    # its schema would replace the resource on every plan if one were filled in.
    for k in ("description", "changeDescription"):
        if k in request:
            doc[k] = request[k]
    doc["type"] = document.type
    doc["platform"] = request["platform"]
    if request.get("supportedOsVersions"):
        doc["supportedOsVersions"] = request["supportedOsVersions"]
    doc["state"] = {"status": "ACTIVE"}
    if document.parameters:
        doc["parameters"] = document.parameters
    doc["owner"] = ctx.account
    doc["data"] = data  # verbatim, as submitted
    if "kmsKeyId" in request:
        doc["kmsKeyId"] = request["kmsKeyId"]
    doc["encrypted"] = True
    doc["dateCreated"] = iso(ctx.now)
    doc["tags"] = request.get("tags") or {}
    key = arn.split("/")[1]
    ctx.tx.insert(Row(
        arn=arn, type=TYPE, name_key=key, name=request["name"], doc=doc, major=nodes[0], minor=nodes[1],
        patch=nodes[2], build=build, status="ACTIVE", created=ctx.now, content_hash=content_hash(request),
    ))
    return {
        "clientToken": request["clientToken"],
        "componentBuildVersionArn": arn,
        "latestVersionReferences": references(arn),
    }


def resolve(ctx, arn: str, param: str) -> Row:
    """A component build from a build, version or wildcard ARN (newest ACTIVE build)."""
    parsed = parse_arn(param, arn, (TYPE,))
    row = versioned.resolve(ctx, parsed, param, status=None if parsed.build is not None else "ACTIVE")
    if row is None:
        raise not_found(LABEL, arn)
    return row


@operation("GetComponent")
def get_component(ctx, request):
    row = resolve(ctx, request["componentBuildVersionArn"], "componentBuildVersionArn")
    return {"component": fragment(row.stored_json()), "latestVersionReferences": references(row.arn)}


@operation("DeleteComponent")
def delete_component(ctx, request):
    arn = request["componentBuildVersionArn"]
    parsed = parse_arn("componentBuildVersionArn", arn, (TYPE,))
    if parsed.build is None:
        raise not_found(LABEL, arn)
    sharing.refuse_delete(ctx, versioned.own(ctx, parsed, TYPE, LABEL, arn))
    return {"componentBuildVersionArn": versioned.delete_own(ctx, parsed, TYPE, LABEL, arn)}


_FILTERS = {
    "description": lambda r: r.doc.get("description"),
    "name": lambda r: r.doc.get("name"),
    "platform": lambda r: r.doc.get("platform"),
    "productCodes": lambda r: [p.get("productCodeId") for p in r.doc.get("productCodes") or ()],
    "status": lambda r: r.status,
    "supportedOsVersion": lambda r: r.doc.get("supportedOsVersions"),
    "type": lambda r: r.doc.get("type"),
    "version": lambda r: r.doc["version"],
}


@operation("ListComponents")
def list_components(ctx, request):
    filters = request.get("filters")
    wanted = compile_filters(filters, _FILTERS)
    show_deprecated = any(f.get("name") == "status" and "DEPRECATED" in (f.get("values") or ()) for f in filters or ())

    def keep(row):
        return wanted(row) and (show_deprecated or row.status != "DEPRECATED")

    group = group_by(request)
    rows, token = versioned.list_rows(ctx, TYPE, "ListComponents", request, keep, request.get("owner"), group)
    return {"componentVersionList": list_entries.entries("ComponentVersion", rows, _version_entry), "nextToken": token}


def _version_entry(row: Row) -> dict:
    doc = versioned.version_doc(row)
    doc["status"] = row.status
    return doc


@operation("ListComponentBuildVersions")
def list_component_build_versions(ctx, request):
    arn = request.get("componentVersionArn")
    owner = "Self"
    if arn is None:
        keep = lambda row: row.status != "DEPRECATED"  # noqa: E731
    else:
        parsed = parse_arn("componentVersionArn", arn, (TYPE,))
        nodes = tuple(int(n) for n in parsed.version.split("."))
        if parsed.region != ctx.region:
            return {"componentSummaryList": [], "nextToken": None}
        key = parsed.name
        if parsed.owner == arns.AWS_OWNER:
            owner = "Amazon"  # the builds of an AWS-managed component version, as GetComponent resolves them
        elif parsed.owner != ctx.account:
            owner, key = "Shared", sharing.shared_name_key(parsed.name, parsed.owner)  # only builds shared with the caller

        def keep(row):
            return row.name_key == key and row.version == nodes and row.status != "DEPRECATED"

    rows, token = versioned.list_rows(ctx, TYPE, "ListComponentBuildVersions", request, keep, owner, "build",
                                      name_key=None if arn is None else parsed.name, newest_first=True)
    return {"componentSummaryList": [r.doc for r in rows], "nextToken": token}
