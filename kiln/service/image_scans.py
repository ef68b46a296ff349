"""Image inventory and scan findings: ListImagePackages, ListImageScanFindings and
ListImageScanFindingAggregations, answered only from data a user seeded.

AWS fills these from Systems Manager Inventory (packages, collected while the image
builds) and Amazon Inspector (findings, when image scanning is on). kiln runs no
instance and scans nothing, so it never makes packages or findings up: it lists what
was seeded for an image, or for the image it was built from, through
`POST /_kiln/images/inventory`, `kiln.admin.seed_inventory` or the pytest plugin's
`KilnControl.seed_inventory` (docs/behaviour.md, "Scans and inventory"). Without a
seed every list is empty.

A seed is a row of its own type (`image-inventory`) beside the image, in the image
ARN's own account and region (`aws` for an AWS-managed image), keyed by the image's
build ARN. What an image lists is computed when read: the seeds of its parent image
(and of that image's parent, ...) and then its own.
"""
from __future__ import annotations

from types import SimpleNamespace

from kiln.errors import invalid_value
from kiln.service import arns, operation, pagination, versioned
from kiln.service.filters import compile_filters
from kiln.service.resource import parse_arn
from kiln.store import Row

TYPE = "image-inventory"
FINDING_TYPE = "PACKAGE_VULNERABILITY"
# Amazon Inspector's severities (inspector2 model, shape Severity); Image Builder's
# SeverityCounts carries the medium-and-higher ones and the total.
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNTRIAGED")
# Filled in by kiln for the image a finding is listed for, never seeded.
COMPUTED = ("awsAccountId", "imageBuildVersionArn", "imagePipelineArn")
# Inventory is collected at the end of the build workflow (its InventoryCollection
# step): a build lists packages once it has moved past BUILDING.
BUILT = ("TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE", "DEPRECATED", "DISABLED")
MAX_PARENTS = 20  # parent chains are short; this only stops a loop


class SeedError(ValueError):
    """A seed kiln cannot use (the admin layer answers 400 with the message)."""


def key(image_arn: str) -> str:
    """The seed row's key: the image's own row has the image ARN itself."""
    return image_arn + "#inventory"


# -- seeding (kiln.admin.seed_inventory) ----------------------------------------------

def seed(ctx, image_arn: str, packages: list | None, findings: list | None) -> dict:
    """Set the packages and/or findings of one image (`ctx` scoped to the ARN's account
    and region). A version or wildcard ARN names its newest AVAILABLE build, as in GetImage."""
    parsed = parse_arn("imageArn", image_arn, ("image",))
    if parsed.version is None:
        raise SeedError(f"imageArn must name an image version or build, not {image_arn!r}.")
    row = versioned.resolve(ctx, parsed, "imageArn", status=None if parsed.build is not None else "AVAILABLE")
    if row is None:
        raise SeedError(f"No image has the ARN '{image_arn}'.")
    stored = ctx.tx.get(key(row.arn), TYPE)
    doc = dict(stored.doc) if stored is not None else {"imageBuildVersionArn": row.arn, "packages": [], "findings": []}
    if packages is not None:
        doc["packages"] = [dict(p) for p in packages]
    if findings is not None:
        doc["findings"] = [_with_defaults(f, ctx.now) for f in findings]
    if stored is None:
        ctx.tx.insert(Row(arn=key(row.arn), type=TYPE, name_key=row.name_key, name=row.name, doc=doc,
                          major=row.major, minor=row.minor, patch=row.patch, build=row.build, created=ctx.now))
    else:
        stored.doc = doc
        ctx.tx.save(stored)
    result = {"imageBuildVersionArn": row.arn, "packages": len(doc["packages"]), "findings": len(doc["findings"])}
    notes = _notes(row, parsed.owner == arns.AWS_OWNER)
    if notes:
        result["notes"] = notes
    return result


def _with_defaults(finding: dict, now: float) -> dict:
    f = dict(finding)
    f.setdefault("type", FINDING_TYPE)
    f.setdefault("firstObservedAt", now)   # when kiln learnt of it
    f.setdefault("updatedAt", f["firstObservedAt"])
    return f


