"""What ratio to the floor a handler of a given CPU cost can reach on this stack.

    python bench/floor_budget.py [--spins 0,5,10,20,40,80] [--seconds 6]

Runs the floor app (bench/floor_app.py) with --spin-us N: before answering, each
request busy-waits N µs, as a handler costing N µs of CPU would. Loaded exactly
as getimage_throughput.py loads kiln (wrk -t1 -c32 on core 1, server on core 0).
Prints req/s, µs per request, and the ratio to the floor (N = 0): the budget
kiln's own per-request work must fit in for a target ratio. The spin loop runs
hot in the CPU's caches, so real code of the same in-process cost does worse.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--spins", default="0,5,10,20,40,80", help="µs of busy work per request, comma-separated")
    p.add_argument("--seconds", type=int, default=6)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--body-size", type=int, default=3500, help="response body bytes (a GetImage is ~3.5 KB)")
    args = p.parse_args()
    if not c.have_wrk():
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    spins = [float(s) for s in args.spins.split(",")]
    if 0.0 not in spins:
        spins.insert(0, 0.0)
    print(f"# floor with N µs of busy work per request, {datetime.date.today()}, {c.machine()}")
    fd, body_file = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "wb") as f:
        f.write(b'{"x":"' + b"a" * (args.body_size - 8) + b'"}')
    fd, paths_file = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(f"/GetImage?imageBuildVersionArn=x{i}" for i in range(1000)) + "\n")
    best: dict = {}
    try:
        for _ in range(args.rounds):
            for spin in spins:
                port = c.free_port()
                cmd = c.pinned([sys.executable, os.path.join(c.HERE, "floor_app.py"), "--port", str(port),
                                "--body", body_file, "--spin-us", str(spin)], 0)
                with c.Server(cmd, port, "/_kiln/health"):
                    c.wrk(port, paths_file, 2)
                    c.wait_quiet()
                    r = c.wrk(port, paths_file, args.seconds)
                best[spin] = max(best.get(spin, 0.0), r["rps"])
    finally:
        os.unlink(body_file)
        os.unlink(paths_file)
    print(f"{'work µs':>8} {'req/s':>9} {'µs/req':>8} {'ratio':>6}")
    for spin in spins:
        rps = best[spin]
        print(f"{spin:8.0f} {rps:9.0f} {1e6 / rps:8.1f} {rps / best[0.0]:6.2f}")
    c.report_busy()


if __name__ == "__main__":
    main()
