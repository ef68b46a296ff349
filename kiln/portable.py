"""State you can carry: a store (or chosen accounts and Regions of it) written to one
portable file, and read back into another store (`kiln export`, `kiln import`,
`kiln serve --seed`). The format, and why it is what it is: docs/portable.md.

The file is JSON Lines (gzip-compressed when its name ends in .gz; read either way):

    {"format": "kiln-state", "version": 1, "kiln": "0.1.0", "schemaRevision": "0005", ...}
    {"table": "resources", "row": {"account": "123456789012", "region": "us-east-1", "arn": ..., "doc": {...}}}
    ...
    {"end": {"rows": {"resources": 41, "counters": 6, ...}}}

Each row is a stored row, column by column, as the store keeps it: no document is
reshaped (the JSON-text columns are written as the JSON they hold, so the file reads
and diffs as JSON). The header names the store schema revision the rows follow; a file
of an older revision is mapped to this kiln's (UPGRADES), one of a newer is refused.
"""
from __future__ import annotations

import datetime
import gzip
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa

from kiln import __version__
from kiln.store import schema
from kiln.store.repository import CLOCK_KEY, _clock_state, _clock_text
from kiln.store.schema_version import HEAD

FORMAT = "kiln-state"
VERSION = 1  # of the file's layout (header, rows, end); the rows' columns follow schemaRevision
TABLES = ("resources", "counters", "references", "idempotency", "execution_keys", "faults")
# Columns holding JSON text in the store: written to the file as the JSON they hold.
JSON_COLUMNS = {"resources": ("doc", "timeline"), "idempotency": ("response",), "faults": ("component",)}
# Rows that belong to the deployment that wrote them, not to the state: an outbox row is a
# notification owed to that deployment's EC2/SNS/EventBridge/webhooks (kiln/integrations).
SKIPPED_TYPES = ("outbox",)
# The store schema revisions whose rows this kiln imports, oldest first. When a revision
# changes a table's columns, add it here and, in UPGRADES, the function that maps a row
# of the revision before it: (table, row) -> (table, row) (or None to drop the row).
# tests/portable/test_format.py keeps REVISIONS[-1] equal to the store's HEAD, and imports
# tests/portable/fixtures/*.jsonl, files written by earlier kilns, which must keep importing.
REVISIONS = ("0005", "0006")
UPGRADES: dict = {}


class PortableError(ValueError):
    """A file kiln cannot import, or an export it cannot write: one line saying why."""


@dataclass
class Loaded:
    """A file read and checked whole: its header and its rows, at this kiln's schema revision."""

    path: str
    header: dict
    rows: list = field(default_factory=list)  # (table, {column: value as stored})

    @property
    def clock(self) -> tuple[float, bool]:
        """(the instant kiln's clock showed at export, whether it was frozen)."""
        clock = self.header["clock"]
        return float(clock["epochSeconds"]), bool(clock["frozen"])


def iso(epoch: float) -> str:
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# -- export ---------------------------------------------------------------------------------------

def export(store, out, accounts=None, regions=None) -> dict[str, int]:
    """Write the store's rows (of `accounts` and `regions`, when given) to the binary stream
    `out`; returns the rows written per table."""
    counts = dict.fromkeys(TABLES, 0)
    settings: dict[str, str] = {}
    started = False
    for table, row in store.read_rows(accounts, regions):
        if table == "settings":
            settings[row["key"]] = row["value"]
            continue
        if not started:
            out.write(_line(_header(settings, accounts, regions)))
            started = True
        if table == "resources" and row["type"] in SKIPPED_TYPES:
            continue
        if table == "faults":
            row.pop("id", None)  # numbered again where it is imported; the file keeps their order
        for column in JSON_COLUMNS.get(table, ()):
            if row[column] is not None:
                row[column] = orjson.loads(row[column])
        out.write(_line({"table": table, "row": row}))
        counts[table] += 1
    if not started:
        out.write(_line(_header(settings, accounts, regions)))
    out.write(_line({"end": {"rows": counts}}))
    return counts


def _header(settings: dict, accounts, regions) -> dict:
    offset, frozen = _clock_state(settings.get(CLOCK_KEY))
    now = frozen if frozen is not None else time.time() + offset
    return {
        "format": FORMAT, "version": VERSION, "kiln": __version__, "schemaRevision": HEAD,
        "exportedAt": iso(time.time()),
        "clock": {"at": iso(now), "epochSeconds": now, "frozen": frozen is not None},
        "selection": {"accounts": sorted(accounts) if accounts is not None else None,
                      "regions": sorted(regions) if regions is not None else None},
    }


