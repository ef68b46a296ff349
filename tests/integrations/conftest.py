"""Peers for the integration tests: a moto_server subprocess and a local webhook receiver."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.server import free_port


class MotoServer:
    """`moto_server -p PORT` (one per test module); reset() empties it between tests."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = shutil.which("moto_server")
        args = [command] if command else [sys.executable, "-m", "moto.server"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOTO_")}
        env["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # every EC2 call is faster without moto's stock AMIs
        self.proc = subprocess.Popen([*args, "-H", "127.0.0.1", "-p", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("moto_server did not listen within 30 s")

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10).read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def moto_server():
    pytest.importorskip("moto.server", reason="moto[server] is not installed: pip install -e '.[test]'")
    server = MotoServer()
    yield server
    server.stop()


class Webhook:
    """A local HTTP server that keeps the JSON bodies POSTed to it; `fail_next` answers the
    next N requests with HTTP 500 (to see kiln retry)."""

    def __init__(self):
        self.received: list[dict] = []
        self.attempts = 0
        self.fail_next = 0
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with hook._lock:
                    hook.attempts += 1
                    failing = hook.fail_next > 0
                    if failing:
                        hook.fail_next -= 1
                    else:
                        hook.received.append(json.loads(body))
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        with self._lock:
            return list(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook_server():
    hook = Webhook()
    yield hook
    hook.stop()


@pytest.fixture
def webhook(webhook_server):
    with webhook_server._lock:
        webhook_server.received.clear()
        webhook_server.attempts = 0
        webhook_server.fail_next = 0
    return webhook_server
