"""The kiln console: a web page at /_kiln/console/ to see and steer images, pipelines,
workflow steps and lifecycle policies (docs/console.md).

The page is a static app (Preact, built with Vite from console/ at the repository root
into kiln/console/static/, so no Node is needed at run time). Its JavaScript reads and
changes the store only through the Image Builder API itself, signed with SigV4 as any
SDK does, and through kiln's /_kiln/ routes for the clock, builds and failure rules:
no second way into the store. This module serves the files, read-only, and one small
document the API cannot answer: how this kiln is set up (config.json: whether requests
must be signed, whether the /_kiln/ routes need the admin token, kiln's clock).
"""
from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

import orjson

from kiln.core import Response

ROOT = "/_kiln/console"
STATIC = Path(__file__).parent / "static"

# Vite names the bundle's files after their content (assets/index-3f9c1a2b.js): a new build
# has new names, so they are cached for good; index.html and the rest are revalidated.
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# The page runs only its own code: no inline script, nothing from elsewhere, and no other
# site may frame it (its buttons reset the store).
_PAGE_SECURITY = {
    "content-security-policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
_NOSNIFF = {"x-content-type-options": "nosniff"}

_files: dict[str, tuple[bytes, str, str]] | None = None  # "/assets/x.js" -> (body, content type, etag)


def _load() -> dict[str, tuple[bytes, str, str]]:
    """The built files, read once: only these are served, so no path can reach outside them."""
    global _files
    if _files is None:
        files = {}
        if STATIC.is_dir():
            for f in sorted(STATIC.rglob("*")):
                if f.is_file():
                    body = f.read_bytes()
                    kind = _TYPES.get(f.suffix) or mimetypes.guess_type(f.name)[0] or "application/octet-stream"
                    files["/" + f.relative_to(STATIC).as_posix()] = (
                        body, kind, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        _files = files
    return _files


def owns(path: str) -> bool:
    """Whether `path` (without its query) is the console's."""
    return path == ROOT or path.startswith(ROOT + "/")


def wants_page(method: str, headers) -> bool:
    """A browser opening kiln's root (`GET /` asking for HTML): it is sent to the console.
    API clients never ask for HTML, so they keep the API's answer at `/`."""
    if method not in ("GET", "HEAD"):
        return False
    for k, v in headers:
        if k.lower() == b"accept":
            return b"text/html" in v
    return False


def _text(status: int, text: str, extra: dict | None = None) -> Response:
    return Response(status, {"content-type": "text/plain; charset=utf-8", **_NOSNIFF, **(extra or {})},
                    text.encode())


def serve(kiln, method: str, path: str, headers=(), admin_token: str | None = None, signed: bool = False) -> Response:
    """The console's answer to `method path`: a built file, config.json, or a redirect."""
    path = path.split("?", 1)[0]
    if not owns(path):  # GET / from a browser
        return Response(302, {"location": ROOT + "/", "content-type": "text/html; charset=utf-8",
                              "cache-control": "no-cache", **_NOSNIFF},
                        b'<!doctype html><title>kiln</title><a href="/_kiln/console/">The kiln console</a>\n')
    if method not in ("GET", "HEAD"):
        return _text(405, f"{path} answers GET and HEAD, not {method}.\n", {"allow": "GET, HEAD"})
    if path == ROOT:
        return Response(308, {"location": ROOT + "/", "cache-control": "no-cache", **_NOSNIFF}, b"")
    name = path[len(ROOT):]
    if name == "/config.json":
        response = Response(200, {"content-type": "application/json", "cache-control": "no-store", **_NOSNIFF},
                            orjson.dumps(config(kiln, admin_token, signed)))
    else:
        found = _load().get("/index.html" if name == "/" else name)
        if found is None:
            return _text(404, f"The kiln console has no file {name}.\n", {"cache-control": "no-cache"})
        body, kind, etag = found
        cache = _IMMUTABLE if name.startswith("/assets/") else _REVALIDATE
        extra = _PAGE_SECURITY if kind.startswith("text/html") else {}
        if etag in _header(headers, b"if-none-match"):
            return Response(304, {"etag": etag, "cache-control": cache, **_NOSNIFF}, b"")
        response = Response(200, {"content-type": kind, "cache-control": cache, "etag": etag, **_NOSNIFF, **extra},
                            body)
    if method == "HEAD":
        response.headers["content-length"] = str(len(response.body))
        response.body = b""
    return response


def _header(headers, name: bytes) -> str:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return ""


def config(kiln, admin_token: str | None, signed: bool) -> dict:
    """What the page needs to know about this kiln and the API cannot tell it."""
    from kiln import __version__

    frozen = kiln.clock.frozen
    now = kiln.clock.now()
    timing = kiln.seconds_per_state
    return {
        "version": __version__,
        # sigv4: every API request must be signed by a key of kiln's credentials file (--auth sigv4).
        "auth": "sigv4" if signed else "none",
        # The /_kiln/ routes that change state need the admin token (--admin-token, or a non-loopback --host).
        "adminToken": admin_token is not None,
        "defaultAccount": kiln.default_account,
        "defaultRegion": "us-east-1",
        "buildTiming": "manual" if timing is None else "immediate" if timing == 0 else timing,
        "clock": {"epochSeconds": now, "frozen": frozen is not None},
    }
