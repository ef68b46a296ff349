"""Raw HTTP to kiln: any method, path, query, body and headers, for what boto3 refuses to send.

`Raw` sends over a real socket (http.client) to a `kiln serve`, or hands the same
request to an in-process `kiln.core.Kiln.handle`; either way it returns
`RawResponse(status, headers, json)` and checks the response against the model
(tests/support/shapes.py), recording violations in `violations` and raising.
"""
from __future__ import annotations

import http.client
import json
from typing import NamedTuple
from urllib.parse import quote, urlencode

from tests.support import shapes

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class RawResponse(NamedTuple):
    status: int
    headers: dict          # lower-case names
    json: object           # parsed body (None when empty)


class ShapeViolation(AssertionError):
    """A response that the model says cannot happen."""


def authorization(access_key: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> str:
    """A SigV4-looking Authorization header: kiln reads the credential scope, never the signature."""
    return (f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/imagebuilder/aws4_request, "
            f"SignedHeaders=host, Signature=0")


def tag_path(arn: str) -> str:
    """/tags/{resourceArn} as botocore sends it: the whole ARN percent-encoded, `/` as %2F."""
    return "/tags/" + quote(arn, safe="")


def query_string(query) -> str:
    if query is None:
        return ""
    if isinstance(query, str):
        return query
    pairs = list(query.items()) if isinstance(query, dict) else list(query)
    return urlencode(pairs, quote_via=quote, safe="")


def encode_body(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


class Raw:
    """Call kiln below boto3. Exactly one of `host`/`port` (a server) or `kiln` (in-process)."""

    def __init__(self, *, host: str | None = None, port: int | None = None, kiln=None, violations: list | None = None):
        self.host, self.port, self.kiln = host, port, kiln
        self.violations = violations if violations is not None else []

    def __call__(self, method: str, path: str, *, query=None, body=None, headers: dict | None = None,
                 access_key: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION, auth: bool = True,
                 check: bool = True) -> RawResponse:
        sent = {"content-type": "application/json"} if body is not None else {}
        if auth:
            sent["authorization"] = authorization(access_key, region)
        sent.update({k.lower(): v for k, v in (headers or {}).items()})
        qs = query_string(query)
        data = encode_body(body)
        if self.kiln is not None:
            status, got, raw_body = self._in_process(method, path, qs, sent, data)
        else:
            status, got, raw_body = self._http(method, path, qs, sent, data)
        doc = json.loads(raw_body) if raw_body.strip() else None
        if check and not path.startswith("/_kiln/"):
            problems = shapes.check_response(shapes.operation_for(method, path), status, got, raw_body)
            if problems:
                self.violations.extend(problems)
                raise ShapeViolation("\n".join(problems))
        return RawResponse(status, got, doc)

    def _in_process(self, method, path, qs, headers, data):
        from kiln.core import Request

        response = self.kiln.handle(Request(method, path, qs, dict(headers), data))
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.body

    def _http(self, method, path, qs, headers, data):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path + ("?" + qs if qs else ""), body=data or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    # -- shorthands ------------------------------------------------------
    def get(self, path: str, **kwargs) -> RawResponse:
        return self("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> RawResponse:
        return self("POST", path, body=body, **kwargs)

    def put(self, path: str, body=None, **kwargs) -> RawResponse:
        return self("PUT", path, body=body, **kwargs)

    def delete(self, path: str, **kwargs) -> RawResponse:
        return self("DELETE", path, **kwargs)
