"""Builds as workflow runs: the runs and steps a build plans from its workflow documents,
and the operations that read and steer them (ListWorkflowExecutions,
GetWorkflowExecution, ListWorkflowStepExecutions, GetWorkflowStepExecution,
ListWaitingWorkflowSteps, SendWorkflowStepAction).

When a build starts, each workflow it runs (the defaults, `build-image` then
`test-image`, or the custom `workflows` of the request or pipeline) is planned from its
document: the steps whose `if` is false are SKIPPED, the rest get ids, their inputs
(JSONPath references kept, resolved when the step runs) and the outputs they will
report. The plan is stored in the build's timeline (kiln/engine/workflow_steps.py times
it). The ids of one plan share their first 23 characters after the prefix (the plan's
execution key; the variant nibble `b` marks this form), so one narrow row per plan (the
store's execution_keys) leads every one of them to its build: a build writes one lookup
row, not one `resources` row per run and step (13 by default: half of CreateImage's
cost). Builds made before revision 0006 keep one WORKFLOW_RUN row per id (variant `a`),
looked up by the whole id.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import orjson

from kiln import catalog
from kiln.engine import timeline, workflow_steps
from kiln.engine.timeline import IN_PROGRESS
from kiln.errors import InvalidParameterValueException, InvalidRequestException, ResourceNotFoundException
from kiln.service import arns, operation, pagination, versioned, workflows
from kiln.service.resource import iso, parse_arn
from kiln.service.workflow_documents import parse_workflow_document
from kiln.store import Row

WORKFLOW_RUN = "workflow-run"   # builds before revision 0006: a row per wf-/step- id -> its build
STATE_OF = {"BUILD": "BUILDING", "TEST": "TESTING", "DISTRIBUTION": "DISTRIBUTING"}
DEFAULTS = {"AMI": ("build/build-image", "test/test-image"),
            "DOCKER": ("build/build-container", "test/test-container", "distribution/distribute-container")}


@lru_cache(maxsize=1)
def _actions() -> dict:
    return catalog.workflow_actions()


def _plan_key(seed: str) -> str:
    """The shared head of a plan's ids: UUID groups 1-4, variant `b` (older ids: `a`)."""
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-b{h[17:20]}"


def _plan_id(prefix: str, key: str, *parts: str) -> str:
    """An id of the plan `key`: its head, then 12 hex digits derived from `parts`."""
    return f"{prefix}-{key}-{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:12]}"


def _execution_key(execution_id: str) -> str | None:
    """The execution key of an id of this form (variant `b`); None for an older id."""
    head = execution_id.split("-", 1)[-1][:23]
    return head if head[19:20] == "b" else None


def _build_of(ctx, execution_id: str) -> str | None:
    """The build ARN an execution or step id leads to, if any."""
    key = _execution_key(execution_id)
    if key is not None:
        return ctx.tx.execution_key_build(key)
    found = ctx.tx.get(execution_id, WORKFLOW_RUN)
    return found.doc["imageBuildVersionArn"] if found is not None else None


@lru_cache(maxsize=256)
def _document(arn: str, data: str, kind: str):
    return parse_workflow_document(data, kind)


# -- planning ----------------------------------------------------------------------------------

