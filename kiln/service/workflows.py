"""Workflows: build, test and distribution workflow documents, versioned like components."""
from __future__ import annotations

from kiln.errors import invalid_value
from kiln.protocol.stored import fragment
from kiln.service import arns, list_entries, operation, versioned
from kiln.service.components import content_hash, read_document
from kiln.service.filters import compile_filters, group_by
from kiln.service.resource import check_dry_run, iso, not_found, parse_arn, references
from kiln.service.versions import parse_version
from kiln.service.workflow_documents import parse_workflow_document
from kiln.store import Row

LABEL = "Workflow"
KINDS = ("workflow/build", "workflow/test", "workflow/distribution")


def kind_of(workflow_type: str) -> str:
    return f"workflow/{workflow_type.lower()}"


@operation("CreateWorkflow")
def create_workflow(ctx, request):
    data = read_document(request)
    document = parse_workflow_document(data, request["type"])
    nodes = parse_version(request["semanticVersion"])
    kind = kind_of(request["type"])
    arn, build = versioned.new_build(ctx, kind, LABEL, request["name"], nodes, request["semanticVersion"], content_hash(request))
    check_dry_run(request)
    # `version` is M.m.p; the build number is only in the ARN (as GetComponent shows).
    doc = {"arn": arn, "name": request["name"], "version": arn.split("/")[-2]}
    # changeDescription only when given: the Terraform provider's acceptance tests
    # (TestAccImageBuilderComponent_basic, ..._Workflow_basic) expect none from AWS, and
    # its schema would replace the resource on every plan if one were filled in.
    for k in ("description", "changeDescription"):
        if k in request:
            doc[k] = request[k]
    doc["type"] = request["type"]
    doc["owner"] = ctx.account
    doc["data"] = data
    if "kmsKeyId" in request:
        doc["kmsKeyId"] = request["kmsKeyId"]
    doc["dateCreated"] = iso(ctx.now)
    doc["tags"] = request.get("tags") or {}
    if document.parameters:
        doc["parameters"] = document.parameters
    ctx.tx.insert(Row(
        arn=arn, type=kind, name_key=arns.name_key(request["name"]), name=request["name"], doc=doc,
        major=nodes[0], minor=nodes[1], patch=nodes[2], build=build, status="ACTIVE", created=ctx.now,
        content_hash=content_hash(request),
    ))
    return {
        "clientToken": request["clientToken"],
        "workflowBuildVersionArn": arn,
        "latestVersionReferences": references(arn),
    }


def resolve(ctx, arn: str, param: str) -> Row:
    """A workflow build from a build, version or wildcard ARN: the newest matching build."""
    return versioned.named(ctx, arn, param, KINDS, LABEL)


@operation("GetWorkflow")
def get_workflow(ctx, request):
    row = resolve(ctx, request["workflowBuildVersionArn"], "workflowBuildVersionArn")
    return {"workflow": fragment(row.stored_json()), "latestVersionReferences": references(row.arn)}


@operation("DeleteWorkflow")
def delete_workflow(ctx, request):
    arn = request["workflowBuildVersionArn"]
    parsed = parse_arn("workflowBuildVersionArn", arn, KINDS)
    if parsed.build is None:
        raise not_found(LABEL, arn)
    return {"workflowBuildVersionArn": versioned.delete_own(ctx, parsed, parsed.kind, LABEL, arn)}


_FILTERS = {
    "name": lambda r: r.doc.get("name"),
    "version": lambda r: r.doc["version"],
    "description": lambda r: r.doc.get("description"),
    "type": lambda r: r.doc.get("type"),
}


@operation("ListWorkflows")
def list_workflows(ctx, request):
    filters = request.get("filters")
    owner = request.get("owner")
    if owner in ("Shared", "ThirdParty"):
        raise invalid_value("owner", f"'{owner}' is not a supported owner for workflows. Supported: Self, Amazon, AWSMarketplace.")
    keep = compile_filters(filters, _FILTERS)
    group = group_by(request)
    types = _types(filters)
    entries, token = _across_kinds(ctx, "ListWorkflows", request, types, lambda kind, req: versioned.list_rows(
        ctx, kind, "ListWorkflows", req, keep, owner, group))
    return {"workflowVersionList": list_entries.entries("WorkflowVersion", entries, versioned.version_doc),
            "nextToken": token}


@operation("ListWorkflowBuildVersions")
def list_workflow_build_versions(ctx, request):
    arn = request.get("workflowVersionArn")
    if arn is None:
        kinds, keep, owner, key = KINDS, (lambda r: True), "Self", None
    else:
        parsed = parse_arn("workflowVersionArn", arn, KINDS)
        nodes = versioned.wildcard(parsed.version, "workflowVersionArn")
        owner = "Amazon" if parsed.owner == arns.AWS_OWNER else "Self"
        if parsed.region != ctx.region or parsed.owner not in (ctx.account, arns.AWS_OWNER):
            return {"workflowSummaryList": [], "nextToken": None}
        kinds, key = (parsed.kind,), parsed.name

        def keep(r):
            return r.name_key == parsed.name and versioned.matches(nodes, r.version)

    entries, token = _across_kinds(ctx, "ListWorkflowBuildVersions", request, kinds, lambda kind, req: versioned.list_rows(
        ctx, kind, "ListWorkflowBuildVersions", req, keep, owner, "build", name_key=key, newest_first=True))
    return {"workflowSummaryList": [_summary(r.doc) for r in entries], "nextToken": token}


def _summary(doc: dict) -> dict:
    """A WorkflowSummary: tags only when the workflow has some."""
    return doc if doc.get("tags") else {k: v for k, v in doc.items() if k != "tags"}


def _types(filters) -> tuple[str, ...]:
    for f in filters or ():
        if f.get("name") == "type":
            return tuple(kind_of(v) for v in f.get("values") or () if kind_of(v) in KINDS)
    return KINDS


def _across_kinds(ctx, operation_name, request, kinds, list_kind):
    """Workflows of the three kinds are listed one kind after another; the token
    remembers which kind the next page continues in."""
    from kiln.service import pagination

    cursor = pagination.decode(ctx.secret, operation_name + "#kind", request.get("nextToken")) if request.get("nextToken") else None
    kind_index, inner = (0, None) if cursor is None else (int(cursor.split("|", 1)[0]), cursor.split("|", 1)[1] or None)
    limit = request.get("maxResults") or pagination.DEFAULT_PAGE
    out: list = []
    while kind_index < len(kinds):
        req = {**request, "maxResults": limit - len(out), "nextToken": inner}
        rows, inner = list_kind(kinds[kind_index], req)
        out.extend(rows)
        if inner is not None:
            return out, pagination.encode(ctx.secret, operation_name + "#kind", f"{kind_index}|{inner}")
        kind_index += 1
        if len(out) >= limit:
            break
    if kind_index < len(kinds):
        return out, pagination.encode(ctx.secret, operation_name + "#kind", f"{kind_index}|")
    return out, None
