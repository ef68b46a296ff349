"""`kiln serve --auth sigv4`: every request's Signature Version 4 checked against a
credentials file (kiln/http/sigv4.py), through boto3 and raw HTTP against a real server.
Error codes and messages as AWS's front door answers them (e.g. aws/aws-sdk-js#4545,
aws/aws-sdk-ruby#508 for the scope; the mismatch and expiry wordings are AWS's own)."""
from __future__ import annotations

import datetime
import http.client
import json
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import botocore
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from kiln.http.sigv4 import SKEW_SECONDS, load_credentials, verify
from tests.support.server import KilnServer

KEY, SECRET, ACCOUNT = "AKIAKILNEXAMPLE00001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "111122223333"
OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT = "AKIAKILNEXAMPLE00002", "another-secret", "444455556666"

MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.")


@pytest.fixture(scope="module")
def credentials_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "credentials.json"
    path.write_text(json.dumps({KEY: {"secretAccessKey": SECRET, "accountId": ACCOUNT},
                                OTHER_KEY: {"secretAccessKey": OTHER_SECRET, "accountId": OTHER_ACCOUNT}}))
    return str(path)


@pytest.fixture(scope="module")
def signed_server(credentials_file):
    server = KilnServer("--in-memory", "--build-timing", "immediate", "--auth", "sigv4",
                        "--credentials", credentials_file).start()
    yield server
    server.stop()


def _client(server, key=KEY, secret=SECRET, **config):
    return boto3.client("imagebuilder", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, **config))


def _error(excinfo) -> tuple[int, str, str]:
    e = excinfo.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"]["Message"]


def _component(client, name):
    return client.create_component(name=name, semanticVersion="1.0.0", platform="Linux", clientToken=name,
                                   data="name: x\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n"
                                        "      - name: s\n        action: ExecuteBash\n        inputs:\n"
                                        "          commands: ['true']\n")["componentBuildVersionArn"]


def test_boto3_with_the_right_secret_works_as_the_files_account(signed_server):
    client = _client(signed_server)
    arn = _component(client, "signed")
    assert arn.startswith(f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:component/signed/1.0.0/")
    assert client.get_component(componentBuildVersionArn=arn)["component"]["arn"] == arn
    # The other key is another account: it does not see it.
    with pytest.raises(ClientError) as e:
        _client(signed_server, OTHER_KEY, OTHER_SECRET).get_component(componentBuildVersionArn=arn)
    assert _error(e)[:2] == (404, "ResourceNotFoundException")


def test_a_wrong_secret_is_refused(signed_server):
    with pytest.raises(ClientError) as e:
        _client(signed_server, secret="not-the-secret").list_components()
    assert _error(e) == (403, "InvalidSignatureException", MISMATCH)


def test_an_unknown_access_key_is_refused(signed_server):
    with pytest.raises(ClientError) as e:
        _client(signed_server, key="AKIANOBODYKNOWS00000").list_components()
    assert _error(e) == (403, "UnrecognizedClientException", "The security token included in the request is invalid.")


def test_no_signature_is_refused(signed_server):
    with pytest.raises(ClientError) as e:
        _client(signed_server, signature_version=botocore.UNSIGNED).list_components()
    assert _error(e) == (403, "MissingAuthenticationTokenException", "Missing Authentication Token")


def _signed_raw(server, body: bytes, when: datetime.datetime, monkeypatch, secret=SECRET, tamper=None):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when)
    request = AWSRequest(method="POST", url=f"{server.url}/ListComponents", data=body,
                         headers={"content-type": "application/json"})
    botocore.auth.SigV4Auth(Credentials(KEY, secret), "imagebuilder", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("POST", "/ListComponents", body=tamper if tamper is not None else body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("x-amzn-ErrorType"), json.loads(resp.read())
    finally:
        conn.close()


def test_a_request_signed_now_passes_and_a_stale_or_future_one_is_refused(signed_server, monkeypatch):
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert _signed_raw(signed_server, b"{}", now, monkeypatch)[0] == 200
    status, code, doc = _signed_raw(signed_server, b"{}", now - datetime.timedelta(minutes=6), monkeypatch)
    assert (status, code) == (403, "InvalidSignatureException")
    assert doc["message"].startswith("Signature expired: ") and doc["message"].endswith(" - 5 min.)")
    status, code, doc = _signed_raw(signed_server, b"{}", now + datetime.timedelta(minutes=6), monkeypatch)
    assert (status, code) == (403, "InvalidSignatureException")
    assert doc["message"].startswith("Signature not yet current: ") and doc["message"].endswith(" + 5 min.)")


def test_a_body_changed_after_signing_is_refused(signed_server, monkeypatch):
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    status, code, doc = _signed_raw(signed_server, b'{"maxResults": 5}', now, monkeypatch, tamper=b'{"maxResults": 6}')
    assert (status, code, doc) == (403, "InvalidSignatureException", {"message": MISMATCH})


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, {"type": e.headers["x-amzn-ErrorType"], **json.loads(e.read())}


def test_a_presigned_url_works_and_a_tampered_or_expired_one_does_not(signed_server, monkeypatch):
    client = _client(signed_server)
    arn = _component(client, "presigned")
    url = client.generate_presigned_url("get_component", Params={"componentBuildVersionArn": arn}, ExpiresIn=60)
    assert "X-Amz-Signature=" in url
    status, doc = _get(url)
    assert (status, doc["component"]["arn"]) == (200, arn)
    status, doc = _get(url.replace("presigned", "presigneX", 1))
    assert (status, doc) == (403, {"type": "InvalidSignatureException", "message": MISMATCH})
    then = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=2)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: then)
    stale = client.generate_presigned_url("get_component", Params={"componentBuildVersionArn": arn}, ExpiresIn=60)
    status, doc = _get(stale)
    assert (status, doc["type"]) == (403, "InvalidSignatureException")
    assert doc["message"].startswith("Signature expired: ") and doc["message"].endswith(" - 60 sec.)")


