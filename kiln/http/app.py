"""The ASGI app: the AWS API at every path, kiln's own controls under /_kiln/.

A plain ASGI callable, no framework: each request is read whole, handed to
core.handle (synchronously on SQLite: a request is a few indexed queries, cheaper
than a thread hop; on a thread on PostgreSQL, see _offloader), and written back. GetImage of a build is first offered to
kiln/fast_path.py straight from the scope, before any of that is built.
"""
from __future__ import annotations

import asyncio
import datetime
import logging
import os
import re
from time import perf_counter

import orjson

from kiln import admin, api_faults, console, errors, fast_path, request_log
from kiln.http import admin_guard, sigv4
from kiln.core import Kiln, Request, Response, error_response, new_request_id
from kiln.identity import identify

_JSON = (b"content-type", b"application/json")
log = logging.getLogger("kiln")


def make_app(kiln: Kiln, on_shutdown=None, admin_token: str | None = None, keys=None, cors_origins=None):
    """The ASGI app serving `kiln`; `on_shutdown()` runs at the lifespan's shutdown (uvicorn's stop).
    With `admin_token`, the /_kiln/ routes that change state need it (kiln/http/admin_guard.py);
    with `keys` (access key id -> sigv4.Key), every API request must be signed by one.
    `cors_origins`: the web origins whose pages may call the API (see Cors), by default
    KILN_CORS_ORIGINS's. KILN_SEED names a `kiln export` file imported now if the store is empty."""
    get_image_fast = kiln.get_image_fast
    fast = keys is None  # the fast path trusts the Credential scope; signed mode checks every request in full
    offload = _offloader(kiln)
    cors = cors_policy(cors_origins)  # None: no web page may call the API (nothing is paid per request)
    if os.environ.get(SEED_VARIABLE):
        _seed(kiln.store, os.environ[SEED_VARIABLE])

    async def app(scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send, on_shutdown, kiln)
            return
        # core reads one header, the SigV4 authorization (uvicorn gives names in lower case).
        authorization = origin = None
        has_body = False
        for k, v in scope["headers"]:
            if k == b"authorization":
                authorization = v.decode("latin-1")
            elif k == b"transfer-encoding" or (k == b"content-length" and v != b"0"):
                has_body = True
            elif k == b"origin":  # a web page's request (CORS)
                origin = v
        request_id = new_request_id()
        logged = request_log.enabled()  # once per request; nothing more is paid when the log is off
        if logged:
            started = perf_counter()
        if (fast and scope["method"] == "GET" and not has_body and scope.get("raw_path") == fast_path.RAW_PATH
                and kiln.active_faults is None):  # with failure rules set, GetImage goes the general way
            # The hottest call skips the generic request plumbing (kiln/fast_path.py).
            query = scope["query_string"].decode("latin-1")
            body = (get_image_fast.body(query, authorization, request_id) if offload is None
                    else await offload(get_image_fast.body, query, authorization, request_id))
            if body is not None:
                headers = [_JSON, (b"x-amzn-requestid", request_id.encode())]
                if origin is not None and cors is not None:
                    headers += cors.headers_for(origin)
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                if logged:
                    request_log.write("GetImage", 200, None, started, request_id,
                                      identify(authorization, kiln.default_account).account)
                return
        # CORS (README "Browser SDKs"): preflights answered here, never signed; the API's answers
        # name the allowed origin. kiln's own /_kiln/ routes get neither: no page may call them.
        cors_headers = ()
        if not scope["path"].startswith("/_kiln/"):
            if scope["method"] == "OPTIONS":
                preflight = Cors.preflight(cors, scope["headers"])
                if preflight is not None:
                    await _send(send, preflight)
                    if logged:
                        request_log.write(scope["path"], preflight.status, None, started, "-", "-")
                    return
            if origin is not None and cors is not None:
                cors_headers = cors.headers_for(origin)
        try:
            body = await _read_body(scope, receive)
        except _Gone:  # the client left (or was timed out and answered) before its body arrived
            return
        if body is None:  # answered without reading the rest; the connection closes
            await _send(send, error_response(errors.RequestEntityTooLargeException(
                f"The request body is larger than {MAX_BODY_BYTES} bytes ({MAX_BODY_BYTES >> 20} MiB), "
                "the most kiln accepts."), request_id), close=True, extra=cors_headers)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        if console.owns(path) or (path == "/" and console.wants_page(scope["method"], scope["headers"])):
            # The console's page and files (kiln/console/); a browser opening / is sent there.
            response = console.serve(kiln, scope["method"], path, scope["headers"], admin_token, keys is not None)
            if logged:
                request_log.write(path, response.status, None, started, "-", "-")
        elif path.startswith("/_kiln/"):
            response = _admin(kiln, scope["method"], path, body, scope["headers"], admin_token)
            if logged:
                request_log.write(path.split("?", 1)[0], response.status, None, started, "-", "-")
        else:
            headers = {"authorization": authorization} if authorization is not None else {}
            query = scope["query_string"].decode("latin-1")
            try:
                who = None if keys is None else sigv4.verify(
                    scope["method"], path, query,
                    [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]], body, keys)
            except errors.ApiError as refused:
                response = error_response(refused, request_id)
                if logged:  # refused at the door: logged, with no account (the signature did not hold)
                    request_log.write(path.split("?", 1)[0], response.status, refused.code, started, request_id, "-")
            else:
                request = Request(scope["method"], path, query, headers, body, who)
                # Failures on demand (kiln/api_faults.py): a rule's latency is awaited here, off the loop's back.
                refused = None if kiln.active_faults is None else await api_faults.refusal_async(kiln, request, request_id)
                # (the fast path has had its chance)
                response = refused if refused is not None else (
                    kiln.handle_general(request, request_id) if offload is None
                    else await offload(kiln.handle_general, request, request_id))
        await _send(send, response, extra=cors_headers)

    return app


