"""Parse and validate AWSTOE component documents (the `data` of CreateComponent).

The service checks a component document when it is created, so a bad document
fails the API call with InvalidParameterValueException and a message that names
the problem: service-semantics.md sections 3.3 and 5. Everything here raises
`invalid_value(param, detail)`; the details follow the two real messages quoted
in the spec ("Invalid step name ..." and "Parsing step ... failed. Error: ...").

The YAML helpers at the top are shared with workflow_documents.py.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import yaml

from kiln.errors import invalid_value

# --------------------------------------------------------------------------
# Shared helpers (also used by workflow_documents.py)
# --------------------------------------------------------------------------

Fail = Callable[[str], Exception]
# libyaml's parser (bundled in PyYAML's wheels): a 12-line document in 88 µs instead of 496.
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_document(data: str, fail: Fail) -> dict:
    """Parse YAML or JSON text into the top-level mapping of a document."""
    doc = _load_json(data)
    if doc is None:
        try:
            doc = yaml.load(data, Loader=_FastLoader)
        except yaml.YAMLError:
            # The error as the pure-Python parser words it: its messages are the ones
            # documented and tested, and libyaml's differ (a bad document is rare).
            try:
                doc = yaml.safe_load(data)
            except yaml.YAMLError as exc:
                raise fail(f"The document is not valid YAML or JSON: {_describe_yaml_error(exc)}.") from None
    if not isinstance(doc, dict):
        raise fail(f"The document must be a YAML or JSON mapping of top-level keys, not {_kind(doc)}.")
    return doc


def _load_json(data: str) -> Any:
    # The service takes the JSON form too. PyYAML reads most JSON, but not JSON
    # indented with tabs, so JSON-looking text is tried as JSON first; if that
    # fails the YAML parser gets it and its error is the one reported.
    if not data.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or exc.context or "syntax error"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}{context}"
    return str(exc).replace("\n", " ")


def check_top_level_keys(doc: dict, allowed: tuple[str, ...], fail: Fail) -> None:
    for key in doc:
        if key not in allowed:
            raise fail(f"Unknown top-level key '{key}'. Allowed keys are: {', '.join(allowed)}.")


def check_schema_version(doc: dict, fail: Fail) -> None:
    if "schemaVersion" not in doc:
        raise fail("The document is missing the required key 'schemaVersion'. The supported schemaVersion is 1.0.")
    version = doc["schemaVersion"]
    if not _is_one(version):
        raise fail(f"Unsupported schemaVersion '{scalar_text(version)}'. The supported schemaVersion is 1.0.")


def _is_one(version: Any) -> bool:
    """schemaVersion 1.0 in any spelling the service takes: the YAML number `1.0`
    or `1` (Terraform's yamlencode writes `1`) and the strings "1.0" and "1"
    (CDK writes "1.0"). Booleans are not numbers here, though True == 1."""
    if isinstance(version, bool):
        return False
    if isinstance(version, (int, float)):
        return version == 1
    if isinstance(version, str):
        try:
            return float(version) == 1 and version.strip() == version
        except ValueError:
            return False
    return False


def scalar_text(value: Any) -> str:
    """Render a YAML scalar as the string the API reports (booleans in YAML spelling)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def iter_strings(value: Any) -> Iterator[str]:
    """Every string value nested in a parsed document fragment.

    YAML aliases can make the same list or mapping appear many times (or contain
    itself), so each container is visited once; that keeps the walk linear.
    """
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, (dict, list)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(reversed(list(item.values() if isinstance(item, dict) else item)))


def _kind(value: Any) -> str:
    if value is None:
        return "an empty document"
    if isinstance(value, list):
        return "a list"
    return f"a scalar value ({type(value).__name__})"


# --------------------------------------------------------------------------
# Component documents
# --------------------------------------------------------------------------

TOP_LEVEL_KEYS = ("name", "description", "schemaVersion", "parameters", "constants", "phases")

# service-semantics.md 5.3; the CDK enumeration is this set plus Assert.
ACTIONS = frozenset({
    "ExecuteBash", "ExecutePowerShell", "ExecuteBinary", "ExecuteDocument", "Assert",
    "S3Download", "S3Upload", "WebDownload",
    "AppendFile", "CopyFile", "CopyFolder", "CreateFile", "CreateFolder", "CreateSymlink",
    "DeleteFile", "DeleteFolder", "ListFiles", "MoveFile", "MoveFolder", "ReadFile",
    "SetFileEncoding", "SetFileOwner", "SetFolderOwner", "SetFilePermissions", "SetFolderPermissions",
    "InstallMSI", "UninstallMSI",
    "Reboot", "SetRegistry", "UpdateOS",
})

# Actions whose inputs are all optional, so `inputs` may be left out:
# Reboot (only `delaySeconds`) and UpdateOS (only `include`/`exclude` filters).
INPUTS_OPTIONAL = frozenset({"Reboot", "UpdateOS"})

# Actions that take a list of transfer items (AWSTOE docs show only the list form).
LIST_INPUTS = {
    "S3Download": ("source", "destination"),
    "S3Upload": ("source", "destination"),
    "WebDownload": ("source", "destination"),
}

# Required keys of the actions whose inputs the spec spells out. CreateFile may
# be one item or a list of items, like the other file-system modules.
ITEM_REQUIRED = {
    "ExecuteBinary": ("path",),
    "ExecuteDocument": ("document",),
    "CreateFile": ("path",),
}

BUILD_STAGE_PHASES = ("build", "validate", "test")
ON_FAILURE = ("Abort", "Continue", "Ignore")

STEP_NAME = re.compile(r"[0-9A-Za-z_-]+")
VARIABLE_NAME = re.compile(r"[A-Za-z0-9_-]{3,128}")
# `{{ Name }}`; the inner text is trimmed. Triple-brace Dockerfile placeholders
# and dotted names (chaining, loop variables) never match SIMPLE_REFERENCE.
PLACEHOLDER = re.compile(r"{{\s*([^{}]*?)\s*}}")
SIMPLE_REFERENCE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ComponentDocument:
    parameters: list[dict]   # API shape ComponentParameterDetail
    type: str                # "TEST" if the only phase is `test`, else "BUILD"
    phases: list[str]        # phase names in document order
    required_parameters: frozenset[str]  # parameters without a default


def parse_component_document(data: str, param: str = "data") -> ComponentDocument:
    """Validate a component document and return what the API derives from it."""
    def fail(detail: str) -> Exception:
        return invalid_value(param, detail)

    doc = load_document(data, fail)
    check_top_level_keys(doc, TOP_LEVEL_KEYS, fail)
    check_schema_version(doc, fail)

    parameters = _parse_variables(doc, "parameters", fail)
    constants = _parse_variables(doc, "constants", fail)
    _check_unique_variable_names(parameters, constants, fail)
    defined = {name for name, _ in parameters} | {name for name, _ in constants}

    phases = _parse_phases(doc, defined, fail)
    api_parameters = [_parameter_detail(name, spec) for name, spec in parameters]
    return ComponentDocument(
        parameters=api_parameters,
        type="TEST" if phases == ["test"] else "BUILD",
        phases=phases,
        required_parameters=frozenset(p["name"] for p in api_parameters if "defaultValue" not in p),
    )


# -- parameters and constants ------------------------------------------------

def _parse_variables(doc: dict, section: str, fail: Fail) -> list[tuple[str, dict]]:
    """`parameters` / `constants`: a list of single-key maps `- Name: {type: string, ...}`."""
    entries = doc.get(section)
    if entries is None:
        return []
    noun = "parameter" if section == "parameters" else "constant"
    example = "- MyParameter: {type: string, default: value}" if noun == "parameter" \
        else "- MyConstant: {type: string, value: value}"
    if not isinstance(entries, list):
        raise fail(f"'{section}' must be a list of single-key maps, for example '{example}'.")
    result = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or len(entry) != 1:
            raise fail(f"Entry {index} of '{section}' must be a map with exactly one key, "
                       f"the {noun} name, for example '{example}'.")
        (name, spec), = entry.items()
        _check_variable(noun, name, spec, fail)
        result.append((name, spec))
    return result


def _check_variable(noun: str, name: Any, spec: Any, fail: Fail) -> None:
    if not isinstance(name, str) or not VARIABLE_NAME.fullmatch(name):
        raise fail(f"Invalid {noun} name '{name}'. Names must be 3 to 128 characters long and use only "
                   f"numbers [0-9], english letters [a-z,A-Z] and special characters [-_].")
    if not isinstance(spec, dict):
        raise fail(f"The {noun} '{name}' must be a map with at least 'type: string'.")
    if "type" not in spec:
        raise fail(f"The {noun} '{name}' has no 'type'. The only supported type is 'string'.")
    if spec["type"] != "string":
        raise fail(f"The {noun} '{name}' has type '{spec.get('type')}'. The only supported type is 'string'.")
    if noun == "constant" and "value" not in spec:
        raise fail(f"The constant '{name}' has no 'value'.")
    for key in ("default", "value"):
        if key in spec and not is_scalar(spec[key]):
            raise fail(f"The '{key}' of {noun} '{name}' must be a string, not a {type(spec[key]).__name__}.")
    if "description" in spec and not isinstance(spec["description"], str):
        raise fail(f"The description of {noun} '{name}' must be a string.")


def _check_unique_variable_names(parameters: list, constants: list, fail: Fail) -> None:
    seen: set[str] = set()
    for name, _ in parameters + constants:
        if name in seen:
            raise fail(f"Duplicate name '{name}'. Parameter and constant names must be unique "
                       f"across the 'parameters' and 'constants' sections.")
        seen.add(name)


def _parameter_detail(name: str, spec: dict) -> dict:
    """The API shape ComponentParameterDetail."""
    detail: dict[str, Any] = {"name": name, "type": "string"}
    if "default" in spec:
        detail["defaultValue"] = [scalar_text(spec["default"])]
    if "description" in spec:
        detail["description"] = spec["description"]
    return detail


# -- phases ------------------------------------------------------------------

def _parse_phases(doc: dict, defined: set[str], fail: Fail) -> list[str]:
    if "phases" not in doc:
        raise fail("The document is missing the required key 'phases'.")
    phases = doc["phases"]
    if not isinstance(phases, list) or not phases:
        raise fail("'phases' must be a non-empty list of phases, each with a 'name' and 'steps'.")
    names: list[str] = []
    for index, phase in enumerate(phases, start=1):
        name = _phase_name(phase, index, fail)
        if name in names:
            raise fail(f"Duplicate phase name '{name}'. Phase names must be unique within a document.")
        names.append(name)
        _parse_steps(phase, name, defined, fail)
    if not any(name in BUILD_STAGE_PHASES for name in names):
        raise fail(f"The document has no phase named 'build', 'validate' or 'test' (found: "
                   f"{', '.join(repr(n) for n in names)}). At least one of them is required.")
    return names


def _phase_name(phase: Any, index: int, fail: Fail) -> str:
    if not isinstance(phase, dict):
        raise fail(f"Phase {index} must be a map with a 'name' and 'steps'.")
    name = phase.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"Phase {index} has no 'name'.")
    return name


