"""Writes under load, kiln vs moto's server: req/s with wrk driving each server to its limit.

bench/operations.py measures every operation from one client thread, where the client's own
cost per call is in both sides' time. Issue 14's write figures were taken with wrk, where the
server is the bottleneck; this script measures the five writes the issue names that way.

Both servers run at once, pinned to core 0: `kiln serve --build-timing immediate` and
`moto_server`. wrk -t1 -c8 (core 1) sends one write, made unique per call by bench/unique.lua
(a new semantic version or name, and client token, each time, as boto3 sends one), to one server for --seconds, then the other,
--rounds times in a new random order. Prints req/s of each and the ratio kiln/moto (median,
min, max over rounds). Target (issue 14): >= 3 for each.

  CreateComponent      vs SSM PutParameter (a new parameter)
  CreateImageRecipe    vs SSM PutParameter
  CreateImage          vs Lambda CreateFunction (a new function)
  CreateImagePipeline  vs Lambda CreateFunction
  TagResource          vs Lambda TagResource (one tag value changed in place on both)
"""
from __future__ import annotations

import argparse
import base64
import datetime
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import zipfile
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
from operations import QuietServer, moto_server_cmd  # noqa: E402

TARGET = 3.0
DOC = ("name: bench\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Hello\n"
       "        action: ExecuteBash\n        inputs:\n          commands: ['echo hello']\n")


def auth(service: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential={c.ACCOUNT}/20250101/{c.REGION}/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


def headers(service: str, extra: dict) -> str:
    h = {"Authorization": auth(service), "X-Amz-Date": "20250101T000000Z", **extra}
    return "|".join(f"{k}: {v}" for k, v in h.items())


_RUNS = iter(range(1, 1_000_000))


def run_wrk(port: int, method: str, path: str, body: str, hdrs: str, seconds: int) -> dict:
    env = dict(os.environ, BENCH_METHOD=method, BENCH_PATH=path, BENCH_BODY=body, BENCH_HEADERS=hdrs,
               BENCH_RUN=str(next(_RUNS)))
    cmd = c.pinned(["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", os.path.join(c.HERE, "unique.lua"),
                    f"http://127.0.0.1:{port}"], 1)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "non2xx": int(bad.group(1)) if bad else 0}


def in_turns(label: str, sides: dict, rounds: int, seconds: int, width: int = 20, target: float = TARGET) -> float:
    """kiln against moto on one request each: both warmed (and checked to answer 2xx), then
    `rounds` rounds of wrk for `seconds` against each in a new random order; prints req/s
    and the ratio kiln/moto (median over rounds, min, max) and returns the median.
    sides: {"kiln": (port, request), "moto": (port, request)}, a request being run_wrk's
    (method, path, body, headers)."""
    for name, (port, req) in sides.items():
        r = run_wrk(port, *req, 1)
        if r["non2xx"]:
            raise SystemExit(f"{label}: {name} answered {r['non2xx']} non-2xx responses to {req[:2]}")
    rps: dict = {name: [] for name in sides}
    for _ in range(rounds):
        order = list(sides)
        random.shuffle(order)
        for name in order:
            port, req = sides[name]
            rps[name].append(run_wrk(port, *req, seconds)["rps"])
    ratios = [a / b for a, b in zip(rps["kiln"], rps["moto"])]
    med = statistics.median(ratios)
    print(f"{label:{width}s} kiln {statistics.median(rps['kiln']):7.0f} req/s  moto {statistics.median(rps['moto']):6.0f} "
          f"req/s  kiln/moto median {med:5.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})  "
          f"target >= {target}: {c.verdict(med >= target)}", flush=True)
    return med


