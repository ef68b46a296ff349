"""Parse and validate Image Builder workflow documents (the `data` of CreateWorkflow).

Spec: service-semantics.md section 6. Errors use the same wording as component
documents: `invalid_value(param, detail)`, i.e. InvalidParameterValueException
"The value supplied for parameter 'data' is not valid. <detail>".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kiln.errors import invalid_value
from kiln.service.component_documents import (
    Fail,
    check_schema_version,
    check_top_level_keys,
    is_int,
    is_scalar,
    load_document,
    scalar_text,
)

TOP_LEVEL_KEYS = ("name", "description", "schemaVersion", "parameters", "steps", "outputs")
WORKFLOW_TYPES = ("BUILD", "TEST", "DISTRIBUTION")

# The complete current list of step actions (service-semantics.md section 6).
ACTIONS = (
    "ApplyImageConfigurations", "BootstrapInstanceForContainer", "CollectImageMetadata",
    "CollectImageScanFindings", "CreateImage", "CreateImageFromIso", "DistributeContainerImage", "DistributeImage",
    "ExecuteComponents",
    "ExecuteStateMachine", "LaunchInstance", "ModifyImageAttributes", "RegisterImage",
    "RunCommand", "RunSysPrep", "SanitizeInstance", "TerminateInstance", "WaitForAction",
    "WaitForSSMAgent",
)

# "Image Builder validates the workflow document steps against the stage you
# specify." Only the unambiguous cases are enforced: the two actions that work
# on distributed images belong to distribution workflows, and the user guide
# says CollectImageMetadata "is only valid for build workflows". Everything
# else (LaunchInstance, RunCommand, WaitForAction, ...) is allowed in any stage.
STAGE_ONLY = {
    "DistributeImage": "DISTRIBUTION",
    "DistributeContainerImage": "DISTRIBUTION",
    "ApplyImageConfigurations": "DISTRIBUTION",
    "CollectImageMetadata": "BUILD",
}

PARAMETER_TYPES = ("string", "integer", "boolean", "stringList")
ON_FAILURE = ("Abort", "Continue")
STEP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{1,99}")
MAX_TIMEOUT_SECONDS = 43200
MAX_STEP_DESCRIPTION = 500
MAX_PARAMETER_NAME = 128          # model: WorkflowParameterName
MAX_PARAMETER_DESCRIPTION = 1024  # model: WorkflowParameterDescription


@dataclass(frozen=True)
class WorkflowDocument:
    parameters: list[dict]   # API shape WorkflowParameterDetail
    steps: list[dict]        # parsed steps, onFailure defaulted to "Abort"
    outputs: list[dict]      # [{"name", "value"}]


def parse_workflow_document(data: str, workflow_type: str, param: str = "data") -> WorkflowDocument:
    """Validate a workflow document for a BUILD, TEST or DISTRIBUTION workflow."""
    if workflow_type not in WORKFLOW_TYPES:
        raise invalid_value("type", f"'type' must be one of {', '.join(WORKFLOW_TYPES)}.")

    def fail(detail: str) -> Exception:
        return invalid_value(param, detail)

    doc = load_document(data, fail)
    check_top_level_keys(doc, TOP_LEVEL_KEYS, fail)
    check_schema_version(doc, fail)
    parameters = _parse_parameters(doc.get("parameters"), fail)
    declared = {p["name"] for p in parameters}
    steps = _parse_steps(doc, workflow_type, declared, fail)
    outputs = _parse_outputs(doc.get("outputs"), [s["name"] for s in steps], declared, fail)
    return WorkflowDocument(parameters=parameters, steps=steps, outputs=outputs)


# -- parameters --------------------------------------------------------------

def _parse_parameters(entries: Any, fail: Fail) -> list[dict]:
    """`parameters`: a list of maps with a `name` key (unlike components)."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise fail("'parameters' must be a list of maps, each with a 'name' and a 'type'.")
    result: list[dict] = []
    for index, entry in enumerate(entries, start=1):
        detail = _parse_parameter(entry, index, fail)
        if any(p["name"] == detail["name"] for p in result):
            raise fail(f"Duplicate parameter name '{detail['name']}'. Parameter names must be unique.")
        result.append(detail)
    return result