def _line(value) -> bytes:
    return orjson.dumps(value) + b"\n"


def export_to_path(store, path: str, accounts=None, regions=None) -> dict[str, int]:
    """export() into `path` ("-": standard output), gzip-compressed when it ends in .gz.
    Written beside it and renamed into place: an export that fails leaves no partial file."""
    if path == "-":
        counts = export(store, sys.stdout.buffer, accounts, regions)
        sys.stdout.buffer.flush()
        return counts
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".kiln-export-", dir=folder)
    except OSError as e:
        raise PortableError(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as raw:
            if path.endswith(".gz"):
                with gzip.GzipFile(filename=os.path.basename(path)[:-3], mode="wb", fileobj=raw, mtime=0) as out:
                    counts = export(store, out, accounts, regions)
            else:
                counts = export(store, raw, accounts, regions)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return counts


# -- reading a file -------------------------------------------------------------------------------

def load(path: str) -> Loaded:
    """Read and check the whole file ("-": standard input); PortableError says what is wrong
    with it, naming the line."""
    name = "standard input" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    except FileNotFoundError:
        raise PortableError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise PortableError(f"{name} is a directory, not a file written by kiln export") from None
    except OSError as e:
        raise PortableError(f"cannot read {name}: {e.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise PortableError(f"{name} is not a complete gzip file ({e}); was it cut short?") from None
    lines = data.split(b"\n")
    if lines and lines[-1].strip() == b"":
        lines.pop()
    if not lines or not lines[0].strip():
        raise PortableError(f"{name} is empty, not a file written by kiln export")
    header = _parse(name, 1, lines[0])
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise PortableError(f"{name} is not a file written by kiln export (its first line does not say "
                            f'"format": "{FORMAT}")')
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PortableError(f"{name}: the header's version must be a whole number, not {_shown(version)}")
    if version > VERSION:
        raise PortableError(f"{name} was written by a newer kiln ({header.get('kiln', '?')}, file format version "
                            f"{version}; this kiln {__version__} reads version {VERSION}): upgrade kiln to import it")
    revision = header.get("schemaRevision")
    if revision not in REVISIONS:
        if isinstance(revision, str) and revision > REVISIONS[-1]:
            raise PortableError(f"{name} was written by a newer kiln ({header.get('kiln', '?')}, store schema "
                                f"revision {revision}; this kiln knows revisions up to {REVISIONS[-1]}): upgrade kiln "
                                "to import it")
        raise PortableError(f"{name}: unknown store schema revision {_shown(revision)} (this kiln imports "
                            f"{', '.join(REVISIONS)})")
    _check_clock(name, header.get("clock"))
    loaded = Loaded(name, header)
    end = None
    in_file = dict.fromkeys(TABLES, 0)  # row lines per table, before any mapping
    for number, text in enumerate(lines[1:], start=2):
        if end is not None:
            raise PortableError(f"{name} line {number}: more lines after the end line (line {end})")
        if not text.strip():
            raise PortableError(f"{name} line {number}: empty line")
        value = _parse(name, number, text)
        if isinstance(value, dict) and set(value) == {"end"}:
            end = number
            _check_end(name, number, value["end"], in_file)
            continue
        if not isinstance(value, dict) or set(value) != {"table", "row"}:
            raise PortableError(f'{name} line {number}: expected {{"table": ..., "row": {{...}}}} or the end line')
        table, row = value["table"], value["row"]
        if table not in TABLES:
            raise PortableError(f"{name} line {number}: unknown table {_shown(table)} (kiln's are {', '.join(TABLES)})")
        if not isinstance(row, dict):
            raise PortableError(f"{name} line {number}: the {table} row must be a JSON object")
        in_file[table] += 1
        mapped = _upgrade(revision, table, row)
        if mapped is None:
            continue
        table, row = mapped
        loaded.rows.append((table, _checked_row(name, number, table, row)))
    if end is None:
        raise PortableError(f"{name} is cut short: it has no end line (was the export interrupted?)")
    return loaded


def _parse(name: str, number: int, text: bytes):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise PortableError(f"{name} line {number}: not JSON ({str(e).split(':', 1)[0]})") from None


def _shown(value) -> str:
    return orjson.dumps(value).decode() if value is not None else "none"


def _check_clock(name: str, clock) -> None:
    if (not isinstance(clock, dict) or not isinstance(clock.get("frozen"), bool)
            or not isinstance(clock.get("epochSeconds"), (int, float)) or isinstance(clock.get("epochSeconds"), bool)):
        raise PortableError(f'{name}: the header\'s clock must be {{"epochSeconds": <number>, "frozen": <true|false>}}')


def _check_end(name: str, number: int, end, in_file: dict[str, int]) -> None:
    rows = end.get("rows") if isinstance(end, dict) else None
    if not isinstance(rows, dict):
        raise PortableError(f'{name} line {number}: the end line must be {{"end": {{"rows": {{<table>: <count>}}}}}}')
    for table in TABLES:
        if rows.get(table, 0) != in_file[table]:
            raise PortableError(f"{name}: the end line counts {_shown(rows.get(table, 0))} {table} rows, the file "
                                f"holds {in_file[table]}; it was cut short or changed")


def _upgrade(revision: str, table: str, row: dict):
    """The row mapped from `revision` to this kiln's, through each revision's mapping."""
    for step in REVISIONS[REVISIONS.index(revision):-1]:
        mapped = UPGRADES.get(step)
        if mapped is not None:
            result = mapped(table, row)
            if result is None:
                return None
            table, row = result
    return table, row


def _kind(column: sa.Column):
    if isinstance(column.type, sa.Integer):
        return int, "a whole number"
    if isinstance(column.type, sa.Float):
        return (int, float), "a number"
    return str, "a string"


def _checked_row(name: str, number: int, table: str, row: dict) -> dict:
    """The row as the store keeps it (JSON columns back to text), or PortableError naming
    the column that does not fit the table."""
    columns = {c.name: c for c in schema.metadata.tables[table].columns if not (table == "faults" and c.name == "id")}
    unknown = sorted(set(row) - set(columns))
    if unknown:
        raise PortableError(f"{name} line {number}: the {table} table has no column {unknown[0]!r}")
    out = {}
    for column_name, column in columns.items():
        value = row.get(column_name)
        if column_name in JSON_COLUMNS.get(table, ()):
            value = None if value is None else orjson.dumps(value).decode()
        elif value is not None:
            kind, said = _kind(column)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise PortableError(f"{name} line {number}: {table}.{column_name} must be {said}, not {_shown(value)}")
        if value is None and not column.nullable:
            raise PortableError(f"{name} line {number}: the {table} row has no {column_name}")
        out[column_name] = value
    return out


# -- importing ------------------------------------------------------------------------------------

@dataclass
class Imported:
    written: dict[str, int] | None  # None: nothing written (conflicts, or a seed into a store with state)
    conflicts: list
    clock: str  # what became of kiln's clock, in words


def import_into(store, loaded: Loaded, replace: bool = False, only_if_empty: bool = False) -> Imported:
    """Write the file's rows into the store in one transaction (see docs/portable.md for the
    rules on conflicts, --replace and kiln's clock)."""
    at, frozen = loaded.clock
    said = []

    def settings_for(current: dict, alone: bool) -> dict:
        offset, was_frozen = _clock_state(current.get(CLOCK_KEY))
        if alone:  # the store holds this file's state only: its clock resumes where the file's stood
            said.append(f"kiln's clock {'is frozen at' if frozen else 'runs on from'} {iso(at)}, as at the export")
            return {CLOCK_KEY: _clock_text(0.0, at) if frozen else _clock_text(at - time.time(), None)}
        now = was_frozen if was_frozen is not None else time.time() + offset
        if now >= at:
            said.append(f"kiln's clock is left at {iso(now)} (the store holds other state)")
            return {}
        said.append(f"kiln's clock moved forward to {iso(at)}, the file's time (the store holds other state)")
        return {CLOCK_KEY: _clock_text(offset, at) if was_frozen is not None else _clock_text(at - time.time(), None)}

    result = store.write_rows(loaded.rows, replace=replace, only_if_empty=only_if_empty, settings_for=settings_for)
    return Imported(result["written"], result["conflicts"], said[0] if said else "")


def describe_conflicts(conflicts: list) -> str:
    shown = []
    for table, key in conflicts[:3]:
        if table == "resources":
            shown.append(key[2])
        elif table == "counters":
            shown.append(f"counter {key[2]}")
        elif table == "references":
            shown.append(f"reference {key[2]} -> {key[3]}")
        else:
            shown.append(f"{table} {' '.join(str(k) for k in key[2:])}")
    more = ", ..." if len(conflicts) > 3 else ""
    return ", ".join(shown) + more


def seed(store, path: str) -> Imported:
    """`kiln serve --seed FILE`: the file imported when the store holds nothing yet (a new
    store, or one just reset), else left alone. Several processes starting on one store
    at once import it once."""
    loaded = load(path)
    try:
        return import_into(store, loaded, only_if_empty=True)
    except sa.exc.IntegrityError:
        # Another process (a --workers sibling, a replica) seeded the store meanwhile.
        return import_into(store, loaded, only_if_empty=True)
