"""List pages: maxResults (1-100, default 25) and an opaque, signed nextToken.

Pages are read by key (the rows' sort_key), never by OFFSET, so a deep page
costs what the first one does. The token carries the last key read and an HMAC
bound to the operation, so a forged or foreign token is refused.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Callable, Iterable

import orjson

from kiln.errors import InvalidPaginationTokenException

DEFAULT_PAGE = 25
SCAN_LIMIT = 1000  # rows read at most to fill one filtered page; then a short page and a token


def _mac(secret: str, operation: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), operation.encode() + b"\0" + payload, hashlib.sha256).hexdigest()[:32]


def encode(secret: str, operation: str, key: str) -> str:
    payload = orjson.dumps({"k": key})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _mac(secret, operation, payload)


def decode(secret: str, operation: str, token: str | None) -> str | None:
    if token is None:
        return None
    try:
        body, mac = token.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if not hmac.compare_digest(mac, _mac(secret, operation, payload)):
            raise ValueError
        return orjson.loads(payload)["k"]
    except Exception:
        # `operation` may carry a '#' suffix that separates one operation's token domains.
        raise InvalidPaginationTokenException(
            "The nextToken supplied is not valid. Use the nextToken value returned by the previous "
            f"{operation.split('#', 1)[0]} response, unchanged."
        ) from None


def page(
    secret: str,
    operation: str,
    request: dict,
    fetch: Callable[[str | None, int], list],
    keep: Callable[[object], bool] = lambda row: True,
    key_of: Callable[[object], str] = lambda row: row.sort_key,
    descending: bool = False,
) -> tuple[list, str | None]:
    """One page of rows. `fetch(after_key, n)` returns up to n rows (objects with
    .sort_key) in list order after the key (before it and backwards, when
    `descending`); `keep` applies the request's filters; `key_of` is where the next
    page starts after a kept row (grouped lists skip the rest of a group)."""
    further = min if descending else max
    limit = request.get("maxResults") or DEFAULT_PAGE
    after = decode(secret, operation, request.get("nextToken"))
    kept: list = []
    scanned = 0
    beyond = (lambda key: key < after) if descending else (lambda key: key > after)  # noqa: E731
    while True:
        # One row past the page: with no filter, it tells whether another page follows.
        batch_size = min(limit - len(kept) + 1, 200)
        rows = fetch(after, batch_size)
        for i, row in enumerate(rows):
            after = row.sort_key if after is None else further(after, row.sort_key)
            scanned += 1
            if keep(row):
                kept.append(row)
                after = further(after, key_of(row))
                if len(kept) == limit:
                    rest = rows[i + 1:]
                    if any(beyond(r.sort_key) for r in rest):
                        more = True  # (a filtered list may find nothing there; AWS's tokens can lead to an empty page too)
                    else:
                        more = len(rows) == batch_size and bool(fetch(after, 1))
                    return kept, encode(secret, operation, after) if more else None
        if len(rows) < batch_size:
            return kept, None
        if scanned >= SCAN_LIMIT:
            return kept, encode(secret, operation, after)


def list_kind(ctx, kind: str, operation: str, request: dict, allowed: dict) -> tuple[list, str | None]:
    """A page of one stored kind in list order, with the request's filters
    (`allowed`: filter name -> getter on the document)."""
    from kiln.service.filters import compile_filters, exact_name

    keep = compile_filters(request.get("filters"), allowed)
    name = exact_name(request.get("filters"))
    return page(ctx.secret, operation, request, lambda after, n: ctx.tx.page(kind, after, n, name=name), lambda r: keep(r.doc))


class _Listed:
    __slots__ = ("item", "sort_key")

    def __init__(self, index: int, item):
        self.item, self.sort_key = item, f"{index:010d}"


def page_list(secret: str, operation: str, request: dict, items: list) -> tuple[list, str | None]:
    """One page of a list kiln has in memory (already in list order), with the same
    maxResults and signed nextToken as a stored kind."""
    table = Sorted(_Listed(i, item) for i, item in enumerate(items))
    found, token = page(secret, operation, request, table.fetch)
    return [f.item for f in found], token


class Sorted:
    """An in-memory list served like a table page (the AWS-managed catalog)."""

    def __init__(self, rows: Iterable):
        self.rows = sorted(rows, key=lambda r: r.sort_key)
        self.keys = [r.sort_key for r in self.rows]

    def fetch(self, after: str | None, n: int, descending: bool = False) -> list:
        import bisect

        if descending:
            end = len(self.rows) if after is None else bisect.bisect_left(self.keys, after)
            return self.rows[max(end - n, 0):end][::-1]
        start = 0 if after is None else bisect.bisect_right(self.keys, after)
        return self.rows[start:start + n]