def plan(ctx, build_arn: str, request: dict, platform: str, tests_enabled: bool, os_version: str | None,
         done: dict, seed: str | None = None, image_type: str = "AMI") -> dict[str, list]:
    """The workflow runs of a build, by the state they run in (ids derived from `seed`,
    by default the build's ARN). `register` makes their ids known."""
    configs = request.get("workflows") or [
        {"workflowArn": f"arn:{ctx.partition}:imagebuilder:{ctx.region}:aws:workflow/{name}/x.x.x"}
        for name in DEFAULTS[image_type]]
    scanning = bool((request.get("imageScanningConfiguration") or {}).get("imageScanningEnabled"))
    env = {"imagebuilder": {"imageType": image_type, "platform": platform,
                            "collectImageMetadata": request.get("enhancedImageMetadataEnabled", True) is not False,
                            "collectImageScanFindings": scanning}}
    amis = done.get("outputResources", {}).get("amis") or []
    containers = done.get("outputResources", {}).get("containers") or []
    runs: dict[str, list] = {}
    key = _plan_key(seed or build_arn)
    for i, config in enumerate(configs):
        row = workflows.resolve(ctx, config["workflowArn"], f"workflows[{i}].workflowArn")
        state = STATE_OF[row.doc["type"]]
        if state == "TESTING" and not tests_enabled:
            continue
        document = _document(row.arn, row.doc["data"], row.doc["type"])
        parameters = {p["name"]: _value(p.get("type"), p["defaultValue"]) for p in document.parameters if "defaultValue" in p}
        for p in config.get("parameters") or ():
            declared = next((d for d in document.parameters if d["name"] == p["name"]), {})
            parameters[p["name"]] = _value(declared.get("type"), p["value"])
        run_id = _plan_id("wf", key, str(i), row.arn)
        steps = []
        templates = _step_templates(row.arn, row.doc["data"], row.doc["type"],
                                    orjson.dumps(parameters, option=orjson.OPT_SORT_KEYS),
                                    orjson.dumps(env, option=orjson.OPT_SORT_KEYS))
        for j, (action, fields) in enumerate(templates):
            planned = {"id": _plan_id("step", key, run_id, str(j)), **fields}
            outputs = _outputs(action, planned["id"], amis, os_version, containers)
            if outputs is not None:
                planned["outputs"] = outputs
            steps.append(planned)
        run = {"id": run_id, "arn": row.arn, "type": row.doc["type"], "retried": False, "parameters": parameters,
               "steps": steps}
        for k in ("parallelGroup", "onFailure"):
            if config.get(k):
                run[k] = config[k]
        runs.setdefault(state, []).append(run)
    return runs


@lru_cache(maxsize=256)
def _step_templates(arn: str, text: str, kind: str, parameters: bytes, env: bytes) -> tuple[tuple[str, dict], ...]:
    """A workflow's steps as every build with these parameters and environment plans them,
    but for their ids and outputs: the same for each build of a recipe, so worked out once."""
    document = _document(arn, text, kind)
    data = {"parameters": orjson.loads(parameters), **orjson.loads(env)}
    templates = []
    for step in document.steps:
        action = step["action"]
        defaults = _actions().get(action, {})
        fields = {"name": step["name"], "action": action, "onFailure": step["onFailure"],
                  "timeoutSeconds": step.get("timeoutSeconds", (defaults.get("timeoutSeconds") or {}).get("default")),
                  "skip": not _holds(step.get("if"), data), "inputs": step.get("inputs") or {}}
        for k in ("description", "maxAttempts"):
            if k in step:
                fields[k] = step[k]
        templates.append((action, fields))
    return tuple(templates)


def register(ctx, build_arn: str, runs: dict[str, list]) -> None:
    """Make the ids of `runs` (wf-…, step-…; one plan, so one key) lead to their build."""
    for key in sorted({_execution_key(run["id"]) for state_runs in runs.values() for run in state_runs}):
        ctx.tx.add_execution_key(key, build_arn)


def _value(kind: str | None, values: list):
    """A workflow parameter's value (the API gives string lists) as its document type."""
    if kind == "stringList":
        return list(values)
    value = values[0] if values else None
    if kind == "boolean":
        return str(value).lower() == "true"
    if kind == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return value


def _outputs(action: str, step_id: str, amis: list, os_version: str | None, containers: list = ()) -> dict | None:
    """What a step of `action` reports when it completes (the names the action documents;
    ids derived from the step, so they are stable)."""
    token = hashlib.sha256(step_id.encode()).hexdigest()
    command_id = f"{token[:8]}-{token[8:12]}-4{token[13:16]}-a{token[17:20]}-{token[20:32]}"  # a UUID from the step's hash
    if action == "LaunchInstance":
        return {"instanceId": "i-" + token[:17]}
    if action in ("CreateImage", "RegisterImage"):
        return {"imageId": amis[0]["image"]} if amis else {}
    if action == "CollectImageMetadata":
        out = {"osVersion": os_version} if os_version else {}
        out["associationId"] = command_id
        return out
    if action in ("ExecuteComponents", "SanitizeInstance", "RunSysPrep", "RunCommand", "CollectImageScanFindings",
                  "BootstrapInstanceForContainer"):
        return {"runCommandId": command_id, "status": "Success", "output": ""}
    if action == "DistributeImage":
        return {"distributedImages": [{"region": a["region"], "accountId": a.get("accountId"), "imageId": a["image"]}
                                      for a in amis]}
    if action in ("ModifyImageAttributes", "ApplyImageConfigurations"):
        key = "modifiedImages" if action == "ModifyImageAttributes" else "configuredImages"
        return {key: [{"region": a["region"], "imageId": a["image"]} for a in amis]}
    if action == "WaitForSSMAgent":
        return {"status": "Success"}
    if action == "DistributeContainerImage":
        return {"status": "Success", "succeededRegions": [c["region"] for c in containers], "failedRegions": []}
    return None  # TerminateInstance, WaitForAction (its outputs come with the action sent)


