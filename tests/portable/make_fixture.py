"""Writes tests/portable/fixtures/kiln-state-v<format version>-r<schema revision>.jsonl: the
state of tests/portable/state.py's build_state, exported by this kiln. Run it when the file
format or the store schema changes (python -m tests.portable.make_fixture), and keep the
older fixtures: every kiln must go on importing them (tests/portable/test_format.py)."""
from __future__ import annotations

import os
import tempfile

import boto3

import kiln
from kiln import portable
from kiln.pytest_plugin import KilnControl
from kiln.store import Store
from tests.portable.state import OTHER, build_state

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def client(account="123456789012", region="us-east-1"):
    return boto3.client("imagebuilder", region_name=region, aws_access_key_id=account, aws_secret_access_key="x")


def main() -> str:
    path = os.path.join(FIXTURES, f"kiln-state-v{portable.VERSION}-r{portable.REVISIONS[-1]}.jsonl")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{os.path.join(folder, 'kiln.db')}"
        with kiln.mock_imagebuilder(database_url=url) as k:
            build_state(client(), KilnControl(kiln=k), other=client(OTHER), europe=client(region="eu-west-1"))
        store = Store(url)
        try:
            portable.export_to_path(store, path)
        finally:
            store.close()
    return path


if __name__ == "__main__":
    print(main())
