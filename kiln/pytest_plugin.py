"""pytest fixtures for testing your own Image Builder code against kiln.

Loaded automatically once kiln is installed (the `pytest11` entry point):

* ``kiln_server``        a fresh in-process kiln per test (``kiln.mock_imagebuilder``); the ``kiln.core.Kiln``.
* ``imagebuilder_client`` a boto3 Image Builder client answered by ``kiln_server``.
* ``kiln_url``           the URL of a real ``kiln serve`` (one per session, ``--in-memory``), emptied
                         before each test: for the AWS CLI, the JavaScript SDK, Terraform, raw HTTP...
* ``kiln_control``       advance kiln's clock, move builds on, make builds fail, reset. It drives
                         the server when the test uses ``kiln_url`` (and not ``kiln_server``),
                         otherwise the in-process kiln.

Failure rules (the service's throttles, outages and slowness on request, docs/faults.md): per test
with ``@pytest.mark.kiln(faults=[{"operation": "GetImage", "error": "ServiceUnavailableException",
"count": 2}])`` (in-process, and on the ``kiln_url`` server for the test), or ``kiln_control.add_faults``.

Build timing (how fast images move PENDING -> ... -> AVAILABLE) is "immediate" unless set:
per test with ``@pytest.mark.kiln(build_timing="manual")`` (in-process only), or for the
server with the ini option / flag ``kiln_build_timing`` (``--kiln-build-timing``).
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import pytest

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


def pytest_addoption(parser):
    parser.addini("kiln_build_timing", "build timing of the kiln_url server: immediate | manual | seconds per state",
                  default="immediate")
    parser.addoption("--kiln-build-timing", default=None,
                     help="build timing of the kiln_url server (overrides the kiln_build_timing ini option)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "kiln(build_timing='immediate', faults=[...]): settings for this test's in-process kiln "
                   "(kiln_server); faults (failure rules) also apply to the kiln_url server for the test"
    )


# ---------------------------------------------------------------------------
# A real server in a subprocess
# ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KilnProcess:
    """``python -m kiln.cli serve --in-memory`` on a free port; ``start()`` waits for /_kiln/health."""

    def __init__(self, build_timing: str = "immediate", extra_args: tuple[str, ...] = ()):
        self.build_timing = str(build_timing)
        self.extra_args = tuple(extra_args)
        self.host = "127.0.0.1"
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> "KilnProcess":
        env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
        for attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kiln.cli", "serve", "--host", self.host, "--port", str(self.port),
                 "--in-memory", "--build-timing", self.build_timing, *self.extra_args],
                stdout=self._log, stderr=subprocess.STDOUT, env=env,
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._healthy():
                    return self
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.stop()
                raise RuntimeError(f"kiln serve did not answer /_kiln/health within {timeout}s:\n{self.log()}")
        raise RuntimeError(f"kiln serve exited with {self.proc.returncode}:\n{self.log()}")

    def _healthy(self) -> bool:
        try:
            return admin_request(self.url, "GET", "/_kiln/health", timeout=1)["status"] == "ok"
        except (OSError, RuntimeError, ValueError, KeyError):
            return False

    def reset(self) -> None:
        admin_request(self.url, "POST", "/_kiln/reset")

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def admin_request(url: str, method: str, path: str, body: dict | None = None, timeout: float = 30,
                  token: str | None = None) -> dict:
    """Call one of kiln's /_kiln/ routes; raises RuntimeError with kiln's message on an error.
    `token`: the server's admin token (default: KILN_ADMIN_TOKEN), needed when it listens
    beyond loopback."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else b""
        headers = {"content-type": "application/json"}
        token = token or os.environ.get("KILN_ADMIN_TOKEN")
        if token:
            headers["authorization"] = f"Bearer {token}"
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    doc = json.loads(data) if data else {}
    if resp.status != 200:
        raise RuntimeError(f"{method} {path} answered {resp.status}: {doc.get('message', data.decode(errors='replace'))}")
    return doc


# ---------------------------------------------------------------------------
# The control handle
# ---------------------------------------------------------------------------