_COMPARE = {
    "booleanEquals": lambda want, got: isinstance(got, bool) and got == want,
    "stringEquals": lambda want, got: isinstance(got, str) and got == want,
    "stringStartsWith": lambda want, got: isinstance(got, str) and got.startswith(want),
    "stringEndsWith": lambda want, got: isinstance(got, str) and got.endswith(want),
    "stringContains": lambda want, got: isinstance(got, str) and want in got,
    "numberEquals": lambda want, got: _number(got) == want,
    "numberGreaterThan": lambda want, got: _number(got) is not None and _number(got) > want,
    "numberGreaterThanEquals": lambda want, got: _number(got) is not None and _number(got) >= want,
    "numberLessThan": lambda want, got: _number(got) is not None and _number(got) < want,
    "numberLessThanEquals": lambda want, got: _number(got) is not None and _number(got) <= want,
}


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _holds(condition: dict | None, data: dict) -> bool:
    """A step's `if` (and / or / not, and comparisons of a JSONPath `value`)."""
    if not condition:
        return True
    if "and" in condition:
        return all(_holds(c, data) for c in condition["and"])
    if "or" in condition:
        return any(_holds(c, data) for c in condition["or"])
    if "not" in condition:
        return not _holds(condition["not"], data)
    for op, compare in _COMPARE.items():
        if op in condition:
            value = condition.get("value")
            got = _path(value, data) if isinstance(value, str) and value.startswith("$.") else value
            return compare(condition[op], got)
    return True


def _path(path: str, data: dict):
    node = data
    for part in path[2:].split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


# -- reading runs --------------------------------------------------------------------------------

def _image(ctx, arn: str) -> Row | None:
    parsed = arns.parse(arn)
    if parsed is None or parsed.kind != "image" or parsed.build is None:
        return None
    return versioned.resolve(ctx, parsed, "imageBuildVersionArn")


def _runs(row: Row) -> list[dict]:
    tl = row.timeline or {}
    return [run for stage in tl.get("runs") or () for run in stage] + tl.get("retired", [])


def _lookup(ctx, key: str, label: str) -> tuple[Row, dict, dict | None]:
    """The build, run and step (for a step id) an execution id names."""
    build_arn = _build_of(ctx, key)
    image = _image(ctx, build_arn) if build_arn is not None else None
    if image is not None:
        for run in _runs(image):
            if run["id"] == key:
                return image, run, None
            for step in run["steps"]:
                if step["id"] == key:
                    return image, run, step
    raise ResourceNotFoundException(f"The following resource '{label}' cannot be found: '{key}'.")


def _run_doc(run: dict, now: float) -> dict:
    statuses = [workflow_steps.step_status(s, now) for s in run["steps"]]
    doc = {"workflowBuildVersionArn": run["arn"], "workflowExecutionId": run["id"], "type": run["type"],
           "status": workflow_steps.run_status(run, now)}
    if run.get("message"):
        doc["message"] = run["message"]
    doc.update(totalStepCount=len(statuses), totalStepsSucceeded=statuses.count("COMPLETED"),
               totalStepsFailed=statuses.count("FAILED"), totalStepsSkipped=statuses.count("SKIPPED"))
    if run.get("start") is not None and run["start"] <= now:
        doc["startTime"] = iso(run["start"])
        if run.get("end") is not None and run["end"] <= now:
            doc["endTime"] = iso(run["end"])
    if run.get("parallelGroup"):
        doc["parallelGroup"] = run["parallelGroup"]
    doc["retried"] = run.get("retried", False)
    return doc


