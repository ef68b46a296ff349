"""Write src/operations.json: each Image Builder operation's method, path and where its
members go (query string or path; the rest is the JSON body), from botocore's service
model, the same model kiln serves. Run it when botocore's model changes:

    python console/scripts/operations.py            (--print: to stdout instead)
"""
import gzip
import json
import os
import sys

import botocore

MODEL = os.path.join(os.path.dirname(botocore.__file__), "data", "imagebuilder", "2019-12-02", "service-2.json.gz")
OUT = os.path.join(os.path.dirname(__file__), "..", "src", "operations.json")

with gzip.open(MODEL) as f:
    model = json.load(f)
shapes = model["shapes"]
out = {}
for name, op in sorted(model["operations"].items()):
    members = shapes[op["input"]["shape"]]["members"] if "input" in op else {}
    where = {m: [spec["location"], spec.get("locationName", m)]
             for m, spec in members.items() if spec.get("location") in ("querystring", "uri", "header")}
    out[name] = [op["http"]["method"], op["http"]["requestUri"], where]
text = json.dumps({"apiVersion": model["metadata"]["apiVersion"], "operations": out}, separators=(",", ":"), sort_keys=True)
if "--print" in sys.argv:
    print(text)
else:
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print(f"{len(out)} operations -> {os.path.normpath(OUT)}")
