"""kiln/service/list_entries.py: a list entry is remembered by the row it was made from,
and a row that differs in anything the entry depends on makes a new one."""
from __future__ import annotations

import orjson

from kiln.service import list_entries
from kiln.store.repository import Row

ARN = "arn:aws:imagebuilder:us-east-1:123456789012:component/hello/1.0.0/1"


def _row(doc: dict, status: str = "ACTIVE") -> Row:
    return Row(arn=ARN, type="component", name_key="hello", name="hello", status=status,
               doc_text=orjson.dumps(doc).decode())


def _entry(row: Row) -> dict:
    def build(r: Row) -> dict:
        return {**r.doc, "status": r.status, "notInTheShape": 1}

    return orjson.loads(orjson.dumps(list_entries.entry("ComponentVersion", row, build)))


def test_an_entry_is_filtered_by_the_list_members_shape_and_made_once_per_stored_row():
    calls = []
    row = _row({"arn": ARN, "name": "hello", "version": "1.0.0", "platform": "Linux", "data": "long"})

    def build(r: Row) -> dict:
        calls.append(r.arn)
        return {**r.doc, "status": r.status}

    first = list_entries.entry("ComponentVersion", row, build)
    again = list_entries.entry("ComponentVersion", _row(row.doc), build)  # the same stored text, read again
    assert first is again and calls == [ARN]
    # "data" is a Component member, not a ComponentVersion one: the entry leaves it out.
    assert orjson.loads(orjson.dumps(first)) == {"arn": ARN, "name": "hello", "version": "1.0.0",
                                                 "platform": "Linux", "status": "ACTIVE"}


def test_a_changed_document_or_status_makes_a_new_entry():
    doc = {"arn": ARN, "name": "hello", "version": "1.0.0", "description": "one"}
    assert _entry(_row(doc))["description"] == "one"
    assert _entry(_row({**doc, "description": "two"}))["description"] == "two"
    assert _entry(_row(doc, status="DEPRECATED"))["status"] == "DEPRECATED"
    assert _entry(_row(doc))["status"] == "ACTIVE"


def test_a_row_made_in_memory_is_left_to_the_responses_filter():
    row = Row(arn=ARN, type="component", name_key="hello", name="hello", doc={"arn": ARN}, status="ACTIVE")
    built = list_entries.entry("ComponentVersion", row, lambda r: {**r.doc, "status": r.status})
    assert built == {"arn": ARN, "status": "ACTIVE"}


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(list_entries, "MAX_ENTRIES", 3)
    monkeypatch.setattr(list_entries, "_memo", {})
    for i in range(10):
        _entry(_row({"arn": ARN, "description": str(i)}))
        assert len(list_entries._memo) <= 3
