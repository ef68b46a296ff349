"""Method + path -> operation, built from the model's `http` traits."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote

from kiln.protocol.spec import Operation, operations


@lru_cache(maxsize=1)
def _table() -> tuple[dict[tuple[str, str], Operation], dict[str, tuple[str, Operation]]]:
    exact: dict[tuple[str, str], Operation] = {}
    labelled: dict[str, tuple[str, Operation]] = {}  # method -> (path prefix, operation)
    for op in operations().values():
        if "{" in op.path:
            prefix = op.path.split("{", 1)[0]
            labelled[op.method] = (prefix, op)
        else:
            exact[(op.method, op.path)] = op
    return exact, labelled


def route(method: str, raw_path: str) -> tuple[Operation, str | None] | None:
    """Find the operation for a request.

    `raw_path` is the path exactly as sent, still percent-encoded: botocore sends
    the tag label with `/` as `%2F`, so decoding before matching would split the ARN.
    Returns (operation, decoded label value) or None.
    """
    exact, labelled = _table()
    path = raw_path.rstrip("/") or "/"
    op = exact.get((method, path))
    if op is not None:
        return op, None
    entry = labelled.get(method)
    if entry is not None:
        prefix, op = entry
        if raw_path.startswith(prefix) and len(raw_path) > len(prefix):
            # A client that leaves `/` unencoded still means the whole ARN.
            return op, unquote(raw_path[len(prefix):])
    return None
