"""Print every difference the suite finds now, as known_differences.yaml entries (reason to fill in).

    python3 -m tests.parity.tools.draft_known
"""
from __future__ import annotations

import yaml

from tests.parity.test_parity import CASES, _load, missing_operation, replay


def main() -> None:
    out = []
    for path in CASES:
        case = _load(path)
        if missing_operation(case):
            continue
        diffs, _ = replay(case)
        out += [{"case": case["id"], "path": d.path, "kind": d.kind, "detail": d.detail, "reason": "TODO"} for d in diffs]
    print(yaml.safe_dump(out, sort_keys=False, width=200))


if __name__ == "__main__":
    main()
