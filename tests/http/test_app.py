"""The ASGI app: kiln's own routes under /_kiln/, beside the AWS API.

Each test runs against the shared real server and against the ASGI app called
in-process (a fresh in-memory kiln), so both the socket and the app are covered.
"""
from __future__ import annotations

import asyncio
import json

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


@pytest.mark.parametrize("method, path", [("GET", "/_kiln/nothing"), ("GET", "/_kiln/reset"), ("DELETE", "/_kiln/health")])
def test_unknown_admin_route_answers_404(app, method, path):
    r = app(method, path)
    assert r.status == 404
    assert r.json == {"message": f"No kiln admin route at {method} {path}."}


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
