"""CreateImage in-process (`Kiln.handle`, no HTTP, no client library) on PostgreSQL and on a
SQLite file, one call at a time, from the benchmarks' usual fixtures (bench/_common.py:
create_fixtures; with a distribution configuration): median wall time and kiln's CPU per
call. With --trace, the statements one CreateImage sends to PostgreSQL, in order.

What it tells you: how much of a PostgreSQL write is kiln's own CPU and how much is
waiting on the server, without HTTP in between (docs/performance.md, third pass). Not
judged. PostgreSQL server: KILN_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
from postgres import SERVER  # noqa: E402

from kiln.core import Kiln  # noqa: E402
from kiln.store import Store  # noqa: E402


def create(kiln, fx: dict) -> None:
    c.handle(kiln, "CreateImage", {**fx, "clientToken": str(uuid.uuid4())})


def measure(url: str, n: int) -> tuple[float, float]:
    kiln = Kiln(Store(url), seconds_per_state=0.0)
    try:
        fx = c.create_fixtures(kiln)
        for _ in range(50):
            create(kiln, fx)
        times = []
        cpu = time.process_time()
        for _ in range(n):
            t = time.perf_counter()
            create(kiln, fx)
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1e3, (time.process_time() - cpu) / n * 1e3
    finally:
        kiln.store.close()


def trace(url: str) -> list[str]:
    import psycopg

    sent: list[str] = []
    execute = psycopg.Connection.execute

    def traced(self, query, params=None, **kw):
        sent.append(bytes(query).decode() if isinstance(query, bytes) else str(query))
        return execute(self, query, params, **kw)

    kiln = Kiln(Store(url), seconds_per_state=0.0)
    try:
        fx = c.create_fixtures(kiln)
        create(kiln, fx)
        psycopg.Connection.execute = traced
        try:
            create(kiln, fx)
        finally:
            psycopg.Connection.execute = execute
    finally:
        kiln.store.close()
    return sent


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=400)
    p.add_argument("--trace", action="store_true", help="print the statements of one CreateImage")
    args = p.parse_args()
    import psycopg

    db = f"kiln_inproc_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(SERVER, autocommit=True)
    admin.execute(f'CREATE DATABASE "{db}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + db
    try:
        if args.trace:
            for i, sql in enumerate(trace(url), 1):
                print(f"{i:2d}  {sql[:110]}")
            return
        with tempfile.TemporaryDirectory() as d:
            sqlite = measure(f"sqlite:///{d}/kiln.db", args.calls)
        pg = measure(url, args.calls)
        print(f"CreateImage in-process, {args.calls} calls: PostgreSQL {pg[0]:.3f} ms (kiln CPU {pg[1]:.3f} ms), "
              f"SQLite {sqlite[0]:.3f} ms (CPU {sqlite[1]:.3f} ms); SQLite/PostgreSQL {sqlite[0] / pg[0]:.3f}")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
