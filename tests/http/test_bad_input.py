"""Input that must never hurt: regions that are not regions, NUL characters, bodies too
large (kiln/identity.py, kiln/protocol/validator.py, kiln/http/app.py); on every backend."""
from __future__ import annotations

import http.client
import json

import pytest

from kiln.http.app import MAX_BODY_BYTES
from tests.support.raw import authorization


@pytest.mark.parametrize("region", ["..", "*", "us\teast-1", "us'east", "x" * 40, "US-EAST-1", "useast1"])
def test_a_region_not_of_aws_form_is_refused_as_aws_refuses_it(raw, region):
    r = raw.post("/ListComponents", {}, region=region)
    assert r.status == 403
    assert r.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert r.json == {"message": f"Credential should be scoped to a valid region, not '{region}'."}


@pytest.mark.parametrize("region", ["us-gov-west-1", "eu-central-2", "ap-southeast-7", "cn-north-1", "us-iso-east-1"])
def test_regions_of_aws_form_are_taken(raw, region):
    r = raw.put("/CreateInfrastructureConfiguration",
                {"name": "region-test", "instanceProfileName": "p", "clientToken": "t"}, region=region)
    assert r.status == 200
    assert f":imagebuilder:{region}:" in r.json["infrastructureConfigurationArn"]


@pytest.mark.parametrize("body, member", [
    ({"name": "nul-test", "instanceProfileName": "p", "clientToken": "\u0000"}, "clientToken"),
    ({"name": "nul\u0000test", "instanceProfileName": "p", "clientToken": "t"}, "name"),
    ({"name": "nul-test", "instanceProfileName": "p", "clientToken": "t", "tags": {"k": "\u0000"}}, "tags.k"),
])
def test_a_nul_character_is_refused_and_nothing_is_stored(raw, body, member):
    r = raw.put("/CreateInfrastructureConfiguration", body)
    assert r.status == 400
    assert r.headers["x-amzn-errortype"] == "InvalidParameterValueException"
    assert r.json == {"message": f"The value supplied for parameter '{member}' is not valid. "
                                 f"'{member}' must not contain the null character (U+0000)."}
    assert raw.post("/ListInfrastructureConfigurations", {}).json["infrastructureConfigurationSummaryList"] == []


def _send(server, headers: dict, chunks) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.putrequest("PUT", "/CreateInfrastructureConfiguration", skip_accept_encoding=True)
        for k, v in {"authorization": authorization(), "content-type": "application/json", **headers}.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            for chunk in chunks:
                conn.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # kiln answered and closed before the rest was sent
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(resp.read())
    finally:
        conn.close()


def test_a_body_larger_than_the_limit_is_refused_early(shared_server):
    huge = 100 << 20
    status, headers, doc = _send(shared_server, {"content-length": str(huge)}, [b"{" + b" " * 1024])
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")
    assert doc == {"message": f"The request body is larger than {MAX_BODY_BYTES} bytes (5 MiB), the most kiln accepts."}
    assert headers["x-amzn-requestid"]


def test_a_chunked_body_is_refused_once_it_passes_the_limit(shared_server):
    piece = b" " * (1 << 20)
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 6 + [b"0\r\n\r\n"]
    status, headers, doc = _send(shared_server, {"transfer-encoding": "chunked"}, chunks)
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")


def test_a_body_just_under_the_limit_gets_the_services_answer(shared_server):
    body = json.dumps({"name": "nul-test", "instanceProfileName": "p", "clientToken": "t",
                       "description": "x" * (MAX_BODY_BYTES - 200)}).encode()
    status, headers, doc = _send(shared_server, {"content-length": str(len(body))}, [body])
    assert (status, headers["x-amzn-errortype"]) == (400, "InvalidParameterValueException")


@pytest.fixture(scope="module")
def impatient_server():
    from tests.support.server import KilnServer

    server = KilnServer("--in-memory", "--request-timeout", "1").start()
    yield server
    server.stop()


def test_half_sent_headers_are_dropped_after_the_request_timeout(impatient_server):
    import socket
    import time

    held = []
    for _ in range(20):
        s = socket.create_connection((impatient_server.host, impatient_server.port), timeout=10)
        s.sendall(b"PUT /CreateComponent HTTP/1.1\r\nHost: kiln\r\nContent-Le")
        held.append(s)
    started = time.monotonic()
    for s in held:
        assert s.recv(100) == b""  # closed by kiln
        s.close()
    assert time.monotonic() - started < 8
    # The server still answers.
    assert impatient_server.healthy()


def test_a_body_that_stops_arriving_is_answered_408(impatient_server):
    conn = http.client.HTTPConnection(impatient_server.host, impatient_server.port, timeout=10)
    try:
        conn.putrequest("PUT", "/CreateComponent", skip_accept_encoding=True)
        conn.putheader("content-type", "application/json")
        conn.putheader("content-length", "100")
        conn.endheaders()
        conn.send(b'{"name": ')  # and then nothing
        resp = conn.getresponse()
        assert (resp.status, resp.getheader("x-amzn-ErrorType")) == (408, "RequestTimeoutException")
        assert resp.getheader("x-amzn-RequestId")
        assert json.loads(resp.read()) == {"message": "The request body did not arrive within 1 seconds."}
    finally:
        conn.close()


def test_a_request_that_is_not_http_gets_a_well_formed_error(shared_server):
    import socket

    s = socket.create_connection((shared_server.host, shared_server.port), timeout=10)
    try:
        s.sendall(b"PUT /CreateComponent HTTP/1.1\r\nHost: kiln\r\nBad Header\x01: x\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    finally:
        s.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert headers["x-amzn-errortype"] == "invalidrequestexception" and headers["x-amzn-requestid"]
    assert json.loads(body)["message"].startswith("The request is not valid HTTP: ")


def test_a_store_that_cannot_be_written_answers_500_and_says_why_in_the_log(caplog):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from kiln.core import Kiln
    from kiln.store import Store
    from tests.support.raw import Raw

    kiln = Kiln(Store("sqlite://"), 0.0)
    raw = Raw(kiln=kiln)
    try:
        assert raw.put("/CreateInfrastructureConfiguration",
                       {"name": "before-full", "instanceProfileName": "p", "clientToken": "a"}).status == 200
        real_run = kiln.store.run

        def full(*args, **kwargs):
            raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database or disk is full"))

        kiln.store.run = full
        r = raw.put("/CreateInfrastructureConfiguration",
                    {"name": "after-full", "instanceProfileName": "p", "clientToken": "b"})
        assert (r.status, r.headers["x-amzn-errortype"], r.json) == (
            500, "ServiceException", {"message": "An internal error has occurred."})
        assert ("cannot serve PUT /CreateInfrastructureConfiguration: the store refused it (database or disk is "
                "full); check the disk and the data directory's permissions. Reads still work.") in caplog.text
        assert "Traceback" not in caplog.text
        kiln.store.run = real_run
        listed = raw.post("/ListInfrastructureConfigurations", {}).json["infrastructureConfigurationSummaryList"]
        assert [i["name"] for i in listed] == ["before-full"]
    finally:
        kiln.store.close()
