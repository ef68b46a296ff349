"""Rows written straight into a Store's resources table, and document reads of them:
for the tests of the document read path (tests/store/)."""
from __future__ import annotations

import subprocess
import sys

from kiln.store import Store

ACCOUNT, REGION = "123456789012", "us-east-1"


def insert(store: Store, arn: str, doc: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO resources (account, region, arn, type, name_key, name, major, minor, patch, build, "
            "sort_key, created, doc) VALUES (?, ?, ?, 'image', 'n', 'n', 0, 0, 0, 0, ?, 0, ?)",
            (ACCOUNT, REGION, arn, arn, doc),
        )


def update(store: Store, arn: str, doc: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE resources SET doc = ? WHERE arn = ?", (doc, arn))


def update_from_another_process(db_path: str, arn: str, doc: str) -> None:
    subprocess.run([sys.executable, "-c", (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('UPDATE resources SET doc = ? WHERE arn = ?', (sys.argv[2], sys.argv[3])); c.commit()"),
        db_path, doc, arn], check=True)


def read(store: Store, arn: str) -> bytes | None:
    return store.read_doc(ACCOUNT, REGION, arn, "image")