def _notes(row: Row, managed: bool) -> list[str]:
    """Why a seed will not show on the image itself (it still passes to builds made from it)."""
    if managed:
        return ["An AWS-managed image is listed by no account's scans: its packages and findings show on the "
                "images built from it."]
    notes = []
    doc = row.doc
    if doc.get("enhancedImageMetadataEnabled") is False:
        notes.append("This image has enhancedImageMetadataEnabled false, so AWS collects no inventory for it: "
                     "ListImagePackages lists none for it (images built from it list them).")
    if not (doc.get("imageScanningConfiguration") or {}).get("imageScanningEnabled"):
        notes.append("This image has image scanning off, so ListImageScanFindings lists no findings for it "
                     "(images built from it with scanning on list them).")
    return notes


def check_seed(packages, findings) -> None:
    """The seed's lists as the model shapes them (ValueError names the first wrong field)."""
    from kiln.errors import ApiError
    from kiln.protocol.spec import service_model
    from kiln.protocol.validator import validate

    model = service_model()
    if packages is not None:
        if not isinstance(packages, list):
            raise SeedError(f"packages must be a list, not {type(packages).__name__}.")
        for i, p in enumerate(packages):
            if not isinstance(p, dict):
                raise SeedError(f"packages[{i}] must be an object with packageName and packageVersion.")
            for name in p:
                if name not in ("packageName", "packageVersion"):
                    raise SeedError(f"Unknown field {name!r} in packages[{i}]: a package has packageName and packageVersion.")
            for name in ("packageName", "packageVersion"):
                value = p.get(name)
                if not isinstance(value, str) or not 1 <= len(value) <= 1024:
                    raise SeedError(f"packages[{i}].{name} must be a string of 1 to 1024 characters.")
    if findings is not None:
        if not isinstance(findings, list):
            raise SeedError(f"findings must be a list, not {type(findings).__name__}.")
        shape = model.shape_for("ImageScanFinding")
        for i, f in enumerate(findings):
            path = f"findings[{i}]"
            if not isinstance(f, dict):
                raise SeedError(f"{path} must be an ImageScanFinding object.")
            _known_fields(shape, f, path)
            for name in COMPUTED:
                if name in f:
                    raise SeedError(f"{path}.{name} is filled in by kiln (the image the finding is listed for); "
                                     "leave it out of the seed.")
            if f.get("type", FINDING_TYPE) != FINDING_TYPE:
                raise SeedError(f"{path}.type must be {FINDING_TYPE}: Image Builder lists no other type of finding.")
            if f.get("severity") not in SEVERITIES:
                raise SeedError(f"{path}.severity must be one of {', '.join(SEVERITIES)}, "
                                 f"not {f.get('severity')!r}.")
            if not isinstance(f.get("packageVulnerabilityDetails"), dict):
                raise SeedError(f"{path}.packageVulnerabilityDetails is required: it names the vulnerability "
                                 "(vulnerabilityId) the finding is about.")
            for name in ("firstObservedAt", "updatedAt"):
                if name in f and (not isinstance(f[name], (int, float)) or isinstance(f[name], bool)):
                    raise SeedError(f"{path}.{name} must be a number (epoch seconds), as the API returns it.")
            try:
                validate(model.shape_for("ListImageScanFindingsResponse"), {"findings": [f]})
            except ApiError as e:
                raise SeedError(e.message.replace("'findings[0]", f"'{path}")) from None


def _known_fields(shape, value: dict, path: str) -> None:
    """No field the model's ImageScanFinding lacks, at any depth (a typo would be lost)."""
    for name, item in value.items():
        member = shape.members.get(name)
        if member is None:
            raise SeedError(f"Unknown field {name!r} in {path}: an ImageScanFinding has no such member.")
        sub = f"{path}.{name}"
        if member.type_name == "structure" and isinstance(item, dict):
            _known_fields(member, item, sub)
        elif member.type_name == "list" and member.member.type_name == "structure" and isinstance(item, list):
            for i, x in enumerate(item):
                if isinstance(x, dict):
                    _known_fields(member.member, x, f"{sub}[{i}]")


