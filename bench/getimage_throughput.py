"""GetImage throughput and latency at 32 connections, kiln vs the floor, one run.

1. Seeds --images image builds (default 10,000) into a fresh SQLite store: the
   prerequisites (infrastructure and distribution configurations, a recipe) go
   through the API in-process (kiln.core.Kiln.handle); the builds go through the
   CreateImage handler of the service layer, 1,000 per transaction, with
   immediate timing, so every build is AVAILABLE.
2. Serves the store with `kiln serve --build-timing immediate`, pinned to core 0,
   and loads it with wrk -t1 -c32 (pinned to core 1): GetImage of every build's
   ARN in turn, from a random offset, with a SigV4-style Authorization header.
3. Serves the floor (bench/floor_app.py: a bare ASGI app on the same uvicorn +
   httptools + uvloop stack) returning a real GetImage response body captured
   from step 2, with kiln's headers, pinned the same way, loaded the same way.

Prints req/s, p50 and p99 of both and the ratio kiln/floor. Target: >= 0.50.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

TARGET = 0.50


def load(port: int, paths_file: str, paths: list[str], seconds: int, connections: int) -> dict:
    if c.have_wrk():
        return c.wrk(port, paths_file, seconds, connections, core=1)
    return c.pyload(port, paths, seconds, connections, core=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_store_arguments(p)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--rounds", type=int, default=2, help="alternating kiln/floor rounds; the best of each counts")
    args = p.parse_args()
    variants = c.parse_variants(args.variant)

    print(f"# GetImage throughput, {datetime.date.today()}, {c.machine()}")
    print(f"# load: {'wrk' if c.have_wrk() else 'bench/pyload.py (wrk not installed)'} -t1 "
          f"-c{args.connections} -d{args.seconds}s on core 1; servers pinned to core 0")
    with c.tempdir("kiln-bench-", args.data_dir) as data_dir:
        arns = c.image_arns(data_dir, args.images)
        random.Random(1).shuffle(arns)
        paths = [c.getimage_path(a) for a in arns]
        paths_file = os.path.join(data_dir, "getimage-paths.txt")
        with open(paths_file, "w") as f:
            f.write("\n".join(paths) + "\n")

        body_fd, body_file = tempfile.mkstemp(suffix=".json")
        os.close(body_fd)
        results: dict = {name: [] for name, _ in variants}
        results["floor"] = []
        try:
            for rnd in range(args.rounds):
                for name, source in variants:
                    with c.kiln_server(data_dir, source=source) as srv:
                        h = c.Http(srv.port)
                        status, headers, body = h.request("GET", paths[0])
                        h.close()
                        assert status == 200, body
                        if name == "kiln":
                            with open(body_file, "wb") as f:
                                f.write(body)
                        load(srv.port, paths_file, paths, 2, args.connections)  # warm-up
                        c.wait_quiet()
                        r = load(srv.port, paths_file, paths, args.seconds, args.connections)
                        r["rss"] = c.rss_mb(srv.pid)
                        results[name].append(r)
                with c.floor_server(body_file) as srv:
                    load(srv.port, paths_file, paths, 2, args.connections)
                    c.wait_quiet()
                    r = load(srv.port, paths_file, paths, args.seconds, args.connections)
                    r["rss"] = c.rss_mb(srv.pid)
                    results["floor"].append(r)
                width = max(len(w) for w in results)
                for who in results:
                    r = results[who][-1]
                    print(f"round {rnd + 1} {who:{width}}: {r['rps']:9.0f} req/s  p50 {r['p50']:6.2f} ms  "
                          f"p99 {r['p99']:6.2f} ms  non-2xx {r['non2xx']}  {r['socket_errors']}", flush=True)
        finally:
            os.unlink(body_file)

    best = {who: max(rs, key=lambda r: r["rps"]) for who, rs in results.items()}
    ratio = best["kiln"]["rps"] / best["floor"]["rps"]
    print()
    width = max(len(w) for w in best)
    print(f"{'':{width}} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}")
    for who, r in best.items():
        print(f"{who:{width}} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['rss']:8.1f}")
    print(f"response body: {len(body)} bytes; images stored: {len(arns)}")
    errors = sum(r["non2xx"] for rs in results.values() for r in rs)
    for name, _ in variants[1:]:
        print(f"ratio {name}/floor (req/s) = {best[name]['rps'] / best['floor']['rps']:.3f}")
    print(f"ratio kiln/floor (req/s) = {ratio:.3f}   target >= {TARGET:.2f}: {c.verdict(ratio >= TARGET and not errors)}")
    c.report_busy()
    if errors:
        print(f"!! {errors} non-2xx responses: the figures are not valid")
    return 0 if ratio >= TARGET and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
