"""In-process mocks: boto3 calls per second through kiln.mock_imagebuilder()
versus moto's mock_aws, for a get-by-id call, one run, one thread.

kiln:  GetImage of --items image builds (and GetComponent of a component build),
       stored in the mock's in-memory store.
moto:  Lambda GetFunction of --items functions. Lambda is the comparison the
       issue names, and the fairest one moto offers: like Image Builder it is a
       rest-json service (GET with the id in the URL, a JSON document back), so
       botocore does the same kind of work on both sides (serialize the request,
       run its handlers, parse a nested JSON structure), and GetFunction returns
       a nested resource document much like GetImage does. (IAM GetRole is
       query/XML and SSM GetParameter is awsJson1.1: botocore's own cost would
       differ, not the mock's.) SSM GetParameter is also printed, for context.

Both sides use the ordinary boto3 client and botocore's before-send hook, no
socket. Prints calls/s and the ratio kiln GetImage / moto GetFunction.
"""
from __future__ import annotations

import argparse
import datetime
import io
import os
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402


def rate(call, ids: list, seconds: float) -> float:
    for i in ids[:100]:
        call(i)
    c.wait_quiet()
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        call(ids[n % len(ids)])
        n += 1
    return n / (time.perf_counter() - t0)


def session():
    import boto3

    return boto3.session.Session(aws_access_key_id="123456789012", aws_secret_access_key="kiln", region_name=c.REGION)


def kiln_round(items: int, seconds: float) -> dict:
    import kiln

    with kiln.mock_imagebuilder() as core:
        fixtures = c.create_fixtures(core)
        arns = c.create_images_bulk(core, fixtures, items)
        ib = session().client("imagebuilder")
        comp = [a["arn"] + "/1" for a in ib.list_components(owner="Amazon", maxResults=50)["componentVersionList"]]
        assert ib.get_image(imageBuildVersionArn=arns[0])["image"]["state"]["status"] == "AVAILABLE"
        return {
            "kiln GetImage": rate(lambda a: ib.get_image(imageBuildVersionArn=a), arns, seconds),
            "kiln GetComponent": rate(lambda a: ib.get_component(componentBuildVersionArn=a), comp, seconds),
        }


def moto_round(items: int, seconds: float) -> dict:
    from moto import mock_aws

    with mock_aws():
        s = session()
        role = s.client("iam").create_role(RoleName="bench-lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = s.client("lambda")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("handler.py", "def handler(event, context):\n    return event\n")
        names = []
        for i in range(items):
            name = f"bench-function-{i:05d}"
            lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
                                Code={"ZipFile": buf.getvalue()}, Description="Benchmark function", Timeout=30,
                                MemorySize=256, Environment={"Variables": {"STAGE": "bench"}},
                                Tags={"team": "platform"})
            names.append(name)
        ssm = s.client("ssm")
        params = []
        for i in range(items):
            ssm.put_parameter(Name=f"/bench/param-{i:05d}", Value="x" * 64, Type="String")
            params.append(f"/bench/param-{i:05d}")
        return {
            "moto Lambda GetFunction": rate(lambda n: lam.get_function(FunctionName=n), names, seconds),
            "moto SSM GetParameter": rate(lambda n: ssm.get_parameter(Name=n), params, seconds),
        }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=1000, help="resources stored on each side")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rounds", type=int, default=2, help="alternating kiln/moto rounds; the best of each counts")
    args = p.parse_args()
    print(f"# in-process mocks, one thread, {datetime.date.today()}, {c.machine()}")
    import moto

    print(f"# moto {moto.__version__}; {args.items} resources each side; {args.seconds}s per call kind")
    best: dict = {}
    for rnd in range(args.rounds):
        for result in (kiln_round(args.items, args.seconds), moto_round(args.items, args.seconds)):
            for k, v in result.items():
                print(f"round {rnd + 1} {k:26} {v:8.0f} calls/s", flush=True)
                best[k] = max(best.get(k, 0), v)
    print()
    for k, v in best.items():
        print(f"{k:28} {v:8.0f} calls/s")
    ratio = best["kiln GetImage"] / best["moto Lambda GetFunction"]
    print(f"ratio kiln GetImage / moto Lambda GetFunction = {ratio:.2f}")
    print(f"ratio kiln GetImage / moto SSM GetParameter   = {best['kiln GetImage'] / best['moto SSM GetParameter']:.2f}")
    c.report_busy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
