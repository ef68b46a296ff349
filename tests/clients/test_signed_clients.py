"""Clients that sign with their own SigV4 code against `kiln serve --auth sigv4`: the
JavaScript SDK v3 (Smithy's signer) and the AWS CLI (botocore's, through its own
credential chain from the environment)."""
from __future__ import annotations

import json
import subprocess

import pytest

from clients.support import HERE, aws_cli_command, client_env, node_modules, stage_script
from tests.http.test_sigv4 import ACCOUNT, KEY, MISMATCH, SECRET, credentials_file, signed_server  # noqa: F401


def test_js_sdk_signs_requests_kiln_accepts(signed_server, tmp_path):  # noqa: F811
    modules, why = node_modules()
    if modules is None:
        pytest.skip(why)
    staged = stage_script(HERE / "js" / "signed.mjs", tmp_path / "js", modules)
    env = client_env(tmp_path)
    env.update(KILN_URL=signed_server.url, KEY_ID=KEY, SECRET=SECRET, NODE_NO_WARNINGS="1")
    done = subprocess.run(["node", str(staged)], capture_output=True, text=True, env=env, timeout=300, cwd=staged.parent)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["arn"].startswith(f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:component/js-signed/1.0.0/")
    assert seen["got"] == seen["arn"]
    assert seen["listed"] >= 1
    assert seen["wrong"] == {"name": "InvalidSignatureException", "status": 403, "message": MISMATCH}


def test_aws_cli_signs_requests_kiln_accepts(signed_server, tmp_path):  # noqa: F811
    cli = aws_cli_command()
    if cli is None:
        pytest.skip("the AWS CLI is not installed (pip install awscli)")
    env = client_env(tmp_path)
    env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET)
    base = [*cli, "imagebuilder", "--endpoint-url", signed_server.url, "--region", "us-east-1", "--output", "json"]
    done = subprocess.run([*base, "list-components"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "componentVersionList" in json.loads(done.stdout)
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    done = subprocess.run([*base, "list-components"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert "(InvalidSignatureException)" in done.stderr and MISMATCH in done.stderr
