"""Server-side validation of every constraint the model states.

botocore checks these on the client, but other clients (and raw HTTP) do not, so
kiln checks them again exactly as the model states them: required members, JSON
types, string/list/map lengths, patterns, enums and numeric ranges, recursively.

Choice (docs/errors.md): a missing required member or a value of the wrong JSON
type is an InvalidRequestException; a value that breaks a constraint is an
InvalidParameterValueException, worded like the real service:
"The value supplied for parameter 'distributions[0].region' is not valid. ..."
"""
from __future__ import annotations

from functools import lru_cache

from botocore.model import Shape

from kiln.errors import ApiError, InvalidParameterException, InvalidRequestException, invalid_value
from kiln.protocol.spec import compiled_pattern, service_model

_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "float": (int, float),
    "boolean": (bool,),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
    "timestamp": (int, float, str),
}
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "long": "an integer",
    "double": "a number",
    "float": "a number",
    "boolean": "a boolean",
    "list": "a list",
    "map": "a map",
    "structure": "an object",
    "timestamp": "a timestamp",
}


def validate(shape: Shape | None, params: dict) -> None:
    if shape is None:
        return
    try:
        _structure(shape, params, "")
    except ApiError as e:
        if shape.name in _parameter_error_inputs():
            raise InvalidParameterException(e.message) from None
        raise


@lru_cache(maxsize=1)
def _parameter_error_inputs() -> frozenset[str]:
    """Input shapes of the operations (the tag APIs) whose model gives InvalidParameterException
    as their only client error: their bad input answers that, not the generic pair above."""
    generic = {"InvalidRequestException", "InvalidParameterValueException"}
    names = set()
    model = service_model()
    for name in model.operation_names:
        op = model.operation_model(name)
        codes = {e.name for e in op.error_shapes}
        if op.input_shape is not None and "InvalidParameterException" in codes and not codes & generic:
            names.add(op.input_shape.name)
    return frozenset(names)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _structure(shape: Shape, value: dict, path: str) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            raise InvalidRequestException(f"The request is missing the required parameter '{_join(path, name)}'.")
    members = shape.members
    for name, item in value.items():
        member = members.get(name)
        if member is not None and item is not None:
            _value(member, item, _join(path, name))


def _value(shape: Shape, value, path: str) -> None:
    kind = shape.type_name
    expected = _JSON_TYPES.get(kind)
    if expected and (not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))):
        raise InvalidRequestException(
            f"The value supplied for parameter '{path}' is not valid. '{path}' must be {_TYPE_WORDS[kind]}."
        )
    meta = shape.metadata
    if kind == "string":
        _length(meta, len(value), path, "length")
        if "\x00" in value:  # no text column (PostgreSQL's least of all) stores it, and no AWS name has it
            raise invalid_value(path, f"'{path}' must not contain the null character (U+0000).")
        enum = meta.get("enum")
        if enum and value not in enum:
            raise invalid_value(path, f"'{path}' must be one of: {', '.join(enum)}.")
        pattern = meta.get("pattern")
        if pattern and compiled_pattern(pattern).fullmatch(value) is None:
            raise invalid_value(path, f"'{path}' must match pattern {pattern}")
    elif kind in ("integer", "long", "double", "float"):
        if "min" in meta and value < meta["min"]:
            raise invalid_value(path, f"'{path}' must be greater than or equal to {meta['min']}.")
        if "max" in meta and value > meta["max"]:
            raise invalid_value(path, f"'{path}' must be less than or equal to {meta['max']}.")
    elif kind == "list":
        _length(meta, len(value), path, "number of items")
        member = shape.member
        for i, item in enumerate(value):
            if item is None:
                raise InvalidRequestException(f"The value supplied for parameter '{path}[{i}]' is not valid. Null list items are not allowed.")
            _value(member, item, f"{path}[{i}]")
    elif kind == "map":
        _length(meta, len(value), path, "number of entries")
        for key, item in value.items():
            item_path = f"{path}.{key}" if _plain(key) else f"{path}['{key}']"
            _value(shape.key, key, item_path)
            if item is None:
                raise InvalidRequestException(f"The value supplied for parameter '{item_path}' is not valid. Null map values are not allowed.")
            _value(shape.value, item, item_path)
    elif kind == "structure":
        _structure(shape, value, path)


def _plain(key: str) -> bool:
    return key.replace("_", "").replace("-", "").isalnum()


def _length(meta: dict, n: int, path: str, what: str) -> None:
    if "min" in meta and n < meta["min"]:
        raise invalid_value(path, f"'{path}' must have a {what} greater than or equal to {meta['min']}.")
    if "max" in meta and n > meta["max"]:
        raise invalid_value(path, f"'{path}' must have a {what} less than or equal to {meta['max']}.")