def test_admin_routes_are_not_signed_requests(signed_server):
    assert _get(f"{signed_server.url}/_kiln/health")[0] == 200


# --- verify() on its own, and the credentials file -------------------------------------------------

def test_verify_takes_botocores_signature_and_says_who_signed():
    request = AWSRequest(method="GET", url="http://kiln.test:4599/GetComponent?componentBuildVersionArn=a%3Ab",
                         headers={})
    botocore.auth.SigV4Auth(Credentials(KEY, SECRET), "imagebuilder", "eu-west-1").add_auth(request)
    headers = [(k.lower(), v) for k, v in request.headers.items()] + [("host", "kiln.test:4599")]
    who = verify("GET", "/GetComponent", "componentBuildVersionArn=a%3Ab", headers, b"",
                 {KEY: _key()})
    assert who == (ACCOUNT, "eu-west-1")


def _key():
    from kiln.http.sigv4 import Key

    return Key(SECRET, ACCOUNT)


def test_the_skew_window_is_aws_five_minutes():
    assert SKEW_SECONDS == 300


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ("[]", "must be a JSON object of access key ids"),
    ('{"AKID": {"secretAccessKey": "s", "accountId": "12"}}', "AKID's accountId must be 12 digits"),
    ('{"AKID": {"accountId": "111122223333"}}', "AKID has no secretAccessKey"),
])
def test_serve_refuses_a_credentials_file_it_cannot_use(tmp_path, content, message):
    path = tmp_path / "c.json"
    path.write_text(content)
    result = subprocess.run([sys.executable, "-m", "kiln", "serve", "--in-memory", "--port", "1", "--auth", "sigv4",
                             "--credentials", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "check --credentials (KILN_CREDENTIALS)." in result.stderr


def test_serve_sigv4_needs_a_credentials_file():
    result = subprocess.run([sys.executable, "-m", "kiln", "serve", "--in-memory", "--port", "1", "--auth", "sigv4"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("Error: --auth sigv4 needs the access keys to check signatures against: "
                                     "pass a JSON file with --credentials (KILN_CREDENTIALS).")


def test_the_request_log_names_the_signing_keys_account_and_the_refusals(signed_server):
    _client(signed_server).list_components()
    with pytest.raises(ClientError):
        _client(signed_server, secret="nope").list_components()
    lines = signed_server.log().splitlines()
    assert any(f"ListComponents 200 - " in line and f"account={ACCOUNT}" in line for line in lines), lines[-5:]
    assert any("/ListComponents 403 InvalidSignatureException " in line and "account=-" in line for line in lines), \
        lines[-5:]
