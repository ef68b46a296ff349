"""Image pipelines: a recipe and its configurations, built on request
(StartImagePipelineExecution) and on a schedule that fires by itself.

The stored document is the ImagePipeline shape. What the engine needs lives in the
row's bookkeeping columns, never in the document: `next_due` is the next firing
(kiln/engine/due.py calls `fire` then), and `timeline` holds the pipeline's book:

    baseline   the build ARNs of the parent image and components the last build used
               (or that the recipe resolved to at creation): what the start condition
               EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE compares against
    runs       [image ARN, scheduled?] of builds not yet counted: consecutiveFailures
               counts them once they end (model docs, ImagePipeline.consecutiveFailures)
    failures   consecutive failures counted so far
    last       the ARN of the newest build (lastRunStatus is its status)
    names      the recipe name keys the pipeline has built (ListImagePipelineImages
               looks among those images only)

A build ends on its own timeline, so the pipeline learns of it lazily: every read
shows the book settled as of now (`view`), and every write settles it for good
(`settle`), which is also when auto-disable takes effect. Both compute the same thing
from the same rows, so what a read shows is what the next write stores.
"""
from __future__ import annotations

from kiln.engine.due import when_due
from kiln.engine.timeline import IN_PROGRESS
from kiln.errors import ApiError, InvalidRequestException
from kiln.service import arns, distribution_configurations, images, operation, pagination, schedules
from kiln.service.filters import compile_filters
from kiln.service.resource import already_exists, check_dry_run, iso, parse_arn, unversioned
from kiln.store import Row

TYPE = "image-pipeline"
LABEL = "ImagePipeline"
DEPENDENCY_UPDATES = "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"
# Without an autoDisablePolicy a pipeline is disabled after this many consecutive
# failed scheduled runs (the service's documented default).
DEFAULT_FAILURE_LIMIT = 5


# -- the document -----------------------------------------------------------------------

def _document(ctx, request: dict, arn: str, name: str, created: str) -> tuple[dict, list[str]]:
    """The pipeline document a Create or Update request describes, checked the way the
    service checks it, and the ARNs it depends on (what it keeps from being deleted)."""
    recipe = images.recipe_of(ctx, request)
    infra = unversioned(ctx, request["infrastructureConfigurationArn"], "infrastructureConfigurationArn",
                        "infrastructure-configuration", "InfrastructureConfiguration")
    used = [recipe.arn, infra.arn]
    if request.get("distributionConfigurationArn"):
        used.append(distribution_configurations.get_row(ctx, request["distributionConfigurationArn"]).arn)
    used += [w.arn for w in images.check_workflows(ctx, request) if w.doc.get("owner") == ctx.account]
    schedule = None
    if request.get("schedule"):
        schedule = dict(request["schedule"])
        if schedule.get("scheduleExpression"):  # checked now; evaluated in UTC unless a timezone is given
            schedules.parse(schedule["scheduleExpression"], schedule.get("timezone"))
        schedule.setdefault("pipelineExecutionStartCondition", DEPENDENCY_UPDATES)

    doc = {"arn": arn, "name": name}
    if request.get("description"):
        doc["description"] = request["description"]
    doc["platform"] = recipe.doc["platform"]
    doc["enhancedImageMetadataEnabled"] = request.get("enhancedImageMetadataEnabled", True)
    recipe_key = "containerRecipeArn" if request.get("containerRecipeArn") else "imageRecipeArn"
    doc[recipe_key] = request[recipe_key]
    doc["infrastructureConfigurationArn"] = request["infrastructureConfigurationArn"]
    if request.get("distributionConfigurationArn"):
        doc["distributionConfigurationArn"] = request["distributionConfigurationArn"]
    doc["imageTestsConfiguration"] = {**images.DEFAULT_TESTS, **(request.get("imageTestsConfiguration") or {})}
    if schedule is not None:
        doc["schedule"] = schedule
    doc["status"] = request.get("status") or "ENABLED"
    doc["dateCreated"] = created
    doc["dateUpdated"] = created  # as AWS's samples show a pipeline never updated
    for k in ("imageScanningConfiguration", "imageTags", "executionRole", "workflows", "loggingConfiguration"):
        if request.get(k):
            doc[k] = request[k]
    return doc, used


def _schedule(doc: dict) -> schedules.Schedule | None:
    schedule = doc.get("schedule") or {}
    if not schedule.get("scheduleExpression"):
        return None
    return schedules.parse(schedule["scheduleExpression"], schedule.get("timezone"))


def _next_run(doc: dict, after: float) -> float | None:
    """When the pipeline next fires: never while DISABLED or without a schedule."""
    schedule = _schedule(doc) if doc["status"] == "ENABLED" else None
    return schedule.next_after(after) if schedule is not None else None


def _failure_limit(doc: dict) -> int:
    policy = (doc.get("schedule") or {}).get("autoDisablePolicy") or {}
    return policy.get("failureCount") or DEFAULT_FAILURE_LIMIT


