"""Images: builds of a recipe, moving PENDING -> BUILDING -> TESTING -> DISTRIBUTING
-> INTEGRATING -> AVAILABLE on a timeline (kiln.engine.timeline)."""
from __future__ import annotations

import hashlib

from kiln.engine import timeline
from kiln.engine.timeline import IN_PROGRESS
from kiln.errors import (
    InvalidParameterCombinationException,
    InvalidRequestException,
    ResourceDependencyException,
    ResourceNotFoundException,
    invalid_value,
)
from kiln.protocol.stored import fragment
from kiln.service import (
    arns, container_recipes, distribution_configurations, image_recipes, list_entries, operation, sharing, versioned,
    workflow_runs, workflows,
)
from kiln.service.filters import compile_filters, group_by
from kiln.service.resource import depended_on, iso, not_found, parse_arn, references, unversioned
from kiln.store import Row

TYPE = "image"
VERSION_TYPE = "image-version"   # one row per name/version: what ListImages pages through
LABEL = "Image"
DEFAULT_TESTS = {"imageTestsEnabled": True, "timeoutMinutes": 720}


def ami_id(*parts: str) -> str:
    return "ami-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:17]


def build_date(epoch: float) -> str:
    """{{ imagebuilder:buildDate }}: the ISO time with ':' as '-' (AMI names allow no ':')."""
    return iso(epoch).replace(":", "-")


def render_ami_name(template: str, epoch: float, build: int) -> str:
    import re

    name = re.sub(r"\{\{\s*imagebuilder:buildDate\s*\}\}", build_date(epoch), template)
    return re.sub(r"\{\{\s*imagebuilder:buildVersion\s*\}\}", str(build), name)


def output_amis(ctx, image_name: str, description: str | None, distribution: dict | None, build: int) -> list[dict]:
    """One AMI in the build Region, and one per distribution Region and target account."""
    by_region = {d["region"]: d for d in (distribution or {}).get("distributions", ())}
    regions = [ctx.region] + [r for r in by_region if r != ctx.region]
    amis = []
    for region in regions:
        d = by_region.get(region, {})
        if d and not d.get("amiDistributionConfiguration") and d.get("containerDistributionConfiguration"):
            continue  # a container-only entry copies no AMI
        ami = d.get("amiDistributionConfiguration") or {}
        name = render_ami_name(ami.get("name") or f"{image_name} {{{{ imagebuilder:buildDate }}}}", ctx.now, build)
        accounts = [ctx.account] + [a for a in ami.get("targetAccountIds") or () if a != ctx.account]
        for account in accounts:
            entry = {"region": region, "image": ami_id(ctx.account, ctx.region, image_name, str(build), region, account), "name": name}
            if ami.get("description") or description:
                entry["description"] = ami.get("description") or description
            entry["accountId"] = account
            amis.append(entry)
    return amis


def output_containers(ctx, recipe: dict, distribution: dict | None, tag: str) -> list[dict]:
    """The container images a build pushes: to the recipe's ECR repository in the build
    Region, then to each distribution Region's repository (with its container tags), as
    <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<version>-<build>."""
    dns = "amazonaws.com.cn" if ctx.partition == "aws-cn" else "amazonaws.com"

    def uris(region: str, repository: str, extra: list) -> list[str]:
        base = f"{ctx.account}.dkr.ecr.{region}.{dns}/{repository}"
        return [f"{base}:{tag}"] + [f"{base}:{t}" for t in extra if t != tag]

    target = recipe.get("targetRepository") or {}
    containers = [{"region": ctx.region, "imageUris": uris(ctx.region, target.get("repositoryName", recipe["name"]), [])}]
    for d in (distribution or {}).get("distributions", ()):
        config = d.get("containerDistributionConfiguration")
        if not config:
            continue
        repository = (config.get("targetRepository") or {}).get("repositoryName") or target.get("repositoryName", recipe["name"])
        found = next((c for c in containers if c["region"] == d["region"]), None)
        if found is None:
            containers.append({"region": d["region"], "imageUris": uris(d["region"], repository, config.get("containerTags") or [])})
        else:
            found["imageUris"] += [u for u in uris(d["region"], repository, config.get("containerTags") or []) if u not in found["imageUris"]]
    return containers