class KilnControl:
    """kiln's own controls, for one kiln: the in-process one (``kiln``) or a server (``url``).

    * ``advance_clock(seconds)``: move kiln's clock forward (builds with timed states progress,
      scheduled pipelines fire, each at its own moment).
    * ``publish_release(arn)``: a new version of an AWS-managed image or component (its build ARN).
    * ``freeze_clock(at=None)`` / ``unfreeze_clock()``: stop kiln's clock (at an ISO 8601 time, not
      before now) so that only ``advance_clock`` moves it; let it run again.
    * ``advance_builds(arn=None, to_end=False)``: move builds in progress on by one state (or to
      the end); returns ``{build ARN: state now}``.
    * ``fail_next_build(state, reason)``: the next image created fails when it reaches ``state``.
    * ``fail_build(arn, state, reason)``: this build in progress fails in ``state``.
    * ``seed_inventory(arn, packages=None, findings=None)``: the packages and scan findings an
      image (or an AWS-managed parent image) has, listed by ListImagePackages and
      ListImageScanFindings for it and for the images built from it.
    * ``add_faults(*rules, **rule)``: failure rules (docs/faults.md), e.g.
      ``add_faults(operation="GetImage", error="ServiceUnavailableException", count=2)``; returns
      them with their ids. ``faults()`` lists the rules in force, ``clear_faults(id=None)`` removes one
      or all.
    * ``reset()``: delete every resource and put the clock back to the real time (failure rules go
      back to those the kiln started with).
    """

    def __init__(self, kiln=None, url: str | None = None, token: str | None = None):
        if (kiln is None) == (url is None):
            raise ValueError("KilnControl needs exactly one of kiln and url")
        self.kiln = kiln
        self.url = url
        self.token = token  # the server's admin token, if it has one (default: KILN_ADMIN_TOKEN)

    def _post(self, path: str, body: dict | None = None) -> dict:
        return admin_request(self.url, "POST", path, body or {}, token=self.token)

    def advance_clock(self, seconds: float) -> float:
        """Returns kiln's clock (epoch seconds) after the move."""
        if self.kiln is not None:
            from kiln import admin

            return admin.advance_clock(self.kiln, seconds)["now"]
        return self._post("/_kiln/clock/advance", {"seconds": seconds})["epochSeconds"]

    def freeze_clock(self, at: str | None = None) -> float:
        """Stop kiln's clock, at `at` (ISO 8601, e.g. "2027-03-27T05:00:00Z"; not before
        now) if given; returns the clock (epoch seconds)."""
        if self.kiln is not None:
            from kiln import admin

            return admin.freeze_clock(self.kiln, admin.parse_time(at) if at else None)["now"]
        return self._post("/_kiln/clock/freeze", {"at": at} if at else {})["epochSeconds"]

    def unfreeze_clock(self) -> float:
        if self.kiln is not None:
            from kiln import admin

            return admin.unfreeze_clock(self.kiln)["now"]
        return self._post("/_kiln/clock/unfreeze")["epochSeconds"]

    def publish_release(self, arn: str) -> dict:
        """Publish a new version of an AWS-managed image or component (its new build ARN,
        e.g. arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/2027.1.5/1), as
        AWS does when it releases one."""
        if self.kiln is not None:
            from kiln import admin

            return admin.publish_release(self.kiln, arn)
        return self._post("/_kiln/catalog/publish", {"arn": arn})

    def run_lifecycle_policy(self, arn: str) -> str:
        """Run a lifecycle policy now, as its daily run would; returns the execution id."""
        if self.kiln is not None:
            from kiln import admin

            return admin.run_lifecycle_policy(self.kiln, arn)["lifecycleExecutionId"]
        return self._post("/_kiln/lifecycle/run", {"lifecyclePolicyArn": arn})["lifecycleExecutionId"]

    def advance_builds(self, arn: str | None = None, to_end: bool = False) -> dict[str, str]:
        if self.kiln is not None:
            from kiln import admin

            return admin.advance_builds(self.kiln, arn, to_end)["builds"]
        body: dict = {"toEnd": to_end}
        if arn:
            body["imageBuildVersionArn"] = arn
        return self._post("/_kiln/builds/advance", body)["builds"]

    def fail_next_build(self, state: str = "BUILDING", reason: str = "An internal error has occurred.",
                        step: str | None = None, component: str | None = None, phase: str | None = None) -> dict:
        """The next build created fails in `state` (at the workflow step named `step`, or in
        `component`'s `phase`: build, validate or test)."""
        if self.kiln is not None:
            from kiln import admin

            return admin.plan_failure(self.kiln, state, reason, step=step, component=component, phase=phase)
        extra = {k: v for k, v in (("step", step), ("component", component), ("phase", phase)) if v}
        return self._post("/_kiln/builds/fail", {"state": state, "reason": reason, **extra})

    def fail_build(self, arn: str, state: str = "BUILDING", reason: str = "An internal error has occurred.",
                   step: str | None = None) -> dict:
        """This build in progress fails in `state` (at the workflow step named `step`)."""
        if self.kiln is not None:
            from kiln import admin

            return admin.plan_failure(self.kiln, state, reason, arn, step=step)
        return self._post("/_kiln/builds/fail", {"state": state, "reason": reason, "imageBuildVersionArn": arn,
                                                 **({"step": step} if step else {})})

    def seed_inventory(self, arn: str, packages: list | None = None, findings: list | None = None) -> dict:
        """Seed an image's packages (``[{"packageName": ..., "packageVersion": ...}]``) and scan
        findings (ImageScanFinding objects, without awsAccountId, imageBuildVersionArn and
        imagePipelineArn, which kiln fills in). A list given replaces the one seeded before.
        Returns ``{"imageBuildVersionArn", "packages", "findings"}`` (counts), and ``notes`` when
        the image itself will not list them."""
        if self.kiln is not None:
            from kiln import admin

            return admin.seed_inventory(self.kiln, arn, packages, findings)
        body: dict = {"imageArn": arn}
        if packages is not None:
            body["packages"] = packages
        if findings is not None:
            body["findings"] = findings
        return self._post("/_kiln/images/inventory", body)

    def add_faults(self, *rules: dict, **rule) -> list[dict]:
        """Add failure rules: dicts, or one rule's fields as keywords (operation, account, region,
        error, message, probability, count, rate, burst, latency, seed). Returns them as kiln lists
        them, each with its `id`. A rule kiln cannot use raises with kiln's message naming the field."""
        docs = list(rules) + ([rule] if rule else [])
        if self.kiln is not None:
            from kiln import admin

            return admin.add_faults(self.kiln, {"rules": docs})["added"]
        return self._post("/_kiln/faults/add", {"rules": docs})["added"]

    def faults(self) -> list[dict]:
        """The failure rules in force, in the order they are tried, with `fired` (and `remaining`)."""
        if self.kiln is not None:
            from kiln import admin

            return admin.list_faults(self.kiln)["rules"]
        return admin_request(self.url, "GET", "/_kiln/faults", token=self.token)["rules"]

    def clear_faults(self, rule_id: str | None = None) -> int:
        """Remove the failure rule with that id, or every one; returns how many went."""
        if self.kiln is not None:
            from kiln import admin

            return admin.clear_faults(self.kiln, rule_id)["cleared"]
        return self._post("/_kiln/faults/clear", {"id": rule_id} if rule_id else {})["cleared"]

    def reset(self) -> None:
        """Delete every resource and put kiln's clock back to the real time."""
        if self.kiln is not None:
            from kiln import admin

            admin.reset(self.kiln)
        else:
            self._post("/_kiln/reset")


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

