"""Where a served GetImage's time goes: `kiln serve` under wrk load, sampled by py-spy.

    pip install py-spy        # once
    python bench/profile_server.py --data-dir DIR [--seconds 10] [--variant NAME=SRC]

Serves DIR (a store seeded by getimage_throughput.py --data-dir DIR, or seeded
here) pinned to core 0, loads it with wrk -t1 -c32 on core 1 exactly as
getimage_throughput.py does, and samples the server with py-spy (non-blocking,
so the server is not paused). Each sample is charged to the first category
below whose frame is on its stack, most specific first; the share of samples
times the measured time per request gives µs per request. "uvicorn + event
loop" is everything outside kiln's ASGI app: HTTP parsing, the protocol, the
loop, writing the response; the floor app spends its whole time there.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

OUTSIDE = "uvicorn + event loop (outside kiln's app)"


_ENTRY = ("kiln/cli.py", "kiln/http/server.py", "kiln/__main__.py")


def _file(frame: str) -> str:
    return frame.rsplit("(", 1)[-1].rsplit(":", 1)[0]


def _func(frame: str) -> str:
    return frame.split(" (", 1)[0]


def classify(stack: list[str]) -> str:
    """Charge a sample (root first) by its innermost kiln frame and what that frame called."""
    # Every stack starts in kiln/cli.py and kiln/http/server.py (uvicorn.run): those
    # frames are the event loop's, not kiln's. Non-blocking sampling can lose the
    # frames between uvicorn and a kiln function, so any other kiln frame counts.
    kiln_at = [i for i, f in enumerate(stack) if _file(f).startswith("kiln/") and _file(f) not in _ENTRY]
    if not kiln_at:
        return OUTSIDE
    i = kiln_at[-1]
    func, path = _func(stack[i]), _file(stack[i])
    callee = stack[i + 1] if i + 1 < len(stack) else ""
    cfile, cfunc = _file(callee), _func(callee)
    if path == "kiln/http/app.py":
        return OUTSIDE if cfile.startswith("uvicorn/") else "ASGI app glue (headers, Request, send messages)"
    if path == "kiln/identity.py":
        return "identity parse (identify)"
    if path == "kiln/protocol/router.py":
        return "routing (router.route)"
    if path == "kiln/protocol/parser.py":
        return "query-string parse (parser.parse)"
    if path == "kiln/protocol/validator.py":
        return "validation (validator.validate)"
    if path == "kiln/protocol/serializer.py":
        return "shape filter + orjson.dumps (serializer.serialize)"
    if func in ("advance_due", "Store.has_due", "Store.apply_due"):
        return "advance_due probe"
    if func == "_row":
        return "row decode: orjson.loads of doc + timeline (_row)"
    if path == "kiln/store/repository.py":
        if func in ("Store.transaction", "_start") or cfile == "contextlib.py":
            return "transaction: pool checkout, BEGIN, COMMIT, pool return"
        if func == "Tx._scope" or (cfile.startswith("sqlalchemy/sql/") and not cfunc.startswith("ClauseElement._execute")):
            return "query: building the SQLAlchemy select (Tx.get / Tx._scope)"
        if cfile.startswith("sqlalchemy/") or cfile.startswith("sqlite3/"):
            return "query: execute + fetch (SQLAlchemy cache key, compiled cache, cursor, result)"
        return "store rest (Store.run, Tx)"
    if path.startswith("kiln/service/") or path.startswith("kiln/engine/"):
        return "handler rest (ARN parse, resolve, version refs)"
    if path == "kiln/core.py":
        if cfunc == "uuid4" or cfile == "uuid.py":
            return "request id (uuid4)"
        return "core.handle rest (dispatch, idempotency check, Response, headers)"
    return f"other kiln ({path})"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="a store seeded by getimage_throughput.py --data-dir (else one is seeded)")
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--rate", type=int, default=997, help="py-spy samples per second")
    p.add_argument("--variant", metavar="NAME=DIR", help="profile the kiln package in DIR instead of the installed one")
    p.add_argument("--outside", type=int, default=0, metavar="N",
                   help="also list the N functions most often on top of the stack outside kiln's app")
    args = p.parse_args()
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    if not c.have_wrk():
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    source = c.parse_variants([args.variant])[1][1] if args.variant else None

    with c.tempdir("kiln-prof-", args.data_dir) as data_dir:
        arns = c.image_arns(data_dir, args.images)
        random.Random(1).shuffle(arns)
        fd, paths_file = tempfile.mkstemp(suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(c.getimage_path(a) for a in arns) + "\n")
        raw = paths_file + ".spy"
        try:
            with c.kiln_server(data_dir, core=0, source=source) as srv:
                c.wrk(srv.port, paths_file, 2)  # warm-up
                c.wait_quiet()
                unloaded = c.wrk(srv.port, paths_file, args.seconds)
                spy_seconds = max(2, args.seconds - 2)
                spy = subprocess.Popen(c.pinned(["py-spy", "record", "--nonblocking", "-r", str(args.rate), "-d",
                                                 str(spy_seconds), "-f", "raw", "-o", raw, "-p", str(srv.pid)], 1),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
                loaded = c.wrk(srv.port, paths_file, spy_seconds)
                spy.wait()
        finally:
            os.unlink(paths_file)
        counts: collections.Counter = collections.Counter()
        leaves: collections.Counter = collections.Counter()
        with open(raw) as f:
            for line in f:
                stack, _, n = line.rstrip("\n").rpartition(" ")
                frames = stack.split(";")
                category = classify(frames)
                counts[category] += int(n)
                if category == OUTSIDE:
                    leaves[frames[-1]] += int(n)
        os.unlink(raw)

    total = sum(counts.values())
    us_per_req = 1e6 / unloaded["rps"]
    print(f"# kiln serve GetImage under wrk -t1 -c32, {c.machine()}; source: {source or 'installed kiln'}")
    print(f"# {unloaded['rps']:.0f} req/s unprofiled ({us_per_req:.0f} µs per request), "
          f"{loaded['rps']:.0f} req/s while sampled; {total} samples")
    print(f"{'share':>6} {'µs/req':>7}  category")
    for name, n in counts.most_common():
        print(f"{n / total * 100:5.1f}% {n / total * us_per_req:7.1f}  {name}")
    if args.outside:
        print("\ntop of stack outside kiln's app (share of all samples):")
        for frame, n in leaves.most_common(args.outside):
            print(f"{n / total * 100:5.1f}%  {frame}")
    c.report_busy()


if __name__ == "__main__":
    main()
