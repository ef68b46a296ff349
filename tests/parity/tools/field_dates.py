"""Build tests/parity/field_added.json: when each (shape, member) of the Image Builder model
first appeared in botocore's published model.

Evidence: the history of botocore/data/imagebuilder/2019-12-02/service-2.json in the
boto/botocore repository. Run against a local clone:

    python3 tests/parity/tools/field_dates.py /path/to/botocore.git [ref]

Each commit that touched the model is read oldest first; the commit date of the first one
whose model has the member is recorded. Botocore publishes a model change within days of the
service launching it, so this date is when the API gained the field, give or take a week.
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

MODEL = "botocore/data/imagebuilder/2019-12-02/service-2.json"


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo}", *args], check=True, capture_output=True, text=True).stdout


def main() -> None:
    repo = sys.argv[1]
    ref = sys.argv[2] if len(sys.argv) > 2 else "refs/heads/develop"
    commits = git(repo, "log", "--reverse", "--format=%H %cs", ref, "--", MODEL).split("\n")
    first: dict[str, str] = {}
    for line in filter(None, commits):
        sha, date = line.split()
        try:
            model = json.loads(git(repo, "show", f"{sha}:{MODEL}"))
        except (subprocess.CalledProcessError, json.JSONDecodeError):
            continue
        for shape_name, shape in model.get("shapes", {}).items():
            for member in shape.get("members", {}):
                first.setdefault(f"{shape_name}.{member}", date)
    out = pathlib.Path(__file__).resolve().parents[1] / "field_added.json"
    real = [c for c in commits if c]
    head = real[-1].split()[0] if real else ""
    doc = {"_source": f"boto/botocore {ref} history of {MODEL} (last commit {head})", "added": dict(sorted(first.items()))}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(first)} members -> {out}")


if __name__ == "__main__":
    main()