def _step_doc(run: dict, step: dict, now: float) -> dict:
    status = workflow_steps.step_status(step, now)
    doc = {"stepExecutionId": step["id"], "name": step["name"]}
    if step.get("description"):
        doc["description"] = step["description"]
    doc.update(action=step["action"], status=status)
    if step.get("message"):
        doc["message"] = step["message"]
    started = status in ("RUNNING", "COMPLETED", "FAILED") or (status == "CANCELLED" and step.get("start") is not None)
    inputs = _resolve(run, step) if started else step["inputs"]
    if inputs or step["skip"] or started:
        doc["inputs"] = json.dumps(inputs)
    if status == "COMPLETED" and step.get("outputs"):
        doc["outputs"] = json.dumps(step["outputs"])
    if step.get("start") is not None and step["start"] <= now:
        doc["startTime"] = iso(step["start"])
        if step.get("end") is not None and step["end"] <= now:
            doc["endTime"] = iso(step["end"])
    for k in ("attemptNumber", "maxAttempts"):
        if k in step:
            doc[k] = step[k]
    return doc


def _resolve(run: dict, step: dict) -> dict:
    """A started step's inputs: `name.$` references replaced by what they point at."""
    outputs = {s["name"]: s.get("outputs") or {} for s in run["steps"]}
    data = {"stepOutputs": outputs, "parameters": run.get("parameters") or {}}
    resolved = {}
    for key, value in step["inputs"].items():
        if key.endswith(".$") and isinstance(value, str) and value.startswith("$."):
            found = _path(value, data)
            if found is not None:
                resolved[key[:-2]] = found
                continue
        resolved[key] = value
    return resolved


@operation("ListWorkflowExecutions")
def list_workflow_executions(ctx, request):
    arn = request["imageBuildVersionArn"]
    image = _image(ctx, arn)
    if image is None:
        raise ResourceNotFoundException(f"The following resource 'Image' cannot be found: '{arn}'.")
    docs = [_run_doc(run, ctx.now) for run in _runs(image)]
    page, token = _page(ctx, "ListWorkflowExecutions", request, docs)
    out = {"workflowExecutions": page, "imageBuildVersionArn": image.arn, "nextToken": token}
    if image.status == "FAILED":
        out["message"] = image.doc["state"].get("reason")
    return out


@operation("GetWorkflowExecution")
def get_workflow_execution(ctx, request):
    image, run, _ = _lookup(ctx, request["workflowExecutionId"], "WorkflowExecution")
    doc = _run_doc(run, ctx.now)
    doc.pop("retried")
    doc["imageBuildVersionArn"] = image.arn
    return doc


@operation("ListWorkflowStepExecutions")
def list_workflow_step_executions(ctx, request):
    image, run, _ = _lookup(ctx, request["workflowExecutionId"], "WorkflowExecution")
    docs = [_step_doc(run, step, ctx.now) for step in run["steps"]]
    page, token = _page(ctx, "ListWorkflowStepExecutions", request, docs)
    out = {"steps": page, "workflowBuildVersionArn": run["arn"], "workflowExecutionId": run["id"],
           "imageBuildVersionArn": image.arn, "nextToken": token}
    if run.get("message"):
        out["message"] = run["message"]
    return out


@operation("GetWorkflowStepExecution")
def get_workflow_step_execution(ctx, request):
    image, run, step = _lookup(ctx, request["stepExecutionId"], "WorkflowStepExecution")
    if step is None:
        raise ResourceNotFoundException(
            f"The following resource 'WorkflowStepExecution' cannot be found: '{request['stepExecutionId']}'.")
    doc = _step_doc(run, step, ctx.now)
    doc.update(workflowBuildVersionArn=run["arn"], workflowExecutionId=run["id"], imageBuildVersionArn=image.arn,
               onFailure=step["onFailure"])
    if step.get("timeoutSeconds") is not None:
        doc["timeoutSeconds"] = step["timeoutSeconds"]
    return doc


def _waiting(row: Row) -> tuple[dict, dict] | None:
    wait = (row.timeline or {}).get("wait")
    if not wait or row.status not in IN_PROGRESS:
        return None
    run = row.timeline["runs"][wait["stage"]][wait["run"]]
    return run, run["steps"][wait["step"]]


