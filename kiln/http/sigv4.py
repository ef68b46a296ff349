"""Signed requests, on request (`kiln serve --auth sigv4`): every request's AWS Signature
Version 4 is checked against a credentials file, and the account is the one the file
gives the access key id.

The signature kiln expects is computed with botocore's own SigV4 signer (its canonical
path, query, headers and signing-key derivation), not a second implementation of the
algorithm; this module only reads what the client sent (the Authorization header or the
presigned X-Amz-* query parameters) and answers AWS's errors when it does not hold.

The credentials file is JSON, one entry per access key id:

    {"AKIAIOSFODNN7EXAMPLE": {"secretAccessKey": "wJalr...", "accountId": "111122223333"}}
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
import time
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from kiln.errors import (IncompleteSignatureException, InvalidSignatureException,
                         MissingAuthenticationTokenException, UnrecognizedClientException)
from kiln.identity import Identity

SERVICE = "imagebuilder"
# How far a request's date may be from kiln's wall clock, as AWS allows (5 minutes).
SKEW_SECONDS = 300
_STAMP = "%Y%m%dT%H%M%SZ"

_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS "
             "Secret Access Key and signing method. Consult the service documentation for details.")


class Key(NamedTuple):
    secret: str
    account: str


class CredentialsError(ValueError):
    """A credentials file kiln cannot use (the message says why)."""


def load_credentials(path: str) -> dict[str, Key]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise CredentialsError(f"cannot read the credentials file {path}: {e.strerror}") from None
    except ValueError as e:
        raise CredentialsError(f"the credentials file {path} is not JSON: {e}") from None
    if not isinstance(doc, dict) or not doc:
        raise CredentialsError(f"the credentials file {path} must be a JSON object of access key ids, "
                               '{"AKID": {"secretAccessKey": "...", "accountId": "111122223333"}}')
    keys = {}
    for key_id, entry in doc.items():
        secret = entry.get("secretAccessKey") if isinstance(entry, dict) else None
        account = entry.get("accountId") if isinstance(entry, dict) else None
        if not isinstance(secret, str) or not secret:
            raise CredentialsError(f"the credentials file {path}: {key_id} has no secretAccessKey")
        if not isinstance(account, str) or not re.fullmatch(r"[0-9]{12}", account):
            raise CredentialsError(f"the credentials file {path}: {key_id}'s accountId must be 12 digits")
        keys[key_id] = Key(secret, account)
    return keys


class _Signed(NamedTuple):
    key_id: str
    date: str          # yyyymmdd of the scope
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    stamp: str         # X-Amz-Date
    expires: int | None  # presigned only
    query: str         # the query string the signature covers


def _header(headers, name: str) -> str | None:
    values = [v for k, v in headers if k == name]
    return ",".join(values) if values else None


def _parse(headers, query: str) -> _Signed:
    authorization = _header(headers, "authorization")
    if authorization is not None and authorization.startswith("AWS4-HMAC-SHA256"):
        fields = dict(part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256"):].split(",")
                      if "=" in part)
        missing = [f"Authorization header requires '{name}' parameter." for name in ("Credential", "SignedHeaders",
                                                                                     "Signature") if name not in fields]
        stamp = _header(headers, "x-amz-date")
        if stamp is None:
            missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if missing:
            raise IncompleteSignatureException(" ".join(missing) + f" Authorization={authorization}")
        return _scope(fields["Credential"], fields["SignedHeaders"], fields["Signature"], stamp, None, query)
    params = parse_qsl(query, keep_blank_values=True)
    given = dict(params)
    if "X-Amz-Algorithm" in given or "X-Amz-Signature" in given:
        missing = [name for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
                   if name not in given]
        if missing:
            raise IncompleteSignatureException(
                "AWS query-string parameters must include " + ", ".join(f"'{m}'" for m in missing) + ".")
        try:
            expires = int(given.get("X-Amz-Expires", "900"))
        except ValueError:
            raise IncompleteSignatureException("X-Amz-Expires must be a number of seconds.") from None
        covered = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Signature="))
        return _scope(given["X-Amz-Credential"], given["X-Amz-SignedHeaders"], given["X-Amz-Signature"],
                      given["X-Amz-Date"], expires, covered)
    if authorization is not None:
        raise IncompleteSignatureException(
            f"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
            f"parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={authorization}")
    raise MissingAuthenticationTokenException("Missing Authentication Token")


def _scope(credential: str, signed_headers: str, signature: str, stamp: str, expires, query: str) -> _Signed:
    parts = unquote(credential).split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise IncompleteSignatureException(
            f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{unquote(credential)}'")
    key_id, date, region, service, _ = parts
    return _Signed(key_id, date, region, service, signed_headers.split(";"), signature, stamp, expires, query)


def verify(method: str, raw_path: str, query: str, headers, body: bytes, keys: dict[str, Key],
           now: float | None = None) -> Identity:
    """The caller's identity when the request's signature holds; else AWS's error for why not.
    `headers`: (lower-case name, value) pairs as received."""
    signed = _parse(headers, query)
    key = keys.get(signed.key_id)
    if key is None:
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    if signed.service != SERVICE:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SERVICE}'. ")
    try:
        when = datetime.datetime.strptime(signed.stamp, _STAMP).replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{signed.stamp}'. See "
            "http://en.wikipedia.org/wiki/ISO_8601") from None
    if signed.stamp[:8] != signed.date:
        raise InvalidSignatureException(f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                                        f"of date from HTTP: '{signed.date}' != '{signed.stamp[:8]}', from "
                                        f"ISO-8601 date '{signed.stamp}'.")
    now = time.time() if now is None else now
    _check_time(signed, when, now)
    claimed = _header(headers, "x-amz-content-sha256")
    if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
        raise InvalidSignatureException("The provided 'x-amz-content-sha256' header does not match what was computed.")
    if not hmac.compare_digest(_expected(method, raw_path, headers, body, signed, key), signed.signature):
        raise InvalidSignatureException(_MISMATCH)
    return Identity(key.account, signed.region)


def _stamp(t: float) -> str:
    return time.strftime(_STAMP, time.gmtime(t))


def _check_time(signed: _Signed, when: float, now: float) -> None:
    if signed.expires is not None:  # presigned: good from its date for X-Amz-Expires seconds
        if now > when + signed.expires:
            raise InvalidSignatureException(f"Signature expired: {signed.stamp} is now earlier than "
                                            f"{_stamp(now - signed.expires)} ({_stamp(now)} - {signed.expires} sec.)")
        if when > now + SKEW_SECONDS:
            raise InvalidSignatureException(f"Signature not yet current: {signed.stamp} is still later than "
                                            f"{_stamp(now + SKEW_SECONDS)} ({_stamp(now)} + 5 min.)")
        return
    if when < now - SKEW_SECONDS:
        raise InvalidSignatureException(f"Signature expired: {signed.stamp} is now earlier than "
                                        f"{_stamp(now - SKEW_SECONDS)} ({_stamp(now)} - 5 min.)")
    if when > now + SKEW_SECONDS:
        raise InvalidSignatureException(f"Signature not yet current: {signed.stamp} is still later than "
                                        f"{_stamp(now + SKEW_SECONDS)} ({_stamp(now)} + 5 min.)")


def _expected(method: str, raw_path: str, headers, body: bytes, signed: _Signed, key: Key) -> str:
    """The signature botocore's signer gives this request with this key."""
    signer = SigV4Auth(Credentials(signed.key_id, key.secret), signed.service, signed.region)
    host = _header(headers, "host") or ""
    request = AWSRequest(method=method, url=f"http://{host}{raw_path}" + (f"?{signed.query}" if signed.query else ""),
                         data=body)
    request.context["timestamp"] = signed.stamp
    chosen = HTTPHeaders()
    for name in signed.signed_headers:  # exactly the headers the client signed, as sent
        for k, v in headers:
            if k == name:
                chosen[name] = v
    payload = hashlib.sha256(body).hexdigest()
    canonical = "\n".join([
        method.upper(),
        signer._normalize_url_path(raw_path),
        signer.canonical_query_string(request),
        signer.canonical_headers(chosen) + "\n",
        ";".join(signed.signed_headers),
        payload,
    ])
    return signer.signature(signer.string_to_sign(request, canonical), request)