def _parse_parameter(entry: Any, index: int, fail: Fail) -> dict:
    if not isinstance(entry, dict):
        raise fail(f"Parameter {index} must be a map with a 'name' and a 'type'.")
    name = entry.get("name")
    if not isinstance(name, str) or not name or "\x00" in name or len(name) > MAX_PARAMETER_NAME:
        raise fail(f"Parameter {index} must have a 'name': a string of 1 to {MAX_PARAMETER_NAME} characters.")
    kind = entry.get("type")
    if kind not in PARAMETER_TYPES:
        raise fail(f"Parameter '{name}' has type '{kind}'. Supported types are: {', '.join(PARAMETER_TYPES)}.")
    detail: dict[str, Any] = {"name": name, "type": kind}
    if "default" in entry:
        detail["defaultValue"] = _default_value(name, kind, entry["default"], fail)
    if "description" in entry:
        description = entry["description"]
        if not isinstance(description, str) or len(description) > MAX_PARAMETER_DESCRIPTION:
            raise fail(f"The description of parameter '{name}' must be a string of at most "
                       f"{MAX_PARAMETER_DESCRIPTION} characters.")
        detail["description"] = description
    return detail


def _default_value(name: str, kind: str, value: Any, fail: Fail) -> list[str]:
    """The API reports every default as a list of strings."""
    if kind == "boolean":
        if not isinstance(value, bool):
            raise fail(f"The default of boolean parameter '{name}' must be true or false, got '{value}'.")
    elif kind == "integer":
        if not is_int(value):
            raise fail(f"The default of integer parameter '{name}' must be an integer, got '{value}'.")
    elif kind == "stringList":
        if not isinstance(value, list) or not all(is_scalar(v) for v in value):
            raise fail(f"The default of stringList parameter '{name}' must be a list of strings.")
        return [scalar_text(v) for v in value]
    elif not is_scalar(value):
        raise fail(f"The default of string parameter '{name}' must be a string.")
    return [scalar_text(value)]


# -- steps -------------------------------------------------------------------

def _parse_steps(doc: dict, workflow_type: str, declared: set[str], fail: Fail) -> list[dict]:
    if "steps" not in doc:
        raise fail("The document is missing the required key 'steps'.")
    steps = doc["steps"]
    if not isinstance(steps, list) or not steps:
        raise fail("'steps' must be a non-empty list of steps.")
    # Parse every step first so a reference to a later step can be told apart
    # from a reference to a step that does not exist.
    parsed: list[dict] = []
    for index, step in enumerate(steps, start=1):
        step_out = _parse_step(step, index, workflow_type, fail)
        if any(s["name"] == step_out["name"] for s in parsed):
            raise fail(f"Duplicate step name '{step_out['name']}'. Step names must be unique within a workflow.")
        parsed.append(step_out)
    names = [s["name"] for s in parsed]
    for position, step_out in enumerate(parsed):
        refs = References(earlier=names[:position], all_steps=names, parameters=declared)
        _check_step_references(step_out, refs, fail)
    return parsed


def _parse_step(step: Any, index: int, workflow_type: str, fail: Fail) -> dict:
    if not isinstance(step, dict):
        raise fail(f"Step {index} must be a map with a 'name' and an 'action'.")
    name = _step_name(step, index, fail)
    action = _step_action(step, name, workflow_type, fail)
    out: dict[str, Any] = {"name": name, "action": action}
    on_failure = step.get("onFailure", "Abort")
    if on_failure not in ON_FAILURE:
        raise fail(f"Step '{name}' has onFailure '{on_failure}'. Allowed values are: {', '.join(ON_FAILURE)}.")
    out["onFailure"] = on_failure
    if "timeoutSeconds" in step:
        timeout = step["timeoutSeconds"]
        if not is_int(timeout) or not 0 <= timeout <= MAX_TIMEOUT_SECONDS:
            raise fail(f"Step '{name}' has timeoutSeconds '{timeout}'. It must be an integer "
                       f"from 0 to {MAX_TIMEOUT_SECONDS}.")
        out["timeoutSeconds"] = timeout
    if "maxAttempts" in step:
        attempts = step["maxAttempts"]
        if not is_int(attempts) or attempts < 1:
            raise fail(f"Step '{name}' has maxAttempts '{attempts}'. It must be a positive integer.")
        out["maxAttempts"] = attempts
    if "description" in step:
        description = step["description"]
        if not isinstance(description, str) or len(description) > MAX_STEP_DESCRIPTION:
            raise fail(f"The description of step '{name}' must be a string of at most "
                       f"{MAX_STEP_DESCRIPTION} characters.")
        out["description"] = description
    # Inputs are optional: WaitForAction, for one, takes none.
    inputs = step.get("inputs")
    if inputs is not None and not isinstance(inputs, dict):
        raise fail(f"The inputs of step '{name}' must be a map.")
    out["inputs"] = inputs or {}
    if "if" in step:
        if not isinstance(step["if"], dict):
            raise fail(f"The 'if' condition of step '{name}' must be a map.")
        out["if"] = step["if"]
    return out


