"""The /_kiln/ routes that change state: refused to web pages of other origins, guarded by
the admin token when one is set, and their inputs kept to what cannot break the server
(kiln/http/admin_guard.py, kiln/admin.py)."""
from __future__ import annotations

import json

import pytest

from kiln.core import Kiln
from kiln.http.app import make_app
from kiln.pytest_plugin import KilnControl
from kiln.store import Store
from tests.http.test_app import AsgiClient, _create_infrastructure, app  # noqa: F401 (app: the fixture)


class TokenClient(AsgiClient):
    def __init__(self, token: str):
        self.kiln = Kiln(Store("sqlite://"), 0.0)
        self.app = make_app(self.kiln, admin_token=token)


@pytest.fixture
def guarded():
    client = TokenClient("s3cret-token")
    yield client
    client.kiln.store.close()


def _kept(app) -> bool:
    return app("POST", "/ListInfrastructureConfigurations", b"{}").json["infrastructureConfigurationSummaryList"] != []


# --- web pages ---------------------------------------------------------------------------

@pytest.mark.parametrize("headers, came_from", [
    # What a page on another site sends with a form or a text/plain fetch (no preflight needed).
    ({"origin": "http://evil.example", "content-type": "text/plain"}, "http://evil.example"),
    ({"origin": "null", "content-type": "application/x-www-form-urlencoded"}, "null"),
    ({"sec-fetch-site": "cross-site", "content-type": "text/plain"}, "cross-site"),
    ({"origin": "http://127.0.0.1:1", "host": "127.0.0.1:4599"}, "http://127.0.0.1:1"),
])
def test_a_cross_origin_page_cannot_reset_the_store(app, headers, came_from):
    assert _create_infrastructure(app).status == 200
    r = app("POST", "/_kiln/reset", b"{}", headers)
    assert (r.status, r.json) == (403, {"message": (
        f"/_kiln/reset changes kiln's state and refuses requests from web pages of other origins "
        f"(this one came from {came_from}); call it from a program such as curl.")})
    assert _kept(app)


def test_a_cross_origin_page_cannot_move_the_clock_either(app):
    r = app("POST", "/_kiln/clock/advance", b'{"seconds": 60}', {"origin": "https://evil.example"})
    assert r.status == 403


def test_a_page_of_kiln_itself_and_read_only_routes_stay_open(app):
    same = app("POST", "/_kiln/clock/advance", b'{"seconds": 0}', {"origin": "http://kiln.test:4599",
                                                                   "host": "kiln.test:4599"})
    assert same.status == 200
    assert app("GET", "/_kiln/health", b"", {"origin": "http://evil.example"}).status == 200
    assert app("GET", "/_kiln/operations", b"", {"sec-fetch-site": "cross-site"}).status == 200


# --- the token -----------------------------------------------------------------------------

def test_with_a_token_state_changing_routes_need_it(guarded):
    assert _create_infrastructure(guarded).status == 200
    r = guarded("POST", "/_kiln/reset")
    assert (r.status, r.json) == (401, {"message": (
        "/_kiln/reset changes kiln's state and needs kiln's admin token: send 'Authorization: Bearer <token>'. "
        "kiln prints the token when it starts; set it with --admin-token or KILN_ADMIN_TOKEN.")})
    assert r.headers["www-authenticate"] == 'Bearer realm="kiln"'
    r = guarded("POST", "/_kiln/reset", b"", {"authorization": "Bearer wrong"})
    assert (r.status, r.json) == (403, {"message": "The admin token sent to /_kiln/reset is not this kiln's."})
    # A SigV4 Authorization header is not the token.
    r = guarded("POST", "/_kiln/reset", b"", {"authorization": "AWS4-HMAC-SHA256 Credential=x/y"})
    assert r.status == 401
    assert _kept(guarded)
    assert guarded("POST", "/_kiln/reset", b"", {"authorization": "Bearer s3cret-token"}).status == 200
    assert not _kept(guarded)


def test_the_token_also_goes_in_x_kiln_admin_token(guarded):
    r = guarded("POST", "/_kiln/clock/advance", b'{"seconds": 5}', {"x-kiln-admin-token": "s3cret-token"})
    assert r.status == 200


def test_with_a_token_reads_and_the_api_stay_open(guarded):
    assert guarded("GET", "/_kiln/health").status == 200
    assert guarded("GET", "/_kiln/operations").status == 200
    assert _create_infrastructure(guarded).status == 200


def test_a_wrong_method_answers_405_before_the_token_is_asked_for(guarded):
    r = guarded("GET", "/_kiln/reset")
    assert (r.status, r.headers["allow"]) == (405, "POST")


# --- inputs that would break the clock -------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    (b'{"seconds": 1e308}', "Advancing 1e+308 seconds would move kiln's clock past 3000-01-01T00:00:00Z, "
                            "as far as it goes; it stands at "),
    (b'{"seconds": 100000000000}', "Advancing 100000000000 seconds would move kiln's clock past "
                                   "3000-01-01T00:00:00Z, as far as it goes; it stands at "),
    (b'{"seconds": -1e308}', "seconds must be zero or more (kiln's clock only moves forward), not -1e+308."),
    (b'{"seconds": NaN}', "unexpected character"),
    (b'{"seconds": Infinity}', "unexpected character"),
    (b'{"seconds": 1e400}', "number is infinity"),
])
def test_clock_advance_refuses_what_would_break_the_clock_and_the_api_keeps_working(app, body, message):
    r = app("POST", "/_kiln/clock/advance", body)
    assert r.status == 400 and set(r.json) == {"message"}
    assert r.json["message"].startswith(message), r.json["message"]
    assert _create_infrastructure(app).status == 200


def test_freeze_refuses_a_time_past_the_clocks_limit(app):
    r = app("POST", "/_kiln/clock/freeze", json.dumps({"at": "9999-12-31T23:59:59Z"}).encode())
    assert r.status == 400
    assert r.json["message"].startswith("Freezing at that time would move kiln's clock past 3000-01-01T00:00:00Z")
    assert app("POST", "/_kiln/clock/freeze", b'{"at": "2999-12-31T00:00:00Z"}').status == 200
    assert _create_infrastructure(app).status == 200


def test_the_clock_goes_as_far_as_its_limit_and_no_further(app):
    assert app("POST", "/_kiln/clock/freeze", b'{"at": "2999-12-31T23:59:00Z"}').status == 200
    assert app("POST", "/_kiln/clock/advance", b'{"seconds": 60}').json["now"] == "3000-01-01T00:00:00.000Z"
    assert app("POST", "/_kiln/clock/advance", b'{"seconds": 1}').status == 400
    assert _create_infrastructure(app).status == 200


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), 10 ** 400, "60", True])
def test_in_process_advance_refuses_what_is_not_a_finite_number(seconds):
    from kiln.admin import AdminError

    kiln = Kiln(Store("sqlite://"), 0.0)
    try:
        with pytest.raises(AdminError, match="seconds must be a finite number"):
            KilnControl(kiln=kiln).advance_clock(seconds)
    finally:
        kiln.store.close()