def _parse_steps(phase: dict, phase_name: str, defined: set[str], fail: Fail) -> None:
    steps = phase.get("steps")
    if not isinstance(steps, list) or not steps:
        raise fail(f"Phase '{phase_name}' must have a non-empty list of 'steps'.")
    seen: set[str] = set()
    for index, step in enumerate(steps, start=1):
        name = _step_name(step, index, phase_name, fail)
        if name in seen:
            raise fail(f"Duplicate step name '{name}' in phase '{phase_name}'. "
                       f"Step names must be unique within a phase.")
        seen.add(name)

        def step_fail(problem: str, name: str = name) -> Exception:
            # The real service's wording for a step that fails to parse.
            return fail(f"Parsing step '{name}' in phase '{phase_name}' failed. Error: {problem}")

        _check_step(step, defined, step_fail)


def _step_name(step: Any, index: int, phase_name: str, fail: Fail) -> str:
    if not isinstance(step, dict):
        raise fail(f"Step {index} in phase '{phase_name}' must be a map with a 'name' and an 'action'.")
    if "name" not in step:
        raise fail(f"Step {index} in phase '{phase_name}' has no 'name'.")
    name = step["name"]
    if not isinstance(name, str) or not STEP_NAME.fullmatch(name):
        raise fail(f"Invalid step name '{name}' in phase '{phase_name}'. Allowed characters are combinations "
                   f"of numbers [0-9], english letters [a-z,A-Z] and special characters [-_].")
    return name


