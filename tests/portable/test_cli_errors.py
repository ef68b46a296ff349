"""`kiln import`, `kiln export` and `kiln serve --seed` refusing what they cannot use: one line
saying what is wrong (and with which line of the file), exit status 2, no traceback, and
nothing written."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest

from kiln.store.schema_version import HEAD
from tests.portable.test_format import FIXTURES
from tests.portable.test_round_trip import cli

with open(FIXTURES[-1], "rb") as f:
    HEADER, FIRST, *_ = f.read().splitlines()
END = json.dumps({"end": {"rows": {"resources": 1, "counters": 0, "references": 0, "idempotency": 0, "faults": 0}}})


def lines(*items) -> bytes:
    return b"\n".join(i if isinstance(i, bytes) else (i if isinstance(i, str) else json.dumps(i)).encode()
                      for i in items) + b"\n"


def header(**changes) -> dict:
    h = json.loads(HEADER)
    h.update(changes)
    return h


def row(**changes) -> dict:
    r = json.loads(FIRST)
    r["row"].update(changes)
    return r


BAD = {
    "empty": (b"", "{path} is empty, not a file written by kiln export"),
    "not JSON": (b"hello\n", "{path} line 1: not JSON (unexpected character"),
    "another JSON file": (lines({"Version": "2012-10-17"}),
                          '{path} is not a file written by kiln export (its first line does not say "format": "kiln-state")'),
    "a newer format": (lines(header(version=2), END),
                       "{path} was written by a newer kiln (0.1.0, file format version 2; this kiln 0.1.0 reads version 1): "
                       "upgrade kiln to import it"),
    "a newer schema": (lines(header(schemaRevision="0099", kiln="9.0.0"), END),
                       "{path} was written by a newer kiln (9.0.0, store schema revision 0099; this kiln knows revisions "
                       f"up to {HEAD}): upgrade kiln to import it"),
    "cut short": (lines(HEADER, FIRST), "{path} is cut short: it has no end line (was the export interrupted?)"),
    "cut mid-line": (lines(HEADER, FIRST[:200]), "{path} line 2: not JSON (unexpected end of data"),
    "counted wrong": (lines(HEADER, FIRST, FIRST.replace(b"eu-infra", b"eu-other"), END),
                      "{path}: the end line counts 1 resources rows, the file holds 2; it was cut short or changed"),
    "lines after the end": (lines(HEADER, FIRST, END, FIRST), "{path} line 4: more lines after the end line (line 3)"),
    "an unknown table": (lines(HEADER, {"table": "users", "row": {}}, END),
                         "{path} line 2: unknown table \"users\" (kiln's are resources, counters, references, "
                         "idempotency, execution_keys, faults)"),
    "an unknown column": (lines(HEADER, row(colour="red"), END), "{path} line 2: the resources table has no column 'colour'"),
    "a column of the wrong type": (lines(HEADER, row(major="1"), END),
                                   '{path} line 2: resources.major must be a whole number, not "1"'),
    "a missing column": (lines(HEADER, row(doc=None), END), "{path} line 2: the resources row has no doc"),
    "a bad clock": (lines(header(clock={"frozen": "yes"}), END),
                    '{path}: the header\'s clock must be {{"epochSeconds": <number>, "frozen": <true|false>}}'),
    "a broken gzip": (gzip.compress(lines(HEADER, FIRST, END))[:-12],
                      "{path} is not a complete gzip file (Compressed file ended before the end-of-stream marker was "
                      "reached); was it cut short?"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_import_of_a_bad_file_says_why_in_one_line_and_writes_nothing(name, tmp_path):
    content, said = BAD[name]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    target = tmp_path / "store"
    done = cli("import", str(path), "--data-dir", str(target))
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith("Error: " + said.format(path=path)), done.stderr
    assert done.stderr.rstrip().endswith("; nothing was imported.")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not target.exists()  # the file is checked whole before the store is opened


def test_import_of_no_file_or_a_folder(tmp_path):
    done = cli("import", str(tmp_path / "missing.jsonl"), "--data-dir", str(tmp_path / "s"))
    assert (done.exit_code, done.stderr) == (2, f"Error: {tmp_path / 'missing.jsonl'}: no such file; nothing was imported.\n")
    done = cli("import", str(tmp_path), "--data-dir", str(tmp_path / "s"))
    assert done.exit_code == 2  # click refuses a folder for FILE
    assert "is a directory" in done.stderr


def test_the_real_command_exits_2_with_one_line_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    for args in (["import", str(bad), "--data-dir", str(tmp_path / "s")],
                 ["export", "--data-dir", str(tmp_path / "nothing-here")],
                 ["serve", "--in-memory", "--port", "0", "--seed", str(bad)]):
        done = subprocess.run([sys.executable, "-m", "kiln.cli", *args], capture_output=True, text=True, env=env,
                              timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stderr.startswith("Error: ")
    assert done.stderr == (f"Error: cannot seed the store: {bad} line 1: not JSON (unexpected character, expected "
                           "a string key); fix the file given with --seed (KILN_SEED).\n")


def test_export_refusals(tmp_path):
    done = cli("export", "--data-dir", str(tmp_path / "none"))
    assert (done.exit_code, done.stderr) == (2, f"Error: there is no kiln store at {tmp_path / 'none' / 'kiln.db'}: name "
                                                "the one to export with --data-dir (KILN_DATA_DIR) or --database-url "
                                                "(KILN_DATABASE_URL).\n")
    done = cli("export", "--data-dir", str(tmp_path), "--account", "12345")
    assert done.exit_code == 2
    assert "Invalid value for '--account': '12345' is not an account: 12 digits, or aws" in done.stderr
    done = cli("export", "--data-dir", str(tmp_path), "--region", "mars")
    assert done.exit_code == 2 and "Invalid value for '--region': 'mars' is not a Region (e.g. us-east-1)." in done.stderr
    store = tmp_path / "store"
    store.mkdir()
    assert cli("import", FIXTURES[-1], "--data-dir", str(store)).exit_code == 0
    done = cli("export", "--data-dir", str(store), "-o", str(tmp_path / "no" / "such" / "folder.jsonl"))
    assert (done.exit_code, done.stderr) == (2, f"Error: cannot write {tmp_path / 'no' / 'such' / 'folder.jsonl'}: "
                                                "No such file or directory.\n")
    assert sorted(os.listdir(tmp_path)) == ["store"]  # nothing half-written anywhere
