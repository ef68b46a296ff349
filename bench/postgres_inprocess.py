"""CreateImage in-process (`Kiln.handle`, no HTTP, no client library) on PostgreSQL and on a
SQLite file, one call at a time: median wall time and kiln's CPU per call. With --trace,
the statements one CreateImage sends to PostgreSQL, in order.

What it tells you: how much of a PostgreSQL write is kiln's own CPU and how much is
waiting on the server, without HTTP in between (docs/performance.md, third pass). Not
judged. PostgreSQL server: KILN_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

import orjson

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postgres import SERVER  # noqa: E402

from kiln.core import Request  # noqa: E402
from kiln.mock import mock_imagebuilder  # noqa: E402

HEADERS = {"content-type": "application/json",
           "authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20261201/us-east-1/imagebuilder/aws4_request"}


def call(kiln, operation: str, body: dict) -> dict:
    r = kiln.handle(Request("POST" if operation.startswith("List") else "PUT", f"/{operation}", "", HEADERS,
                            orjson.dumps(body)))
    if r.status != 200:
        raise RuntimeError(f"{operation}: {r.status} {r.body[:300]!r}")
    return orjson.loads(r.body)


def fixtures(kiln) -> dict:
    comps = call(kiln, "ListComponents", {"owner": "Amazon", "maxResults": 100})["componentVersionList"]
    comp = next(x["arn"] for x in comps if x.get("platform") == "Linux" and "update-linux" in x["arn"])
    parent = next(i["arn"] for i in call(kiln, "ListImages", {"owner": "Amazon"})["imageVersionList"]
                  if i.get("platform") == "Linux")
    infra = call(kiln, "CreateInfrastructureConfiguration", {"name": "bench-infra", "instanceProfileName": "p",
                                                             "clientToken": str(uuid.uuid4())})
    recipe = call(kiln, "CreateImageRecipe", {"name": "bench-image", "semanticVersion": "1.0.0", "parentImage": parent,
                                              "components": [{"componentArn": comp}], "clientToken": str(uuid.uuid4())})
    return {"imageRecipeArn": recipe["imageRecipeArn"],
            "infrastructureConfigurationArn": infra["infrastructureConfigurationArn"]}


def measure(url: str, n: int) -> tuple[float, float]:
    with mock_imagebuilder(database_url=url) as kiln:
        fx = fixtures(kiln)
        for _ in range(50):
            call(kiln, "CreateImage", {**fx, "clientToken": str(uuid.uuid4())})
        times = []
        cpu = time.process_time()
        for _ in range(n):
            t = time.perf_counter()
            call(kiln, "CreateImage", {**fx, "clientToken": str(uuid.uuid4())})
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1e3, (time.process_time() - cpu) / n * 1e3


def trace(url: str) -> list[str]:
    import psycopg

    sent: list[str] = []
    execute = psycopg.Connection.execute

    def traced(self, query, params=None, **kw):
        sent.append(bytes(query).decode() if isinstance(query, bytes) else str(query))
        return execute(self, query, params, **kw)

    with mock_imagebuilder(database_url=url) as kiln:
        fx = fixtures(kiln)
        call(kiln, "CreateImage", {**fx, "clientToken": str(uuid.uuid4())})
        psycopg.Connection.execute = traced
        try:
            call(kiln, "CreateImage", {**fx, "clientToken": str(uuid.uuid4())})
        finally:
            psycopg.Connection.execute = execute
    return sent


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=400)
    p.add_argument("--trace", action="store_true", help="print the statements of one CreateImage")
    args = p.parse_args()
    import psycopg

    db = f"kiln_inproc_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(SERVER, autocommit=True)
    admin.execute(f'CREATE DATABASE "{db}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + db
    try:
        if args.trace:
            for i, sql in enumerate(trace(url), 1):
                print(f"{i:2d}  {sql[:110]}")
            return
        with tempfile.TemporaryDirectory() as d:
            sqlite = measure(f"sqlite:///{d}/kiln.db", args.calls)
        pg = measure(url, args.calls)
        print(f"CreateImage in-process, {args.calls} calls: PostgreSQL {pg[0]:.3f} ms (kiln CPU {pg[1]:.3f} ms), "
              f"SQLite {sqlite[0]:.3f} ms (CPU {sqlite[1]:.3f} ms); SQLite/PostgreSQL {sqlite[0] / pg[0]:.3f}")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