# -- one step ----------------------------------------------------------------

def _check_step(step: dict, defined: set[str], fail: Fail) -> None:
    action = _check_action(step, fail)
    _check_inputs(action, step, fail)
    _check_options(step, fail)
    if "loop" in step:
        _check_loop(step["loop"], fail)
    _check_references(step, defined, fail)


def _check_action(step: dict, fail: Fail) -> str:
    action = step.get("action")
    if action is None:
        raise fail("Step has no action; it requires an 'action'")
    if action not in ACTIONS:
        hint = difflib.get_close_matches(str(action), sorted(ACTIONS), n=1)
        suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
        raise fail(f"Action '{action}' is not a supported action module.{suggestion}")
    return action


def _check_inputs(action: str, step: dict, fail: Fail) -> None:
    inputs = step.get("inputs")
    if inputs is None:
        if action in INPUTS_OPTIONAL:
            return
        raise fail(f"Action {action} has no inputs; it requires an 'inputs'")
    if not isinstance(inputs, (dict, list)):
        raise fail(f"The inputs of action {action} must be a map or a list, not a {type(inputs).__name__}")

    if action == "ExecuteBash":
        _require_commands(action, inputs, ("commands",), fail)
    elif action == "ExecutePowerShell":
        _require_commands(action, inputs, ("commands", "file"), fail)
    elif action in LIST_INPUTS:
        if not isinstance(inputs, list) or not inputs:
            raise fail(f"Action {action} requires 'inputs' to be a non-empty list of items, "
                       f"each with {_keys_text(LIST_INPUTS[action])}")
        _require_item_keys(action, inputs, LIST_INPUTS[action], fail)
    elif action in ITEM_REQUIRED:
        items = inputs if isinstance(inputs, list) else [inputs]
        _require_item_keys(action, items, ITEM_REQUIRED[action], fail)


