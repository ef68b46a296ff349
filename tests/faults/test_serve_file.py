"""`kiln serve --faults FILE` (KILN_FAULTS): the rules are in force from the start, checked before
the port is taken (a bad file is one line and exit 2), kept through /_kiln/reset, loaded by each
--workers process, and their refusals are in the request log."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from kiln.pytest_plugin import KilnControl, KilnProcess, admin_request, free_port
from tests.support.server import KilnServer

RULES_YAML = """\
# what the nightly job must survive
- operation: ListImages
  error: ServiceUnavailableException
  count: 2
- operation: ListComponents
  account: "111122223333"
  error: ForbiddenException
  message: "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: imagebuilder:ListComponents"
"""


def client(url: str, account: str = "123456789012", attempts: int = 1):
    return boto3.client("imagebuilder", region_name="us-east-1", endpoint_url=url, aws_access_key_id=account,
                        aws_secret_access_key="x",
                        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts}))


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_YAML)
    return path


def test_the_rules_of_the_file_are_in_force_from_the_start(rules_file):
    server = KilnProcess(extra_args=("--faults", str(rules_file), "--log-level", "info")).start()
    try:
        control = KilnControl(url=server.url)
        assert [(r["id"], r["operation"], r.get("remaining")) for r in control.faults()] == [
            ("f1", "ListImages", 2), ("f2", "ListComponents", None)]
        ib = client(server.url)
        with pytest.raises(ClientError) as info:
            ib.list_images()
        assert info.value.response["Error"]["Code"] == "ServiceUnavailableException"
        assert client(server.url, attempts=3).list_images()["ResponseMetadata"]["RetryAttempts"] == 1  # the second
        assert ib.list_images()["imageVersionList"] == []
        assert ib.list_components()["componentVersionList"] == []  # another account's rule
        with pytest.raises(ClientError) as info:
            client(server.url, "111122223333").list_components()
        assert info.value.response["Error"] == {
            "Code": "ForbiddenException",
            "Message": "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: imagebuilder:ListComponents"}

        # A reset puts the file's rules back, their counts fresh; added ones go.
        control.add_faults(error="ServiceException", operation="GetComponent")
        control.reset()
        assert [(r["operation"], r.get("remaining"), r["fired"]) for r in control.faults()] == [
            ("ListImages", 2, 0), ("ListComponents", None, 0)]
        log = server.log()
    finally:
        server.stop()
    assert "failure rules: 2 from " + str(rules_file) in log  # the banner
    assert "ListImages 503 ServiceUnavailableException" in log  # the request log


def test_rules_from_kiln_faults_in_json(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([{"operation": "ListImages", "rate": 0.001, "burst": 1}]))  # one call per 1000 s
    server = KilnServer("--in-memory", env={"KILN_FAULTS": str(path)}).start()
    try:
        ib = client(server.url)
        assert ib.list_images()["imageVersionList"] == []
        with pytest.raises(ClientError) as info:
            ib.list_images()
        assert (info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
            "CallRateLimitExceededException", 429)
    finally:
        server.stop()


def test_each_worker_loads_the_file(tmp_path, rules_file):
    server = KilnServer("--data-dir", str(tmp_path / "state"), "--workers", "2", "--faults", str(rules_file)).start()
    try:
        # Every connection, whichever worker takes it, meets the file's rules (counts are per worker).
        for _ in range(6):
            with pytest.raises(ClientError) as info:
                client(server.url, "111122223333").list_components()
            assert info.value.response["Error"]["Code"] == "ForbiddenException"
        answers = {admin_request(server.url, "GET", "/_kiln/faults")["rules"][1]["operation"] for _ in range(4)}
        assert answers == {"ListComponents"}
    finally:
        server.stop()


def _serve(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "kiln.cli", "serve", "--in-memory", "--port", str(free_port()),
                           *args], capture_output=True, text=True, env=clean, timeout=60)


@pytest.mark.parametrize("text, message", [
    ("- operation: ListImages\n  error: ServiceUnavailable\n",
     "{path}: rules[0].error must be one of CallRateLimitExceededException, ServiceUnavailableException, "
     'ServiceException, ForbiddenException, TooManyRequestsException, not "ServiceUnavailable"'),
    ("- operation: ListImage\n  latency: 1\n",
     '{path}: rules[0].operation must be an Image Builder operation such as GetImage, or "*" for every operation, '
     'not "ListImage" (did you mean ListImages?)'),
    ("- {rate: 5, burts: 10}\n",
     "{path}: Unknown field 'burts' in rules[0]: a fault rule takes operation, account, region, error, message, "
     "probability, count, rate, burst, latency, seed"),
    ("- operation: [GetImage\n", "{path} is neither JSON nor YAML at line 2: expected ',' or ']', but got '<stream end>'"),
])
def test_a_bad_file_stops_the_start_with_one_line(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    result = _serve("--faults", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"Error: cannot use the failure rules: {message.format(path=path)}; fix the file given with --faults "
        "(KILN_FAULTS)."]


def test_a_missing_file_stops_the_start(tmp_path):
    result = _serve(env={"KILN_FAULTS": str(tmp_path / "nope.yaml")})
    assert result.returncode == 2
    assert result.stderr.strip() == (f"Error: cannot use the failure rules: cannot read {tmp_path / 'nope.yaml'}: "
                                     "No such file or directory; fix the file given with --faults (KILN_FAULTS).")


def test_serve_help_names_the_option():
    result = subprocess.run([sys.executable, "-m", "kiln.cli", "serve", "--help"], capture_output=True, text=True)
    assert "--faults FILE" in result.stdout and "[KILN_FAULTS]" in result.stdout
