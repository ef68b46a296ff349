"""Revision 0002 (kiln/store/migrations/versions/0002_list_order.py): a store whose list
keys put the newest version first (every kiln before it) lists versions ascending after
the upgrade, and *BuildVersions lists stay newest first."""
from __future__ import annotations

import os
import shutil
import sqlite3

import boto3

import kiln

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "v0.db")
COMPONENT = "arn:aws:imagebuilder:us-east-1:123456789012:component/hello"
MAX_NODE = 2**30 - 1


def _old_key(name_key, major, minor, patch, build):
    # The list key every kiln before revision 0002 wrote: newest version and build first.
    return f"{name_key} {MAX_NODE - major:010d}.{MAX_NODE - minor:010d}.{MAX_NODE - patch:010d}.{2**31 - build:010d}"


def _old_store_with_versions(path):
    """v0.db plus builds 1.2.0/1 and 1.10.0/1, 1.10.0/2 of component hello, keyed the old way."""
    shutil.copy(FIXTURE, path)
    conn = sqlite3.connect(path)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(resources)")]
    row = dict(zip(cols, conn.execute("SELECT * FROM resources WHERE arn = ?", (f"{COMPONENT}/1.0.0/1",)).fetchone()))
    assert row["sort_key"] == _old_key("hello", 1, 0, 0, 1)  # the fixture really has the old keys
    for minor, build in ((2, 1), (10, 1), (10, 2)):
        arn = f"{COMPONENT}/1.{minor}.0/{build}"
        doc = row["doc"].replace(f"{COMPONENT}/1.0.0/1", arn).replace('"version":"1.0.0"', f'"version":"1.{minor}.0"')
        new = {**row, "arn": arn, "minor": minor, "build": build, "doc": doc, "sort_key": _old_key("hello", 1, minor, 0, build)}
        conn.execute(f"INSERT INTO resources ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                     [new[c] for c in cols])
    conn.commit()
    conn.close()


def test_an_old_store_lists_versions_ascending_after_the_upgrade(tmp_path):
    path = str(tmp_path / "kiln.db")
    _old_store_with_versions(path)
    with kiln.mock_imagebuilder(database_url=f"sqlite:///{path}"):
        ib = boto3.client("imagebuilder", region_name="us-east-1", aws_access_key_id="123456789012", aws_secret_access_key="x")
        listed = [c["version"] for c in ib.list_components()["componentVersionList"]]
        assert listed == ["1.0.0", "1.2.0", "1.10.0"]
        builds = ib.list_component_build_versions(componentVersionArn=f"{COMPONENT}/1.10.0")["componentSummaryList"]
        assert [b["arn"] for b in builds] == [f"{COMPONENT}/1.10.0/2", f"{COMPONENT}/1.10.0/1"]
        assert ib.get_component(componentBuildVersionArn=f"{COMPONENT}/x.x.x")["component"]["arn"] == f"{COMPONENT}/1.10.0/2"
