"""kiln on PostgreSQL against kiln on SQLite, both filled through the API, in one run.

1. Creates a fresh PostgreSQL database (KILN_BENCH_POSTGRES_URL, default
   postgresql://postgres@127.0.0.1:5432/postgres: a server, not a database name)
   and a fresh SQLite data directory.
2. Serves each with `kiln serve --build-timing immediate --workers W` (pinned to core 0)
   and fills both the way users fill a store: the fixtures, then --images CreateImage
   calls over HTTP (four client threads). No ANALYZE is run by this script: what
   PostgreSQL's planner knows is what kiln and autovacuum told it.
3. Takes turns between the two servers, --rounds times in a new random order:
   GetImage of every build in turn with wrk -t1 -c32 (core 1) for --seconds, and
   --creates CreateImage calls from one client (one at a time).

Prints req/s of GetImage, the median CreateImage latency, and the ratios
PostgreSQL/SQLite (median over rounds, with min and max). Targets (issue 14): GetImage
>= 0.3 at one worker and >= 0.6 at two; CreateImage >= 0.6.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

SERVER = os.environ.get("KILN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGETS = {("GetImage", 1): 0.3, ("GetImage", 2): 0.6, ("CreateImage", 1): 0.6, ("CreateImage", 2): 0.6}


PIN = {"core": 0}  # --unpinned: None, so --workers 2 may use both cores (PostgreSQL and wrk share them)


def serve(store_args: list[str], workers: int, port: int) -> c.Server:
    cmd = c.pinned([*c.kiln_executable(), "serve", "--port", str(port), *store_args, "--build-timing", "immediate",
                    "--workers", str(workers)], PIN["core"])
    return c.Server(cmd, port, "/_kiln/health", dict(os.environ, KILN_LOG_LEVEL="warning"))


def fixtures(port: int) -> dict:
    h = c.Http(port)
    comps = h.call("ListComponents", {"owner": "Amazon", "maxResults": 100})["componentVersionList"]
    comp = next(x["arn"] for x in comps if x.get("platform") == "Linux" and "update-linux" in x["arn"])
    parent = next(i["arn"] for i in h.call("ListImages", {"owner": "Amazon"})["imageVersionList"]
                  if i.get("platform") == "Linux")
    infra = h.call("CreateInfrastructureConfiguration", {
        "name": "bench-infra", "instanceProfileName": "EC2InstanceProfileForImageBuilder",
        "clientToken": str(uuid.uuid4())})["infrastructureConfigurationArn"]
    dist = h.call("CreateDistributionConfiguration", {
        "name": "bench-dist", "distributions": [{"region": c.REGION, "amiDistributionConfiguration": {
            "name": "bench {{ imagebuilder:buildDate }}"}}], "clientToken": str(uuid.uuid4())})[
        "distributionConfigurationArn"]
    recipe = h.call("CreateImageRecipe", {
        "name": "bench-image", "semanticVersion": "1.0.0", "parentImage": parent,
        "components": [{"componentArn": comp + "/1" if comp.count("/") == 2 else comp}],
        "clientToken": str(uuid.uuid4())})["imageRecipeArn"]
    return {"imageRecipeArn": recipe, "infrastructureConfigurationArn": infra, "distributionConfigurationArn": dist}


def fill(port: int, fx: dict, n: int, threads: int = 4) -> list[str]:
    arns: list[str] = []
    lock = threading.Lock()
    per = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]

    def run(count: int):
        h = c.Http(port)
        mine = [h.call("CreateImage", {**fx, "clientToken": str(uuid.uuid4())})["imageBuildVersionArn"]
                for _ in range(count)]
        with lock:
            arns.extend(mine)

    ts = [threading.Thread(target=run, args=(k,)) for k in per]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return arns


def create_latency(port: int, fx: dict, n: int) -> float:
    h = c.Http(port)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        h.call("CreateImage", {**fx, "clientToken": str(uuid.uuid4())})
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def getimage_rps(port: int, paths_file: str, paths: list[str], seconds: int) -> float:
    if c.have_wrk():
        return c.wrk(port, paths_file, seconds, 32, core=1)["rps"]
    return c.pyload(port, paths, seconds, 32, core=1)["rps"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts to measure")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--creates", type=int, default=200, help="CreateImage calls per round")
    p.add_argument("--unpinned", action="store_true", help="do not pin kiln to core 0 (wrk stays on core 1)")
    args = p.parse_args()
    if args.unpinned:
        PIN["core"] = None
    import psycopg

    print(f"# kiln on PostgreSQL vs SQLite, {datetime.date.today()}, {c.machine()}")
    db = f"kiln_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
        autovacuum = admin.execute("SHOW autovacuum").fetchone()[0]
    print(f"# PostgreSQL {version} (autovacuum {autovacuum}), database {db}; {args.images} images each, "
          "filled through the API, no manual ANALYZE")
    pg_url = SERVER.rsplit("/", 1)[0] + "/" + db
    try:
        with c.tempdir("kiln-pgbench-", None) as data_dir:
            stores = {"sqlite": ["--data-dir", data_dir], "postgres": ["--database-url", pg_url]}
            ports = {name: c.free_port() for name in stores}
            # Fill once, with one worker each.
            fx, arns = {}, {}
            for name, store_args in stores.items():
                with serve(store_args, 1, ports[name]):
                    t = time.perf_counter()
                    fx[name] = fixtures(ports[name])
                    arns[name] = fill(ports[name], fx[name], args.images)
                    print(f"filled {name}: {len(arns[name])} images in {time.perf_counter() - t:.1f} s", flush=True)
            for workers in (int(w) for w in args.workers.split(",")):
                results: dict = {(name, what): [] for name in stores for what in ("GetImage", "CreateImage")}
                servers = {name: serve(store_args, workers, ports[name]).start() for name, store_args in stores.items()}
                try:
                    files = {}
                    for name in stores:
                        paths = [c.getimage_path(a) for a in arns[name]]
                        random.Random(1).shuffle(paths)
                        files[name] = (os.path.join(data_dir, f"paths-{name}.txt"), paths)
                        with open(files[name][0], "w") as f:
                            f.write("\n".join(paths) + "\n")
                    for name in stores:  # warm both
                        getimage_rps(ports[name], files[name][0], files[name][1], 1)
                    for r in range(args.rounds):
                        order = list(stores)
                        random.shuffle(order)
                        for name in order:
                            rps = getimage_rps(ports[name], files[name][0], files[name][1], args.seconds)
                            ms = create_latency(ports[name], fx[name], args.creates)
                            results[(name, "GetImage")].append(rps)
                            results[(name, "CreateImage")].append(ms)
                            print(f"  workers {workers} round {r + 1} {name:8s} GetImage {rps:9.0f} req/s   "
                                  f"CreateImage median {ms:6.2f} ms", flush=True)
                finally:
                    for s in servers.values():
                        s.stop()
                for what in ("GetImage", "CreateImage"):
                    pg, lite = results[("postgres", what)], results[("sqlite", what)]
                    # GetImage: throughput ratio; CreateImage: inverse latency ratio (higher is better for both).
                    ratios = [a / b for a, b in zip(pg, lite)] if what == "GetImage" else [b / a for a, b in zip(pg, lite)]
                    target = TARGETS[(what, workers)]
                    print(f"workers {workers}: {what} PostgreSQL/SQLite median {statistics.median(ratios):.3f} "
                          f"(min {min(ratios):.3f}, max {max(ratios):.3f}), target >= {target}: "
                          f"{c.verdict(statistics.median(ratios) >= target)}", flush=True)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