def embedded_recipe(ctx, recipe: Row, parent: image_recipes.Parent, used: list[Row]) -> dict:
    """The recipe as the build used it: component and parent ARNs resolved to builds."""
    doc = dict(recipe.doc)
    del doc["owner"]  # the embedded copy has no owner in AWS's GetImage responses
    doc["components"] = [{**c, "componentArn": row.arn} for c, row in zip(recipe.doc.get("components") or (), used)]
    if parent.image is not None:
        doc["parentImage"] = parent.image.arn
    return doc


@operation("CreateImage")
def create_image(ctx, request):
    row = start_build(ctx, request, "USER_INITIATED")
    return {
        "clientToken": request["clientToken"],
        "imageBuildVersionArn": row.arn,
        "latestVersionReferences": references(row.arn),
    }


def check_workflows(ctx, request: dict) -> list[Row]:
    """Custom workflows resolve, and come with the execution role they need."""
    if request.get("workflows") and not request.get("executionRole"):
        raise InvalidParameterCombinationException(
            "The value supplied for parameter 'executionRole' is not valid. An execution role is required when custom workflows are specified."
        )
    return [workflows.resolve(ctx, w["workflowArn"], f"workflows[{i}].workflowArn")
            for i, w in enumerate(request.get("workflows") or ())]


def resolved_dependencies(ctx, recipe: Row) -> tuple[image_recipes.Parent, list[Row]]:
    """What the recipe's version and wildcard references resolve to now: the parent
    image and the component builds a build started now would use."""
    source = recipe.doc["parentImage"]
    if recipe.type == container_recipes.TYPE and not source.startswith("arn:"):
        parent = image_recipes.Parent(recipe.doc["platform"], None)  # a registry image: nothing to resolve
    else:
        parent = image_recipes.resolve_parent(ctx, source, "containerRecipeArn" if recipe.type == container_recipes.TYPE
                                              else "imageRecipeArn")
    used = image_recipes.check_components(ctx, recipe.doc.get("components") or [], None)
    return parent, used


def _fault(fault: tuple | None, used: list[Row]) -> tuple | None:
    """A planned failure, its component (a name or ARN, as the admin gave it) resolved to
    the build of it this build uses."""
    if fault is None or not (len(fault) > 3 and fault[3]):
        return fault
    component = dict(fault[3])
    given = component.get("componentArn", "")
    parsed = arns.parse(given)
    key = parsed.name if parsed is not None else arns.name_key(given)
    for row in used:
        if row.name_key == key:
            component["componentArn"] = row.arn
            break
    return (*fault[:3], component)


def recipe_of(ctx, request: dict) -> Row:
    """The recipe a request names: exactly one of imageRecipeArn and containerRecipeArn."""
    if bool(request.get("imageRecipeArn")) == bool(request.get("containerRecipeArn")):
        raise InvalidRequestException("You must specify exactly one of the parameters 'imageRecipeArn' and 'containerRecipeArn'.")
    if request.get("containerRecipeArn"):
        return container_recipes.resolve(ctx, request["containerRecipeArn"])
    return image_recipes.resolve(ctx, request["imageRecipeArn"])


