"""Output dict -> JSON body, keeping only what the output shape has.

Handlers return API-shaped dicts; anything not in the model's output shape (a
bookkeeping key, a typo) never reaches the wire, and neither does a null. Each
output shape is compiled once into a tree of small filter functions (one per
structure, list and map that can hold a structure); scalar members, and lists and
maps of scalars, are copied without a call.

An `orjson.Fragment` (JSON already serialized, e.g. a stored document known to
be in shape) passes through untouched wherever it appears.
"""
from __future__ import annotations

from functools import lru_cache

import orjson
from botocore.model import Shape

# orjson >= 3.10; with an older orjson nothing is a Fragment.
Fragment = getattr(orjson, "Fragment", type("Fragment", (), {}))

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


def _compile(plan, memo: dict):
    """plan -> fn(value) -> filtered value, or None for "pass through as is".
    A structure copies its scalar members and calls a filter only for the members
    that can hold a structure; a recursive shape compiles once (a structure is
    registered before its members are compiled)."""
    if plan is None:
        return None
    key = id(plan)
    if key in memo:
        return memo[key]
    kind, inner = plan
    if kind == "s":
        scalars: set = set()
        nested: dict = {}

        def structure(value):
            if value is None or value.__class__ is Fragment:
                return value
            if nested:
                out = {}
                for k, v in value.items():
                    if v is None:
                        continue
                    if k in scalars:
                        out[k] = v
                    else:
                        f = nested.get(k)
                        if f is not None:
                            out[k] = f(v)
                return out
            return {k: v for k, v in value.items() if v is not None and k in scalars}

        memo[key] = structure
        for name, member_plan in inner.items():
            f = _compile(member_plan, memo)
            if f is None:
                scalars.add(name)
            else:
                nested[name] = f
        return structure
    f = _compile(inner, memo)
    if kind == "l":
        def seq(value):
            if value is None or value.__class__ is Fragment:
                return value
            return [v if v is None else f(v) for v in value]

        memo[key] = seq
        return seq

    def mapping(value):
        if value is None or value.__class__ is Fragment:
            return value
        return {k: (v if v is None else f(v)) for k, v in value.items()}

    memo[key] = mapping
    return mapping


@lru_cache(maxsize=None)
def filter_for(shape: Shape):
    """The compiled filter of an output shape (identity for a shape with no structure)."""
    f = _compile(plan_for(shape), {})
    return f if f is not None else (lambda value: value)


def serialize(shape: Shape | None, output: dict) -> bytes:
    if shape is None:
        return b"{}"
    return orjson.dumps(filter_for(shape)(output))
