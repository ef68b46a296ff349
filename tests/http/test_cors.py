"""CORS: web pages may call the API from allowed origins (preflights answered, the API's
answers name the origin and expose what the JavaScript SDK reads), closed by default on a
non-loopback address, and kiln's own /_kiln/ routes never open to other origins. Raw HTTP
against `kiln serve` subprocesses; then the JavaScript SDK v3's own requests, when Node has it."""
from __future__ import annotations

import http.client
import json
import subprocess
from urllib.parse import quote

import pytest

from tests.support.server import KilnServer

SIGNED = ("AWS4-HMAC-SHA256 Credential=123456789012/20270101/us-east-1/imagebuilder/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=0")
SDK_HEADERS = ("authorization,content-type,x-amz-date,x-amz-user-agent,x-amz-content-sha256,x-amz-security-token,"
               "amz-sdk-invocation-id,amz-sdk-request")
EXPOSED = {"x-amzn-requestid", "x-amzn-errortype", "x-amzn-errormessage", "x-amz-apigw-id", "x-amzn-trace-id", "date"}
CORS = ("access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
        "access-control-max-age", "access-control-expose-headers")


def request(server, method: str, path: str, headers: dict | None = None, body: bytes = b""):
    """(status, lower-case headers, body) of one raw request."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, body=body or None, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def preflight(server, origin: str, path: str = "/CreateComponent", method: str = "PUT", asked: str | None = SDK_HEADERS):
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if asked is not None:
        headers["Access-Control-Request-Headers"] = asked
    return request(server, "OPTIONS", path, headers)


def cors_of(headers: dict) -> dict:
    return {k: v for k, v in headers.items() if k.startswith("access-control-")}


@pytest.fixture(scope="module")
def loopback():
    """kiln serve on 127.0.0.1 with no CORS setting: pages of this machine, any port."""
    server = KilnServer("--in-memory", "--build-timing", "immediate").start()
    yield server
    server.stop()


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8080",
                                    "http://localhost"])
def test_a_preflight_from_this_machine_is_answered_with_what_the_page_asked(loopback, origin):
    status, headers, body = preflight(loopback, origin)
    assert (status, body) == (204, b"")
    assert cors_of(headers) == {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
        "access-control-allow-headers": SDK_HEADERS,
        "access-control-max-age": "7200",
    }
    assert "origin" in headers["vary"]


def test_a_preflight_that_names_no_headers_is_allowed_the_sdks(loopback):
    status, headers, _ = preflight(loopback, "http://localhost:3000", path="/ListComponents", method="POST", asked=None)
    assert status == 204
    assert headers["access-control-allow-headers"].split(", ") == SDK_HEADERS.split(",")


def test_the_apis_answers_name_the_origin_and_expose_the_request_id_and_error_type(loopback):
    origin = {"Origin": "http://localhost:3000", "Authorization": SIGNED}
    status, headers, body = request(loopback, "POST", "/ListComponents", origin, b"{}")
    assert status == 200
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert set(headers["access-control-expose-headers"].split(", ")) == EXPOSED
    assert headers["vary"] == "origin"
    # An error, which the SDK names from x-amzn-errortype: readable by the page too.
    missing = quote("arn:aws:imagebuilder:us-east-1:123456789012:image/none/1.0.0/1", safe="")
    status, headers, body = request(loopback, "GET", f"/GetImage?imageBuildVersionArn={missing}", origin)
    assert (status, headers["x-amzn-errortype"]) == (404, "ResourceNotFoundException")
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "x-amzn-errortype" in headers["access-control-expose-headers"]


def test_getimages_fast_path_answers_carry_them_too(loopback):
    origin = {"Origin": "http://127.0.0.1:3000", "Authorization": SIGNED}
    body = json.dumps({"name": "cors", "instanceProfileName": "p", "clientToken": "t"}).encode()
    request(loopback, "PUT", "/CreateInfrastructureConfiguration", origin, body)
    recipe = json.dumps({"name": "cors", "semanticVersion": "1.0.0", "clientToken": "r",
                         "parentImage": "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x",
                         "components": [{"componentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"}]})
    status, _, out = request(loopback, "PUT", "/CreateImageRecipe", origin, recipe.encode())
    assert status == 200, out
    image = json.dumps({"imageRecipeArn": json.loads(out)["imageRecipeArn"], "clientToken": "i",
                        "infrastructureConfigurationArn": "arn:aws:imagebuilder:us-east-1:123456789012:"
                                                          "infrastructure-configuration/cors"}).encode()
    status, _, out = request(loopback, "PUT", "/CreateImage", origin, image)
    arn = json.loads(out)["imageBuildVersionArn"]
    status, headers, out = request(loopback, "GET", f"/GetImage?imageBuildVersionArn={quote(arn, safe='')}", origin)
    assert status == 200 and json.loads(out)["image"]["arn"] == arn
    assert headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    assert "x-amzn-requestid" in headers["access-control-expose-headers"]


@pytest.mark.parametrize("origin", ["http://evil.example", "https://localhost:3000", "http://localhost.evil.example",
                                    "http://localhost:3000.evil.example", "http://127.0.0.1:abc", "null"])
def test_another_origin_gets_no_cors_headers(loopback, origin):
    status, headers, body = preflight(loopback, origin)
    assert status == 403 and cors_of(headers) == {}
    assert json.loads(body) == {"message": f"kiln does not let web pages from {origin} call the API: start it with "
                                           f"--cors-origin {origin} (KILN_CORS_ORIGINS) to allow them."}
    status, headers, _ = request(loopback, "POST", "/ListComponents", {"Origin": origin, "Authorization": SIGNED}, b"{}")
    assert status == 200 and cors_of(headers) == {}  # answered; the browser keeps it from the page


def test_requests_without_an_origin_and_other_options_requests_are_as_before(loopback):
    status, headers, _ = request(loopback, "POST", "/ListComponents", {"Authorization": SIGNED}, b"{}")
    assert status == 200 and cors_of(headers) == {} and "vary" not in headers
    # OPTIONS that is not a preflight (no Access-Control-Request-Method): the API answers it, as it always did.
    status, headers, body = request(loopback, "OPTIONS", "/ListComponents", {"Origin": "http://localhost:3000"})
    assert (status, headers["x-amzn-errortype"]) == (404, "UnknownOperationException")


@pytest.mark.parametrize("method, path", [("OPTIONS", "/_kiln/reset"), ("POST", "/_kiln/reset"),
                                          ("GET", "/_kiln/health"), ("OPTIONS", "/_kiln/health")])
def test_kilns_own_routes_stay_closed_to_other_origins(loopback, method, path):
    headers = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    status, got, body = request(loopback, method, path, headers)
    assert cors_of(got) == {}
    if method == "OPTIONS":
        assert status == 405  # the route's own answer: not a preflight kiln grants
    elif method == "POST":
        assert status == 403 and "refuses requests from web pages of other origins" in json.loads(body)["message"]
    else:
        assert status == 200  # readable by programs; a page's script cannot read it (no CORS header)


def test_configured_origins_replace_the_default():
    server = KilnServer("--in-memory", "--cors-origin", "https://app.example.com",
                        "--cors-origin", "http://localhost:3000/").start()  # (a trailing / is forgiven)
    try:
        assert preflight(server, "https://app.example.com")[1]["access-control-allow-origin"] == "https://app.example.com"
        assert preflight(server, "http://localhost:3000")[0] == 204
        assert preflight(server, "http://localhost:3001")[0] == 403
        assert preflight(server, "http://127.0.0.1:3000")[0] == 403
    finally:
        server.stop()


def test_any_origin():
    server = KilnServer("--in-memory", env={"KILN_CORS_ORIGINS": "*"}).start()
    try:
        status, headers, _ = preflight(server, "https://anywhere.example")
        assert (status, headers["access-control-allow-origin"]) == (204, "*")
        status, headers, _ = request(server, "POST", "/ListComponents",
                                     {"Origin": "https://anywhere.example", "Authorization": SIGNED}, b"{}")
        assert headers["access-control-allow-origin"] == "*"
    finally:
        server.stop()


def test_closed_by_default_on_a_non_loopback_address_and_opened_by_setting():
    server = KilnServer("--in-memory")
    server.host = "0.0.0.0"  # reachable from other machines: no page may call it unless configured
    server.start()
    try:
        assert preflight(server, "http://localhost:3000")[0] == 403
        status, headers, _ = request(server, "POST", "/ListComponents",
                                     {"Origin": "http://localhost:3000", "Authorization": SIGNED}, b"{}")
        assert status == 200 and cors_of(headers) == {}
    finally:
        server.stop()
    server = KilnServer("--in-memory", "--cors-origin", "https://console.example.com")
    server.host = "0.0.0.0"
    server.start()
    try:
        assert preflight(server, "https://console.example.com")[0] == 204
    finally:
        server.stop()


def test_none_closes_it_on_loopback_too():
    server = KilnServer("--in-memory", "--cors-origin", "none").start()
    try:
        assert preflight(server, "http://localhost:3000")[0] == 403
    finally:
        server.stop()


def test_preflights_need_no_signature_when_requests_must_be_signed(tmp_path):
    credentials = tmp_path / "keys.json"
    credentials.write_text(json.dumps({"AKIDEXAMPLE": {"secretAccessKey": "s", "accountId": "111122223333"}}))
    server = KilnServer("--in-memory", "--auth", "sigv4", "--credentials", str(credentials)).start()
    try:
        assert preflight(server, "http://localhost:3000")[0] == 204
        status, headers, _ = request(server, "POST", "/ListComponents", {"Origin": "http://localhost:3000"}, b"{}")
        # The refusal is readable by the page, so the SDK can say why.
        assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")
        assert headers["access-control-allow-origin"] == "http://localhost:3000"
    finally:
        server.stop()


@pytest.mark.parametrize("args, env, said", [
    (("--cors-origin", "localhost:3000"), {}, "Invalid value for '--cors-origin': 'localhost:3000' is not a web origin"),
    (("--cors-origin", "https://app.example.com/path"), {}, "'https://app.example.com/path' is not a web origin"),
    (("--cors-origin", "none", "--cors-origin", "http://localhost:1"), {}, "none (no page may call the API) cannot be given"),
    ((), {"KILN_CORS_ORIGINS": "ftp//x"}, "Invalid KILN_* environment setting: KILN_CORS_ORIGINS: 'ftp//x' is not a web origin"),
])
def test_an_origin_kiln_cannot_use_stops_the_start(args, env, said):
    import os
    import sys

    clean = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    done = subprocess.run([sys.executable, "-m", "kiln.cli", "serve", "--in-memory", "--port", "0", *args],
                          capture_output=True, text=True, env={**clean, **env}, timeout=60)
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, done.stderr


# --- the JavaScript SDK v3's own requests -----------------------------------------------------------

PROBE = r"""
import { ImagebuilderClient, ListComponentsCommand, GetImageCommand } from "@aws-sdk/client-imagebuilder";
const origin = process.env.PAGE_ORIGIN;
const seen = { requestHeaders: null, responses: [] };
const client = new ImagebuilderClient({ region: "us-east-1", endpoint: process.env.KILN_URL, maxAttempts: 1,
  credentials: { accessKeyId: "123456789012", secretAccessKey: "x" } });
