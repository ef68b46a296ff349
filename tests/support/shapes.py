"""Check a raw JSON response against the Image Builder model, independently of kiln.

`check_response(operation, status, headers, body)` returns a list of violations
(empty when the response is what the model says a response of that operation
can be). Success bodies are walked against the operation's output shape; error
bodies must be exactly `{"message": str}` with the status the model gives the
error shape named by `x-amzn-ErrorType`. Every response must carry
`x-amzn-RequestId`.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

ISO_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

# (structure, member) pairs whose model pattern the real service does not follow on output.
# * ComponentParameterDetail.type: the member docs say 'The currently supported value is "string"'
#   (the AWSTOE document's spelling); the case-sensitive pattern ^String|Integer|Boolean|StringList$
#   does not accept it.
# * Image.version is "M.m.p/b" in real GetImage responses, while the shape VersionNumber says M.m.p.
PATTERN_EXEMPT = {("ComponentParameterDetail", "type"), ("Image", "version")}

# Errors kiln answers with that are not shapes in the model (kiln's own, for requests
# no operation serves and operations it does not implement), with their status.
# Errors kiln answers that are not shapes of the model: its own, and the front door's
# (AWS's SigV4 check, the request-size limit), kiln/errors.py.
KILN_ERRORS = {"UnknownOperationException": 404, "OperationNotSupportedException": 501,
               "InvalidSignatureException": 403, "RequestEntityTooLargeException": 413,
               "RequestTimeoutException": 408,
               "MissingAuthenticationTokenException": 403, "UnrecognizedClientException": 403,
               "IncompleteSignatureException": 400}


@lru_cache(maxsize=1)
def model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("imagebuilder")


def operation_model(name: str) -> OperationModel:
    return model().operation_model(name)


@lru_cache(maxsize=1)
def routes() -> dict[tuple[str, str], str]:
    """(method, requestUri) -> operation name, straight from the model."""
    m = model()
    return {(m.operation_model(n).http["method"], m.operation_model(n).http["requestUri"]): n for n in m.operation_names}


def operation_for(method: str, path: str) -> str | None:
    """The operation a raw request path names (the tag operations by their /tags/ prefix)."""
    path = path.split("?", 1)[0]
    table = routes()
    if not path.startswith("/tags/"):
        path = path.rstrip("/") or "/"
    if (method, path) in table:
        return table[(method, path)]
    if path.startswith("/tags/") and len(path) > len("/tags/"):
        return table.get((method, "/tags/{resourceArn}"))
    return None


def error_status(code: str) -> int | None:
    if code in KILN_ERRORS:
        return KILN_ERRORS[code]
    try:
        shape = model().shape_for(code)
    except Exception:
        return None
    error = shape.metadata.get("error")
    return error.get("httpStatusCode") if error else None


def check_value(value, shape: Shape, path: str = "$", parent: str | None = None, member: str | None = None) -> list[str]:
    errors: list[str] = []
    _check(value, shape, path, errors, parent, member)
    return errors


def _check(value, shape: Shape, path: str, errors: list, parent=None, member=None) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object ({shape.name}), got {value!r}")
            return
        for key in value:
            if key not in shape.members:
                errors.append(f"{path}.{key}: not a member of {shape.name}")
        for key in shape.required_members:
            if value.get(key) is None:
                errors.append(f"{path}: required member {shape.name}.{key} missing")
        for key, item in value.items():
            if key in shape.members:
                _check(item, shape.members[key], f"{path}.{key}", errors, shape.name, key)
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list ({shape.name}), got {value!r}")
            return
        _length(len(value), meta, shape, path, errors)
        for i, item in enumerate(value):
            _check(item, shape.member, f"{path}[{i}]", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map ({shape.name}), got {value!r}")
            return
        # TagMap has min 1, but real objects carry "tags": {} when untagged
        # (service-semantics 9.1), so only the maximum applies to maps on output.
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} entries, above the {shape.name} maximum {meta['max']}")
        for key, item in value.items():
            _check(key, shape.key, f"{path}<{key!r}>", errors)
            _check(item, shape.value, f"{path}[{key!r}]", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string ({shape.name}), got {value!r}")
            return
        if shape.name == "DateTime" and not ISO_MILLIS.fullmatch(value):
            errors.append(f"{path}: DateTime {value!r} is not ISO-8601 UTC with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)")
        enum = meta.get("enum")
        if enum and value not in enum:
            errors.append(f"{path}: {value!r} is not one of the {shape.name} values {enum}")
        pattern = meta.get("pattern")
        if pattern and (parent, member) not in PATTERN_EXEMPT and re.fullmatch(pattern, value) is None:
            errors.append(f"{path}: {value!r} does not match the {shape.name} pattern {pattern}")
        _length(len(value), meta, shape, path, errors)
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: timestamp ({shape.name}) must be a JSON number, got {value!r}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an integer ({shape.name}), got {value!r}")
            return
        _range(value, meta, shape, path, errors)
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{path}: expected a number ({shape.name}), got {value!r}")
            return
        _range(value, meta, shape, path, errors)
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected a boolean ({shape.name}), got {value!r}")
    else:
        errors.append(f"{path}: shape type {kind} ({shape.name}) is not expected in a response")


def _length(n: int, meta: dict, shape: Shape, path: str, errors: list) -> None:
    if "min" in meta and n < meta["min"]:
        errors.append(f"{path}: length {n} is below the {shape.name} minimum {meta['min']}")
    if "max" in meta and n > meta["max"]:
        errors.append(f"{path}: length {n} is above the {shape.name} maximum {meta['max']}")


def _range(n, meta: dict, shape: Shape, path: str, errors: list) -> None:
    if "min" in meta and n < meta["min"]:
        errors.append(f"{path}: {n} is below the {shape.name} minimum {meta['min']}")
    if "max" in meta and n > meta["max"]:
        errors.append(f"{path}: {n} is above the {shape.name} maximum {meta['max']}")


def _header(headers, name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def check_response(operation: str | None, status: int, headers, body: bytes | str | None) -> list[str]:
    """Violations of the model by one raw response to `operation` (None: a path no operation serves)."""
    where = operation or "(no operation)"
    errors: list[str] = []
    if not _header(headers, "x-amzn-requestid"):
        errors.append(f"{where}: response has no x-amzn-RequestId header")
    if (_header(headers, "content-type") or "").split(";")[0].strip() != "application/json":
        errors.append(f"{where}: Content-Type is {_header(headers, 'content-type')!r}, not application/json")
    raw = body.decode() if isinstance(body, bytes) else (body or "")
    try:
        doc = json.loads(raw) if raw.strip() else None
    except ValueError:
        return errors + [f"{where}: body is not JSON: {raw[:200]!r}"]
    if status >= 300:
        code = _header(headers, "x-amzn-errortype")
        if not code:
            errors.append(f"{where}: error response (HTTP {status}) has no x-amzn-ErrorType header")
        else:
            expected = error_status(code)
            if expected is None:
                errors.append(f"{where}: x-amzn-ErrorType {code!r} is not an error shape of the model")
            elif expected != status:
                errors.append(f"{where}: {code} answered with HTTP {status}, the model says {expected}")
        if not (isinstance(doc, dict) and set(doc) == {"message"} and isinstance(doc["message"], str) and doc["message"]):
            errors.append(f"{where}: error body must be exactly {{\"message\": <non-empty string>}}, got {raw[:300]!r}")
        return errors
    if status != 200:
        errors.append(f"{where}: success status must be 200, got {status}")
    if operation is None:
        return errors + [f"{where}: a success answer to a path no operation serves"]
    output = operation_model(operation).output_shape
    if doc is None:
        doc = {}
    if output is None:
        if doc != {}:
            errors.append(f"{where}: the operation has no output shape but the body is {raw[:200]!r}")
        return errors
    return errors + [f"{where}: {e}" for e in check_value(doc, output, "$")]
