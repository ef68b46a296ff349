"""Does the document cache pay? GetImage with it on (`--cache-mb 64`, the default) and off
(`--cache-mb 0`), on the same store, in one run, at each store size.

For each --sizes N: seeds N image builds (bench/_common.py: image_arns, kept in
--data-dir/N when given), serves the store twice at once (two `kiln serve` processes on
the same SQLite file, both pinned to core 0), and takes turns: wrk -t1 -c32 (core 1) for
--seconds against one, then the other, --rounds times in a new random order each round,
over every build's ARN in a shuffled order (each GetImage a different document: the
working set is the whole store). Prints req/s of each, the ratio on/off per round (median,
min, max) and both servers' RSS at the end.

Judged: the cache must never be slower than no cache (on/off >= 1.0, allowing the
run's noise), and RSS with it must stay within --cache-mb of RSS without it.
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402


def serve(data_dir: str, cache_mb: int) -> c.Server:
    port = c.free_port()
    cmd = c.pinned([*c.kiln_executable(), "serve", "--port", str(port), "--data-dir", data_dir,
                    "--build-timing", "immediate", "--cache-mb", str(cache_mb)], 0)
    return c.Server(cmd, port, "/_kiln/health", dict(os.environ, KILN_LOG_LEVEL="warning"))


def load(port: int, paths_file: str, paths: list[str], seconds: int) -> float:
    if c.have_wrk():
        return c.wrk(port, paths_file, seconds, 32, core=1)["rps"]
    return c.pyload(port, paths, seconds, 32, core=1)["rps"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--cache-mb", type=int, default=64)
    p.add_argument("--data-dir", help="keep each size's store in DIR/N (reused by later runs)")
    args = p.parse_args()
    print(f"# document cache on (--cache-mb {args.cache_mb}) vs off, {datetime.date.today()}, {c.machine()}")
    for n in (int(x) for x in args.sizes.split(",")):
        keep = os.path.join(args.data_dir, str(n)) if args.data_dir else None
        with c.tempdir(f"kiln-cache-{n}-", keep) as data_dir:
            arns = c.image_arns(data_dir, n)
            paths = [c.getimage_path(a) for a in arns]
            random.Random(n).shuffle(paths)
            paths_file = os.path.join(data_dir, "paths.txt")
            with open(paths_file, "w") as f:
                f.write("\n".join(paths) + "\n")
            servers = {"on": serve(data_dir, args.cache_mb).start(), "off": serve(data_dir, 0).start()}
            try:
                for s in servers.values():
                    load(s.port, paths_file, paths, 2)  # warm: the page cache, and the cache as far as it holds
                rps: dict = {"on": [], "off": []}
                for r in range(args.rounds):
                    order = list(servers)
                    random.shuffle(order)
                    for name in order:
                        rps[name].append(load(servers[name].port, paths_file, paths, args.seconds))
                    print(f"  {n} images, round {r + 1}: on {rps['on'][-1]:8.0f} req/s   off {rps['off'][-1]:8.0f} req/s",
                          flush=True)
                ratios = [a / b for a, b in zip(rps["on"], rps["off"])]
                rss = {name: c.rss_mb(s.pid) for name, s in servers.items()}
            finally:
                for s in servers.values():
                    s.stop()
            print(f"{n} images: on/off median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, "
                  f"max {max(ratios):.3f}); RSS on {rss['on']:.1f} MiB, off {rss['off']:.1f} MiB "
                  f"(+{rss['on'] - rss['off']:.1f}, budget {args.cache_mb})", flush=True)


if __name__ == "__main__":
    main()
