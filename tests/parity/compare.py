"""Compare a response kiln gave with one AWS published.

Rules (what counts as a difference):

* **Keys, at every level.** A key in the published response that kiln lacks is `missing`.
  A key kiln returns that the published response lacks is `extra`, except when
  - the case is `abridged` (the source says it shows a subset of the fields), or
  - the member is in the model but the API gained it after the example was written: the
    member's first appearance in botocore's model (`field_added.json`, built from the model's
    git history by `tools/field_dates.py`) is later than the case's `date`. An example from
    2020 cannot show `imageSource` (2023) or `latestVersionReferences` (2025).
  A key that is not in the model at all is always `extra`.
* **Values by format, not value**, where the value depends on when and where it was made:
  timestamps (`2020-02-14T21:29:18.810Z`), request ids and client tokens (UUID shape), AMI ids
  (`ami-` + hex), workflow and step execution ids (`wf-`/`step-` + UUID shape), EC2 instance
  ids (`i-` + hex), SSM association and Run Command ids (UUID shape).
* **JSON in strings**: a workflow step's `inputs` and `outputs` are JSON documents in a
  string; when both sides parse, they are compared as JSON by these same rules (their paths
  read `steps[0].outputs<json>.instanceId`), so an instance id inside is held to its format. An ARN must be an ARN of the same partition, service, resource type and
  resource path; its region and account must match the published ones (the replay runs in
  the example's account and region).
* **Everything else by value**: enum values, names, descriptions, booleans, numbers, and
  AWS's filled-in defaults (`workingDirectory`, `enhancedImageMetadataEnabled`, ...).
  A case lists in `ignore_values` the paths whose published value its setup cannot reproduce
  (with the reason); their format and keys are still compared.
* **List order**: lists of objects with an `arn` are paired by ARN; the same ARNs in another
  order is one `order` difference. Other lists are compared item by item.
"""
from __future__ import annotations

import fnmatch
import json
import pathlib
import re
from dataclasses import dataclass

_ADDED = json.loads((pathlib.Path(__file__).parent / "field_added.json").read_text())["added"]

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
UUIDISH = re.compile(r"^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$")
AMI = re.compile(r"^ami-[0-9a-f]{8,17}$")
ARN = re.compile(r"^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|aws|):(.+)$")
_UUID = UUIDISH.pattern[1:-1]
FORMAT_KEYS = {"requestId": UUIDISH, "clientToken": UUIDISH,
               "workflowExecutionId": re.compile(rf"^wf-{_UUID}$"), "stepExecutionId": re.compile(rf"^step-{_UUID}$"),
               "associationId": UUIDISH, "runCommandId": UUIDISH, "instanceId": re.compile(r"^i-[0-9a-f]{8,17}$")}
JSON_STRINGS = {"inputs", "outputs"}


@dataclass(frozen=True)
class Difference:
    path: str
    kind: str  # missing | extra | value | format | type | length | order
    detail: str

    def key(self) -> tuple[str, str]:
        return (self.path, self.kind)


def field_added(shape_name: str | None, member: str) -> str | None:
    if shape_name is None:
        return None
    return _ADDED.get(f"{shape_name}.{member}")