# -- reading ----------------------------------------------------------------------------

class _Seeds:
    """The seed rows one request reads, each once."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.cache: dict[str, dict | None] = {}

    def of(self, image_arn: str) -> dict | None:
        if image_arn not in self.cache:
            parsed = arns.parse(image_arn)
            tx = self.ctx.tx if parsed is None or parsed.owner == self.ctx.account else self.ctx.tx.of(parsed.owner)
            row = tx.get(key(image_arn), TYPE) if parsed is not None and parsed.region == self.ctx.region else None
            self.cache[image_arn] = row.doc if row is not None else None
        return self.cache[image_arn]

    def chain(self, image: Row) -> list[dict]:
        """The seeds that apply to an image: its parent's chain first, then its own."""
        seeds: list[dict] = []
        arn, doc, seen = image.arn, image.doc, set()
        while arn is not None and arn not in seen and len(seen) < MAX_PARENTS:
            seen.add(arn)
            own = self.of(arn)
            if own is not None:
                seeds.append(own)
            parent = (doc.get("imageRecipe") or {}).get("parentImage") if doc is not None else None
            if not (parent or "").startswith("arn:"):
                break
            arn, doc = parent, self._doc(parent)
        return seeds[::-1]

    def _doc(self, arn: str) -> dict | None:
        parsed = arns.parse(arn)
        if parsed is None or parsed.owner == arns.AWS_OWNER or parsed.owner != self.ctx.account:
            return None  # AWS-managed images have no Image Builder parent
        row = self.ctx.tx.get(arn, "image")
        return row.doc if row is not None else None

    def any(self) -> bool:
        """Whether anything is seeded in this region, for the caller or AWS-managed images
        (one indexed probe each: the usual answer, no, costs no image scan)."""
        return bool(self.ctx.tx.page(TYPE, None, 1) or self.ctx.tx.of(arns.AWS_OWNER).page(TYPE, None, 1))


def packages_of(seeds: _Seeds, image: Row) -> list[dict]:
    """An image's packages: the parent chain's, then its own (a later seed of a package
    name replaces the version in place)."""
    if image.doc.get("enhancedImageMetadataEnabled") is False or image.status not in BUILT:
        return []
    by_name: dict[str, dict] = {}
    for s in seeds.chain(image):
        for p in s.get("packages") or ():
            by_name[p["packageName"]] = {"packageName": p["packageName"], "packageVersion": p["packageVersion"]}
    return list(by_name.values())


def findings_of(seeds: _Seeds, image: Row, account: str) -> list[dict]:
    """An own image's findings, once its scan has completed: the parent chain's seeds,
    then its own, each as a finding on this image."""
    doc = image.doc
    if (doc.get("scanState") or {}).get("status") != "COMPLETED":
        return []
    listed = []
    for s in seeds.chain(image):
        for f in s.get("findings") or ():
            finding = {"awsAccountId": account, "imageBuildVersionArn": image.arn}
            if doc.get("sourcePipelineArn"):
                finding["imagePipelineArn"] = doc["sourcePipelineArn"]
            finding.update(f)
            listed.append(finding)
    return listed


def _entries(items: list, prefix: str = "") -> pagination.Sorted:
    return pagination.Sorted(SimpleNamespace(sort_key=f"{prefix}{i:08d}", item=item) for i, item in enumerate(items))


def _serve(ctx, operation_id: str, request: dict, table: pagination.Sorted) -> tuple[list, str | None]:
    rows, token = pagination.page(ctx.secret, operation_id, request, table.fetch)
    return [r.item for r in rows], token


@operation("ListImagePackages")
def list_image_packages(ctx, request):
    from kiln.service import images

    arn = request["imageBuildVersionArn"]
    image = images.resolve(ctx, arn)
    seeds = _Seeds(ctx)
    found = packages_of(seeds, image) if seeds.any() else []
    items, token = _serve(ctx, f"ListImagePackages#{image.arn}", request, _entries(found))
    return {"imagePackageList": items, "nextToken": token}


