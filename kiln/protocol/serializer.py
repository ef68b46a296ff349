"""Output dict -> JSON body, keeping only what the output shape has.

Handlers return API-shaped dicts; anything not in the model's output shape (a
bookkeeping key, a typo) never reaches the wire. Each shape's walk is compiled
once into a small plan so serialization is a dict comprehension per structure.
"""
from __future__ import annotations

from functools import lru_cache

import orjson
from botocore.model import Shape

# A plan is None (pass the value through: scalars, and lists/maps of scalars),
# or ("s", {member: plan}) / ("l", plan) / ("m", plan).


def _plan(shape: Shape, seen: dict):
    kind = shape.type_name
    if kind == "structure":
        if shape.name in seen:
            return seen[shape.name]
        members: dict = {}
        plan = ("s", members)
        seen[shape.name] = plan
        for name, member in shape.members.items():
            members[name] = _plan(member, seen)
        return plan
    if kind == "list":
        inner = _plan(shape.member, seen)
        return None if inner is None else ("l", inner)
    if kind == "map":
        inner = _plan(shape.value, seen)
        return None if inner is None else ("m", inner)
    return None


@lru_cache(maxsize=None)
def plan_for(shape: Shape):
    return _plan(shape, {})


def shape_filter(plan, value):
    if plan is None or value is None:
        return value
    kind, inner = plan
    if kind == "s":
        return {k: shape_filter(inner[k], v) for k, v in value.items() if k in inner and v is not None}
    if kind == "l":
        return [shape_filter(inner, v) for v in value]
    return {k: shape_filter(inner, v) for k, v in value.items()}


def serialize(shape: Shape | None, output: dict) -> bytes:
    if shape is None:
        return b"{}"
    return orjson.dumps(shape_filter(plan_for(shape), output))