def _step_name(step: dict, index: int, fail: Fail) -> str:
    if "name" not in step:
        raise fail(f"Step {index} has no 'name'.")
    name = step["name"]
    if not isinstance(name, str) or not STEP_NAME.fullmatch(name):
        raise fail(f"Invalid step name '{name}'. A step name must start with a letter and contain 2 to 100 "
                   f"characters from english letters [a-z,A-Z], numbers [0-9] and special characters [-_].")
    return name


def _step_action(step: dict, name: str, workflow_type: str, fail: Fail) -> str:
    if "action" not in step:
        raise fail(f"Step '{name}' has no 'action'.")
    action = step["action"]
    if action not in ACTIONS:
        raise fail(f"Step '{name}' has unknown action '{action}'. Supported actions are: {', '.join(ACTIONS)}.")
    stage = STAGE_ONLY.get(action)
    if stage is not None and stage != workflow_type:
        raise fail(f"Step '{name}' uses action '{action}', which is only valid in {stage} workflows, "
                   f"not in a {workflow_type} workflow.")
    return action


# -- JSONPath references -----------------------------------------------------

@dataclass(frozen=True)
class References:
    """What a JSONPath expression at one place in the document may name."""
    earlier: list[str]     # steps whose outputs exist at this point
    all_steps: list[str]
    parameters: set[str]


def _check_step_references(step: dict, refs: References, fail: Fail) -> None:
    where = f"step '{step['name']}'"
    for path in _input_paths(step["inputs"]):
        _check_path(path, where, refs, fail)
    for path in _condition_paths(step.get("if")):
        _check_path(path, where, refs, fail)


def _input_paths(inputs: Any) -> list[Any]:
    """Values of input keys ending in `.$` (at any depth): those are JSONPath expressions."""
    paths: list[Any] = []
    stack, seen = [inputs], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:  # YAML aliases can share or nest containers
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, str) and key.endswith(".$"):
                    paths.append(value)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return paths


def _condition_paths(condition: Any) -> list[Any]:
    """The `value` operands of an `if` condition, through and/or/not nesting."""
    paths: list[Any] = []
    stack, seen = [condition], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            if isinstance(item.get("value"), str) and item["value"].startswith("$"):
                paths.append(item["value"])
            stack.extend(v for k, v in item.items() if k != "value")
        elif isinstance(item, list):
            stack.extend(item)
    return paths


def _check_path(path: Any, where: str, refs: References, fail: Fail) -> None:
    """`$.stepOutputs.<Step>.<output>` needs an earlier step; `$.parameters.<name>` a declared parameter.

    Other roots (`$.imagebuilder.*` built-ins and anything newer) are left to run time.
    """
    if not isinstance(path, str) or not path.startswith("$"):
        raise fail(f"The reference '{path}' in {where} is not a JSONPath expression; it must start with '$.'.")
    parts = path.split(".")
    if len(parts) < 3:
        return
    root, target = parts[1], parts[2]
    if root == "stepOutputs" and target not in refs.earlier:
        if target in refs.all_steps:
            raise fail(f"The reference '{path}' in {where} refers to step '{target}', which does not run "
                       f"before it. A step can only use the outputs of earlier steps.")
        raise fail(f"The reference '{path}' in {where} refers to step '{target}', which does not exist "
                   f"in this workflow.")
    if root == "parameters" and target not in refs.parameters:
        raise fail(f"The reference '{path}' in {where} refers to parameter '{target}', which is not "
                   f"declared under 'parameters'.")


# -- outputs -----------------------------------------------------------------

def _parse_outputs(entries: Any, steps: list[str], declared: set[str], fail: Fail) -> list[dict]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise fail("'outputs' must be a list of maps, each with a 'name' and a 'value'.")
    outputs: list[dict] = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or "value" not in entry:
            raise fail(f"Output {index} must be a map with a 'name' and a 'value'.")
        name = entry["name"]
        if any(o["name"] == name for o in outputs):
            raise fail(f"Duplicate output name '{name}'. Output names must be unique.")
        # Outputs are read after every step has run, so any step may be named.
        refs = References(earlier=steps, all_steps=steps, parameters=declared)
        _check_path(entry["value"], f"output '{name}'", refs, fail)
        outputs.append({"name": name, "value": entry["value"]})
    return outputs
