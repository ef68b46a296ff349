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

import uvicorn


def make_app(body: bytes):
    headers = [(b"content-type", b"application/json"), (b"x-amzn-requestid", str(uuid.uuid4()).encode())]
    health_headers = [(b"content-type", b"application/json")]
    health = b'{"status":"ok"}'
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
        await send(start)
        await send(done)

    return app


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--body", required=True, help="file holding the response body")
    args = p.parse_args()
    with open(args.body, "rb") as f:
        body = f.read()
    uvicorn.run(make_app(body), host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                http="httptools", loop="uvloop", lifespan="on")


if __name__ == "__main__":
    main()
