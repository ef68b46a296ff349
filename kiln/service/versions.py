"""Semantic versions: <major>.<minor>.<patch>/<build>, each node 0..2^30-1, and x wildcards."""
from __future__ import annotations

from kiln.errors import InvalidVersionNumberException, invalid_value

MAX_NODE = 2**30 - 1


def parse_version(text: str, param: str = "semanticVersion") -> tuple[int, int, int]:
    """An exact M.m.p (the model's pattern has already checked the shape)."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise invalid_value(param, f"'{param}' must match pattern ^[0-9]+\\.[0-9]+\\.[0-9]+$")
    nodes = tuple(int(p) for p in parts)
    if any(n > MAX_NODE for n in nodes):
        raise out_of_bounds(text)
    return nodes  # numbers for order and matching; the ARN keeps the text as written (docs/behaviour.md)


def out_of_bounds(text: str) -> InvalidVersionNumberException:
    return InvalidVersionNumberException(
        f"Your version number is out of bounds or does not follow the required syntax: '{text}'. "
        f"Each of <major>.<minor>.<patch> must be an integer from 0 to {MAX_NODE}."
    )


def fmt(nodes) -> str:
    return ".".join(str(n) for n in nodes)


def wildcard(text: str, param: str) -> tuple[int | None, int | None, int | None]:
    """'1.x.x' -> (1, None, None). Once a node is x, all nodes to its right must be x."""
    parts = text.split(".")
    seen_x = False
    nodes: list[int | None] = []
    for p in parts:
        if p == "x":
            seen_x = True
            nodes.append(None)
        elif seen_x:
            raise invalid_value(
                param,
                f"The version '{text}' is not a valid wildcard version. When you use a wildcard (x) in a node, "
                "every node to its right must also be a wildcard, as in x.x.x, 1.x.x or 1.2.x.",
            )
        else:
            n = int(p)
            if n > MAX_NODE:
                raise out_of_bounds(text)
            nodes.append(n)
    return tuple(nodes)  # type: ignore[return-value]


def split_build_version(version: str) -> tuple[int, int, int, int]:
    """'1.2.3/4' -> (1, 2, 3, 4); '1.2.3' -> (1, 2, 3, 0)."""
    v, _, b = version.partition("/")
    major, minor, patch = (int(x) for x in v.split("."))
    return major, minor, patch, int(b) if b else 0


def matches(nodes: tuple, candidate: tuple) -> bool:
    return all(n is None or n == c for n, c in zip(nodes, candidate))


def latest_version_references(base: str, version: str) -> dict:
    """The four wildcard references Create/Get return, from the resource's own M.m.p
    as spelled in its ARN. `base` is the ARN up to and including the name segment."""
    major, minor, _ = version.split(".")
    return {
        "latestVersionArn": f"{base}/x.x.x",
        "latestMajorVersionArn": f"{base}/{major}.x.x",
        "latestMinorVersionArn": f"{base}/{major}.{minor}.x",
        "latestPatchVersionArn": f"{base}/{version}",
    }
