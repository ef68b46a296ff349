"""Request -> params keyed by the model's member names (query string, URI label, JSON body)."""
from __future__ import annotations

from urllib.parse import parse_qsl, unquote

import orjson

from kiln.errors import InvalidRequestException, invalid_value
from kiln.protocol.spec import Operation


def parse(op: Operation, label: str | None, query_string: str, body: bytes) -> dict:
    params: dict = {}
    if op.label is not None and label is not None:
        params[op.label] = label
    if op.query and query_string:
        shape_members = op.input.members
        if "&" not in query_string:  # one parameter (every Get*): no parse_qsl
            key, _, value = query_string.partition("=")
            pairs = [(unquote(key.replace("+", " ")), unquote(value.replace("+", " ")))]
        else:
            pairs = parse_qsl(query_string, keep_blank_values=True)
        for key, value in pairs:
            member = op.query.get(key)
            if member is None:
                continue  # unknown query keys are ignored, as AWS does
            shape = shape_members[member]
            if shape.type_name == "list":
                params.setdefault(member, []).append(value)
            else:
                params[member] = _scalar_from_query(member, shape.type_name, value)
    if op.body_members and body and body.strip():
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise InvalidRequestException(f"The request body is not valid JSON: {e}.") from None
        if not isinstance(doc, dict):
            raise InvalidRequestException("The request body must be a JSON object.")
        for name in op.body_members:
            if name in doc and doc[name] is not None:
                params[name] = doc[name]
    return params


def _scalar_from_query(member: str, type_name: str, value: str):
    if type_name in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise invalid_value(member, f"'{member}' must be an integer.") from None
    if type_name == "boolean":
        if value not in ("true", "false"):
            raise invalid_value(member, f"'{member}' must be true or false.")
        return value == "true"
    return value
