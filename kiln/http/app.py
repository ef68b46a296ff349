"""The ASGI app: the AWS API at every path, kiln's own controls under /_kiln/.

A plain ASGI callable, no framework: each request is read whole, handed to
core.handle (synchronously: a request is a few indexed queries, cheaper than a
thread hop), and written back. GetImage of a build is first offered to
kiln/fast_path.py straight from the scope, before any of that is built.
"""
from __future__ import annotations

import orjson

from kiln import admin, fast_path
from kiln.core import Kiln, Request, Response, new_request_id

_JSON = (b"content-type", b"application/json")


def make_app(kiln: Kiln):
    get_image_fast = kiln.get_image_fast

    async def app(scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        # core reads one header, the SigV4 authorization (uvicorn gives names in lower case).
        authorization = None
        has_body = False
        for k, v in scope["headers"]:
            if k == b"authorization":
                authorization = v.decode("latin-1")
            elif k == b"transfer-encoding" or (k == b"content-length" and v != b"0"):
                has_body = True
        request_id = new_request_id()
        if scope["method"] == "GET" and not has_body and scope.get("raw_path") == fast_path.RAW_PATH:
            # The hottest call skips the generic request plumbing (kiln/fast_path.py).
            body = get_image_fast.body(scope["query_string"].decode("latin-1"), authorization, request_id)
            if body is not None:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [_JSON, (b"x-amzn-requestid", request_id.encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        if path.startswith("/_kiln/"):
            response = _admin(kiln, scope["method"], path, body)
        else:
            headers = {"authorization": authorization} if authorization is not None else {}
            request = Request(scope["method"], path, scope["query_string"].decode("latin-1"), headers, body)
            response = kiln.handle_general(request, request_id)  # the fast path has had its chance
        await send({
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()],
        })
        await send({"type": "http.response.body", "body": response.body})

    return app


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _json(status: int, doc: dict) -> Response:
    return Response(status, {"content-type": "application/json"}, orjson.dumps(doc))


def _admin(kiln: Kiln, method: str, path: str, body: bytes) -> Response:
    path = path.split("?", 1)[0].rstrip("/")
    try:
        args = orjson.loads(body) if body.strip() else {}
        if not isinstance(args, dict):
            raise admin.AdminError("the request body must be a JSON object")
        if (method, path) == ("GET", "/_kiln/health"):
            return _json(200, admin.health(kiln))
        if (method, path) == ("GET", "/_kiln/operations"):
            return _json(200, admin.operation_status())
        if (method, path) == ("POST", "/_kiln/reset"):
            return _json(200, admin.reset(kiln))
        if (method, path) == ("POST", "/_kiln/clock/advance"):
            return _json(200, admin.advance_clock(kiln, float(args.get("seconds", 0))))
        if (method, path) == ("POST", "/_kiln/builds/advance"):
            return _json(200, admin.advance_builds(kiln, args.get("imageBuildVersionArn"), bool(args.get("toEnd"))))
        if (method, path) == ("POST", "/_kiln/builds/fail"):
            return _json(200, admin.plan_failure(
                kiln, args.get("state", "BUILDING"), args.get("reason", ""), args.get("imageBuildVersionArn"),
                args.get("account"), args.get("region"),
            ))
    except (admin.AdminError, ValueError, TypeError) as e:
        return _json(400, {"message": str(e)})
    return _json(404, {"message": f"No kiln admin route at {method} {path}."})