def start_build(ctx, request: dict, build_type: str, source_pipeline_arn: str | None = None) -> Row:
    """A new build of a recipe (CreateImage's members in `request`), PENDING now and
    moving on by its timeline: CreateImage, StartImagePipelineExecution and scheduled
    pipeline runs all start builds here."""
    recipe = recipe_of(ctx, request)
    infra = unversioned(ctx, request["infrastructureConfigurationArn"], "infrastructureConfigurationArn",
                      "infrastructure-configuration", "InfrastructureConfiguration")
    distribution = None
    if request.get("distributionConfigurationArn"):
        distribution = distribution_configurations.get_row(ctx, request["distributionConfigurationArn"]).doc
    check_workflows(ctx, request)
    # Version and wildcard references resolve now, when the build starts.
    parent, used = resolved_dependencies(ctx, recipe)

    version = recipe.doc["version"]
    build = ctx.tx.next_number(f"{TYPE}/{recipe.name_key}/{version}")
    arn = arns.make(ctx, TYPE, recipe.name_key, version, build)
    tests = {**DEFAULT_TESTS, **(request.get("imageTestsConfiguration") or {})}
    docker = recipe.type == container_recipes.TYPE
    if docker:
        outputs = {"containers": output_containers(ctx, recipe.doc, distribution, f"{version}-{build}")}
    else:
        outputs = {"amis": output_amis(ctx, recipe.name, recipe.doc.get("description"), distribution, build)}
    done: dict = {"outputResources": outputs}
    if parent.os_version:
        done["osVersion"] = parent.os_version
    scanning = (request.get("imageScanningConfiguration") or {}).get("imageScanningEnabled")
    if scanning:
        done["scanState"] = {"status": "COMPLETED"}
    runs = workflow_runs.plan(ctx, arn, request, recipe.doc["platform"], tests["imageTestsEnabled"], parent.os_version, done,
                              image_type="DOCKER" if docker else "AMI")
    workflow_runs.register(ctx, arn, runs)
    plan = timeline.plan(ctx.now, ctx.seconds_per_state, tests["imageTestsEnabled"] and "TESTING" in runs,
                         _fault(ctx.tx.take_fault(arn), used), done, runs)

    doc = {"arn": arn, "type": "DOCKER" if docker else "AMI", "name": recipe.name, "version": f"{version}/{build}",
           "platform": recipe.doc["platform"],
           "enhancedImageMetadataEnabled": request.get("enhancedImageMetadataEnabled", True),
           "state": {"status": "PENDING"},
           "containerRecipe" if docker else "imageRecipe": embedded_recipe(ctx, recipe, parent, used)}
    if source_pipeline_arn is not None:
        doc["sourcePipelineArn"] = source_pipeline_arn
    doc["infrastructureConfiguration"] = infra.doc
    if distribution is not None:
        doc["distributionConfiguration"] = distribution
    doc.update(imageTestsConfiguration=tests, dateCreated=iso(ctx.now),
               outputResources={"containers": []} if docker else {"amis": []},
               tags=request.get("tags") or {}, buildType=build_type)
    for k in ("imageScanningConfiguration", "executionRole", "workflows", "loggingConfiguration"):
        if request.get(k):
            doc[k] = request[k]
    if scanning:
        doc["scanState"] = {"status": "PENDING"}

    row = Row(arn=arn, type=TYPE, name_key=recipe.name_key, name=recipe.name, doc=doc, major=recipe.major,
              minor=recipe.minor, patch=recipe.patch, build=build, status="PENDING", created=ctx.now, timeline=plan)
    timeline.apply(row, ctx.now)
    row.next_due = timeline.next_due(plan) if row.status in IN_PROGRESS else None
    ctx.tx.insert(row)
    ensure_version_row(ctx, row, parent.os_version)
    return row


def ensure_version_row(ctx, build: Row, os_version: str | None) -> None:
    version_arn = build.arn.rsplit("/", 1)[0]
    doc = {"arn": version_arn, "name": build.name, "type": build.doc["type"], "version": build.doc["version"].split("/")[0],
           "platform": build.doc["platform"]}
    if os_version:
        doc["osVersion"] = os_version
    doc.update(owner=ctx.account, dateCreated=build.doc["dateCreated"], buildType=build.doc["buildType"], tags={})
    # The version's first build makes its row; later builds leave it as it is.
    ctx.tx.insert_if_absent(Row(arn=version_arn, type=VERSION_TYPE, name_key=build.name_key, name=build.name,
                                doc=doc, major=build.major, minor=build.minor, patch=build.patch, created=ctx.now))


def resolve(ctx, arn: str, param: str = "imageBuildVersionArn") -> Row:
    """GetImage's rule: a build ARN names that build in any state; version and
    wildcard ARNs name the newest build that is AVAILABLE now."""
    parsed = parse_arn(param, arn, (TYPE,))
    row = versioned.resolve(ctx, parsed, param, status=None if parsed.build is not None else "AVAILABLE")
    if row is None:
        if parsed.region != ctx.region:
            # The likeliest mistake (a client in one Region, an ARN from another): say so.
            raise ResourceNotFoundException(
                f"The following resource '{LABEL}' cannot be found: '{arn}'. The ARN is in Region '{parsed.region}', "
                f"but the request was sent to Region '{ctx.region}'; send it to '{parsed.region}'."
            )
        if parsed.build is None and versioned.resolve(ctx, parsed, param) is not None:
            raise ResourceNotFoundException(
                f"The following resource '{LABEL}' cannot be found: '{arn}'. Version and wildcard ARNs resolve only "
                "to builds in the AVAILABLE state; use the full build version ARN to get a build in any other state."
            )
        raise not_found(LABEL, arn)
    return row