# -- the book: runs, failures, auto-disable ----------------------------------------------

def settle(ctx, row: Row) -> None:
    """Count the builds that ended since the book was last settled, in the order they
    started: a scheduled failure adds one, any success resets the count, a manual
    failure or a cancellation leaves it. Reaching the limit disables the pipeline."""
    book = row.timeline
    failures, status, runs = book["failures"], row.doc["status"], book["runs"]
    limit = _failure_limit(row.doc)
    counted = 0
    for arn, scheduled in runs:
        build = ctx.tx.get(arn, images.TYPE)
        if build is not None and build.status in IN_PROGRESS:
            break  # later builds are counted after this one
        counted += 1
        if build is None:
            continue  # deleted before it was counted
        if build.status == "AVAILABLE":
            failures = 0
        elif build.status == "FAILED" and scheduled:
            failures += 1
            if failures >= limit and status == "ENABLED":
                status = "DISABLED"
                row.next_due = None
    book["runs"], book["failures"] = runs[counted:], failures
    row.doc["status"] = status


def view(ctx, row: Row) -> dict:
    """The pipeline as GetImagePipeline shows it now: the book settled (without
    storing it), lastRunStatus, consecutiveFailures and dateNextRun."""
    copy = Row(arn=row.arn, type=row.type, name_key=row.name_key, name=row.name, doc=dict(row.doc),
               timeline={**row.timeline, "runs": list(row.timeline["runs"])}, next_due=row.next_due)
    settle(ctx, copy)
    doc = copy.doc
    last = copy.timeline.get("last")
    if last is not None:
        build = ctx.tx.get(last, images.TYPE)
        if build is not None:
            doc["lastRunStatus"] = build.status
    if copy.next_due is not None:
        doc["dateNextRun"] = iso(copy.next_due)
    if last is not None:  # AWS's samples of pipelines that never ran show no count
        doc["consecutiveFailures"] = copy.timeline["failures"]
    return doc


def _dependencies(ctx, doc: dict) -> list[str] | None:
    """The build ARNs the pipeline's recipe resolves to now (its parent image and its
    components), or None when they do not resolve (a build would fail)."""
    try:
        recipe = images.recipe_of(ctx, doc)
        parent, used = images.resolved_dependencies(ctx, recipe)
    except ApiError:
        return None
    return [parent.image.arn if parent.image is not None else recipe.doc["parentImage"]] + [r.arn for r in used]


def _start(ctx, row: Row, build_type: str, tags: dict | None) -> Row:
    """A build of the pipeline's recipe, as CreateImage would start it, recorded in the book."""
    doc = row.doc
    request = {k: doc[k] for k in ("imageRecipeArn", "containerRecipeArn", "infrastructureConfigurationArn",
                                   "distributionConfigurationArn",
                                   "imageTestsConfiguration", "enhancedImageMetadataEnabled",
                                   "imageScanningConfiguration", "workflows", "executionRole") if k in doc}
    if tags:
        request["tags"] = tags
    group = (doc.get("loggingConfiguration") or {}).get("imageLogGroupName")
    if group:
        request["loggingConfiguration"] = {"logGroupName": group}
    build = images.start_build(ctx, request, build_type, source_pipeline_arn=row.arn)
    book = row.timeline
    book["runs"].append([build.arn, build_type == "SCHEDULED"])
    book["last"] = build.arn
    book["baseline"] = _dependencies(ctx, doc)
    if build.name_key not in book["names"]:
        book["names"].append(build.name_key)
    doc["dateLastRun"] = iso(ctx.now)
    return build


@when_due(TYPE)
def fire(ctx, row: Row) -> None:
    """The schedule fired at ctx.now: build (unless the start condition waits for a
    dependency update that has not come), then wait for the next firing."""
    settle(ctx, row)
    doc = row.doc
    if doc["status"] == "ENABLED" and _schedule(doc) is not None:
        condition = doc["schedule"]["pipelineExecutionStartCondition"]
        if condition != DEPENDENCY_UPDATES or _dependencies(ctx, doc) != row.timeline["baseline"]:
            try:
                _start(ctx, row, "SCHEDULED", doc.get("imageTags"))
            except ApiError:
                # The build could not start (say its parent image no longer resolves):
                # a failed scheduled run.
                row.timeline["failures"] += 1
                if row.timeline["failures"] >= _failure_limit(doc):
                    doc["status"] = "DISABLED"
    row.next_due = _next_run(doc, ctx.now)


# -- operations ---------------------------------------------------------------------------

def _get(ctx, arn: str, param: str = "imagePipelineArn") -> Row:
    return unversioned(ctx, arn, param, TYPE, LABEL)