@pytest.fixture
def kiln_server(request):
    """A fresh, empty in-process kiln for this test; boto3 Image Builder calls go to it."""
    from kiln.mock import mock_imagebuilder

    marker = request.node.get_closest_marker("kiln")
    timing = (marker.kwargs.get("build_timing") if marker else None) or "immediate"
    with mock_imagebuilder(build_timing=str(timing), faults=_marked_faults(request)) as kiln:
        yield kiln


def _marked_faults(request) -> list[dict]:
    marker = request.node.get_closest_marker("kiln")
    return list((marker.kwargs.get("faults") if marker else None) or ())


@pytest.fixture
def imagebuilder_client(kiln_server):
    """A boto3 Image Builder client (account 123456789012, us-east-1) answered by kiln_server."""
    import boto3

    return boto3.client(
        "imagebuilder", region_name=DEFAULT_REGION, endpoint_url="http://kiln.invalid",
        aws_access_key_id=DEFAULT_ACCOUNT, aws_secret_access_key="kiln",
    )


@pytest.fixture(scope="session")
def _kiln_process(pytestconfig):
    timing = pytestconfig.getoption("--kiln-build-timing") or pytestconfig.getini("kiln_build_timing") or "immediate"
    server = KilnProcess(build_timing=timing).start()
    yield server
    server.stop()


@pytest.fixture
def kiln_url(_kiln_process, request) -> str:
    """URL of a running `kiln serve` (shared by the session; emptied, and its clock put
    back, before this test), with the test's ``@pytest.mark.kiln(faults=[...])`` in force."""
    _kiln_process.reset()  # also clears the failure rules a test before added
    faults = _marked_faults(request)
    if faults:
        admin_request(_kiln_process.url, "POST", "/_kiln/faults/add", {"rules": faults})
    yield _kiln_process.url
    if faults:
        admin_request(_kiln_process.url, "POST", "/_kiln/faults/clear", {})


@pytest.fixture
def kiln_control(request) -> KilnControl:
    """Controls for this test's kiln: the server if the test uses kiln_url (and not
    kiln_server or imagebuilder_client), otherwise the in-process kiln."""
    names = request.fixturenames
    if "kiln_url" in names and "kiln_server" not in names:
        return KilnControl(url=request.getfixturevalue("kiln_url"))
    return KilnControl(kiln=request.getfixturevalue("kiln_server"))
