"""Stored documents served as they are stored.

Every resource document is filtered by its API shape when it is written
(kiln.store.repository), so a Get can embed the stored JSON text as it is, as an
`orjson.Fragment`, with no parse, walk or dump per read.
"""
from __future__ import annotations

import orjson


def fragment(text: str) -> orjson.Fragment:
    """Stored, shape-filtered JSON `text`, ready for the serializer to embed."""
    return orjson.Fragment(text)
