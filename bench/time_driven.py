"""A day of kiln's clock with a large store of time-driven work: how long it takes to apply.

1. Seeds, in-process (bench/_common.py's bulk helpers: the real handlers, many per
   transaction): --images builds of one recipe (all AVAILABLE) and --pipelines ENABLED
   scheduled pipelines (bench/scheduled_pipelines.py's mix of daily, weekday, weekly and
   rate(N days) schedules), plus two lifecycle policies over the images (daily runs: one
   deprecating builds older than 90 days, one deleting all but the newest --keep builds).
2. Moves the clock forward one day through `/_kiln/clock/advance`'s own function
   (kiln/admin.py: advance_clock), which applies every piece of work that fell due on
   the way, each at its own moment, and times it.

Prints the seconds the day took, how many builds the pipelines started, and what the
lifecycle runs did. Issue 14's figure to state: 10,000 pipelines and 100,000 images
(`--images 100000 --pipelines 10000`).
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
import scheduled_pipelines as sp  # noqa: E402

DAY = 86_400.0


def count(kiln, type_: str, status: str | None = None) -> int:
    import sqlalchemy as sa

    q = "SELECT count(*) FROM resources WHERE type = :t" + (" AND status = :s" if status else "")
    with kiln.store.engine.connect() as conn:
        return conn.execute(sa.text(q), {"t": type_, "s": status}).scalar()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--pipelines", type=int, default=1_000)
    p.add_argument("--keep", type=int, default=1_000, help="the COUNT policy keeps this many newest builds")
    p.add_argument("--data-dir")
    args = p.parse_args()
    from kiln import admin

    print(f"# a day of time-driven work, {datetime.date.today()}, {c.machine()}")
    with c.tempdir("kiln-time-", args.data_dir) as data_dir:
        kiln = c.make_kiln(data_dir)
        t = time.perf_counter()
        fixtures = c.create_fixtures(kiln)
        c.create_images_bulk(kiln, fixtures, args.images)
        sp.create_pipelines_bulk(kiln, fixtures, args.pipelines)
        sp.add_lifecycle_policies(kiln, fixtures["imageRecipeArn"], args.keep)
        print(f"seeded {args.images} images, {args.pipelines} pipelines, 2 lifecycle policies "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
        images_before = count(kiln, "image")
        t = time.perf_counter()
        admin.advance_clock(kiln, DAY)
        took = time.perf_counter() - t
        started = count(kiln, "image") - images_before
        deleted = count(kiln, "image", "DELETED")
        print(f"one day of clock advance applied in {took:.1f} s: {started} builds started by pipelines "
              f"(net of deletions), {deleted} builds marked DELETED by the lifecycle policies, "
              f"{count(kiln, 'lifecycle-execution')} lifecycle executions")
        kiln.store.close()


if __name__ == "__main__":
    main()
