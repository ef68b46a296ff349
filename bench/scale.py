"""Latency, memory and cold start as the store grows: 10k, 100k (and 1M) images.

    python bench/scale.py                              # 10k and 100k: a couple of minutes
    python bench/scale.py --sizes 10000,100000,1000000 # the full run: ~5 GB of disk, ~10 min

Seeding (fast, and how it is done matters for reading the figures):
  1. Through the API, in-process (kiln.core.Kiln.handle): an infrastructure and a
     distribution configuration, a recipe `kscaleseed` 7.77.777 and one
     CreateImage of it, with immediate timing. This is the one real image.
  2. Its two stored rows (the build, type "image", and its version row, type
     "image-version", which ListImages pages through) are the templates: the
     generator writes rows into kiln's own schema (kiln.store.schema.resources;
     column list from the schema, sort_key from kiln.store.repository.sort_key),
     varying ARN, name and version in the document text and the key columns,
     with a build-number counter row per version, by bulk INSERT (sqlite3
     executemany, one transaction per batch). Layout: names `kscale-NNNNNNN`,
     2 versions each (1.0.0, 1.1.0), 5 builds each: 10 builds per name, so
     N images = N/10 names and N/5 ListImages entries (2,000 at 10k: page 50
     exists; 200,000 at 1M). Sizes are seeded
     incrementally into one store, smallest first.

At each size a fresh `kiln serve --build-timing immediate` (pinned to core 0;
this client on core 1) is measured over HTTP, one keep-alive connection, the
lowest of three medians of --n calls each (one median for calls slow
enough that a round takes over 5 s):
  cold start   process spawn -> first 200 from GET /_kiln/health (median of 3 starts)
  GetImage     random build ARNs across the whole store; and version (1.0.0) and
               wildcard (x.x.x) ARNs of random names (newest AVAILABLE build)
  ListImages   first page; page 50 (following nextToken, 25 per page); the middle
               of the listing (the token reached by following nextToken with
               maxResults=100 through half the listing: a page N/10 entries in)
  ListImageBuildVersions  imageVersionArn of random versions, first page
  CreateImage  of the real recipe
  RSS          of the server process after all of the above
Targets: list-page latency at the largest size within 2x of 10k (keyset paging);
RSS flat with store size (<= 1.25x of the 10k figure); cold start < 1 s.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import sqlite3
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

SEED_NAME = "kscaleseed"
SEED_VERSION = "7.77.777"
VERSIONS_PER_NAME = 2
BUILDS_PER_VERSION = 5
PER_NAME = VERSIONS_PER_NAME * BUILDS_PER_VERSION


def name_of(i: int) -> str:
    return f"kscale-{i:07d}"


def version_of(v: int) -> tuple[int, int, int]:
    return (1, v, 0)


# ------------------------------------------------------------------ seeding
def seed_real(data_dir: str) -> dict:
    """The one real image, through the API. Returns its fixtures."""
    kiln = c.make_kiln(data_dir)
    fixtures = c.create_fixtures(kiln, SEED_NAME, SEED_VERSION)
    arn = c.handle(kiln, "CreateImage", {**fixtures, "clientToken": str(uuid.uuid4())})["imageBuildVersionArn"]
    state = c.handle(kiln, "GetImage", {"imageBuildVersionArn": arn})["image"]["state"]["status"]
    assert state == "AVAILABLE", state
    kiln.store.close()
    return fixtures


def existing(data_dir: str) -> tuple[dict, int] | None:
    """A store seeded by an earlier run (--data-dir): its fixtures and how many names it has."""
    path = os.path.join(data_dir, "kiln.db")
    if not os.path.exists(path):
        return None
    db = sqlite3.connect(path)
    try:
        arns = dict(db.execute(
            "SELECT type, arn FROM resources WHERE type IN ('image-recipe', 'infrastructure-configuration', "
            "'distribution-configuration') AND name_key LIKE ?", (SEED_NAME + "%",)).fetchall())
        versions = db.execute("SELECT count(*) FROM resources WHERE type = 'image-version' AND name_key LIKE 'kscale-%'"
                              ).fetchone()[0]
    finally:
        db.close()
    if "image-recipe" not in arns:
        return None
    fixtures = {"imageRecipeArn": arns["image-recipe"],
                "infrastructureConfigurationArn": arns["infrastructure-configuration"],
                "distributionConfigurationArn": arns["distribution-configuration"]}
    return fixtures, versions // VERSIONS_PER_NAME


def templates(db: sqlite3.Connection, columns: list[str]) -> dict:
    """The real build and version rows, as column dicts with @@N@@/@@V@@/@@B@@ in the text."""
    out = {}
    for kind in ("image", "image-version"):
        row = db.execute(f"SELECT {', '.join(columns)} FROM resources WHERE type = ? AND name_key = ? ORDER BY build LIMIT 1",
                         (kind, SEED_NAME)).fetchone()
        assert row is not None, f"no real {kind} row"
        d = dict(zip(columns, row))
        for col in ("doc", "timeline"):
            if d[col] is not None:
                text = d[col].replace(SEED_NAME, "@@N@@").replace(SEED_VERSION, "@@V@@")
                d[col] = text.replace('@@V@@/1"', '@@V@@/@@B@@"')
        out[kind] = d
    return out


def bulk_seed(data_dir: str, first_name: int, end_name: int) -> float:
    """Insert names [first_name, end_name) x 10 versions x 10 builds (+ version rows, counters)."""
    from kiln.store.repository import sort_key
    from kiln.store.schema import counters, resources

    t0 = time.perf_counter()
    db = sqlite3.connect(os.path.join(data_dir, "kiln.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")  # one writer, no readers: no WAL needed while seeding
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    columns = [col.name for col in resources.columns]
    tpl = templates(db, columns)
    insert = f"INSERT INTO resources ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    count_insert = f"INSERT INTO counters ({', '.join(col.name for col in counters.columns)}) VALUES (?, ?, ?, ?)"
    b_tpl, v_tpl = tpl["image"], tpl["image-version"]
    prefix = b_tpl["arn"].split(":image/")[0] + ":image/"
    batch, cbatch = [], []

    def flush():
        db.execute("BEGIN")
        db.executemany(insert, batch)
        db.executemany(count_insert, cbatch)
        db.execute("COMMIT")
        batch.clear()
        cbatch.clear()

    for i in range(first_name, end_name):
        name = name_of(i)
        for v in range(VERSIONS_PER_NAME):
            major, minor, patch = version_of(v)
            ver = f"{major}.{minor}.{patch}"
            vdoc = v_tpl["doc"].replace("@@N@@", name).replace("@@V@@", ver)
            row = dict(v_tpl, arn=f"{prefix}{name}/{ver}", name_key=name, name=name, major=major, minor=minor,
                       patch=patch, build=0, sort_key=sort_key(name, major, minor, patch, 0), doc=vdoc)
            batch.append(tuple(row[k] for k in columns))
            for b in range(1, BUILDS_PER_VERSION + 1):
                bs = str(b)
                doc = b_tpl["doc"].replace("@@N@@", name).replace("@@V@@", ver).replace("@@B@@", bs)
                tl = b_tpl["timeline"].replace("@@N@@", name).replace("@@V@@", ver).replace("@@B@@", bs)
                row = dict(b_tpl, arn=f"{prefix}{name}/{ver}/{b}", name_key=name, name=name, major=major, minor=minor,
                           patch=patch, build=b, sort_key=sort_key(name, major, minor, patch, b), doc=doc, timeline=tl)
                batch.append(tuple(row[k] for k in columns))
            cbatch.append((c.ACCOUNT, c.REGION, f"image/{name}/{ver}", BUILDS_PER_VERSION))
        if len(batch) >= 20_000:
            flush()
    if batch:
        flush()
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return time.perf_counter() - t0


# ------------------------------------------------------------------ probes
def med_ms(fn, n: int, repeats: int = 3) -> float:
    """The lowest of `repeats` medians of n calls (one median when a round takes
    over 5 s): a noisy machine only ever adds time."""
    best = float("inf")
    for _ in range(repeats):
        c.wait_quiet(max_wait=20, window=0.3)
        t = time.perf_counter()
        best = min(best, c.timed(fn, n, warmup=3))
        if time.perf_counter() - t > 5:
            break
    return best


def measure(data_dir: str, names: int, n: int, fixtures: dict, source: str | None = None) -> dict:
    r: dict = {}
    starts = []
    c.wait_quiet()
    for _ in range(3):
        srv = c.kiln_server(data_dir, core=0, source=source).start()
        starts.append(srv.started_in)
        srv.stop()
    r["cold start s"] = c.median(starts)
    srv = c.kiln_server(data_dir, core=0, source=source).start()
    try:
        h = c.Http(srv.port)
        rnd = random.Random(3)
        prefix = f"arn:aws:imagebuilder:{c.REGION}:{c.ACCOUNT}:image/"

        def random_build():
            ver = ".".join(map(str, version_of(rnd.randrange(VERSIONS_PER_NAME))))
            return f"{prefix}{name_of(rnd.randrange(names))}/{ver}/{rnd.randrange(1, BUILDS_PER_VERSION + 1)}"

        def get_image():
            st, _, body = h.request("GET", c.getimage_path(random_build()))
            assert st == 200, body[:300]

        r["GetImage ms"] = med_ms(get_image, n)

        def get_image_by(version_arn):
            def call():
                name = name_of(rnd.randrange(names))
                st, _, body = h.request("GET", c.getimage_path(f"{prefix}{name}/{version_arn}"))
                assert st == 200, body[:300]
            return call

        # Version and wildcard ARNs resolve to the newest AVAILABLE build of the name.
        r["GetImage version ARN ms"] = med_ms(get_image_by("1.0.0"), n)
        r["GetImage x.x.x ARN ms"] = med_ms(get_image_by("x.x.x"), n)

        def list_images(token=None, max_results=None):
            params = {}
            if token:
                params["nextToken"] = token
            if max_results:
                params["maxResults"] = max_results
            return h.call("ListImages", params)

        first = list_images()
        assert len(first["imageVersionList"]) == 25, first
        r["ListImages first page ms"] = med_ms(list_images, n)
        token = None
        for _ in range(49):
            token = list_images(token)["nextToken"]
        page50 = list_images(token)
        assert len(page50["imageVersionList"]) == 25
        r["ListImages page 50 ms"] = med_ms(lambda: list_images(token), n)

        total_versions = names * VERSIONS_PER_NAME
        t = time.perf_counter()
        mid, walked = None, 0
        while walked < total_versions // 2:
            mid = list_images(mid, 100)["nextToken"]
            walked += 100
        r["walk to middle s"] = time.perf_counter() - t
        midpage = list_images(mid)
        assert len(midpage["imageVersionList"]) == 25, midpage
        r["ListImages middle page ms"] = med_ms(lambda: list_images(mid), n)
        r["middle entry"] = midpage["imageVersionList"][0]["arn"].split(":image/")[1]

        def libv():
            ver = ".".join(map(str, version_of(rnd.randrange(VERSIONS_PER_NAME))))
            out = h.call("ListImageBuildVersions", {"imageVersionArn": f"{prefix}{name_of(rnd.randrange(names))}/{ver}"})
            assert len(out["imageSummaryList"]) == BUILDS_PER_VERSION, out

        r["ListImageBuildVersions ms"] = med_ms(libv, n)

        def create():
            h.call("CreateImage", {**fixtures, "clientToken": str(uuid.uuid4())})

        r["CreateImage ms"] = med_ms(create, n)
        h.close()
        r["RSS MiB"] = c.rss_mb(srv.pid)
    finally:
        srv.stop()
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000", help="comma-separated image counts, ascending (default 10000,100000)")
    p.add_argument("--n", type=int, default=50, help="calls per latency median")
    p.add_argument("--data-dir", help="seed here and keep it (default: a temporary directory); "
                                      "an existing store seeded by this script is reused")
    p.add_argument("--source", metavar="DIR", help="serve the kiln package in DIR (another checkout) instead")
    args = p.parse_args()
    source = c.parse_variants([f"x={args.source}"])[1][1] if args.source else None
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if sizes[0] < 10_000:
        p.error("sizes must be at least 10000 (page 50 of ListImages needs 1,250 entries: 6,250 images)")
    if c.cpu_count() > 1:
        os.sched_setaffinity(0, {1})

    print(f"# kiln at scale, {datetime.date.today()}, {c.machine()}")
    print(f"# sizes {sizes}; {PER_NAME} builds per name ({VERSIONS_PER_NAME} versions x {BUILDS_PER_VERSION} builds); "
          f"median of {args.n} calls; server on core 0")
    results = {}
    with c.tempdir("kiln-scale-", args.data_dir) as data_dir:
        found = existing(data_dir)
        if found:
            fixtures, seeded_names = found
            print(f"# reusing {data_dir}: {seeded_names:,} names already seeded")
        else:
            fixtures, seeded_names = seed_real(data_dir), 0
        for size in sizes:
            names = max(1, size // PER_NAME)
            if names < seeded_names:
                print(f"\n== {size:,} images: skipped, the store in {data_dir} already holds "
                      f"{seeded_names * PER_NAME:,} (use a fresh --data-dir)")
                continue
            secs = bulk_seed(data_dir, seeded_names, names) if names > seeded_names else 0.0
            seeded_names = max(seeded_names, names)
            db_mb = sum(os.path.getsize(os.path.join(data_dir, f)) for f in os.listdir(data_dir)
                        if f.startswith("kiln.db")) / 2**20
            print(f"\n== {size:,} images ({names:,} names, {names * VERSIONS_PER_NAME:,} versions): "
                  f"seeded in {secs:.1f}s, store {db_mb:,.0f} MiB", flush=True)
            r = measure(data_dir, names, args.n, fixtures, source)
            results[size] = r
            for k, v in r.items():
                print(f"  {k:28} {v:.3f}" if isinstance(v, float) else f"  {k:28} {v}", flush=True)

    sizes = [s for s in sizes if s in results]
    base, top = results[sizes[0]], results[sizes[-1]]
    keys = ["ListImages first page ms", "ListImages page 50 ms", "ListImages middle page ms",
            "ListImageBuildVersions ms", "GetImage ms", "GetImage version ARN ms", "GetImage x.x.x ARN ms", "CreateImage ms", "RSS MiB", "cold start s"]
    print()
    print(f"{'':28}" + "".join(f"{s:>12,}" for s in sizes) + f"{'ratio':>8}")
    for k in keys:
        print(f"{k:28}" + "".join(f"{results[s][k]:12.3f}" for s in sizes) + f"{top[k] / base[k]:8.2f}")
    pages = ["ListImages first page ms", "ListImages page 50 ms", "ListImages middle page ms"]
    page_ok = all(top[k] <= 2 * base[k] for k in pages)
    mem_ok = top["RSS MiB"] <= 1.25 * base["RSS MiB"]
    cold_ok = all(r["cold start s"] < 1.0 for r in results.values())
    print(f"\npage latency at {sizes[-1]:,} within 2x of {sizes[0]:,}: {c.verdict(page_ok)} "
          f"(worst ratio {max(top[k] / base[k] for k in pages):.2f})")
    print(f"memory flat (RSS at {sizes[-1]:,} <= 1.25x of {sizes[0]:,}): {c.verdict(mem_ok)} "
          f"(ratio {top['RSS MiB'] / base['RSS MiB']:.2f})")
    print(f"cold start < 1 s at every size: {c.verdict(cold_ok)} "
          f"(worst {max(r['cold start s'] for r in results.values()):.3f} s)")
    slow = [k for k in keys if k.endswith(" ms") and top[k] > 2 * base[k]]
    c.report_busy()
    print(f"(not a stated target) other latencies more than 2x slower at {sizes[-1]:,}: {', '.join(slow) or 'none'}")
    return 0 if page_ok and mem_ok and cold_ok else 1


if __name__ == "__main__":
    sys.exit(main())