// As a browser does: the page's origin on every request (after signing: browsers add it themselves).
client.middlewareStack.add((next) => async (args) => {
  args.request.headers["origin"] = origin;
  seen.requestHeaders = seen.requestHeaders || Object.keys(args.request.headers).map((h) => h.toLowerCase());
  const result = await next(args);
  seen.responses.push(result.response.headers);
  return result;
}, { step: "deserialize", priority: "low", name: "pageOrigin" });
seen.listed = (await client.send(new ListComponentsCommand({ owner: "Self" }))).componentVersionList.length;
try {
  await client.send(new GetImageCommand({ imageBuildVersionArn: "arn:aws:imagebuilder:us-east-1:123456789012:image/none/1.0.0/1" }));
} catch (e) {
  seen.error = e.name;
}
// The preflight a browser would send first, naming the headers the SDK set that a page may not send unasked.
const asked = seen.requestHeaders.filter((h) => !["host", "content-length", "user-agent", "origin"].includes(h));
const pre = await fetch(process.env.KILN_URL + "/ListComponents", { method: "OPTIONS", headers: {
  origin, "access-control-request-method": "POST", "access-control-request-headers": asked.join(",") } });
seen.preflight = { status: pre.status, headers: Object.fromEntries(pre.headers.entries()), asked };
console.log(JSON.stringify(seen));
"""


def test_the_javascript_sdks_requests_pass_a_browsers_checks(loopback, tmp_path):
    from tests.clients.support import client_env, node_modules, stage_script

    modules, why = node_modules()
    if modules is None:
        pytest.skip(why)
    script = tmp_path / "cors-probe.mjs"
    script.write_text(PROBE)
    staged = stage_script(script, tmp_path / "js", modules)
    env = dict(client_env(tmp_path), KILN_URL=loopback.url, PAGE_ORIGIN="http://localhost:5173", NODE_NO_WARNINGS="1")
    done = subprocess.run(["node", str(staged)], capture_output=True, text=True, env=env, timeout=120, cwd=staged.parent)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["error"] == "ResourceNotFoundException"
    for headers in seen["responses"]:
        assert headers["access-control-allow-origin"] == "http://localhost:5173"
        assert {"x-amzn-requestid", "x-amzn-errortype", "date"} <= set(headers["access-control-expose-headers"].split(", "))
    pre = seen["preflight"]
    assert pre["status"] == 204
    assert pre["headers"]["access-control-allow-origin"] == "http://localhost:5173"
    allowed = set(pre["headers"]["access-control-allow-headers"].split(","))
    assert set(pre["asked"]) <= allowed and {"authorization", "x-amz-date", "amz-sdk-invocation-id"} <= set(pre["asked"])
