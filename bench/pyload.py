"""A small HTTP/1.1 load generator, for machines without wrk: asyncio, raw
keep-alive sockets, N connections each sending one request at a time (as wrk
does), rotating through request paths. Prints JSON: rps, p50, p99 (ms), non2xx.

    python bench/pyload.py --port P --paths FILE [--seconds 10] [--connections 32]

It is slower than wrk (one Python process generating the load), so on a fast
server it can be the bottleneck: use it pinned to its own core, and prefer wrk
(`apt-get install wrk`) for the figures in docs/performance.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402


async def worker(port: int, requests: list[bytes], deadline: float, lat: list, codes: dict, start: int):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = start
    try:
        while True:
            t = time.perf_counter()
            if t >= deadline:
                return
            writer.write(requests[i % len(requests)])
            i += 1
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("the server closed the connection")
            code = int(status_line.split()[1])
            length, chunked = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    await reader.readexactly(size + 2)  # data and its CRLF
                    if size == 0:
                        break
            else:
                await reader.readexactly(length)
            lat.append(time.perf_counter() - t)
            codes[code] = codes.get(code, 0) + 1
    finally:
        writer.close()


async def run(port: int, paths: list[str], seconds: float, connections: int) -> dict:
    headers = "".join(f"{k}: {v}\r\n" for k, v in c.RAW_HEADERS.items())
    requests = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode() for p in paths]
    lat: list = []
    codes: dict = {}
    t0 = time.perf_counter()
    deadline = t0 + seconds
    rnd = random.Random(0)
    await asyncio.gather(*(worker(port, requests, deadline, lat, codes, rnd.randrange(len(requests)))
                           for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3 if lat else float("nan")  # noqa: E731
    return {"rps": len(lat) / elapsed, "p50": pick(0.50), "p99": pick(0.99),
            "non2xx": sum(n for code, n in codes.items() if not 200 <= code < 400), "socket_errors": ""}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--paths", required=True, help="file with one request path per line")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args()
    with open(args.paths) as f:
        paths = [line.strip() for line in f if line.strip()]
    coro = run(args.port, paths, args.seconds, args.connections)
    try:
        import uvloop

        result = uvloop.run(coro)
    except (ImportError, AttributeError):
        result = asyncio.run(coro)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
