"""GetImage's fast path (kiln/fast_path.py) answers exactly what the general path
would, byte for byte, and declines every request it cannot answer that way."""
from __future__ import annotations

import re

import orjson
import pytest

import kiln
from kiln import admin
from kiln.core import Request
from tests.service.builders import ACCOUNT, image, infrastructure, recipe
from tests.support.backend import Backend
from tests.support.raw import authorization

BASE = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/demo"
ENCODED = {":": "%3A", "/": "%2F"}
REQUEST_ID = re.compile(rb'"requestId":"[0-9a-f-]{36}"')


def query(arn: str, encode: bool = True) -> str:
    if encode:
        arn = "".join(ENCODED.get(ch, ch) for ch in arn)
    return "imageBuildVersionArn=" + arn


def general(core, q: str, auth: str):
    """The general path's answer to the same request."""
    return core.handle_general(Request("GET", "/GetImage", q, {"authorization": auth}), "00000000-0000-4000-8000-000000000001")


def same_answer(core, q: str, auth: str = authorization()) -> bytes:
    fast = core.get_image_fast.body(q, auth, "00000000-0000-4000-8000-000000000000")
    assert fast is not None, f"the fast path declined {q}"
    assert core.get_image_fast.body(q, auth, "00000000-0000-4000-8000-000000000000") == fast  # kept or read again
    slow = general(core, q, auth)
    assert slow.status == 200, slow.body
    assert REQUEST_ID.sub(b'"requestId":""', fast) == REQUEST_ID.sub(b'"requestId":""', slow.body)
    return fast


