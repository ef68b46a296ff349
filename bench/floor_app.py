"""The floor: a bare ASGI app on kiln's server stack (uvicorn + httptools + uvloop,
the same uvicorn.run arguments as kiln.http.server.serve) that answers every
request with one fixed response: the body in --body, and headers of the same
names and sizes as kiln's (content-type, x-amzn-requestid).

It reads the request body (as kiln's app does) and does nothing else: the
cost of HTTP on this stack, which no implementation of GetImage can beat.
"""
from __future__ import annotations

import argparse
import uuid
from time import perf_counter

import uvicorn


def make_app(body: bytes, spin_us: float = 0.0):
    headers = [(b"content-type", b"application/json"), (b"x-amzn-requestid", str(uuid.uuid4()).encode())]
    health_headers = [(b"content-type", b"application/json")]
    health = b'{"status":"ok"}'
    spin = spin_us / 1e6
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    done = {"type": "http.response.body", "body": body}

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        if scope["path"] == "/_kiln/health":
            await send({"type": "http.response.start", "status": 200, "headers": health_headers})
            await send({"type": "http.response.body", "body": health})
            return
        if spin:
            end = perf_counter() + spin
            while perf_counter() < end:
                pass
        await send(start)
        await send(done)

    return app


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--body", required=True, help="file holding the response body")
    p.add_argument("--spin-us", type=float, default=0.0,
                   help="calibration: busy-wait this long per request, as a handler costing that much CPU would")
    args = p.parse_args()
    with open(args.body, "rb") as f:
        body = f.read()
    uvicorn.run(make_app(body, args.spin_us), host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                http="httptools", loop="uvloop", lifespan="on")


if __name__ == "__main__":
    main()
