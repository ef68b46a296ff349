"""Stored documents served as they are stored.

A resource's document is kept as JSON text. Serving it normally costs a parse, a
walk against the output shape and a dump on every read; instead, the text is
filtered by the shape once and the result is kept as an `orjson.Fragment`, which
the serializer embeds untouched. The cache is keyed by the stored text itself,
so a changed document (written by any replica) is simply a new key, and it is
bounded, so memory does not grow with the store.
"""
from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import orjson

from kiln.protocol.serializer import plan_for, shape_filter
from kiln.protocol.spec import service_model

CACHE_SIZE = 4096
_cache: OrderedDict = OrderedDict()


@lru_cache(maxsize=None)
def _plan(shape_name: str):
    return plan_for(service_model().shape_for(shape_name))


def fragment(shape_name: str, text: str):
    """The stored JSON `text`, filtered by shape `shape_name`, ready to embed."""
    hit = _cache.get(text)
    if hit is not None:
        _cache.move_to_end(text)
        return hit
    frag = orjson.Fragment(orjson.dumps(shape_filter(_plan(shape_name), orjson.loads(text))))
    _cache[text] = frag
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return frag
