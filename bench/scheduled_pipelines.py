"""GetImage throughput with 10,000 enabled scheduled image pipelines stored vs none, one run
(with --lifecycle, the images under two lifecycle policies as well: issue 14's section 6).

The due-work engine (kiln/engine/due.py) asks the store before every request whether
anything is due (Store.has_due: one indexed probe, its answer remembered for 50 ms).
Issue 10: with 10,000 enabled scheduled pipelines stored, GetImage throughput stays
within 10% of its figure with none. This script measures that ratio side by side.

1. Seeds --images image builds (default 10,000) into store "plain" exactly as
   getimage_throughput.py does (bench/_common.py: image_arns).
2. Copies that store to "pipelines" and adds --pipelines ENABLED pipelines (default
   10,000) through the service layer's own CreateImagePipeline handler, 1,000 per
   transaction (no HTTP; the rows, their `next_due` and their book are what the API
   writes), built from the same recipe and configurations as the images. Schedules:
   50% daily `cron(M H * * ? *)`, 20% hourly within a range of hours on weekdays
   `cron(M H1-H2 ? * MON-FRI *)`, 15% weekly `cron(M H ? * DAY *)`, 10% `rate(N days)`,
   5% daily in America/New_York, Europe/Berlin or Asia/Tokyo. Hours are chosen so
   that no pipeline fires within about two hours of seeding (checked: the earliest
   `next_due` must lie beyond the end of the run). Start conditions alternate:
   even pipelines EXPRESSION_MATCH_ONLY, odd ones
   EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE (the default).
   With --lifecycle, two lifecycle policies over the images' recipe are added to that store
   (DEPRECATE after 90 days, DELETE all but the newest 1,000: bench/time_driven.py's), so
   every image is under lifecycle policies (their first run is a day after creation).
3. In-process: what one Store.has_due probe costs on each store with its 50 ms memory
   bypassed (and within it), and SQLite's plan for the probe (EXPLAIN QUERY PLAN
   must name ix_resources_due).
4. Serves each store in turn with `kiln serve --build-timing immediate` pinned to
   core 0 and loads it exactly as getimage_throughput.py does (its `load`: wrk -t1
   -c32 on core 1, or bench/pyload.py without wrk), the same GetImage paths against
   both, --rounds rounds, the order alternating each round.
5. Checks that nothing fired during the run (image count and earliest firing unchanged).

Prints req/s, p50, p99 of both, the per-round ratios (their median is the verdict: the
interleaved method) and the ratio of the best of each: with pipelines / without.
Target: >= 0.90.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
from getimage_throughput import load  # noqa: E402  (the same load, wrk or pyload)

TARGET = 0.90
MATCH_ONLY = "EXPRESSION_MATCH_ONLY"
DEPENDENCY_UPDATES = "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"
ZONES = ("America/New_York", "Europe/Berlin", "Asia/Tokyo")
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
CLEAR_HOURS = 3  # no firing in the current hour of the zone or the two after it


def _allowed_hours(zone: str, now: float) -> list[int]:
    h0 = datetime.datetime.fromtimestamp(now, ZoneInfo(zone)).hour
    return sorted(h for h in range(24) if (h - h0) % 24 >= CLEAR_HOURS)


def _runs(hours: list[int]) -> list[list[int]]:
    """The allowed hours as runs of consecutive numbers (no run wraps past midnight)."""
    out: list[list[int]] = []
    for h in hours:
        if out and out[-1][-1] == h - 1:
            out[-1].append(h)
        else:
            out.append([h])
    return out


def schedule_for(i: int, rng: random.Random, now: float) -> dict:
    """The schedule of the i-th pipeline (see the module docstring for the mix)."""
    kind = i % 20
    minute = rng.randrange(60)
    zone = "UTC"
    if kind < 10:
        expr = f"cron({minute} {rng.choice(_allowed_hours(zone, now))} * * ? *)"
    elif kind < 14:
        run = max(_runs(_allowed_hours(zone, now)), key=len)
        first = rng.randrange(len(run) - 1)
        last = min(len(run) - 1, first + rng.randrange(1, 10))
        expr = f"cron({minute} {run[first]}-{run[last]} ? * MON-FRI *)"
    elif kind < 17:
        expr = f"cron({minute} {rng.choice(_allowed_hours(zone, now))} ? * {rng.choice(DAYS)} *)"
    elif kind < 19:
        n = rng.randrange(1, 8)
        expr = f"rate({n} day{'s' if n > 1 else ''})"
    else:
        zone = rng.choice(ZONES)
        expr = f"cron({minute} {rng.choice(_allowed_hours(zone, now))} * * ? *)"
    return {"scheduleExpression": expr, "timezone": zone,
            "pipelineExecutionStartCondition": MATCH_ONLY if i % 2 == 0 else DEPENDENCY_UPDATES}


def fixtures_of(kiln, image_arn: str) -> dict:
    """The recipe and configurations the seeded images were built from (GetImage)."""
    image = c.handle(kiln, "GetImage", {"imageBuildVersionArn": image_arn})["image"]
    return {"imageRecipeArn": image["imageRecipe"]["arn"],
            "infrastructureConfigurationArn": image["infrastructureConfiguration"]["arn"],
            "distributionConfigurationArn": image["distributionConfiguration"]["arn"]}


def create_pipelines_bulk(kiln, fixtures: dict, n: int, chunk: int = 1000) -> list[str]:
    """n x CreateImagePipeline through the service layer's own handler, `chunk` per
    write transaction (bench/_common.py: create_images_bulk does the same for builds)."""
    from kiln.service import HANDLERS, Context

    create = HANDLERS["CreateImagePipeline"]
    rng = random.Random(10)
    out: list[str] = []
    for start in range(0, n, chunk):
        def run(tx, start=start, count=min(chunk, n - start)):
            now = kiln.clock.now()
            arns = []
            for i in range(start, start + count):
                ctx = Context(tx, c.ACCOUNT, c.REGION, str(uuid.uuid4()), now, 0.0, kiln.store.secret)
                params = {**fixtures, "name": f"bench-pipeline-{i:05d}", "description": "Benchmark scheduled pipeline",
                          "schedule": schedule_for(i, rng, now), "status": "ENABLED",
                          "imageTestsConfiguration": {"imageTestsEnabled": True, "timeoutMinutes": 60},
                          "tags": {"team": "platform", "env": "bench"}, "clientToken": str(uuid.uuid4())}
                arns.append(create(ctx, params)["imagePipelineArn"])
            return arns

        out.extend(kiln.store.run(run, c.ACCOUNT, c.REGION, write=True))
    return out


def census(data_dir: str) -> dict:
    """Images, pipelines (enabled, with a schedule, with a next firing) and the earliest
    due time in a store, read straight from its file."""
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'kiln.db')}?mode=ro", uri=True)
    try:
        q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "images": q("SELECT count(*) FROM resources WHERE type = 'image'"),
            "pipelines": q("SELECT count(*) FROM resources WHERE type = 'image-pipeline'"),
            "scheduled": q("SELECT count(*) FROM resources WHERE type = 'image-pipeline' AND next_due IS NOT NULL"),
            "due_rows": q("SELECT count(*) FROM resources WHERE next_due IS NOT NULL"),
            "policies": q("SELECT count(*) FROM resources WHERE type = 'lifecycle-policy'"),
            "earliest": q("SELECT min(next_due) FROM resources"),
        }
    finally:
        db.close()


ROLE = "arn:aws:iam::123456789012:role/ImageBuilderLifecycle"


def add_lifecycle_policies(kiln, recipe_arn: str, keep: int = 1000) -> None:
    """Two lifecycle policies over every build of the recipe (here and in bench/time_driven.py):
    DEPRECATE after 90 days; DELETE all but the newest `keep`."""
    recipe = c.handle(kiln, "GetImageRecipe", {"imageRecipeArn": recipe_arn})["imageRecipe"]
    selection = {"recipes": [{"name": recipe["name"], "semanticVersion": recipe["version"]}]}
    for name, details in (
        ("age-out", [{"action": {"type": "DEPRECATE"}, "filter": {"type": "AGE", "value": 90, "unit": "DAYS"}}]),
        ("newest-n", [{"action": {"type": "DELETE", "includeResources": {"amis": True}},
                       "filter": {"type": "COUNT", "value": keep}}]),
    ):
        c.handle(kiln, "CreateLifecyclePolicy", {
            "name": name, "resourceType": "AMI_IMAGE", "executionRole": ROLE,
            "resourceSelection": selection, "policyDetails": details, "clientToken": str(uuid.uuid4())})


def seed(root: str, n_images: int, n_pipelines: int, horizon: float,
         lifecycle: bool = False) -> tuple[list[str], str, str]:
    """The two stores (plain, pipelines) under root, seeded or reused; the image ARNs."""
    plain, piped = os.path.join(root, "plain"), os.path.join(root, "timed" if lifecycle else "pipelines")
    arns = c.image_arns(plain, n_images)
    if os.path.exists(piped):
        have = census(piped)
        fine = (have["images"] == len(arns) and have["scheduled"] == n_pipelines
                and have["policies"] == (2 if lifecycle else 0)
                and have["earliest"] is not None and have["earliest"] > time.time() + horizon)
        if fine:
            print(f"reusing {have['pipelines']} pipelines in {piped}", flush=True)
            return arns, plain, piped
        print(f"re-seeding {piped}: its pipelines would fire during the run (or its counts differ)", flush=True)
        shutil.rmtree(piped)
    shutil.copytree(plain, piped)  # the same images, byte for byte (the plain store is closed)
    t = time.perf_counter()
    kiln = c.make_kiln(piped)
    try:
        fixtures = fixtures_of(kiln, arns[0])
        made = create_pipelines_bulk(kiln, fixtures, n_pipelines)
        if lifecycle:
            add_lifecycle_policies(kiln, fixtures["imageRecipeArn"])
        one = c.handle(kiln, "GetImagePipeline", {"imagePipelineArn": made[-1]})["imagePipeline"]
        assert one["status"] == "ENABLED" and "dateNextRun" in one, one
        print(f"seeded {len(made)} pipelines in {time.perf_counter() - t:.1f}s ({piped}); e.g. "
              f"{one['schedule']['scheduleExpression']} {one['schedule']['timezone']} "
              f"{one['schedule']['pipelineExecutionStartCondition']}, next run {one['dateNextRun']}", flush=True)
    finally:
        kiln.store.close()
    return arns, plain, piped


def probe_cost(data_dir: str, batch: int = 2000, batches: int = 15) -> dict:
    """µs per Store.has_due call on data_dir's store: its 50 ms memory cleared before each
    call (the probe itself: one query on the reader connection), and kept (what most
    requests pay). Median over `batches` batches. Plus SQLite's plan for the probe."""
    from kiln.store import Store
    from kiln.store.repository import _EARLIEST_DUE, sqlite_url

    store = Store(sqlite_url(data_dir))
    try:
        now = time.time()

        def per_call(clear: bool) -> float:
            samples = []
            for _ in range(batches):
                t = time.perf_counter()
                for _ in range(batch):
                    if clear:
                        store._due_cache = None
                    store.has_due(now)
                samples.append((time.perf_counter() - t) / batch * 1e6)
            return c.median(samples)

        assert store.has_due(now) is False, "something is due: the stores are not as the benchmark needs"
        per_call(True)  # warm-up
        probe, cached = per_call(True), per_call(False)
        plan = store._reader().connection.driver_connection.execute("EXPLAIN QUERY PLAN " + _EARLIEST_DUE).fetchall()
        return {"probe_us": probe, "cached_us": cached, "plan": "; ".join(str(r[-1]) for r in plan)}
    finally:
        store.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--pipelines", type=int, default=10_000)
    p.add_argument("--data-dir", help="seed here (plain/ and pipelines/) and keep it (default: a temporary directory)")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--rounds", type=int, default=2, help="rounds, each loading both stores, the order alternating")
    p.add_argument("--lifecycle", action="store_true", help="the images under two lifecycle policies too")
    args = p.parse_args()

    print(f"# GetImage throughput, {args.pipelines} scheduled pipelines vs none, {datetime.date.today()}, {c.machine()}")
    print(f"# load: {'wrk' if c.have_wrk() else 'bench/pyload.py (wrk not installed)'} -t1 "
          f"-c{args.connections} -d{args.seconds}s on core 1; servers pinned to core 0")
    # Generous: the run must end before the first firing (wait_quiet can wait a minute per load).
    horizon = args.rounds * 2 * (args.seconds + 2 + 75) + 600
    with c.tempdir("kiln-bench-sched-", args.data_dir) as root:
        arns, plain, piped = seed(root, args.images, args.pipelines, horizon, args.lifecycle)
        before = {"without": census(plain), "with": census(piped)}
        earliest = before["with"]["earliest"]
        assert earliest is not None and earliest > time.time() + horizon, (
            f"a pipeline fires in {earliest - time.time():.0f}s, within the run")
        for who, s in before.items():
            print(f"store {who:7}: {s['images']} images, {s['pipelines']} pipelines "
                  f"({s['scheduled']} with a next firing), {s['policies']} lifecycle policies, "
                  f"rows with next_due: {s['due_rows']}")
        print(f"earliest firing: {datetime.datetime.fromtimestamp(earliest, datetime.timezone.utc):%H:%M:%S} UTC, "
              f"{(earliest - time.time()) / 3600:.1f} h from now (the run takes ~{horizon / 60:.0f} min at most)")

        c.wait_quiet()
        probes = {"without": probe_cost(plain), "with": probe_cost(piped)}
        for who, pr in probes.items():
            print(f"Store.has_due {who:7} pipelines: probe {pr['probe_us']:6.2f} µs, within its 50 ms memory "
                  f"{pr['cached_us']:5.2f} µs; plan: {pr['plan']}", flush=True)

        random.Random(1).shuffle(arns)
        paths = [c.getimage_path(a) for a in arns]
        paths_file = os.path.join(root, "getimage-paths.txt")
        with open(paths_file, "w") as f:
            f.write("\n".join(paths) + "\n")

        stores = [("without", plain), ("with", piped)]
        results: dict = {who: [] for who, _ in stores}
        for rnd in range(args.rounds):
            for who, data_dir in (stores if rnd % 2 == 0 else stores[::-1]):
                with c.kiln_server(data_dir) as srv:
                    h = c.Http(srv.port)
                    status, _, body = h.request("GET", paths[0])
                    h.close()
                    assert status == 200, body
                    load(srv.port, paths_file, paths, 2, args.connections)  # warm-up: fills the document cache
                    c.wait_quiet()
                    r = load(srv.port, paths_file, paths, args.seconds, args.connections)
                    r["rss"] = c.rss_mb(srv.pid)
                    results[who].append(r)
                    print(f"round {rnd + 1} {who:7} pipelines: {r['rps']:9.0f} req/s  p50 {r['p50']:6.2f} ms  "
                          f"p99 {r['p99']:6.2f} ms  non-2xx {r['non2xx']}  {r['socket_errors']}", flush=True)
        after = {"without": census(plain), "with": census(piped)}

    fired = [who for who in before if before[who]["images"] != after[who]["images"]
             or before[who]["earliest"] != after[who]["earliest"]]
    best = {who: max(rs, key=lambda r: r["rps"]) for who, rs in results.items()}
    ratio = best["with"]["rps"] / best["without"]["rps"]
    per_round = [w["rps"] / wo["rps"] for w, wo in zip(results["with"], results["without"])]
    errors = sum(r["non2xx"] for rs in results.values() for r in rs)
    print()
    print(f"{'pipelines':10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RSS MiB':>8}")
    for who, r in best.items():
        n = args.pipelines if who == "with" else 0
        print(f"{n:<10} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['rss']:8.1f}")
    print(f"probe (Store.has_due, 50 ms memory cleared): {probes['without']['probe_us']:.2f} µs with no pipelines, "
          f"{probes['with']['probe_us']:.2f} µs with {args.pipelines}; ix_resources_due used: "
          f"{'yes' if all('ix_resources_due' in pr['plan'] for pr in probes.values()) else 'NO'}")
    print("per-round ratios with/without: " + ", ".join(f"{x:.3f}" for x in per_round))
    median = statistics.median(per_round)
    ok = median >= TARGET and not errors and not fired
    print(f"ratio with/without pipelines{' and lifecycle policies' if args.lifecycle else ''} (req/s): median of "
          f"rounds {median:.3f} (best of each {ratio:.3f})   target >= {TARGET:.2f}: {c.verdict(ok)}")
    c.report_busy()
    if errors:
        print(f"!! {errors} non-2xx responses: the figures are not valid")
    if fired:
        print(f"!! work fell due during the run in store(s) {fired}: the figures are not valid")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
