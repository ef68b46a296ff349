"""kiln/api_faults.py on its own: the token bucket on a hand-driven clock, counts under
concurrent callers, rule files (JSON and YAML), a kiln's rules from KILN_FAULTS, reset."""
from __future__ import annotations

import threading

import pytest

from kiln import api_faults
from kiln.core import Kiln, Request
from kiln.store import Store


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def book(*rules: dict) -> tuple[api_faults.Book, Clock]:
    clock = Clock()
    return api_faults.Book([api_faults.parse_rule(r) for r in rules], clock=clock), clock


def throttled(made: api_faults.Book, n: int, op="GetImage", account="123456789012", region="us-east-1") -> list[bool]:
    return [made.decide(op, account, region) is not None for _ in range(n)]


def test_the_token_bucket_lets_a_burst_through_then_the_rate():
    made, clock = book({"rate": 2, "burst": 3})
    assert throttled(made, 5) == [False, False, False, True, True]
    clock.now += 0.5  # one token back
    assert throttled(made, 2) == [False, True]
    clock.now += 10  # full again, never above the burst
    assert throttled(made, 4) == [False, False, False, True]
    delay, rule = made.decide("GetImage", "123456789012", "us-east-1")
    assert (delay, rule.error, rule.message) == (0.0, "CallRateLimitExceededException", "Rate exceeded")


def test_each_account_region_and_operation_has_its_own_bucket():
    made, _ = book({"rate": 1})  # burst defaults to the rate (at least 1)
    assert throttled(made, 2) == [False, True]
    assert throttled(made, 2, op="ListImages") == [False, True]
    assert throttled(made, 2, account="111122223333") == [False, True]
    assert throttled(made, 2, region="eu-west-1") == [False, True]


def test_a_fraction_of_a_rate_and_its_burst():
    made, clock = book({"rate": 0.5})
    assert throttled(made, 2) == [False, True]
    clock.now += 1.9
    assert throttled(made, 1) == [True]
    clock.now += 0.2
    assert throttled(made, 2) == [False, True]


def test_a_count_holds_under_concurrent_callers():
    made, _ = book({"error": "ServiceException", "count": 500})
    fired = []

    def call():
        for _ in range(200):
            if made.decide("ListImages", "123456789012", "us-east-1") is not None:
                fired.append(1)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fired) == 500
    assert made.rules == []


def test_a_latency_rule_lets_the_call_through():
    made, _ = book({"operation": "GetImage", "latency": 0.25}, {"operation": "GetImage", "latency": 0.5, "count": 1})
    assert made.decide("GetImage", "123456789012", "us-east-1") == (0.75, None)
    assert made.decide("GetImage", "123456789012", "us-east-1") == (0.25, None)
    assert made.decide("ListImages", "123456789012", "us-east-1") is None


@pytest.mark.parametrize("name, text", [
    ("rules.yaml", "# failures for the nightly job\n- operation: GetImage\n  error: ServiceUnavailableException\n"
                   "  count: 3\n- rate: 5\n  burst: 10\n"),
    ("rules.json", '[{"operation": "GetImage", "error": "ServiceUnavailableException", "count": 3},\n'
                   '\t{"rate": 5, "burst": 10}]'),
    ("rules.yml", "rules:\n  - {operation: GetImage, error: ServiceUnavailableException, count: 3}\n"
                  "  - {rate: 5, burst: 10}\n"),
])
def test_rule_files(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    rules = api_faults.load_file(str(path))
    assert [(r.operation, r.error, r.remaining, r.rate, r.burst) for r in rules] == [
        ("GetImage", "ServiceUnavailableException", 3, None, 1.0),
        (None, "CallRateLimitExceededException", None, 5.0, 10.0)]


@pytest.mark.parametrize("text, message", [
    ("- operation: GetImage\n  error: [", "is neither JSON nor YAML at line 2"),
    ("operation: GetImage\n", "must hold a list of rules (or an object with only 'rules'), not an object with "
                              "'operation'."),
    ("- error: Boom\n", 'rules[0].error must be one of'),
    ("rules: 3\n", "rules must be a list of rules, not 3."),
])
def test_bad_rule_files(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(api_faults.RuleError) as info:
        api_faults.load_file(str(path))
    assert str(info.value).startswith(f"{path}") and message in str(info.value)


def test_an_empty_file_holds_no_rules(tmp_path):
    (tmp_path / "none.yaml").write_text("")
    assert api_faults.load_file(str(tmp_path / "none.yaml")) == []


def _list_images(k: Kiln):
    auth = ("AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/imagebuilder/aws4_request, "
            "SignedHeaders=host, Signature=0")
    return k.handle(Request("POST", "/ListImages", "", {"authorization": auth}, b"{}"))


def test_a_kiln_takes_its_first_rules_from_kiln_faults_and_goes_back_to_them_on_reset(tmp_path, monkeypatch):
    path = tmp_path / "rules.yaml"
    path.write_text("- operation: ListImages\n  error: ForbiddenException\n  count: 1\n")
    monkeypatch.setenv("KILN_FAULTS", str(path))
    k = Kiln(Store("sqlite://"), 0.0)
    assert [r["operation"] for r in api_faults.listed(k)] == ["ListImages"]
    assert _list_images(k).status == 403
    assert _list_images(k).status == 200
    assert k.active_faults is None
    from kiln import admin

    admin.reset(k)
    assert _list_images(k).status == 403  # the file's rule again, its count fresh
    k.store.close()


def test_a_kiln_without_kiln_faults_checks_one_attribute(monkeypatch):
    monkeypatch.delenv("KILN_FAULTS", raising=False)
    k = Kiln(Store("sqlite://"), 0.0)
    assert _list_images(k).status == 200
    assert k.__dict__["active_faults"] is None  # an instance attribute from the first request on
    k.store.close()


def test_a_bad_kiln_faults_file_is_logged_and_ignored(tmp_path, monkeypatch, caplog):
    path = tmp_path / "rules.yaml"
    path.write_text("- error: Boom\n")
    monkeypatch.setenv("KILN_FAULTS", str(path))
    k = Kiln(Store("sqlite://"), 0.0)
    with caplog.at_level("ERROR", logger="kiln"):
        assert _list_images(k).status == 200
    assert "ignoring the fault rules of KILN_FAULTS" in caplog.text
    k.store.close()


def test_the_mock_refuses_a_bad_rule_at_once():
    import kiln

    with pytest.raises(api_faults.RuleError, match=r'^faults\[1\]\.latency must be a number, not "1"\.$'):
        kiln.mock_imagebuilder(faults=[{"error": "ServiceException"}, {"latency": "1"}])


def test_the_mock_as_decorator_with_rules():
    import boto3
    from botocore.exceptions import ClientError

    import kiln

    @kiln.mock_imagebuilder(faults=[{"operation": "ListImages", "error": "ServiceException", "count": 1}])
    def run():
        ib = boto3.client("imagebuilder", region_name="us-east-1", aws_access_key_id="123456789012",
                          aws_secret_access_key="x", config=__import__("botocore").config.Config(
                              retries={"total_max_attempts": 1}))
        with pytest.raises(ClientError) as info:
            ib.list_images()
        return info.value.response["Error"]["Code"], ib.list_images()["imageVersionList"]

    assert run() == ("ServiceException", [])
    assert run() == ("ServiceException", [])  # each activation starts with the rules again


def test_faults_of_no_active_mock():
    import kiln.mock

    with pytest.raises(RuntimeError, match="No mock_imagebuilder"):
        kiln.mock.faults()