def zip_bytes() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return base64.b64encode(buf.getvalue()).decode()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", help="comma-separated kiln operations")
    args = p.parse_args()
    if not c.have_wrk():
        raise SystemExit("wrk is needed (apt-get install wrk)")
    import boto3

    print(f"# writes under load (wrk -t1 -c8), kiln vs moto_server, {datetime.date.today()}, {c.machine()}")
    with c.tempdir("kiln-writes-", None) as data_dir:
        kiln = c.kiln_server(data_dir, core=0).start()
        moto_port = c.free_port()
        moto = QuietServer(moto_server_cmd(moto_port), moto_port, "/moto-api/").start()
        try:
            h = c.Http(kiln.port)
            comps = h.call("ListComponents", {"owner": "Amazon", "maxResults": 100})["componentVersionList"]
            comp = next(x["arn"] for x in comps if "update-linux" in x["arn"])
            infra = h.call("CreateInfrastructureConfiguration", {"name": "bench-infra", "instanceProfileName": "p",
                                                                  "clientToken": "t-infra"})[
                "infrastructureConfigurationArn"]
            recipe = h.call("CreateImageRecipe", {"name": "base", "semanticVersion": "1.0.0",
                                                  "parentImage": "ami-0123456789abcdef0",
                                                  "components": [{"componentArn": comp}],
                                                  "clientToken": "t-recipe"})["imageRecipeArn"]
            session = dict(region_name=c.REGION, endpoint_url=f"http://127.0.0.1:{moto_port}",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
            role = boto3.client("iam", **session).create_role(
                RoleName="bench", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))[
                "Role"]["Arn"]
            zipped = zip_bytes()
            fn = boto3.client("lambda", **session).create_function(
                FunctionName="tagged", Runtime="python3.11", Role=role, Handler="handler.handler",
                Code={"ZipFile": base64.b64decode(zipped)})["FunctionArn"]
            kiln_json = {"Content-Type": "application/json"}
            ssm = ("POST", "/", json.dumps({"Name": "/bench/{N}", "Value": "v", "Type": "String"}),
                   headers("ssm", {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.PutParameter"}))
            create_function = ("POST", "/2015-03-31/functions", json.dumps({
                "FunctionName": "f{N}", "Runtime": "python3.11", "Role": role, "Handler": "handler.handler",
                "Code": {"ZipFile": zipped}}), headers("lambda", {"Content-Type": "application/json"}))
            cases = {
                "CreateComponent": (("PUT", "/CreateComponent", json.dumps({
                    "name": "bench-comp", "semanticVersion": "{A}.0.{B}", "platform": "Linux", "data": DOC,
                    "clientToken": "c{N}"}),
                    headers("imagebuilder", kiln_json)), ssm),
                "CreateImageRecipe": (("PUT", "/CreateImageRecipe", json.dumps({
                    "name": "bench-recipe", "semanticVersion": "{A}.0.{B}", "parentImage": "ami-0123456789abcdef0",
                    "components": [{"componentArn": comp}], "clientToken": "r{N}"}),
                    headers("imagebuilder", kiln_json)), ssm),
                "CreateImage": (("PUT", "/CreateImage", json.dumps({
                    "imageRecipeArn": recipe, "infrastructureConfigurationArn": infra, "clientToken": "i{N}"}),
                    headers("imagebuilder", kiln_json)), create_function),
                "CreateImagePipeline": (("PUT", "/CreateImagePipeline", json.dumps({
                    "name": "p{N}", "imageRecipeArn": recipe, "infrastructureConfigurationArn": infra,
                    "clientToken": "p{N}"}),
                    headers("imagebuilder", kiln_json)), create_function),
                "TagResource": (("POST", "/tags/" + quote(recipe, safe=""), json.dumps({"tags": {"k": "{N}"}}),
                                 headers("imagebuilder", kiln_json)),
                                ("POST", "/2017-03-31/tags/" + quote(fn, safe=""), json.dumps({"Tags": {"k": "{N}"}}),
                                 headers("lambda", {"Content-Type": "application/json"}))),
            }
            only = set(args.only.split(",")) if args.only else set(cases)
            for op, (kiln_req, moto_req) in cases.items():
                if op not in only:
                    continue
                in_turns(op, {"kiln": (kiln.port, kiln_req), "moto": (moto_port, moto_req)}, args.rounds, args.seconds)
        finally:
            kiln.stop()
            moto.stop()


if __name__ == "__main__":
    main()
