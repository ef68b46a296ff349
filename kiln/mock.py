"""mock_imagebuilder(): boto3's Image Builder calls answered in-process, no socket.

A botocore `before-send` handler, registered once for every session created
after `import kiln.mock`, hands each imagebuilder request to the same core the
server uses. It does nothing unless a mock is active.
"""
from __future__ import annotations

import functools
import io
import os
import threading
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

from kiln.config import parse_build_timing
from kiln.core import Kiln, Request
from kiln.store import Store

_EVENT = "before-send.imagebuilder"
_active: list[Kiln] = []
_lock = threading.Lock()


class _RawBody(io.BytesIO):
    def stream(self, **_kwargs):
        yield self.getvalue()


def _before_send(request, **_kwargs):
    if not _active:
        return None
    kiln = _active[-1]
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    response = kiln.handle(Request(request.method, url.path, url.query, headers, body))
    return AWSResponse(request.url, response.status, response.headers, _RawBody(response.body))


BUILTIN_HANDLERS.append((_EVENT, _before_send))
try:  # boto3's default session may exist already (boto3.client(...) was called before)
    import boto3

    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION.events.register(_EVENT, _before_send)
except ImportError:  # botocore without boto3
    pass

_FAKE_ENV = {"AWS_ACCESS_KEY_ID": "123456789012", "AWS_SECRET_ACCESS_KEY": "kiln", "AWS_DEFAULT_REGION": "us-east-1"}


class mock_imagebuilder:
    """Context manager and decorator. Each activation starts from an empty,
    in-memory kiln. `build_timing`: "immediate" (default), "manual" or seconds."""

    def __init__(self, func=None, *, build_timing: str = "immediate", database_url: str = "sqlite://"):
        self.func = func
        self.build_timing = parse_build_timing(build_timing)
        self.database_url = database_url
        self.kiln: Kiln | None = None
        self._env: dict = {}
        if func is not None:
            functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        if self.func is None:  # used as @mock_imagebuilder(...) with arguments
            return mock_imagebuilder(args[0], build_timing=self.build_timing, database_url=self.database_url)
        with mock_imagebuilder(build_timing=self.build_timing, database_url=self.database_url):
            return self.func(*args, **kwargs)

    def start(self) -> Kiln:
        timing = {"immediate": 0.0, "manual": None}.get(self.build_timing)
        seconds = timing if self.build_timing in ("immediate", "manual") else float(self.build_timing)
        self.kiln = Kiln(Store(self.database_url), seconds)
        # boto3 refuses to send without credentials and a region; give it harmless ones.
        self._env = {k: os.environ.get(k) for k in _FAKE_ENV}
        for k, v in _FAKE_ENV.items():
            os.environ.setdefault(k, v)
        with _lock:
            _active.append(self.kiln)
        return self.kiln

    def stop(self) -> None:
        with _lock:
            if self.kiln in _active:
                _active.remove(self.kiln)
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