class Comparer:
    def __init__(self, date: str, abridged: bool = False, ignore_values: list[str] | None = None):
        self.date = str(date)
        self.abridged = abridged
        self.ignore = list(ignore_values or [])
        self.diffs: list[Difference] = []

    def _ignored(self, path: str) -> bool:
        generic = re.sub(r"\[\d+\]", "[*]", path)
        # a pattern's "[*]" means any list index; other glob characters work as in fnmatch
        return any(generic == p or fnmatch.fnmatchcase(path, p.replace("[*]", "[[]*]")) for p in self.ignore)

    def add(self, path: str, kind: str, detail: str) -> None:
        self.diffs.append(Difference(path or "$", kind, detail))

    def compare(self, published, actual, shape, path: str = "") -> list[Difference]:
        self._walk(published, actual, shape, path)
        return self.diffs

    # shape: a botocore Shape (or None when the model has no shape for this place)
    def _walk(self, pub, act, shape, path: str) -> None:
        if isinstance(pub, dict):
            if not isinstance(act, dict):
                return self.add(path, "type", f"published an object, kiln {type(act).__name__}")
            is_map = shape is not None and shape.type_name == "map"
            for k, v in pub.items():
                sub = _member(shape, k)
                p = f"{path}.{k}" if path else k
                if k not in act:
                    self.add(p, "missing", f"published {_short(v)}; kiln has no {k!r}")
                else:
                    self._walk(v, act[k], sub, p)
            for k in act.keys() - pub.keys():
                p = f"{path}.{k}" if path else k
                if is_map:
                    self.add(p, "extra", f"kiln has map entry {k!r}")
                    continue
                in_model = shape is not None and k in getattr(shape, "members", {})
                if "<json>" in p:
                    self.add(p, "extra", f"kiln's JSON has {_short(act[k])}; the published JSON has no {k!r}")
                    continue
                if not in_model:
                    self.add(p, "extra", f"kiln returns {_short(act[k])}; {k!r} is not in the model")
                    continue
                if self.abridged:
                    continue
                added = field_added(shape.name, k)
                if added is not None and added > self.date:
                    continue  # the API gained it after the example was written
                self.add(p, "extra", f"kiln returns {_short(act[k])}; AWS omits it (in the model since {added})")
        elif isinstance(pub, list):
            if not isinstance(act, list):
                return self.add(path, "type", f"published a list, kiln {type(act).__name__}")
            item = shape.member if shape is not None and shape.type_name == "list" else None
            if pub and act and all(isinstance(x, dict) and "arn" in x for x in pub + act):
                pa, aa = [x["arn"] for x in pub], [x["arn"] for x in act]
                if sorted(pa) == sorted(aa) and pa != aa:
                    self.add(path, "order", f"published order {_arn_tails(pa)}, kiln {_arn_tails(aa)}")
                    by_arn = {x["arn"]: x for x in act}
                    for i, x in enumerate(pub):
                        self._walk(x, by_arn[x["arn"]], item, f"{path}[{i}]")
                    return
            if len(pub) != len(act):
                self.add(path, "length", f"published {len(pub)} items, kiln {len(act)}")
            for i, (x, y) in enumerate(zip(pub, act)):
                self._walk(x, y, item, f"{path}[{i}]")
        else:
            self._leaf(pub, act, path)

    def _leaf(self, pub, act, path: str) -> None:
        key = path.rsplit(".", 1)[-1]
        if isinstance(pub, bool) or isinstance(act, bool):
            if pub is not act:
                self.add(path, "value", f"published {pub!r}, kiln {act!r}")
            return
        if isinstance(pub, (int, float)):
            if not isinstance(act, (int, float)):
                return self.add(path, "type", f"published number {pub!r}, kiln {act!r}")
            if pub != act and not self._ignored(path):
                self.add(path, "value", f"published {pub!r}, kiln {act!r}")
            return
        if not isinstance(act, str):
            return self.add(path, "type", f"published {pub!r}, kiln {act!r}")
        if key in JSON_STRINGS:
            pj, aj = _json(pub), _json(act)
            if pj is not None and aj is not None:
                return self._walk(pj, aj, None, f"{path}<json>")
        fmt = FORMAT_KEYS.get(key)
        if fmt is not None:
            if not fmt.match(act):
                self.add(path, "format", f"kiln {act!r} is not shaped like {pub!r}")
            return
        for pattern in (TIMESTAMP, AMI):
            if pattern.match(pub):
                if not pattern.match(act):
                    self.add(path, "format", f"published {pub!r}, kiln {act!r}")
                return
        if ARN.match(pub):
            if not ARN.match(act):
                return self.add(path, "format", f"published ARN {pub!r}, kiln {act!r}")
            if pub != act and not self._ignored(path):
                self.add(path, "value", f"published {pub!r}, kiln {act!r}")
            return
        if pub != act and not self._ignored(path):
            self.add(path, "value", f"published {_short(pub)}, kiln {_short(act)}")


def _json(text: str):
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None


def _member(shape, key):
    if shape is None:
        return None
    if shape.type_name == "structure":
        return shape.members.get(key)
    if shape.type_name == "map":
        return shape.value
    return None


def _short(v) -> str:
    s = json.dumps(v, sort_keys=True, default=str)
    return s if len(s) <= 80 else s[:77] + "..."


def _arn_tails(arns):
    return [a.split(":", 5)[-1] for a in arns]
