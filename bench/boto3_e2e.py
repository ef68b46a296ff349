"""boto3 GetImage calls per second from one client thread: kiln vs the floor, one run.

The same boto3 client code calls, for --seconds each:
  - `kiln serve --build-timing immediate` on a store of --images builds (seeded
    as in getimage_throughput.py), pinned to core 0;
  - the floor (bench/floor_app.py on the same uvicorn + httptools + uvloop stack)
    answering every request with a real GetImage response body captured from
    kiln, so boto3 parses the same document; pinned to core 0.
The client (this process) runs on core 1, rotating through the builds' ARNs.
Prints calls/s of both and the ratio kiln/floor. Target: >= 0.90 (kiln is not
what limits a boto3 test suite).
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

TARGET = 0.90


def client(port: int):
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id=c.ACCOUNT, aws_secret_access_key="kiln", region_name=c.REGION,
    ).client("imagebuilder", endpoint_url=f"http://127.0.0.1:{port}",
             config=Config(retries={"max_attempts": 0}, max_pool_connections=1))


def calls_per_second(port: int, arns: list[str], seconds: float) -> tuple[float, float]:
    """(calls/s, median ms per call) of get_image over `seconds`, after a warm-up."""
    ib = client(port)
    for a in arns[:200]:
        ib.get_image(imageBuildVersionArn=a)
    c.wait_quiet()
    n, i, lat = 0, 0, []
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        t = time.perf_counter()
        r = ib.get_image(imageBuildVersionArn=arns[i])
        lat.append(time.perf_counter() - t)
        assert r["image"]["state"]["status"] == "AVAILABLE"
        n += 1
        i = (i + 1) % len(arns)
        if t > deadline:
            break
    return n / (time.perf_counter() - t0), c.median(lat) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--rounds", type=int, default=2, help="alternating kiln/floor rounds; the best of each counts")
    p.add_argument("--data-dir", help="seed here and keep it (default: a temporary directory)")
    p.add_argument("--variant", action="append", metavar="NAME=DIR",
                   help="also serve the kiln package in DIR (another checkout) in the same run; repeatable")
    args = p.parse_args()
    variants = c.parse_variants(args.variant)

    if c.cpu_count() > 1:
        os.sched_setaffinity(0, {1})  # the client; servers get core 0
    print(f"# boto3 GetImage, one client thread, {datetime.date.today()}, {c.machine()}")
    with c.tempdir("kiln-bench-", args.data_dir) as data_dir:
        if os.path.exists(os.path.join(data_dir, "kiln.db")):
            import sqlalchemy as sa
            from kiln.store.schema import resources

            kiln = c.make_kiln(data_dir)
            with kiln.store.engine.connect() as conn:
                arns = [r[0] for r in conn.execute(sa.select(resources.c.arn).where(resources.c.type == "image"))]
            kiln.store.close()
            print(f"reusing {len(arns)} images in {data_dir}")
        else:
            t = time.perf_counter()
            kiln = c.make_kiln(data_dir)
            arns = c.create_images_bulk(kiln, c.create_fixtures(kiln), args.images)
            kiln.store.close()
            print(f"seeded {len(arns)} images in {time.perf_counter() - t:.1f}s")
        random.Random(2).shuffle(arns)

        fd, body_file = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        res: dict = {name: [] for name, _ in variants}
        res["floor"] = []
        try:
            for rnd in range(args.rounds):
                for name, source in variants:
                    with c.kiln_server(data_dir, core=0, source=source) as srv:
                        h = c.Http(srv.port)
                        status, _, body = h.request("GET", c.getimage_path(arns[0]))
                        h.close()
                        assert status == 200, body
                        if name == "kiln":
                            with open(body_file, "wb") as f:
                                f.write(body)
                        res[name].append(calls_per_second(srv.port, arns, args.seconds))
                with c.floor_server(body_file, core=0) as srv:
                    res["floor"].append(calls_per_second(srv.port, arns, args.seconds))
                width = max(len(w) for w in res)
                for who in res:
                    cps, ms = res[who][-1]
                    print(f"round {rnd + 1} {who:{width}}: {cps:8.0f} calls/s  median {ms:.3f} ms/call", flush=True)
        finally:
            os.unlink(body_file)

    best = {who: max(r) for who, r in res.items()}
    ratio = best["kiln"][0] / best["floor"][0]
    print()
    width = max(len(w) for w in best)
    for who in best:
        print(f"{who:{width}} {best[who][0]:8.0f} calls/s  median {best[who][1]:.3f} ms/call")
    for name, _ in variants[1:]:
        print(f"ratio {name}/floor (calls/s) = {best[name][0] / best['floor'][0]:.3f}")
    print(f"server time per call, kiln - floor: {(best['kiln'][1] - best['floor'][1]) * 1e3:.0f} µs")
    print(f"ratio kiln/floor (calls/s) = {ratio:.3f}   target >= {TARGET:.2f}: {c.verdict(ratio >= TARGET)}")
    c.report_busy()
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
