"""How kiln serves the console (kiln/console/): the page and its files at /_kiln/console/,
read-only, with their content types and cache headers; a browser opening / is sent there
while API clients keep the API's answer; config.json; the built bundle and the model's
operations it is built from. No browser needed (tests/console/test_browser.py drives one)."""
from __future__ import annotations

import asyncio
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiln import console

REPO = Path(__file__).resolve().parents[2]


class Client:
    """kiln.http.app.make_app(...) called in-process, as uvicorn would; answers (status, headers, body)."""

    def __init__(self, admin_token=None, keys=None, seconds_per_state=0.0):
        from kiln.core import Kiln
        from kiln.http.app import make_app
        from kiln.store import Store

        self.kiln = Kiln(Store("sqlite://"), seconds_per_state)
        self.app = make_app(self.kiln, admin_token=admin_token, keys=keys)

    def __call__(self, method, path, headers=None, body=b""):
        path, _, query = path.partition("?")
        sent = []
        chunks = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            return chunks.pop(0)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": query.encode(),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
        asyncio.run(self.app(scope, receive, send))
        start, content = sent
        return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, content["body"]


@pytest.fixture
def client():
    return Client()


def _assets():
    return sorted(p.relative_to(console.STATIC).as_posix() for p in (console.STATIC / "assets").iterdir())


def test_a_browser_opening_the_root_is_sent_to_the_console(client):
    status, headers, body = client("GET", "/", {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert (status, headers["location"]) == (302, "/_kiln/console/")
    assert b'href="/_kiln/console/"' in body


def test_api_clients_keep_the_api_answer_at_the_root(client):
    status, headers, body = client("GET", "/", {"accept": "*/*"})
    assert (status, headers["x-amzn-errortype"]) == (404, "UnknownOperationException")
    assert json.loads(body) == {"message": "No Image Builder operation is served at GET /."}
    status, _, body = client("POST", "/", {"accept": "text/html"}, b"{}")
    assert json.loads(body) == {"message": "No Image Builder operation is served at POST /."}


def test_the_page_is_served_with_its_security_headers(client):
    status, headers, body = client("GET", "/_kiln/console/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert b'<div id="app">' in body
    # Every file the page names is served.
    for ref in re.findall(rb'(?:src|href)="(/_kiln/console/[^"]+)"', body):
        assert client("GET", ref.decode())[0] == 200, ref


def test_without_the_slash_the_page_redirects(client):
    status, headers, _ = client("GET", "/_kiln/console")
    assert (status, headers["location"]) == (308, "/_kiln/console/")


@pytest.mark.parametrize("suffix, kind", [(".js", "text/javascript; charset=utf-8"), (".css", "text/css; charset=utf-8")])
def test_assets_have_their_type_and_are_cached_for_good(client, suffix, kind):
    name = next(a for a in _assets() if a.endswith(suffix))
    status, headers, body = client("GET", f"/_kiln/console/{name}")
    assert (status, headers["content-type"]) == (200, kind)
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert body == (console.STATIC / name).read_bytes()
    again = client("GET", f"/_kiln/console/{name}", {"if-none-match": headers["etag"]})
    assert (again[0], again[2]) == (304, b"")


def test_head_answers_the_headers_only(client):
    status, headers, body = client("HEAD", "/_kiln/console/")
    assert (status, body) == (200, b"")
    assert int(headers["content-length"]) == (console.STATIC / "index.html").stat().st_size


def test_the_console_is_read_only(client):
    status, headers, body = client("POST", "/_kiln/console/", body=b"{}")
    assert (status, headers["allow"]) == (405, "GET, HEAD")
    assert body == b"/_kiln/console/ answers GET and HEAD, not POST.\n"


@pytest.mark.parametrize("path", ["/_kiln/console/nope.js", "/_kiln/console/../admin.py",
                                  "/_kiln/console/%2e%2e/__init__.py", "/_kiln/console/assets/"])
def test_unknown_files_are_not_found(client, path):
    status, headers, _ = client("GET", path)
    assert status == 404 and headers["content-type"] == "text/plain; charset=utf-8"


def test_config_says_how_this_kiln_is_set_up(client):
    status, headers, body = client("GET", "/_kiln/console/config.json")
    assert (status, headers["cache-control"]) == (200, "no-store")
    doc = json.loads(body)
    assert {k: doc[k] for k in ("auth", "adminToken", "defaultAccount", "defaultRegion", "buildTiming")} == {
        "auth": "none", "adminToken": False, "defaultAccount": "123456789012", "defaultRegion": "us-east-1",
        "buildTiming": "immediate"}
    assert doc["clock"]["frozen"] is False and doc["clock"]["epochSeconds"] > 1.7e9


def test_config_with_the_admin_token_and_signed_requests():
    from kiln.http.sigv4 import Key

    client = Client(admin_token="t0ken", keys={"AKIDEXAMPLE": Key("secret", "111122223333")}, seconds_per_state=None)
    doc = json.loads(client("GET", "/_kiln/console/config.json")[2])
    assert (doc["auth"], doc["adminToken"], doc["buildTiming"]) == ("sigv4", True, "manual")
    assert "t0ken" not in json.dumps(doc)
    # The page itself needs neither the token nor a signature.
    assert client("GET", "/_kiln/console/")[0] == 200


def test_the_bundle_stays_small():
    total = sum(len(gzip.compress((console.STATIC / a).read_bytes())) for a in _assets())
    assert total < 150_000, f"the console's assets are {total} bytes gzipped"


def test_the_operations_the_page_calls_are_the_models():
    """console/src/operations.json is written from botocore's model (console/scripts/operations.py): each
    operation's method, path and members outside the body are the model's (a newer botocore may add some)."""
    built = json.loads((REPO / "console" / "src" / "operations.json").read_text())
    out = subprocess.run([sys.executable, str(REPO / "console" / "scripts" / "operations.py"), "--print"],
                         capture_output=True, text=True, check=True).stdout
    model = json.loads(out)
    assert built["apiVersion"] == model["apiVersion"]
    assert {name: model["operations"].get(name) for name in built["operations"]} == built["operations"]


def test_the_committed_build_is_the_sources(tmp_path):
    """kiln/console/static/ is what `npm run build` makes of console/ (run it and commit both)."""
    node_modules = REPO / "console" / "node_modules"
    if shutil.which("node") is None or not (node_modules / ".bin" / "vite").exists():
        pytest.skip("needs Node and console/node_modules (cd console && npm ci)")
    subprocess.run([str(node_modules / ".bin" / "vite"), "build", "--outDir", str(tmp_path), "--emptyOutDir",
                    "--logLevel", "warn"], cwd=REPO / "console", check=True, capture_output=True)
    built = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(console.STATIC).as_posix(): p.read_bytes() for p in console.STATIC.rglob("*") if p.is_file()}
    assert sorted(built) == sorted(committed), "kiln/console/static/ is stale: cd console && npm run build"
    assert built == committed
