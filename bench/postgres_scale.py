"""GetImage latency on PostgreSQL as the store grows (issue 14: flat within 1.5x from 10k to 1M
images), on a store filled the way users fill it: through the API, with no manual ANALYZE.

1. Creates a fresh PostgreSQL database (KILN_BENCH_POSTGRES_URL, default
   postgresql://postgres@127.0.0.1:5432/postgres) and serves it with
   `kiln serve --database-url ... --build-timing immediate --workers 2`.
2. Makes --recipes image recipes (names), then calls CreateImage over HTTP from --threads
   client threads, round-robin over the recipes, until the store holds the first of --sizes
   images; measures; fills on to the next size; measures again. Nothing but kiln (its
   statistics upkeep) and autovacuum tells PostgreSQL's planner about the data.
3. At each size: GetImage latency from one client (median and p90 of --probes calls, each
   of a build drawn at random from every build made so far), and GetImage req/s under
   wrk -t1 -c32 for --seconds over 20,000 random builds.

Prints the figures per size and the ratio of each size's median latency to the first size's.
Target (issue 14): <= 1.5. With --keep DB the database is kept (and reused when it exists:
the fill goes on from what it holds).
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
from postgres import SERVER, fixtures  # noqa: E402

TARGET = 1.5


def make_recipes(port: int, fx: dict, n: int) -> list[str]:
    """n more recipes like the fixture's (the same parent and component), named r0000..."""
    h = c.Http(port)
    base = h.call("GetImageRecipe", {"imageRecipeArn": fx["imageRecipeArn"]})["imageRecipe"]
    out = []
    for i in range(n):
        out.append(h.call("CreateImageRecipe", {
            "name": f"r{i:04d}", "semanticVersion": "1.0.0", "parentImage": base["parentImage"],
            "components": [{"componentArn": x["componentArn"]} for x in base["components"]],
            "clientToken": str(uuid.uuid4())})["imageRecipeArn"])
    return out


def fill(port: int, fx: dict, recipes: list[str], n: int, threads: int, made: list[str]) -> None:
    """n CreateImage calls, round-robin over the recipes, from `threads` client threads."""
    lock = threading.Lock()
    counter = iter(range(n))
    start = len(made)

    def run():
        h = c.Http(port)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            arn = h.call("CreateImage", {**fx, "imageRecipeArn": recipes[(start + i) % len(recipes)],
                                         "clientToken": str(uuid.uuid4())})["imageBuildVersionArn"]
            with lock:
                made.append(arn)

    ts = [threading.Thread(target=run) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    last = t0
    while any(t.is_alive() for t in ts):
        time.sleep(1)
        if time.perf_counter() - last > 60:
            last = time.perf_counter()
            done = len(made) - start
            print(f"  ... {len(made):,} images ({done / (last - t0):.0f}/s)", flush=True)
    for t in ts:
        t.join()


def existing_builds(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT arn FROM resources WHERE type = 'image' AND account <> 'aws'")]


def measure(port: int, made: list[str], probes: int, seconds: int, tmp: str) -> dict:
    rnd = random.Random(len(made))
    h = c.Http(port)
    sample = [made[rnd.randrange(len(made))] for _ in range(probes)]
    for arn in sample[:200]:  # warm the connection and the code, not the rows measured
        h.request("GET", c.getimage_path(made[rnd.randrange(len(made))]))
    times = []
    for arn in sample:
        t = time.perf_counter()
        status, _, _ = h.request("GET", c.getimage_path(arn))
        times.append(time.perf_counter() - t)
        assert status == 200, status
    times.sort()
    paths = [c.getimage_path(made[rnd.randrange(len(made))]) for _ in range(20_000)]
    paths_file = os.path.join(tmp, "paths.txt")
    with open(paths_file, "w") as f:
        f.write("\n".join(paths) + "\n")
    rps = c.wrk(port, paths_file, seconds, 32, core=None)["rps"] if c.have_wrk() else \
        c.pyload(port, paths, seconds, 32, core=None)["rps"]
    return {"p50": statistics.median(times) * 1e3, "p90": times[int(len(times) * 0.9)] * 1e3, "rps": rps}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,1000000", help="comma-separated image counts, ascending")
    p.add_argument("--recipes", type=int, default=1000)
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--probes", type=int, default=3000)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--keep", help="a database name to keep (and go on filling when it exists)")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    import psycopg

    db = args.keep or f"kiln_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        fresh = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is None
        if fresh:
            admin.execute(f'CREATE DATABASE "{db}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
        autovacuum = admin.execute("SHOW autovacuum").fetchone()[0]
    url = SERVER.rsplit("/", 1)[0] + "/" + db
    print(f"# GetImage on PostgreSQL as the store grows, {datetime.date.today()}, {c.machine()}")
    print(f"# PostgreSQL {version} (autovacuum {autovacuum}), database {db}; filled through the API "
          f"({args.threads} client threads, {args.recipes} recipes), no manual ANALYZE; kiln --workers {args.workers}")
    port = c.free_port()
    cmd = [*c.kiln_executable(), "serve", "--port", str(port), "--database-url", url, "--build-timing", "immediate",
           "--workers", str(args.workers)]
    results = {}
    try:
        with c.tempdir("kiln-pgscale-", None) as tmp, \
                c.Server(cmd, port, "/_kiln/health", dict(os.environ, KILN_LOG_LEVEL="warning")):
            if fresh:
                made, fx = [], fixtures(port)
                recipes = make_recipes(port, fx, args.recipes)
            else:  # go on filling: the builds, recipes and infrastructure configuration it holds
                made, recipes = existing_builds(url), existing_recipes(port)
                fx = {"infrastructureConfigurationArn": c.Http(port).call("ListInfrastructureConfigurations", {})[
                    "infrastructureConfigurationSummaryList"][0]["arn"]}
            for size in sizes:
                if len(made) < size:
                    t = time.perf_counter()
                    before = len(made)
                    fill(port, fx, recipes,
                         size - len(made), args.threads, made)
                    took = time.perf_counter() - t
                    print(f"filled to {len(made):,} images ({len(made) - before:,} in {took:.0f} s, "
                          f"{(len(made) - before) / took:.0f}/s)", flush=True)
                r = results[size] = measure(port, made, args.probes, args.seconds, tmp)
                print(f"{len(made):>9,} images: GetImage median {r['p50']:.3f} ms, p90 {r['p90']:.3f} ms "
                      f"(one client); {r['rps']:.0f} req/s (wrk -c32)", flush=True)
    finally:
        if not args.keep:
            with psycopg.connect(SERVER, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    first = results[sizes[0]]
    for size in sizes[1:]:
        ratio = results[size]["p50"] / first["p50"]
        print(f"GetImage latency {size:,} / {sizes[0]:,} images: median {ratio:.2f} "
              f"(p90 {results[size]['p90'] / first['p90']:.2f}; req/s {results[size]['rps'] / first['rps']:.2f}), "
              f"target <= {TARGET}: {c.verdict(ratio <= TARGET)}")


def existing_recipes(port: int) -> list[str]:
    h = c.Http(port)
    out, token = [], None
    while True:
        page = h.call("ListImageRecipes", {"maxResults": 100, **({"nextToken": token} if token else {})})
        out += [r["arn"] for r in page["imageRecipeSummaryList"] if r["name"].startswith("r")]
        token = page.get("nextToken")
        if not token:
            return sorted(out)


if __name__ == "__main__":
    main()