# Request threads per process on a networked store: enough to keep PostgreSQL busy
# while others wait on it, few enough for the pool (kiln/store/repository.py's
# pool_size: a write connection and a kept read connection per thread).
REQUEST_THREADS = 8


def _offloader(kiln: Kiln):
    """How a request's store work runs. SQLite answers in microseconds from memory, less
    than a hop to a thread, so its requests run on the event loop. A PostgreSQL request
    waits on the network for each statement: run on the loop, one request's round trips
    would stall every other connection of the worker, so it runs on a thread (psycopg
    releases the GIL while it waits) and the loop goes on reading other requests."""
    if kiln.store.dialect == "sqlite":
        return None
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=REQUEST_THREADS, thread_name_prefix="kiln-request")

    async def offload(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    return offload


async def _send(send, response: Response, close: bool = False, extra=()) -> None:
    headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
    headers.extend(extra)
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


# The largest request body kiln reads. Image Builder's largest inputs (a component's or a
# workflow's inline YAML, 16,000 characters each; a policy, 30,000) are far below it; it
# only stops a client from making kiln hold an unbounded body in memory.
MAX_BODY_BYTES = 5 << 20


class _Gone(Exception):
    """The connection closed before the request's body arrived in full."""


async def _read_body(scope, receive) -> bytes | None:
    """The whole body, or None once it is larger than MAX_BODY_BYTES (refused without
    reading the rest when Content-Length already says so)."""
    for k, v in scope["headers"]:
        if k == b"content-length":
            try:
                if int(v) > MAX_BODY_BYTES:
                    return None
            except ValueError:
                pass
            break
    chunks = []
    size = 0
    more = True
    while more:  # a body that stops arriving is the protocol's to answer (kiln/http/timeouts.py)
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


# How often a quiet server asks the engine whether anything fell due (a scheduled
# build, a build's next state): work is never more than this late without requests.
TICK_SECONDS = 1.0


async def _lifespan(receive, send, on_shutdown, kiln):
    ticker = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            ticker = asyncio.get_running_loop().create_task(_tick(kiln))
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if ticker is not None:
                ticker.cancel()
            if on_shutdown is not None:
                on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _tick(kiln) -> None:
    """The light timer: the same catch-up every request makes (one indexed probe when
    nothing is due), so a server nobody calls still builds on schedule. Not a second
    engine: several processes or replicas ticking at once apply each piece once."""
    while True:
        await asyncio.sleep(TICK_SECONDS)
        try:
            kiln.engine.catch_up(kiln.clock.now())
        except Exception:  # a store hiccup: the next tick (or request) tries again
            log.exception("catching up with due work failed")


def _json(status: int, doc: dict, headers: dict | None = None) -> Response:
    return Response(status, {"content-type": "application/json", **(headers or {})}, orjson.dumps(doc))


# Each admin route: its method and the body fields it takes (name -> JSON type, checked before use).
_NUMBER, _BOOLEAN, _STRING, _LIST = "a number", "a boolean", "a string", "a list"
_ROUTES: dict[str, tuple[str, dict[str, str]]] = {
    "/_kiln/health": ("GET", {}),
    "/_kiln/operations": ("GET", {}),
    "/_kiln/reset": ("POST", {}),
    "/_kiln/clock/advance": ("POST", {"seconds": _NUMBER}),
    "/_kiln/clock/freeze": ("POST", {"at": _STRING}),
    "/_kiln/clock/unfreeze": ("POST", {}),
    "/_kiln/catalog/publish": ("POST", {"arn": _STRING}),
    "/_kiln/lifecycle/run": ("POST", {"lifecyclePolicyArn": _STRING}),
    "/_kiln/builds/advance": ("POST", {"imageBuildVersionArn": _STRING, "toEnd": _BOOLEAN}),
    "/_kiln/builds/fail": ("POST", {"state": _STRING, "reason": _STRING, "imageBuildVersionArn": _STRING,
                                    "account": _STRING, "region": _STRING, "step": _STRING, "component": _STRING,
                                    "phase": _STRING, "componentStep": _STRING}),
    "/_kiln/images/inventory": ("POST", {"imageArn": _STRING, "packages": _LIST, "findings": _LIST}),
    "/_kiln/faults": ("GET", {}),
    "/_kiln/faults/add": ("POST", {"rules": _LIST, "operation": _STRING, "account": _STRING, "region": _STRING,
                                   "error": _STRING, "message": _STRING, "probability": _NUMBER, "count": _NUMBER,
                                   "rate": _NUMBER, "burst": _NUMBER, "latency": _NUMBER, "seed": _NUMBER}),
    "/_kiln/faults/clear": ("POST", {"id": _STRING}),
}
_IS = {
    _NUMBER: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    _BOOLEAN: lambda v: isinstance(v, bool),
    _STRING: lambda v: isinstance(v, str),
    _LIST: lambda v: isinstance(v, list),
}


def _fields(path: str, taken: dict[str, str], args: dict) -> dict:
    """The body's fields, each of the type the route takes; AdminError names the first wrong one.
    A field given as null counts as not given."""
    args = {k: v for k, v in args.items() if v is not None}
    for name, value in args.items():
        if name not in taken:
            takes = ", ".join(taken) if taken else "no fields"
            raise admin.AdminError(f"Unknown field {name!r}: {path} takes {takes}.")
        if not _IS[taken[name]](value):
            raise admin.AdminError(f"{name} must be {taken[name]}, not {orjson.dumps(value).decode()}.")
    return args


def iso_time(epoch_seconds: float) -> str:
    """An instant the way AWS writes one, e.g. 2026-11-30T18:00:00.000Z."""
    t = datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _admin(kiln: Kiln, method: str, path: str, body: bytes, headers=(), admin_token: str | None = None) -> Response:
    path = path.split("?", 1)[0].rstrip("/")
    route = _ROUTES.get(path)
    if route is None:
        return _json(404, {"message": f"No kiln admin route at {method} {path}."})
    allowed, taken = route
    if method != allowed:
        return _json(405, {"message": f"{path} answers {allowed}, not {method}."}, {"allow": allowed})
    if allowed != "GET":  # it changes state: not from a web page, and with the token if one is set
        refused = admin_guard.refuse(path, headers, admin_token)
        if refused is not None:
            status, message, extra = refused
            return _json(status, {"message": message}, extra)
    try:
        args = orjson.loads(body) if body.strip() else {}
        if not isinstance(args, dict):
            raise admin.AdminError("the request body must be a JSON object")
        args = _fields(path, taken, args)
        if path == "/_kiln/health":
            return _json(200, admin.health(kiln))
        if path == "/_kiln/operations":
            return _json(200, admin.operation_status())
        if path == "/_kiln/reset":
            return _json(200, admin.reset(kiln))
        if path == "/_kiln/clock/advance":
            if "seconds" not in args:
                raise admin.AdminError("seconds is required: how many seconds to move kiln's clock forward.")
            now = admin.advance_clock(kiln, args["seconds"])["now"]
            return _json(200, {"now": iso_time(now), "epochSeconds": now})
        if path == "/_kiln/clock/freeze":
            at = admin.parse_time(args["at"]) if "at" in args else None
            now = admin.freeze_clock(kiln, at)["now"]
            return _json(200, {"now": iso_time(now), "epochSeconds": now})
        if path == "/_kiln/clock/unfreeze":
            now = admin.unfreeze_clock(kiln)["now"]
            return _json(200, {"now": iso_time(now), "epochSeconds": now})
        if path == "/_kiln/catalog/publish":
            if "arn" not in args:
                raise admin.AdminError("arn is required: the build ARN of the new version, e.g. "
                                       "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/2027.1.5/1.")
            return _json(200, admin.publish_release(kiln, args["arn"]))
        if path == "/_kiln/images/inventory":
            if "imageArn" not in args:
                raise admin.AdminError("imageArn is required: the ARN of the image the packages and findings belong to.")
            return _json(200, admin.seed_inventory(kiln, args["imageArn"], args.get("packages"), args.get("findings")))
        if path == "/_kiln/lifecycle/run":
            if "lifecyclePolicyArn" not in args:
                raise admin.AdminError("lifecyclePolicyArn is required: the ARN of the lifecycle policy to run now.")
            return _json(200, admin.run_lifecycle_policy(kiln, args["lifecyclePolicyArn"]))
        if path.startswith("/_kiln/faults"):
            return _json(200, admin.faults(kiln, path, args))
        if path == "/_kiln/builds/advance":
            return _json(200, admin.advance_builds(kiln, args.get("imageBuildVersionArn"), args.get("toEnd", False)))
        return _json(200, admin.plan_failure(  # /_kiln/builds/fail
            kiln, args.get("state", "BUILDING"), args.get("reason", ""), args.get("imageBuildVersionArn"),
            args.get("account"), args.get("region"), args.get("step"), args.get("component"), args.get("phase"),
            args.get("componentStep"),
        ))
    except (admin.AdminError, ValueError, TypeError) as e:
        return _json(400, {"message": str(e)})


# -- CORS: the API called from web pages (README "Browser SDKs (CORS)") --------------------------------

CORS_VARIABLE = "KILN_CORS_ORIGINS"
# Where kiln listens on a loopback address and no origin is configured: pages served from this
# machine, on any port (a dev server's localhost:3000, another kiln's console).
LOOPBACK_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(\[[0-9a-f:.]+\]|[a-z0-9._~%!$&'()+,;=-]+)(:([0-9]{1,5}|\*))?")
# What a preflight allows: the API's methods, and (when the page asks for none) the headers the
# AWS SDK for JavaScript v3 sends; answers are readable for two hours (Chromium's most).
_ALLOW_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE"
_SDK_HEADERS = (b"authorization, content-type, x-amz-date, x-amz-user-agent, x-amz-content-sha256, "
                b"x-amz-security-token, amz-sdk-invocation-id, amz-sdk-request")
_MAX_AGE = b"7200"
# The response headers a page's script may read: the SDK reads the request id, the error type
# (rest-json puts the error's name only there) and Date (to correct a skewed clock).
_EXPOSE = (b"access-control-expose-headers",
           b"x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, x-amz-apigw-id, x-amzn-trace-id, date")


def parse_cors_origins(values) -> tuple[str, ...]:
    """Origins as given to --cors-origin or KILN_CORS_ORIGINS (space- or comma-separated),
    checked: `*` (any page), `none` (no page), `null`, or scheme://host[:port], where port may be
    `*` (any port, or none). ValueError names one kiln cannot use."""
    if isinstance(values, str):
        values = [values]
    origins = []
    for value in values:
        for origin in re.split(r"[\s,]+", value.strip()):
            if not origin:
                continue
            origin = origin.lower()
            if origin.endswith("/") and "://" in origin and origin.count("/") == 3:
                origin = origin[:-1]  # http://localhost:3000/ -> http://localhost:3000, as browsers send it
            if origin not in ("*", "none", "null") and _ORIGIN.fullmatch(origin) is None:
                raise ValueError(f"{origin!r} is not a web origin: use scheme://host[:port], without a path "
                                 "(e.g. https://app.example.com or http://localhost:3000; port * allows any port), "
                                 "* for any page or none for no page")
            origins.append(origin)
    if "none" in origins and len(origins) > 1:
        raise ValueError("none (no page may call the API) cannot be given with other origins")
    return tuple(origins)


def default_cors_origins(host: str) -> tuple[str, ...]:
    """The origins that may call the API when none are configured: pages on this machine
    when kiln listens on a loopback address, none otherwise."""
    from kiln.config import is_loopback

    return LOOPBACK_ORIGINS if is_loopback(host) else ("none",)


def cors_policy(origins=None):
    """The Cors for `origins`, or by default for KILN_CORS_ORIGINS; unset, for the address kiln
    listens on (KILN_HOST): LOOPBACK_ORIGINS on a loopback address, none on any other. None:
    no page may call the API."""
    if origins is None:
        configured = os.environ.get(CORS_VARIABLE)
        if configured is not None and configured.strip():
            origins = parse_cors_origins(configured)
        else:
            origins = default_cors_origins(os.environ.get("KILN_HOST", "127.0.0.1"))
    else:
        origins = parse_cors_origins(list(origins))
    origins = tuple(o for o in origins if o != "none")
    return Cors(origins) if origins else None


class Cors:
    """Which web origins may call the API, and the headers that tell a browser so."""

    def __init__(self, origins: tuple[str, ...]):
        self.origins = origins
        self.any = "*" in origins
        self.exact = frozenset(o.encode() for o in origins if not o.endswith(":*"))
        self.any_port = tuple(o[:-2].encode() for o in origins if o.endswith(":*"))  # b"http://localhost"

    def allowed(self, origin: bytes) -> bytes | None:
        """The Access-Control-Allow-Origin answer to a request from `origin`, or None."""
        if self.any:
            return b"*"
        low = origin.lower()
        if low in self.exact:
            return origin
        for base in self.any_port:
            if low.startswith(base) and (len(low) == len(base) or (low[len(base):len(base) + 1] == b":"
                                                                   and low[len(base) + 1:].isdigit())):
                return origin
        return None

    def headers_for(self, origin: bytes) -> list:
        """The CORS headers of an API answer to a request from `origin` (its Origin header):
        none unless that origin is allowed. (A request without Origin, from anything but a
        page, gets none, and the app does not call this: the fast path pays nothing.)"""
        allowed = self.allowed(origin)
        if allowed is None:
            return []
        return [(b"access-control-allow-origin", allowed), _EXPOSE, (b"vary", b"origin")]

    @staticmethod
    def preflight(cors: "Cors | None", request_headers) -> Response | None:
        """The answer to a CORS preflight (OPTIONS naming an Origin and Access-Control-Request-Method),
        or None for any other OPTIONS request (the API answers it as before). An origin that may not
        call the API is answered 403 without CORS headers: the browser then refuses the page's call."""
        origin = method = asked = None
        for k, v in request_headers:
            if k == b"origin":
                origin = v
            elif k == b"access-control-request-method":
                method = v
            elif k == b"access-control-request-headers":
                asked = v
        if origin is None or method is None:
            return None
        allowed = cors.allowed(origin) if cors is not None else None
        if allowed is None:
            shown = origin.decode("latin-1")
            return _json(403, {"message": f"kiln does not let web pages from {shown} call the API: start it with "
                                          f"--cors-origin {shown} (KILN_CORS_ORIGINS) to allow them."})
        headers = {"access-control-allow-origin": allowed.decode("latin-1"),
                   "access-control-allow-methods": _ALLOW_METHODS.decode(),
                   "access-control-allow-headers": (asked or _SDK_HEADERS).decode("latin-1"),
                   "access-control-max-age": _MAX_AGE.decode(),
                   "vary": "origin, access-control-request-method, access-control-request-headers"}
        return Response(204, headers, b"")


# -- kiln serve --seed FILE ----------------------------------------------------------------------------

SEED_VARIABLE = "KILN_SEED"


def _seed(store, path: str) -> None:
    """Import the file into the store if the store holds nothing yet (kiln/portable.py's seed)."""
    from kiln import portable

    try:
        done = portable.seed(store, path)
    except portable.PortableError as e:
        from kiln.http.server import StartupError

        raise StartupError(f"cannot seed the store: {e}; fix the file given with --seed (KILN_SEED).") from None
    if done.written is None:
        log.info("the store holds state already: --seed %s was not imported (it seeds an empty store only)", path)
    else:
        log.info("seeded the store from %s: %d resources; %s", path, done.written["resources"], done.clock)
