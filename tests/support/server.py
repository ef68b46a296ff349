"""A real `kiln serve` in a subprocess, for the tests that need a socket."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KilnServer:
    """`python -m kiln.cli serve --port <free> <args>`; `start()` waits for /_kiln/health."""

    def __init__(self, *args: str, env: dict | None = None):
        self.args = args
        self.env = env
        self.host = "127.0.0.1"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> "KilnServer":
        env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
        env.update(self.env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiln.cli", "serve", "--host", self.host, "--port", str(self.port), *self.args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kiln serve exited with {self.proc.returncode}:\n{self.log()}")
            if self.healthy():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"kiln serve did not answer /_kiln/health within {timeout}s:\n{self.log()}")

    def healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=1)
            conn.request("GET", "/_kiln/health")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False

    def reset(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request("POST", "/_kiln/reset")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"POST /_kiln/reset answered {resp.status}")

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
        self.proc = None
