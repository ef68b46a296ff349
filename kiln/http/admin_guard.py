"""Who may call the /_kiln/ routes that change state (reset, the clock, build control,
publishing, seeding).

Two guards, both cheap and both only on those routes:

* Not a web page. A browser lets any site POST to any address without asking first
  when the body is text/plain or a form, so a page open in the user's browser could
  otherwise wipe a kiln on localhost. Browsers name the page's origin on every such
  request (Origin, and Sec-Fetch-Site in current ones); programs (curl, boto3, the
  pytest plugin) send neither. A request from another origin is refused; one from a
  page kiln itself serves (same host and port) is not.
* The token. A server others can reach (--host other than loopback) needs the admin
  token (generated and printed at start unless set with --admin-token or
  KILN_ADMIN_TOKEN), as `Authorization: Bearer <token>` or `X-Kiln-Admin-Token`.
"""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit


def _header(headers, name: bytes) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def refuse(path: str, headers, token: str | None) -> tuple[int, str, dict] | None:
    """(status, message, extra headers) when the request may not change state; None when it may."""
    site = (_header(headers, b"sec-fetch-site") or "").lower()
    origin = _header(headers, b"origin")
    host = (_header(headers, b"host") or "").lower()
    if site in ("cross-site", "same-site") or (
            origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host)):
        return 403, (f"{path} changes kiln's state and refuses requests from web pages of other origins "
                     f"(this one came from {origin or site}); call it from a program such as curl."), {}
    if token is None:
        return None
    given = _header(headers, b"x-kiln-admin-token")
    if given is None:
        authorization = _header(headers, b"authorization") or ""
        scheme, _, value = authorization.partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else None
    if given is None:
        return 401, (f"{path} changes kiln's state and needs kiln's admin token: send "
                     "'Authorization: Bearer <token>'. kiln prints the token when it starts; set it with "
                     "--admin-token or KILN_ADMIN_TOKEN."), {"www-authenticate": 'Bearer realm="kiln"'}
    if not hmac.compare_digest(given.encode(), token.encode()):
        return 403, f"The admin token sent to {path} is not this kiln's.", {}
    return None