def _require_commands(action: str, inputs: Any, accepted: tuple[str, ...], fail: Fail) -> None:
    wanted = " or ".join(f"'{k}'" for k in accepted)
    if not isinstance(inputs, dict) or not any(k in inputs for k in accepted):
        raise fail(f"Action {action} requires input {wanted}")
    if "commands" in inputs and not isinstance(inputs["commands"], list):
        raise fail(f"Input 'commands' of action {action} must be a list of commands")


def _require_item_keys(action: str, items: list, required: tuple[str, ...], fail: Fail) -> None:
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise fail(f"Input item {index} of action {action} must be a map with {_keys_text(required)}")
        for key in required:
            if key not in item:
                raise fail(f"Input item {index} of action {action} has no '{key}'")


def _keys_text(keys: tuple[str, ...]) -> str:
    return " and ".join(f"'{k}'" for k in keys)


def _check_options(step: dict, fail: Fail) -> None:
    if "timeoutSeconds" in step:
        timeout = step["timeoutSeconds"]
        # -1 means no timeout; 0 and other negatives are invalid.
        if not is_int(timeout) or (timeout < 1 and timeout != -1):
            raise fail(f"'timeoutSeconds' must be -1 (no timeout) or a positive integer, got '{timeout}'")
    if "onFailure" in step and step["onFailure"] not in ON_FAILURE:
        raise fail(f"'onFailure' must be one of {', '.join(ON_FAILURE)}, got '{step['onFailure']}'")
    if "maxAttempts" in step:
        attempts = step["maxAttempts"]
        if not is_int(attempts) or attempts < 1:
            raise fail(f"'maxAttempts' must be a positive integer, got '{attempts}'")


def _check_loop(loop: Any, fail: Fail) -> None:
    if not isinstance(loop, dict):
        raise fail("'loop' must be a map with either 'for' or 'forEach'")
    if "name" in loop and not isinstance(loop["name"], str):
        raise fail("The loop 'name' must be a string")
    forms = [key for key in ("for", "forEach") if key in loop]
    if len(forms) != 1:
        raise fail("A loop must define exactly one of 'for' or 'forEach'")
    if forms[0] == "for":
        _check_for_loop(loop["for"], fail)
    else:
        _check_for_each(loop["forEach"], fail)


def _check_for_loop(spec: Any, fail: Fail) -> None:
    if not isinstance(spec, dict) or any(k not in spec for k in ("start", "end", "updateBy")):
        raise fail("A 'for' loop requires 'start', 'end' and 'updateBy'")
    values = [spec["start"], spec["end"], spec["updateBy"]]
    for key, value in zip(("start", "end", "updateBy"), values):
        # A `{{ Name }}` placeholder is resolved at run time; only literals are checked.
        if not is_int(value) and not (isinstance(value, str) and PLACEHOLDER.search(value)):
            raise fail(f"The 'for' loop value '{key}' must be an integer, got '{value}'")
    if not all(is_int(v) for v in values):
        return
    start, end, update_by = values
    # The service rejects a loop that could run forever.
    if update_by == 0 or (start < end and update_by < 0) or (start > end and update_by > 0):
        raise fail(f"The 'for' loop from {start} to {end} with updateBy {update_by} would never end")


def _check_for_each(spec: Any, fail: Fail) -> None:
    if isinstance(spec, list):
        return
    if isinstance(spec, dict) and isinstance(spec.get("list"), str):
        if "delimiter" in spec and not isinstance(spec["delimiter"], str):
            raise fail("The 'forEach' loop 'delimiter' must be a string")
        return
    raise fail("A 'forEach' loop must be a list, or a map with a 'list' string and an optional 'delimiter'")


def _check_references(step: dict, defined: set[str], fail: Fail) -> None:
    """Every `{{ Name }}` must name a parameter or constant.

    Dotted references (`{{ build.step.outputs.x }}`, `{{ loop.value }}`,
    `{{ myloop.index }}`) are chaining and loop variables, resolved at run time.
    """
    for field in ("inputs", "loop", "if"):
        for text in iter_strings(step.get(field)):
            for match in PLACEHOLDER.finditer(text):
                name = match.group(1)
                if SIMPLE_REFERENCE.fullmatch(name) and name not in defined:
                    raise fail(f"Variable '{{{{ {name} }}}}' is not defined; declare '{name}' "
                               f"under 'parameters' or 'constants'")
