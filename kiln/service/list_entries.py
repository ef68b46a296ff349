"""List entries as JSON fragments, remembered by the stored row they come from.

A list page reads the same rows again and again, and its entry for a row (the document
as the list shows it, filtered by the list member's shape, serialized) depends on nothing
but that row's ARN, status and stored text. Remembering the serialized entry turns the
parse, copy, filter and dump of every entry (about 5 µs of a 25-entry page's 130) into
one dict lookup. The key holds the stored text itself, so a row that changed in any way
is never answered from here; the memo is bounded by count and emptied when full (lists
of one store read a working set far smaller than that).
"""
from __future__ import annotations

from functools import lru_cache
from operator import attrgetter

import orjson

from kiln.protocol.serializer import filter_for
from kiln.protocol.spec import service_model
from kiln.store.repository import Row

MAX_ENTRIES = 8192
_memo: dict = {}
_document = attrgetter("doc")  # an entry that is the stored document itself (the shape leaves out the rest)


@lru_cache(maxsize=None)
def _shape_filter(shape: str):
    return filter_for(service_model().shape_for(shape))


def entry(shape: str, row: Row, build) -> orjson.Fragment | dict:
    """build(row) -> the entry as a dict, filtered by `shape` and serialized once per stored row."""
    text = row.doc_text
    if text is None:  # a row made in memory (a shared resource seen by another account): the response's filter takes it
        return build(row)
    key = (shape, row.arn, row.status, text)
    found = _memo.get(key)
    if found is None:
        if len(_memo) >= MAX_ENTRIES:
            _memo.clear()
        found = _memo[key] = orjson.Fragment(orjson.dumps(_shape_filter(shape)(build(row))))
    return found


def entries(shape: str, rows: list[Row], build=_document) -> list:
    """entry() of each row, in order."""
    return [entry(shape, row, build) for row in rows]