@operation("ListWaitingWorkflowSteps")
def list_waiting_workflow_steps(ctx, request):
    docs = []
    for status in IN_PROGRESS:
        for row in ctx.tx.with_status("image", status):
            found = _waiting(row)
            if found is not None:
                run, step = found
                docs.append({"stepExecutionId": step["id"], "imageBuildVersionArn": row.arn,
                             "workflowExecutionId": run["id"], "workflowBuildVersionArn": run["arn"],
                             "name": step["name"], "action": step["action"], "startTime": iso(step["start"])})
    docs.sort(key=lambda d: (d["startTime"], d["stepExecutionId"]))
    page, token = _page(ctx, "ListWaitingWorkflowSteps", request, docs)
    return {"steps": page, "nextToken": token}


@operation("SendWorkflowStepAction")
def send_workflow_step_action(ctx, request):
    key, arn = request["stepExecutionId"], request["imageBuildVersionArn"]
    image, run, step = _lookup(ctx, key, "WorkflowStepExecution")
    if step is None:
        raise ResourceNotFoundException(f"The following resource 'WorkflowStepExecution' cannot be found: '{key}'.")
    if image.arn != arn:
        raise InvalidParameterValueException(
            f"The value supplied for parameter 'imageBuildVersionArn' is not valid. The step '{key}' belongs to "
            f"the image '{image.arn}', not '{arn}'.")
    found = _waiting(image)
    if found is None or found[1]["id"] != key:
        raise InvalidRequestException(
            f"The workflow step '{key}' is not waiting for an action: it is {workflow_steps.step_status(step, ctx.now)}.")
    step["outputs"] = {"action": request["action"], **({"reason": request["reason"]} if request.get("reason") else {})}
    timeline.step_action(image, ctx.now, request["action"], request.get("reason"))
    ctx.tx.save(image)
    return {"stepExecutionId": key, "imageBuildVersionArn": image.arn, "clientToken": request["clientToken"]}


@operation("RetryImage")
def retry_image(ctx, request):
    """In place: the same build goes back to the state it failed or was cancelled in, with
    new workflow runs from there on; the superseded ones are marked retried."""
    arn = request["imageBuildVersionArn"]
    row = versioned.own(ctx, parse_arn("imageBuildVersionArn", arn, ("image",)), "image", "Image", arn)
    if row.status not in ("FAILED", "CANCELLED"):
        raise InvalidRequestException(
            f"The image '{arn}' is {row.status}; only a FAILED or CANCELLED image can be retried.")
    tl = row.timeline
    if not tl or "runs" not in tl or row.doc.get("type") != "AMI" or tl["at"] == 0:
        raise InvalidRequestException(f"The image '{arn}' cannot be retried: it ran no workflows, or is not an AMI image.")
    tl["retries"] = tl.get("retries", 0) + 1
    tests = row.doc.get("imageTestsConfiguration", {}).get("imageTestsEnabled", True)
    runs = plan(ctx, arn, row.doc, row.doc["platform"], tests, tl["done"].get("osVersion"), tl["done"],
                seed=f"{arn}#retry{tl['retries']}")
    stopped = {state for state, _ in tl["steps"][tl["at"]:]}
    kept = {state: state_runs for state, state_runs in runs.items() if state in stopped}
    register(ctx, arn, kept)
    if "scanState" in row.doc:
        row.doc["scanState"] = {"status": "PENDING"}
    row.doc["state"] = {"status": row.status}
    timeline.retry(row, ctx.now, kept)
    ctx.tx.save(row)
    return {"clientToken": request["clientToken"], "imageBuildVersionArn": arn}


def _page(ctx, operation_name: str, request: dict, docs: list[dict]) -> tuple[list[dict], str | None]:
    return pagination.page_list(ctx.secret, operation_name, request, docs)


def forget(ctx, row: Row) -> None:
    """DeleteImage: the build's execution ids go with it."""
    keys = {i: _execution_key(i) for run in _runs(row) for i in [run["id"]] + [s["id"] for s in run["steps"]]}
    ctx.tx.delete_execution_keys(sorted({k for k in keys.values() if k is not None}))
    ctx.tx.delete_many([i for i, k in keys.items() if k is None])  # a build from before revision 0006