def _own_images(ctx, only: str | None = None):
    """The caller's image builds in list order (only one, when a build ARN is given)."""
    if only is not None:
        parsed = arns.parse(only)
        if parsed is None or parsed.kind != "image" or parsed.build is None:
            return
        row = versioned.exact(ctx, parsed, "image") if parsed.owner == ctx.account and parsed.region == ctx.region else None
        if row is not None:
            yield row
        return
    after = None
    while True:
        rows = ctx.tx.page("image", after, 500)
        yield from rows
        if len(rows) < 500:
            return
        after = rows[-1].sort_key


def _vulnerability(f: dict):
    return (f.get("packageVulnerabilityDetails") or {}).get("vulnerabilityId")


_FINDING_FILTERS = {
    "imageBuildVersionArn": lambda f: f["imageBuildVersionArn"],
    "imagePipelineArn": lambda f: f.get("imagePipelineArn"),
    "vulnerabilityId": _vulnerability,
    "severity": lambda f: f.get("severity"),
}


def account_findings(ctx, filters: list | None = None) -> list[tuple[str, dict]]:
    """The caller's findings (with their list keys), in list order: by image, then as seeded."""
    keep = compile_filters(filters, _FINDING_FILTERS)
    seeds = _Seeds(ctx)
    if not seeds.any():
        return []
    only = next((f["values"][0] for f in filters or () if f.get("name") == "imageBuildVersionArn" and f.get("values")),
                None)
    out = []
    for image in _own_images(ctx, only):
        for i, f in enumerate(findings_of(seeds, image, ctx.account)):
            if keep(f):
                out.append((f"{image.sort_key}#{i:08d}", f))
    return out


@operation("ListImageScanFindings")
def list_image_scan_findings(ctx, request):
    # The model allows exactly one filter with one value; the validator has checked that.
    found = account_findings(ctx, request.get("filters"))
    table = pagination.Sorted(SimpleNamespace(sort_key=k, item=f) for k, f in found)
    items, token = _serve(ctx, "ListImageScanFindings", request, table)
    return {"findings": items, "nextToken": token}


# Aggregation type (the filter's name; accountId without one) -> the response member
# and the key each finding is grouped by.
AGGREGATIONS = {
    "accountId": ("accountAggregation", lambda f: f["awsAccountId"]),
    "imageBuildVersionArn": ("imageAggregation", lambda f: f["imageBuildVersionArn"]),
    "imagePipelineArn": ("imagePipelineAggregation", lambda f: f.get("imagePipelineArn")),
    "vulnerabilityId": ("vulnerabilityIdAggregation", _vulnerability),
}


def severity_counts(findings: list[dict]) -> dict:
    """Counts of medium severity and above, and the total of every severity."""
    severities = [f.get("severity") for f in findings]
    return {"all": len(findings), "critical": severities.count("CRITICAL"), "high": severities.count("HIGH"),
            "medium": severities.count("MEDIUM")}


@operation("ListImageScanFindingAggregations")
def list_image_scan_finding_aggregations(ctx, request):
    wanted = request.get("filter")
    if wanted is None:
        kind, values = "accountId", [ctx.account]
    else:
        kind = wanted.get("name")
        if kind not in AGGREGATIONS:
            raise invalid_value("filter.name", f"The filter name '{kind}' is not supported. Supported filter names: "
                                f"{', '.join(sorted(AGGREGATIONS))}.")
        values = list(dict.fromkeys(wanted.get("values") or ()))
        if not values:
            raise invalid_value("filter.values", "A filter needs at least one value.")
    member, group = AGGREGATIONS[kind]
    findings = [f for _, f in account_findings(ctx)]
    responses = []
    for value in values:
        matched = [f for f in findings if group(f) == value]
        if matched or (kind == "accountId" and value == ctx.account):
            responses.append({member: {kind: value, "severityCounts": severity_counts(matched)}})
    items, token = _serve(ctx, "ListImageScanFindingAggregations", request, _entries(responses))
    return {"aggregationType": kind, "responses": items, "nextToken": token}
