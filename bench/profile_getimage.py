"""Where one GetImage's time goes: each stage of kiln.core.Kiln.handle timed on
its own, in-process, over the same rotating build ARNs the throughput benchmark
uses, plus the whole handle() and the ASGI app around it.

    python bench/profile_getimage.py [--data-dir DIR] [--images 10000] [--n 5000]

The stages re-run the pieces core.handle runs, in the same order and with the
same arguments (they are not instrumented inside kiln, so kiln's code is
unchanged); the stage sum is compared with the measured handle() to show
nothing is missing. Times are CPU time of this process (time.process_time), so
other work on a shared machine inflates them less than wall time. Each stage is
the lowest of three passes. uvicorn's own cost is what the floor app measures
(bench/getimage_throughput.py), not repeated here.

--cprofile prints a cProfile of handle() as well.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402


def stage(label: str, fn, items, results: dict, repeats: int = 3):
    """Mean µs per item of fn over items; the lowest of `repeats` passes (noise only adds)."""
    for it in items[:200]:
        fn(it)
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        for it in items:
            fn(it)
        best = min(best, (time.process_time() - t) / len(items) * 1e6)
    results[label] = best
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="an existing store (e.g. kept by getimage_throughput.py --data-dir); else seeded")
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--n", type=int, default=5000, help="requests per stage")
    p.add_argument("--cprofile", action="store_true")
    args = p.parse_args()

    import sqlalchemy as sa
    import orjson

    from kiln.core import Request, Response, _headers
    from kiln.engine import timeline
    from kiln.http.app import make_app
    from kiln.identity import identify
    from kiln.protocol import parser, router, serializer, validator
    from kiln.service import HANDLERS, Context
    from kiln.store.repository import _COLUMNS, Tx, _row
    from kiln.store.schema import resources

    with c.tempdir("kiln-prof-", args.data_dir) as data_dir:
        arns = c.image_arns(data_dir, args.images)
        kiln = c.make_kiln(data_dir)
        random.Random(1).shuffle(arns)
        arns = (arns * (args.n // len(arns) + 1))[: args.n]
        headers = {"authorization": c.AUTH, "x-amz-date": "20250101T000000Z", "user-agent": "Boto3/1.44.8",
                   "accept-encoding": "identity", "host": "127.0.0.1"}
        reqs = [Request("GET", "/GetImage", c.getimage_path(a).split("?", 1)[1], headers, b"") for a in arns]
        print(f"# GetImage stage costs, µs per request (mean of {len(reqs)}), {len(set(arns))} distinct builds, "
              f"store {data_dir}")
        print(f"# {c.machine()}")

        R: dict = {}
        store = kiln.store
        now = kiln.clock.now()
        stage("request id (uuid4)", lambda r: str(uuid.uuid4()), reqs, R)
        stage("route (router.route)", lambda r: router.route(r.method, r.path), reqs, R)
        found = [router.route(r.method, r.path) for r in reqs]
        op, _ = found[0]
        params = [parser.parse(o, lbl, r.query, r.body) for (o, lbl), r in zip(found, reqs)]
        stage("parse (parser.parse)", lambda i: parser.parse(op, None, reqs[i].query, b""), list(range(len(reqs))), R)
        stage("validate (validator.validate)", lambda prm: validator.validate(op.input, prm), params, R)
        stage("identity (identify)", lambda r: identify(r.headers.get("authorization"), kiln.default_account), reqs, R)
        stage("clock.now", lambda r: kiln.clock.now(), reqs, R)
        stage("advance_due probe (has_due: connect+SELECT+rollback)", lambda r: timeline.advance_due(store, now), reqs, R)
        stage("transaction begin/commit, read (BEGIN..COMMIT, empty)",
              lambda r: store.run(lambda tx: None, c.ACCOUNT, c.REGION, write=False), reqs, R)

        # Inside one open transaction: the query (SQLAlchemy build + execute + fetch), row decode, handler rest.
        with store.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN")
            tx = Tx(conn, c.ACCOUNT, c.REGION)

            def sa_select(a):  # what Tx.get builds on every call at 220c035
                return sa.select(*_COLUMNS).where(resources.c.account == tx.account, resources.c.region == tx.region,
                                                  resources.c.arn == a).where(resources.c.type == "image")

            stage("Tx.get (query + row decode)", lambda a: tx.get(a, "image"), arns, R)
            raw = conn.exec_driver_sql(
                "SELECT arn,type,name_key,name,doc,major,minor,patch,build,status,created,content_hash,next_due,"
                "timeline,sort_key FROM resources WHERE account=? AND region=? AND arn=?",
                (c.ACCOUNT, c.REGION, arns[0])).first()
            stage("  of which: row decode (orjson.loads doc + timeline, Row())", lambda _: _row(raw), arns, R)
            stage("  for scale: building one SQLAlchemy select like Tx.get's", sa_select, arns, R)
            stage("  for scale: SQLAlchemy execute+first of a prebuilt select",
                  lambda a, q=sa_select(arns[0]): conn.execute(q).first(), arns, R)
            dbapi = conn.connection.driver_connection
            sql = ("SELECT arn,type,name_key,name,doc,major,minor,patch,build,status,created,content_hash,next_due,"
                   "timeline,sort_key FROM resources WHERE account=? AND region=? AND arn=? AND type=?")
            stage("  for scale: raw sqlite3 execute+fetchone of the same SELECT",
                  lambda a: dbapi.execute(sql, (c.ACCOUNT, c.REGION, a, "image")).fetchone(), arns, R)
            ctx = Context(tx, c.ACCOUNT, c.REGION, "id", now, 0.0, store.secret)
            stage("handler: GetImage total (resolve + query + row + refs)",
                  lambda prm: HANDLERS["GetImage"](ctx, prm), params, R)
            conn.rollback()
        with store.engine.connect() as conn:
            ctx = Context(Tx(conn, c.ACCOUNT, c.REGION), c.ACCOUNT, c.REGION, "id", now, 0.0, store.secret)
            output = dict(HANDLERS["GetImage"](ctx, params[0]), requestId=str(uuid.uuid4()))
            conn.rollback()
        stage("serialize: shape filter + orjson.dumps (serializer.serialize)",
              lambda _: serializer.serialize(op.output, output), arns, R)
        stage("  of which: orjson.dumps alone", lambda _: orjson.dumps(output), arns, R)
        stage("response headers + Response()", lambda _: Response(200, _headers("x" * 36), b""), arns, R)

        # The stages above are the general path; GetImage of a build normally takes
        # kiln/fast_path.py instead, measured on its own below.
        fast = kiln.get_image_fast.body
        kiln.get_image_fast.body = lambda *_a: None
        stage("== Kiln.handle total, general path (measured)", kiln.handle, reqs, R)
        kiln.get_image_fast.body = fast
        stage("== Kiln.handle total, fast path (kiln/fast_path.py; documents cached after the first pass)",
              kiln.handle, reqs, R)

        # The ASGI app, which offers GetImage to the fast path straight from the scope (no network).
        app = make_app(kiln)
        scopes = [{"type": "http", "method": "GET", "path": "/GetImage", "raw_path": b"/GetImage",
                   "query_string": r.query.encode(), "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
                  for r in reqs]

        async def run_app():
            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(_m):
                pass

            for s in scopes[:200]:
                await app(s, receive, send)
            best = float("inf")
            for _ in range(3):
                t = time.process_time()
                for s in scopes:
                    await app(s, receive, send)
                best = min(best, (time.process_time() - t) / len(scopes) * 1e6)
            return best

        R["== ASGI app total (fast path + app glue, no socket)"] = asyncio.run(run_app())

        stages = [k for k in R if not k.startswith(("==", " "))]
        # The handler's time includes Tx.get; count its remainder only.
        handler_rest = R["handler: GetImage total (resolve + query + row + refs)"] - R["Tx.get (query + row decode)"]
        total = 0.0
        for k in R:
            if k.startswith("handler: GetImage total"):
                print(f"{handler_rest:9.1f}  handler rest (parse_arn, resolve, canonical ARN, version refs)")
                total += handler_rest
                continue
            print(f"{R[k]:9.1f}  {k}")
            if k in stages:
                total += R[k]
        print(f"{total:9.1f}  sum of stages (compare with the general path's measured total)")
        fast_total = R["== Kiln.handle total, fast path (kiln/fast_path.py; documents cached after the first pass)"]
        print(f"app glue = {R['== ASGI app total (fast path + app glue, no socket)'] - fast_total:.1f} µs")

        if args.cprofile:
            pr = cProfile.Profile()
            pr.enable()
            for r in reqs:
                kiln.handle(r)
            pr.disable()
            pstats.Stats(pr).sort_stats("tottime").print_stats(25)
        kiln.store.close()


if __name__ == "__main__":
    main()