@operation("CreateImagePipeline")
def create_image_pipeline(ctx, request):
    key = arns.name_key(request["name"])
    arn = arns.make(ctx, TYPE, key)
    if ctx.tx.get(arn) is not None:
        raise already_exists(LABEL, arn)
    doc, used = _document(ctx, request, arn, request["name"], iso(ctx.now))
    check_dry_run(request)
    doc["tags"] = request.get("tags") or {}
    book = {"baseline": _dependencies(ctx, doc), "runs": [], "failures": 0, "last": None, "names": []}
    ctx.tx.insert(Row(arn=arn, type=TYPE, name_key=key, name=request["name"], doc=doc, created=ctx.now,
                      timeline=book, next_due=_next_run(doc, ctx.now)))
    ctx.tx.add_references(arn, used)
    return {"clientToken": request["clientToken"], "imagePipelineArn": arn}


@operation("GetImagePipeline")
def get_image_pipeline(ctx, request):
    return {"imagePipeline": view(ctx, _get(ctx, request["imagePipelineArn"]))}


@operation("UpdateImagePipeline")
def update_image_pipeline(ctx, request):
    """Replaces the whole pipeline: what the request omits is removed or reset (status
    to ENABLED, no schedule), and consecutiveFailures starts again from 0."""
    row = _get(ctx, request["imagePipelineArn"])
    if bool(request.get("containerRecipeArn")) != bool(row.doc.get("containerRecipeArn")):
        kind = "containerRecipeArn" if request.get("containerRecipeArn") else "imageRecipeArn"
        raise InvalidRequestException(f"The value supplied for parameter '{kind}' is not valid. An image pipeline cannot "
                                      "change between an image recipe and a container recipe.")
    old = row.doc
    doc, used = _document(ctx, request, row.arn, old["name"], old["dateCreated"])
    doc["dateUpdated"] = iso(ctx.now)
    if "dateLastRun" in old:
        doc["dateLastRun"] = old["dateLastRun"]
    doc["tags"] = old.get("tags") or {}
    row.doc = doc
    row.timeline.update(runs=[], failures=0)
    row.next_due = _next_run(doc, ctx.now)
    ctx.tx.save(row)
    ctx.tx.set_references(row.arn, used)
    # No clientToken, as AWS's UpdateImagePipeline sample answers (and its other Updates).
    return {"imagePipelineArn": row.arn}


@operation("DeleteImagePipeline")
def delete_image_pipeline(ctx, request):
    """Builds the pipeline started go on; its images stay."""
    row = _get(ctx, request["imagePipelineArn"])
    ctx.tx.delete(row.arn)
    return {"imagePipelineArn": row.arn}


@operation("StartImagePipelineExecution")
def start_image_pipeline_execution(ctx, request):
    """A USER_INITIATED build with the request's tags; a DISABLED pipeline builds too."""
    row = _get(ctx, request["imagePipelineArn"])
    settle(ctx, row)
    build = _start(ctx, row, "USER_INITIATED", request.get("tags"))
    ctx.tx.save(row)
    return {"clientToken": request["clientToken"], "imageBuildVersionArn": build.arn}


_FILTERS = {name: (lambda d, n=name: d.get(n)) for name in (
    "description", "distributionConfigurationArn", "imageRecipeArn", "infrastructureConfigurationArn", "name", "status")}


@operation("ListImagePipelines")
def list_image_pipelines(ctx, request):
    keep = compile_filters(request.get("filters"), _FILTERS)
    shown: dict[str, dict] = {}

    def take(row: Row) -> bool:
        shown[row.arn] = view(ctx, row)  # filtered as it is shown (a pipeline just auto-disabled is DISABLED)
        return keep(shown[row.arn])

    rows, token = pagination.page(ctx.secret, "ListImagePipelines", request,
                                  lambda after, n: ctx.tx.page(TYPE, after, n), take)
    return {"imagePipelineList": [shown[r.arn] for r in rows], "nextToken": token}


class _Newest:
    """An image of a pipeline in ListImagePipelineImages order: newest first."""

    __slots__ = ("row", "sort_key")

    def __init__(self, row: Row):
        self.row = row
        self.sort_key = f"{2**53 - int(row.created * 1000):016d} {row.arn}"


_IMAGE_FILTERS = {"name": lambda r: r.doc.get("name"), "version": lambda r: r.doc["version"].split("/")[0]}


@operation("ListImagePipelineImages")
def list_image_pipeline_images(ctx, request):
    arn = request["imagePipelineArn"]
    parse_arn("imagePipelineArn", arn, (TYPE,))
    keep = compile_filters(request.get("filters"), _IMAGE_FILTERS)
    row = ctx.tx.get(arn, TYPE)
    built = []
    for name_key in (row.timeline["names"] if row is not None else ()):  # an unknown pipeline lists nothing
        built += [r for r in ctx.tx.versions(images.TYPE, name_key) if r.doc.get("sourcePipelineArn") == arn]
    table = pagination.Sorted(_Newest(r) for r in built)
    found, token = pagination.page(ctx.secret, "ListImagePipelineImages", request, table.fetch, lambda w: keep(w.row))
    return {"imageSummaryList": [{**w.row.doc, "owner": ctx.account} for w in found], "nextToken": token}