@operation("GetImage")
def get_image(ctx, request):
    row = resolve(ctx, request["imageBuildVersionArn"])
    return {"image": fragment(row.stored_json()), "latestVersionReferences": references(row.arn)}


_FILTERS = {
    "name": lambda r: r.doc.get("name"),
    "osVersion": lambda r: r.doc.get("osVersion"),
    "platform": lambda r: r.doc.get("platform"),
    "type": lambda r: r.doc.get("type"),
    "version": lambda r: r.doc["version"].split("/")[0],
}


@operation("ListImages")
def list_images(ctx, request):
    filters = request.get("filters")
    keep = compile_filters(filters, _FILTERS)
    owner = request.get("owner")
    group = group_by(request)
    if owner in ("Amazon", "Shared"):
        rows, token = versioned.list_rows(ctx, TYPE, "ListImages", request, keep, owner, group)
        entries = [{**versioned.version_doc(r), "owner": "Amazon" if owner == "Amazon" else sharing.owner_of(r.arn)}
                   for r in rows]
    else:
        kind = VERSION_TYPE if owner in (None, "Self") else None
        rows, token = versioned.list_rows(ctx, kind, "ListImages", request, keep, owner, "name" if group == "name" else "build")
        entries = list_entries.entries("ImageVersion", rows)
    return {"imageVersionList": entries, "nextToken": token}


@operation("ListImageBuildVersions")
def list_image_build_versions(ctx, request):
    arn = request.get("imageVersionArn")
    wanted = compile_filters(request.get("filters"), _FILTERS)
    key = None
    if arn is None:
        keep = wanted
    else:
        parsed = parse_arn("imageVersionArn", arn, (TYPE,))
        if parsed.region != ctx.region:
            return {"imageSummaryList": [], "nextToken": None}
        nodes = tuple(int(n) for n in parsed.version.split("."))
        key = parsed.name
        # Another account's version: only its builds shared with the caller.
        match = key if parsed.owner in (ctx.account, arns.AWS_OWNER) else sharing.shared_name_key(key, parsed.owner)

        def keep(r):
            return r.name_key == match and r.version == nodes and wanted(r)

    owner_account = arns.parse(arn).owner if arn else ctx.account
    owner = {ctx.account: "Self", arns.AWS_OWNER: "Amazon"}.get(owner_account, "Shared")
    rows, token = versioned.list_rows(ctx, TYPE, "ListImageBuildVersions", request, keep, owner, "build", name_key=key,
                                      newest_first=True)
    owner_field = "Amazon" if owner == "Amazon" else owner_account
    return {"imageSummaryList": [{**r.doc, "owner": owner_field} for r in rows], "nextToken": token}


def _own_build(ctx, arn: str) -> Row:
    return versioned.own(ctx, parse_arn("imageBuildVersionArn", arn, (TYPE,)), TYPE, LABEL, arn)


@operation("DeleteImage")
def delete_image(ctx, request):
    row = _own_build(ctx, request["imageBuildVersionArn"])
    arn = row.arn
    if row.status in IN_PROGRESS:
        raise ResourceDependencyException(
            f"The image '{arn}' could not be deleted as it is not in a terminal state (it is {row.status}). "
            "Cancel the build or wait for it to finish."
        )
    if ctx.tx.referrers(arn):
        raise depended_on(arn)
    sharing.refuse_delete(ctx, row)
    ctx.tx.delete(arn)
    workflow_runs.forget(ctx, row)
    if ctx.tx.latest(TYPE, row.name_key, row.major, row.minor, row.patch) is None:  # the last build of its version
        ctx.tx.delete(arn.rsplit("/", 1)[0])
    return {"imageBuildVersionArn": arn}


@operation("CancelImageCreation")
def cancel_image_creation(ctx, request):
    row = _own_build(ctx, request["imageBuildVersionArn"])
    arn = row.arn
    if row.status not in IN_PROGRESS:
        raise invalid_value(
            "imageBuildVersionArn", f"The image '{arn}' is {row.status}; only an image that is still being built can be cancelled."
        )
    timeline.cancel(row, "The image creation was cancelled by the user.", ctx.now)
    ctx.tx.save(row)
    return {"clientToken": request["clientToken"], "imageBuildVersionArn": arn}
