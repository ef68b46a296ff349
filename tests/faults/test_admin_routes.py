"""/_kiln/faults (list), /_kiln/faults/add, /_kiln/faults/clear: on the shared `kiln serve` and on
the ASGI app called in-process; bodies kiln cannot use answer 400 naming the field; the state-
changing routes are guarded like every other (web pages of other origins, the admin token)."""
from __future__ import annotations

import asyncio
import http.client
import json

import pytest

from kiln.core import Kiln
from kiln.http.app import make_app
from kiln.store import Store

AUTH = ("AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/imagebuilder/aws4_request, "
        "SignedHeaders=host, Signature=0")


class Asgi:
    """make_app(...) called as uvicorn would, on a fresh in-memory kiln."""

    def __init__(self, admin_token: str | None = None):
        self.kiln = Kiln(Store("sqlite://"), 0.0)
        self.app = make_app(self.kiln, admin_token=admin_token)

    def __call__(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        path, _, query = path.partition("?")
        sent: list = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": query.encode(),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
        asyncio.run(self.app(scope, receive, send))
        start, content = sent
        return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
                json.loads(content["body"]) if content["body"] else None)


class Socket:
    def __init__(self, server):
        self.server = server

    def __call__(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            conn.request(method, path, body=body or None, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(data) if data else None
        finally:
            conn.close()


@pytest.fixture(params=["asgi", "server"])
def app(request):
    if request.param == "asgi":
        yield Asgi()
        return
    server = request.getfixturevalue("shared_server")
    server.reset()  # no rules: the reset goes back to the server's start, which had none
    call = Socket(server)
    yield call
    call("POST", "/_kiln/faults/clear")


def post(app, path: str, doc) -> tuple:
    return app("POST", path, json.dumps(doc).encode() if not isinstance(doc, bytes) else doc,
               {"content-type": "application/json"})


def test_add_list_and_clear(app):
    assert app("GET", "/_kiln/faults")[::2] == (200, {"rules": []})
    status, _, added = post(app, "/_kiln/faults/add", {"operation": "ListImages", "error": "ServiceException",
                                                        "count": 2})
    assert status == 200
    (one,) = added["added"]
    assert one == {"id": one["id"], "operation": "ListImages", "error": "ServiceException", "count": 2,
                   "fired": 0, "remaining": 2}
    status, _, more = post(app, "/_kiln/faults/add", {"rules": [
        {"rate": 5}, {"operation": "*", "latency": 0.01, "probability": 0.5, "seed": 3}]})
    assert status == 200
    assert [r["id"] for r in more["added"]] != [one["id"]] * 2
    assert more["added"][0] == {"id": more["added"][0]["id"], "rate": 5, "error": "CallRateLimitExceededException",
                                "burst": 5.0, "fired": 0}
    listed = app("GET", "/_kiln/faults")[2]["rules"]
    assert [r["id"] for r in listed] == [one["id"]] + [r["id"] for r in more["added"]]

    status, _, body = app("POST", "/_kiln/ListImages", b"", {"authorization": AUTH})
    assert status == 404  # an admin path, not an operation: never failed

    status, headers, body = app("POST", "/ListImages", b"{}", {"authorization": AUTH})
    assert (status, headers["x-amzn-errortype"], body) == (500, "ServiceException",
                                                           {"message": "An internal error has occurred."})
    assert app("GET", "/_kiln/faults")[2]["rules"][0]["remaining"] == 1

    assert post(app, "/_kiln/faults/clear", {"id": one["id"]})[::2] == (200, {"cleared": 1})
    status, _, body = post(app, "/_kiln/faults/clear", {"id": one["id"]})
    assert (status, body) == (400, {"message": f"No fault rule has the id '{one['id']}'; GET /_kiln/faults lists them."})
    assert post(app, "/_kiln/faults/clear", {})[::2] == (200, {"cleared": 2})
    assert app("GET", "/_kiln/faults")[2] == {"rules": []}
    assert app("POST", "/ListImages", b"{}", {"authorization": AUTH})[0] == 200


def test_reset_clears_the_rules_added_since_start(app):
    post(app, "/_kiln/faults/add", {"error": "ServiceException"})
    assert post(app, "/_kiln/reset", b"")[::2] == (200, {"reset": True})
    assert app("GET", "/_kiln/faults")[2] == {"rules": []}
    assert app("POST", "/ListImages", b"{}", {"authorization": AUTH})[0] == 200


RULES = "operation, account, region, error, message, probability, count, rate, burst, latency, seed"


@pytest.mark.parametrize("body, message", [
    ({"count": "3"}, 'count must be a number, not "3".'),
    ({"wat": 1}, f"Unknown field 'wat': /_kiln/faults/add takes rules, {RULES}."),
    (b"[1]", "the request body must be a JSON object"),
    ({}, f"Give a rule (its fields: {RULES}) or rules."),
    ({"operation": "GetImage"}, "A rule needs error, rate or latency: what to do to the calls it matches."),
    ({"operation": "GetImages", "error": "ServiceException"},
     'operation must be an Image Builder operation such as GetImage, or "*" for every operation, not "GetImages" '
     "(did you mean GetImage?)."),
    ({"error": "Boom"}, "error must be one of CallRateLimitExceededException, ServiceUnavailableException, "
                        'ServiceException, ForbiddenException, TooManyRequestsException, not "Boom".'),
    ({"error": "ServiceException", "message": ""}, 'message must be a non-empty string, not "".'),
    ({"latency": 1, "message": "slow"}, "message goes with error (or rate): the error the rule answers with."),
    ({"error": "ServiceException", "probability": 2}, "probability must be between 0 and 1, not 2."),
    ({"error": "ServiceException", "count": 0},
     "count must be 1 or more (how many of the next matching calls fail), not 0."),
    ({"error": "ServiceException", "count": 1.5}, "count must be a whole number, not 1.5."),
    ({"rate": 0}, "rate must be above 0 (calls per second), not 0."),
    ({"rate": -2.5}, "rate must be above 0 (calls per second), not -2.5."),
    ({"error": "ServiceException", "burst": 3}, "burst goes with rate: how many calls at once the rate allows."),
    ({"rate": 1, "burst": 0.5}, "burst must be 1 or more, not 0.5."),
    ({"latency": -1}, "latency must be between 0 and 300 seconds, not -1."),
    ({"latency": 301}, "latency must be between 0 and 300 seconds, not 301."),
    ({"error": "ServiceException", "account": "123"}, 'account must be a 12-digit AWS account id, not "123".'),
    ({"error": "ServiceException", "region": "mars"}, 'region must be a Region such as us-east-1, not "mars".'),
    ({"error": "ServiceException", "seed": 0.5}, "seed must be a whole number, not 0.5."),
    ({"error": "ServiceException", "probability": True}, "probability must be a number, not true."),
    ({"rules": []}, "rules must hold at least one rule."),
    ({"rules": "all"}, 'rules must be a list, not "all".'),
    ({"rules": [5]}, f"rules[0] must be an object with some of the fields {RULES}, not 5."),
    ({"rules": [{"error": "ServiceException"}, {"eror": "x"}]},
     f"Unknown field 'eror' in rules[1]: a fault rule takes {RULES}."),
    ({"rules": [{"error": "ServiceException", "count": -1}]},
     "rules[0].count must be 1 or more (how many of the next matching calls fail), not -1."),
    ({"rules": [{"operation": "ListImages"}]}, "rules[0] needs error, rate or latency: what to do to the calls it "
                                               "matches."),
    ({"rules": [{"latency": 1}], "error": "ServiceException"},
     "Give one rule's fields or rules (a list of rules), not both: error would go inside a rule."),
])
def test_a_body_kiln_cannot_use_is_refused_naming_the_field(app, body, message):
    status, _, answer = post(app, "/_kiln/faults/add", body)
    assert (status, answer) == (400, {"message": message})
    assert app("GET", "/_kiln/faults")[2] == {"rules": []}  # nothing half-added


def test_clear_takes_only_an_id(app):
    status, _, body = post(app, "/_kiln/faults/clear", {"id": 7})
    assert (status, body) == (400, {"message": "id must be a string, not 7."})


@pytest.mark.parametrize("method, path, allowed", [
    ("POST", "/_kiln/faults", "GET"), ("GET", "/_kiln/faults/add", "POST"), ("DELETE", "/_kiln/faults/clear", "POST"),
])
def test_wrong_method(app, method, path, allowed):
    status, headers, _ = app(method, path)
    assert (status, headers["allow"]) == (405, allowed)


def test_web_pages_of_other_origins_may_not_set_rules(app):
    for path in ("/_kiln/faults/add", "/_kiln/faults/clear"):
        status, _, body = app("POST", path, b'{"error": "ServiceException"}',
                              {"origin": "http://evil.example", "content-type": "text/plain"})
        assert status == 403 and "refuses requests from web pages of other origins" in body["message"]
    assert app("GET", "/_kiln/faults", b"", {"origin": "http://evil.example"})[0] == 200  # reading stays open
    assert app("GET", "/_kiln/faults")[2] == {"rules": []}


def test_with_an_admin_token_setting_rules_needs_it():
    app = Asgi(admin_token="s3cret")
    body = b'{"error": "ServiceException"}'
    assert app("POST", "/_kiln/faults/add", body)[0] == 401
    assert app("POST", "/_kiln/faults/add", body, {"authorization": "Bearer wrong"})[0] == 403
    assert app("POST", "/_kiln/faults/add", body, {"authorization": "Bearer s3cret"})[0] == 200
    assert app("POST", "/_kiln/faults/clear", b"", {"x-kiln-admin-token": "wrong"})[0] == 403
    assert app("GET", "/_kiln/faults")[0] == 200
    assert app("POST", "/_kiln/faults/clear", b"", {"x-kiln-admin-token": "s3cret"})[::2] == (200, {"cleared": 1})
