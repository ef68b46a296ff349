"""Each error a rule answers with, exactly as the service writes it (status, x-amzn-ErrorType,
x-amzn-RequestId, a body of only `message`, checked against the model by tests/support/shapes.py),
on any operation, in-process and against `kiln serve`; which calls a rule touches (operation,
account, Region, probability, count); latency; GetImage's fast path stepping aside."""
from __future__ import annotations

import random
import threading
import time
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

import kiln
import kiln.mock
from kiln import api_faults
from tests.service import builders
from tests.support.errors import raises

pytestmark = pytest.mark.parametrize("backend", ["inprocess", "server"], indirect=True)

ERRORS = [
    ("CallRateLimitExceededException", 429, "Rate exceeded"),
    ("ServiceUnavailableException", 503, "The service is unable to process your request at this time."),
    ("ServiceException", 500, "An internal error has occurred."),
    ("ForbiddenException", 403, "You are not authorized to perform the requested operation."),
    ("TooManyRequestsException", 429, "You have attempted too many requests for the specific operation."),
]


@pytest.mark.parametrize("code, status, message", ERRORS)
def test_each_error_as_the_service_answers_it(backend, control, code, status, message):
    control.add_faults(error=code)  # every operation
    r = backend.raw.post("/ListImages", {})  # checked against the model by Raw
    assert r.status == status
    assert r.headers["x-amzn-errortype"] == code
    assert r.headers["content-type"] == "application/json"
    assert len(r.headers["x-amzn-requestid"]) == 36
    assert r.json == {"message": message}
    r = backend.raw.get("/GetComponent", query={"componentBuildVersionArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"})
    assert (r.status, r.headers["x-amzn-errortype"], r.json) == (status, code, {"message": message})
    with raises(code, message, status) as info:
        backend.client().create_infrastructure_configuration(name="never", instanceProfileName="p")
    assert info.value.response["ResponseMetadata"]["RequestId"] == info.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_a_rule_of_its_own_words(backend, control):
    control.add_faults(operation="DeleteImage", error="ForbiddenException",
                       message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: imagebuilder:DeleteImage")
    with raises("ForbiddenException", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
                                      "imagebuilder:DeleteImage"):
        backend.client().delete_image(imageBuildVersionArn="arn:aws:imagebuilder:us-east-1:123456789012:image/x/1.0.0/1")


def test_the_next_three_calls_then_none(backend, control):
    control.add_faults(operation="ListComponents", error="ServiceException", count=3)
    ib = backend.client()
    codes = []
    for _ in range(5):
        try:
            ib.list_components()
            codes.append(200)
        except ClientError as e:
            codes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
    assert codes == [500, 500, 500, 200, 200]
    assert control.faults() == []


def test_a_rule_for_one_account_and_region(backend, control):
    control.add_faults(error="ForbiddenException", account="111122223333", region="eu-west-1")
    assert backend.client().list_images()["imageVersionList"] == []
    assert backend.client(access_key="111122223333").list_images()["imageVersionList"] == []
    assert backend.client(region="eu-west-1").list_images()["imageVersionList"] == []
    with raises("ForbiddenException", "You are not authorized to perform the requested operation."):
        backend.client(access_key="111122223333", region="eu-west-1").list_images()


def test_a_probability_with_a_seed_fails_the_same_calls_every_run(backend, control):
    control.add_faults(operation="ListImages", error="ServiceUnavailableException", probability=0.5, seed=42)
    ib = backend.client()
    seen = []
    for _ in range(20):
        try:
            ib.list_images()
            seen.append(False)
        except ClientError:
            seen.append(True)
    draws = random.Random(42)
    assert seen == [draws.random() < 0.5 for _ in range(20)]
    assert 0 < sum(seen) < 20
    assert control.faults()[0]["fired"] == sum(seen)


def test_rules_are_tried_in_order_and_latency_adds_up(backend, control):
    control.add_faults({"operation": "ListImages", "latency": 0.2},
                       {"operation": "ListImages", "error": "ServiceException", "latency": 0.2, "count": 1},
                       {"operation": "ListImages", "error": "ForbiddenException"})
    ib = backend.client()
    started = time.monotonic()
    with raises("ServiceException", "An internal error has occurred."):
        ib.list_images()
    assert time.monotonic() - started >= 0.4
    with raises("ForbiddenException", "You are not authorized to perform the requested operation."):
        ib.list_images()
    assert [r["fired"] for r in control.faults()] == [2, 1]


def test_latency_holds_one_call_and_not_the_others(backend, control):
    """Under `kiln serve` the latency is awaited: a call made meanwhile is answered at once."""
    control.add_faults(operation="ListImages", latency=1.5, count=1)
    held = {}

    def slow():
        started = time.monotonic()
        held["images"] = backend.client().list_images()["imageVersionList"]
        held["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert backend.client().list_components()["componentVersionList"] == []
    other = time.monotonic() - started
    still_held = thread.is_alive()
    thread.join(10)
    assert still_held and other < 1.0  # answered while the other call was held
    assert held["images"] == [] and held["seconds"] >= 1.5


def test_get_image_of_a_build_steps_off_its_fast_path_while_rules_are_set(backend, control):
    ib = backend.client()
    arn = builders.image(ib)
    query = "imageBuildVersionArn=" + quote(arn, safe="")
    assert backend.raw.get("/GetImage", query=query).status == 200
    control.add_faults(operation="GetImage", error="ServiceUnavailableException", count=1)
    r = backend.raw.get("/GetImage", query=query)
    assert (r.status, r.headers["x-amzn-errortype"]) == (503, "ServiceUnavailableException")
    assert backend.raw.get("/GetImage", query=query).json["image"]["arn"] == arn


def test_paths_no_operation_serves_are_not_failed(backend, control):
    control.add_faults(error="ServiceException")
    r = backend.raw.get("/NoSuchOperation")
    assert (r.status, r.headers["x-amzn-errortype"]) == (404, "UnknownOperationException")


def test_a_spent_rule_leaves_requests_one_attribute_check(backend, control):
    control.add_faults(operation="ListImages", error="ServiceException", count=1)
    if backend.kiln is not None:
        assert backend.kiln.active_faults is not None
    with pytest.raises(ClientError):
        backend.client().list_images()
    if backend.kiln is not None:
        assert backend.kiln.active_faults is None  # the book is empty: requests no longer look into it
    assert control.faults() == []


def test_the_request_log_records_the_refusal(backend, control, caplog):
    if backend.kiln is None:
        pytest.skip("the server's log is its own process's (tests/faults/test_serve_file.py reads it)")
    control.add_faults(operation="ListImages", error="ServiceUnavailableException", latency=0.05)
    with caplog.at_level("INFO", logger="kiln.requests"), pytest.raises(ClientError):
        backend.client().list_images()
    (record,) = [r for r in caplog.records if r.name == "kiln.requests"]
    assert (record.kiln_operation, record.kiln_status, record.kiln_error) == (
        "ListImages", 503, "ServiceUnavailableException")
    assert record.kiln_ms >= 50


def test_the_mock_api(backend):
    if backend.kiln is None:
        pytest.skip("in-process only")
    added = kiln.mock.faults().add(operation="ListImages", error="ForbiddenException", count=1)
    assert added == [{"id": added[0]["id"], "operation": "ListImages", "error": "ForbiddenException", "count": 1,
                      "fired": 0, "remaining": 1}]
    assert kiln.mock.faults(backend.kiln).list() == added
    with raises("ForbiddenException", "You are not authorized to perform the requested operation."):
        backend.client().list_images()
    kiln.mock.faults().add({"error": "ServiceException"}, {"latency": 0.01})
    assert kiln.mock.faults().clear() == 2
    with pytest.raises(api_faults.RuleError, match=r"^probability must be between 0 and 1, not 1.5.$"):
        kiln.mock.faults().add(error="ServiceException", probability=1.5)
    with pytest.raises(api_faults.RuleError, match=r"^No fault rule has the id 'f99'.$"):
        kiln.mock.faults().clear("f99")
