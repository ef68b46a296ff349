"""mock_imagebuilder(): boto3's Image Builder calls answered in-process, no socket.

While a mock is active, botocore's `Endpoint._send` (the one place every client
hands a signed request to the network) is replaced, on the class, by a function
that hands each Image Builder request to the same core the server uses; other
services' requests go on to the network as before. When the last mock stops, the
original is put back.

Why there and not a `before-send` event handler: a handler only reaches the
sessions it was registered on, so a client made before kiln was imported (or
before the mock started, from `boto3.session.Session()`,
`botocore.session.get_session()`, ...) would send its requests to real AWS with
whatever real credentials it found. Every client, however and whenever it was
made, sends through `Endpoint._send`, and everything botocore does before it
(parameter validation, serialization, signing, retries) and after it (parsing,
errors, waiters) stays exactly as against AWS. (`BaseClient._make_api_call` would
skip all that.)
"""
from __future__ import annotations

import functools
import io
import os
import threading
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from botocore.endpoint import Endpoint

from kiln import api_faults
from kiln.config import parse_build_timing
from kiln.core import Kiln, Request
from kiln.integrations import Integrations, moto_support
from kiln.store import Store

_PREFIX = "imagebuilder"  # the model's endpointPrefix, which each client's Endpoint carries
_active: list[Kiln] = []
_lock = threading.Lock()
_next_send = Endpoint._send  # what kiln's replacement calls for everything not Image Builder
_installed = False  # whether Endpoint._send is kiln's


class _RawBody(io.BytesIO):
    def stream(self, **_kwargs):
        yield self.getvalue()


def _answer(kiln: Kiln, request) -> AWSResponse:
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    response = kiln.handle(Request(request.method, url.path, url.query, headers, body))
    return AWSResponse(request.url, response.status, response.headers, _RawBody(response.body))


def _send(endpoint, request):
    if getattr(endpoint, "_endpoint_prefix", None) == _PREFIX:
        active = _active
        if active:
            return _answer(active[-1], request)
    return _next_send(endpoint, request)


def _intercept() -> None:
    """Route every client's Image Builder requests to the newest active kiln (under _lock)."""
    global _next_send, _installed
    if not _installed:
        _next_send = Endpoint._send
        Endpoint._send = _send
        _installed = True
    moto_support.let_imagebuilder_through(lambda: bool(_active))  # moto's mock_aws would answer 404 first


def _release() -> None:
    """Put botocore back once no mock is active (under _lock). A request still on its way
    through kiln's function finds no active kiln and goes on as it would have."""
    global _installed
    # If something patched Endpoint._send after kiln, that patch stays and still calls kiln's
    # function, which stays installed (and passes everything on while no mock is active).
    if not _active and _installed and Endpoint._send is _send:
        Endpoint._send = _next_send
        _installed = False


_FAKE_ENV = {"AWS_ACCESS_KEY_ID": "123456789012", "AWS_SECRET_ACCESS_KEY": "kiln", "AWS_DEFAULT_REGION": "us-east-1"}


class mock_imagebuilder:
    """Context manager and decorator. Each activation starts from an empty,
    in-memory kiln. `build_timing`: "immediate" (default), "manual" or seconds.
    `faults`: failure rules in force from the start (kiln/api_faults.py; docs/faults.md),
    e.g. [{"operation": "GetImage", "error": "ServiceUnavailableException", "count": 2}];
    `faults()` below adds and clears them while the mock runs."""

    def __init__(self, func=None, *, build_timing: str = "immediate", database_url: str = "sqlite://",
                 faults: list[dict] | None = None):
        self.func = func
        self.build_timing = parse_build_timing(build_timing)
        self.database_url = database_url
        self.faults = list(faults or ())
        api_faults.parse_rules(self.faults, "faults")  # a rule kiln cannot use is refused here, naming the field
        self.kiln: Kiln | None = None
        self._env: dict = {}
        if func is not None:
            functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        if self.func is None:  # used as @mock_imagebuilder(...) with arguments
            return mock_imagebuilder(args[0], build_timing=self.build_timing, database_url=self.database_url,
                                     faults=self.faults)
        with mock_imagebuilder(build_timing=self.build_timing, database_url=self.database_url, faults=self.faults):
            return self.func(*args, **kwargs)

    def start(self) -> Kiln:
        timing = {"immediate": 0.0, "manual": None}.get(self.build_timing)
        seconds = timing if self.build_timing in ("immediate", "manual") else float(self.build_timing)
        # With moto's mock_aws active (or KILN_*_ENDPOINT_URL set), AMIs, S3 documents and
        # notifications go there, delivered right after each commit (kiln/integrations).
        self.kiln = Kiln(Store(self.database_url), seconds, integrations=Integrations.in_process())
        api_faults.install(self.kiln, api_faults.parse_rules(self.faults, "faults"))  # not KILN_FAULTS: kiln serve's
        # boto3 refuses to send without credentials and a region; give it harmless ones.
        self._env = {k: os.environ.get(k) for k in _FAKE_ENV}
        for k, v in _FAKE_ENV.items():
            os.environ.setdefault(k, v)
        with _lock:
            _active.append(self.kiln)
            _intercept()
        return self.kiln

    def stop(self) -> None:
        with _lock:
            if self.kiln in _active:
                _active.remove(self.kiln)
            _release()
        for k, v in self._env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if self.kiln is not None:
            self.kiln.store.close()

    def __enter__(self) -> Kiln:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def faults(kiln: Kiln | None = None) -> api_faults.Faults:
    """The failure rules of an in-process kiln (default: the newest active mock):
    ``kiln.mock.faults().add(operation="GetImage", error="ServiceUnavailableException", count=2)``,
    ``.list()``, ``.clear()``. See docs/faults.md."""
    if kiln is None:
        with _lock:
            if not _active:
                raise RuntimeError("No mock_imagebuilder() is active: start one, or pass the kiln it gave.")
            kiln = _active[-1]
    return api_faults.Faults(kiln)
