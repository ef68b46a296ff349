"""The ASGI app: kiln's own routes under /_kiln/, beside the AWS API.

Each test runs against the shared real server and against the ASGI app called
in-process (a fresh in-memory kiln), so both the socket and the app are covered.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import re

import pytest
from click.testing import CliRunner

from kiln.cli import main as kiln_cli
from tests.support.raw import Raw, RawResponse
from tests.support.shapes import check_response, model, operation_for


class AsgiClient:
    """Calls kiln.http.app.make_app(...) directly, as uvicorn would."""

    def __init__(self):
        from kiln.core import Kiln
        from kiln.http.app import make_app
        from kiln.store import Store

        self.kiln = Kiln(Store("sqlite://"), 0.0)
        self.app = make_app(self.kiln)

    def __call__(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> RawResponse:
        path, _, query = path.partition("?")
        chunks = [{"type": "http.request", "body": body[:3], "more_body": True},
                  {"type": "http.request", "body": body[3:], "more_body": False}]
        sent: list = []

        async def receive():
            return chunks.pop(0)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": query.encode(),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
        asyncio.run(self.app(scope, receive, send))
        start, content = sent
        out = {k.decode(): v.decode() for k, v in start["headers"]}
        if not path.startswith("/_kiln/"):
            problems = check_response(operation_for(method, path), start["status"], out, content["body"])
            assert not problems, "\n".join(problems)
        return RawResponse(start["status"], out, json.loads(content["body"]) if content["body"] else None)


class ServerClient:
    def __init__(self, server):
        self.raw = Raw(host=server.host, port=server.port)

    def __call__(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> RawResponse:
        path, _, query = path.partition("?")
        return self.raw(method, path, query=query or None, body=body or None, headers=headers, auth=False,
                        check=not path.startswith("/_kiln/"))


@pytest.fixture(params=["asgi", "server"])
def app(request):
    if request.param == "asgi":
        client = AsgiClient()
        yield client
        client.kiln.store.close()
    else:
        server = request.getfixturevalue("shared_server")
        server.reset()
        yield ServerClient(server)


def _create_infrastructure(app) -> RawResponse:
    body = json.dumps({"name": "before-reset", "instanceProfileName": "p", "clientToken": "t"}).encode()
    return app("PUT", "/CreateInfrastructureConfiguration", body, {"content-type": "application/json"})


def test_health_answers_ok(app):
    r = app("GET", "/_kiln/health")
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json == {"status": "ok", "service": "imagebuilder", "database": "sqlite"}


def test_health_with_trailing_slash_and_query(app):
    assert app("GET", "/_kiln/health/?verbose=1").json["status"] == "ok"


def test_reset_deletes_all_state(app):
    assert _create_infrastructure(app).status == 200
    r = app("POST", "/_kiln/reset")
    assert (r.status, r.json) == (200, {"reset": True})
    listed = app("POST", "/ListInfrastructureConfigurations", b"{}")
    assert listed.json["infrastructureConfigurationSummaryList"] == []
    # the name is free again
    assert _create_infrastructure(app).status == 200


def test_operations_lists_every_modeled_operation_once(app):
    r = app("GET", "/_kiln/operations")
    assert r.status == 200
    assert set(r.json) == {"implemented", "notImplemented"}
    assert sorted(r.json["implemented"] + r.json["notImplemented"]) == sorted(model().operation_names)
    assert r.json["implemented"] == sorted(r.json["implemented"])
    cli = CliRunner().invoke(kiln_cli, ["operations", "--missing"]).stdout.splitlines()
    assert [line.split()[-1] for line in cli] == r.json["notImplemented"]


@pytest.mark.parametrize("method, path", [("GET", "/_kiln/nothing"), ("POST", "/_kiln/clock"),
                                          ("POST", "/_kiln/builds")])
def test_unknown_admin_route_answers_404(app, method, path):
    r = app(method, path)
    assert r.status == 404
    assert r.json == {"message": f"No kiln admin route at {method} {path}."}


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/_kiln/reset", "POST"), ("DELETE", "/_kiln/health", "GET"), ("POST", "/_kiln/operations", "GET"),
    ("GET", "/_kiln/clock/advance", "POST"), ("PUT", "/_kiln/builds/advance", "POST"),
    ("GET", "/_kiln/builds/fail", "POST"),
])
def test_wrong_method_on_an_admin_route_answers_405_with_allow(app, method, path, allowed):
    r = app(method, path)
    assert r.status == 405
    assert r.headers["allow"] == allowed
    assert r.json == {"message": f"{path} answers {allowed}, not {method}."}


def test_clock_advance_answers_the_new_time_in_iso_8601_and_epoch_seconds(app):
    before = app("POST", "/_kiln/clock/advance", b'{"seconds": 0}').json
    after = app("POST", "/_kiln/clock/advance", b'{"seconds": 86400.5}')
    assert after.status == 200
    assert set(after.json) == {"now", "epochSeconds"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", after.json["now"])
    assert 86400.5 <= after.json["epochSeconds"] - before["epochSeconds"] < 86460
    as_time = datetime.datetime.strptime(after.json["now"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert abs(as_time.timestamp() - after.json["epochSeconds"]) < 0.001


@pytest.mark.parametrize("path, body, message", [
    ("/_kiln/clock/advance", b"{}", "seconds is required: how many seconds to move kiln's clock forward."),
    ("/_kiln/clock/advance", b'{"seconds": null}', "seconds is required: how many seconds to move kiln's clock forward."),
    ("/_kiln/clock/advance", b'{"seconds": "60"}', 'seconds must be a number, not "60".'),
    ("/_kiln/clock/advance", b'{"seconds": true}', "seconds must be a number, not true."),
    ("/_kiln/clock/advance", b'{"seconds": -5}', "seconds must be zero or more (kiln's clock only moves forward), not -5."),
    ("/_kiln/clock/advance", b'{"seconds": 5, "minutes": 1}', "Unknown field 'minutes': /_kiln/clock/advance takes seconds."),
    ("/_kiln/builds/advance", b'{"toEnd": "yes"}', 'toEnd must be a boolean, not "yes".'),
    ("/_kiln/builds/advance", b'{"imageBuildVersionArn": 7}', "imageBuildVersionArn must be a string, not 7."),
    ("/_kiln/builds/advance", b'{"arn": "x"}',
     "Unknown field 'arn': /_kiln/builds/advance takes imageBuildVersionArn, toEnd."),
    ("/_kiln/builds/fail", b'{"state": "MELTING", "reason": "r"}',
     "state must be one of PENDING, BUILDING, TESTING, DISTRIBUTING, INTEGRATING, not 'MELTING'."),
    ("/_kiln/builds/fail", b'{"state": ["TESTING"], "reason": "r"}', 'state must be a string, not ["TESTING"].'),
    ("/_kiln/builds/fail", b'{"state": "TESTING"}', "reason must be a non-empty string."),
    ("/_kiln/reset", b'{"everything": true}', "Unknown field 'everything': /_kiln/reset takes no fields."),
])
def test_bad_admin_body_answers_400_naming_the_field(app, path, body, message):
    r = app("POST", path, body)
    assert (r.status, r.json) == (400, {"message": message})


def test_admin_body_must_be_an_object(app):
    r = app("POST", "/_kiln/reset", b"[1]")
    assert (r.status, r.json) == (400, {"message": "the request body must be a JSON object"})


def test_admin_body_must_be_json(app):
    r = app("POST", "/_kiln/reset", b"{oops")
    assert r.status == 400
    assert set(r.json) == {"message"}


def test_api_is_served_beside_the_admin_routes(app):
    r = _create_infrastructure(app)
    assert r.status == 200
    assert r.headers["x-amzn-requestid"]
    assert r.json["infrastructureConfigurationArn"] == \
        "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/before-reset"


def test_api_error_through_the_app(app):
    r = app("GET", "/NotAnOperation")
    assert r.status == 404
    assert r.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert r.json == {"message": "No Image Builder operation is served at GET /NotAnOperation."}