@pytest.fixture(params=["memory", "file", "postgres"])
def manual(request, tmp_path):
    """A kiln with manual build timing, in memory or in a SQLite file (where the
    fast path reads through the document cache), or on PostgreSQL (where it reads
    the document, the clock and the earliest due time in one statement)."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path}/kiln.db" if request.param == "file" else "sqlite://"
    with kiln.mock_imagebuilder(build_timing="manual", database_url=url) as core:
        if request.param == "postgres":
            core.store.reset()
        assert (core.store.documents is not None) == (request.param == "file")
        backend = Backend("inprocess", kiln=core)
        yield core, backend.client()
        assert not backend.violations, backend.violations


def test_every_state_of_a_build_is_served_as_the_general_path_serves_it(manual):
    core, ib = manual
    arn = image(ib)
    states = []
    while True:
        body = same_answer(core, query(arn))
        states.append(orjson.loads(body)["image"]["state"]["status"])
        if states[-1] == "AVAILABLE":
            break
        admin.advance_builds(core, arn, False)
    assert states == ["PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]


def test_failed_and_cancelled_builds_and_unencoded_arns(manual):
    core, ib = manual
    infra = infrastructure(ib)
    failed = image(ib, recipe(ib, name="failing"), infra)
    admin.plan_failure(core, "BUILDING", "the build broke", failed)
    admin.advance_builds(core, failed, True)
    cancelled = image(ib, recipe(ib, name="cancelled"), infra)
    ib.cancel_image_creation(imageBuildVersionArn=cancelled, clientToken="t1")
    assert orjson.loads(same_answer(core, query(failed)))["image"]["state"]["status"] == "FAILED"
    assert orjson.loads(same_answer(core, query(cancelled, encode=False)))["image"]["state"]["status"] == "CANCELLED"


def test_a_build_of_many_digits_and_underscored_name(manual):
    core, ib = manual
    arn = image(ib, recipe(ib, name="my_demo", version="1024.2048.65536"))
    assert arn.endswith("image/my-demo/1024.2048.65536/1")
    same_answer(core, query(arn))


def test_declines_what_only_the_general_path_can_answer(manual):
    core, ib = manual
    arn = image(ib)
    aws = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/2025.1.1/1"
    declined = {
        "version ARN": query(f"{BASE}/1.0.0"),
        "wildcard ARN": query(f"{BASE}/x.x.x"),
        "AWS-owned ARN": query(aws),
        "leading zeros (the general path normalises them)": query(f"{BASE}/01.0.0/1"),
        "no such build": query(f"{BASE}/1.0.0/2"),
        "another account's ARN": query(arn.replace(ACCOUNT, "210987654321")),
        "another Region's ARN": query(arn.replace("us-east-1", "eu-west-1")),
        "other characters percent-encoded": query(arn).replace("demo", "%64emo"),
        "a second parameter": query(arn) + "&x=1",
        "plus for space": query(arn) + "+",
        "no parameter": "",
        "another parameter": "imageArn=" + arn,
        "an ARN that is not an image's": query(arn.replace(":image/", ":component/")),
    }
    for why, q in declined.items():
        assert core.get_image_fast.body(q, authorization(), "r") is None, why
    # Another caller: the build is not theirs to read fast (the general path says not found).
    assert core.get_image_fast.body(query(arn), authorization("210987654321"), "r") is None
    assert core.get_image_fast.body(query(arn), authorization(region="eu-west-1"), "r") is None
    # The general path answers the leading-zero form with the build.
    assert general(core, query(f"{BASE}/01.0.0/1"), authorization()).status == 200


@pytest.mark.parametrize("store", ["memory", "postgres"])
def test_a_due_transition_is_applied_by_the_general_path_first(store, request):
    url = request.getfixturevalue("postgres_url") if store == "postgres" else "sqlite://"
    with kiln.mock_imagebuilder(build_timing="5", database_url=url) as core:
        core.store.reset()
        ib = Backend("inprocess", kiln=core).client()
        arn = image(ib)
        # Within the first state nothing is due: the fast path serves PENDING.
        assert orjson.loads(same_answer(core, query(arn)))["image"]["state"]["status"] == "PENDING"
        core.clock.advance(6)
        assert core.get_image_fast.body(query(arn), authorization(), "r") is None
        # Through handle(), the general path applies the transition and answers.
        out = core.handle(Request("GET", "/GetImage", query(arn), {"authorization": authorization()}))
        assert orjson.loads(out.body)["image"]["state"]["status"] == "BUILDING"
        assert orjson.loads(same_answer(core, query(arn)))["image"]["state"]["status"] == "BUILDING"


def test_over_http_the_fast_answer_matches_the_general_one(shared_server):
    """Through `kiln serve`: the ASGI app's fast path (no `&`) against the general
    path (an ignored second parameter), same bytes but for the request id."""
    import http.client

    shared_server.reset()
    b = Backend("server", server=shared_server)
    arn = image(b.client())

    def get(q, body=None):
        conn = http.client.HTTPConnection(shared_server.host, shared_server.port, timeout=10)
        conn.request("GET", "/GetImage?" + q, body=body, headers={"Authorization": authorization()})
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    fast = get(query(arn))
    slow = get(query(arn) + "&unknown=1")
    with_body = get(query(arn), b"{}")  # a body to read: the general path answers
    for status, headers, body in (fast, slow, with_body):
        assert status == 200
        assert headers["content-type"] == "application/json"
        assert orjson.loads(body)["requestId"] == headers["x-amzn-requestid"]
    assert REQUEST_ID.sub(b"", fast[2]) == REQUEST_ID.sub(b"", slow[2]) == REQUEST_ID.sub(b"", with_body[2])


def test_a_store_error_on_the_fast_path_leaves_the_answer_to_the_general_path(manual):
    core, ib = manual
    arn = image(ib)

    def broken(*_a):
        raise RuntimeError("disk on fire")

    reader = "read_doc" if core.store.dialect == "sqlite" else "read_doc_with_time"
    core.store.__dict__[reader] = broken
    try:
        assert core.get_image_fast.body(query(arn), authorization(), "r") is None
        out = core.handle(Request("GET", "/GetImage", query(arn), {"authorization": authorization()}))
    finally:
        del core.store.__dict__[reader]
    assert out.status == 200
    assert orjson.loads(out.body)["image"]["arn"] == arn
