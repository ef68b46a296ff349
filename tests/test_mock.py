"""kiln.mock_imagebuilder(): no Image Builder client escapes to the network while a mock is active,
however and whenever it was made.

Each case runs in a fresh Python process, so the order of `import boto3`, client creation and
`import kiln` is real. The process has credentials that look real and its HTTP(S) proxy is a dead
port, so a request that escaped the mock fails at once (and could never reach AWS).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "KILN_")) and k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
    env.update({
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
        "PYTHONPATH": ROOT,
    })
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, env=env,
                          timeout=120)


_CALL = """
import botocore.exceptions

def call(name, client):
    try:
        client.create_infrastructure_configuration(name=name, instanceProfileName="p")
        print(name, "answered by kiln")
    except botocore.exceptions.ConnectionError:  # EndpointConnectionError, ProxyConnectionError
        print(name, "went to the network")
"""


def test_clients_made_before_import_kiln_and_before_the_mock_are_answered_by_the_mock():
    result = _python(_CALL + """
import boto3
import botocore.session

before_import = boto3.client("imagebuilder", region_name="us-east-1")    # boto3's default session
session_before_import = boto3.session.Session(region_name="us-east-1").client("imagebuilder")

import kiln

session_after_import = boto3.session.Session(region_name="us-east-1").client("imagebuilder")
botocore_session = botocore.session.get_session().create_client("imagebuilder", region_name="us-east-1")
with_endpoint_url = boto3.session.Session().client("imagebuilder", region_name="us-east-1",
                                                   endpoint_url="http://127.0.0.1:9")
with kiln.mock_imagebuilder():
    inside = boto3.session.Session().client("imagebuilder", region_name="us-east-1")
    for name, client in [("before-import", before_import), ("session-before-import", session_before_import),
                         ("session-after-import", session_after_import), ("botocore-session", botocore_session),
                         ("endpoint-url", with_endpoint_url), ("inside", inside)]:
        call(name, client)
    listed = inside.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"]
    print("kiln has", len(listed))
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "before-import answered by kiln",
        "session-before-import answered by kiln",
        "session-after-import answered by kiln",
        "botocore-session answered by kiln",
        "endpoint-url answered by kiln",
        "inside answered by kiln",
        "kiln has 6",
    ]


def test_after_the_mock_stops_clients_go_to_their_endpoint_again_and_other_services_always_do():
    result = _python(_CALL + """
import boto3
import kiln
from botocore.endpoint import Endpoint

original = Endpoint._send
client = boto3.session.Session(region_name="us-east-1").client("imagebuilder")
sts = boto3.session.Session(region_name="us-east-1").client("sts")
with kiln.mock_imagebuilder():
    call("during", client)
    try:
        sts.get_caller_identity()
        print("sts answered by kiln")
    except botocore.exceptions.ConnectionError:  # EndpointConnectionError, ProxyConnectionError
        print("sts went to the network")
call("after", client)
print("botocore restored:", Endpoint._send is original)
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "during answered by kiln",
        "sts went to the network",
        "after went to the network",
        "botocore restored: True",
    ]


def test_nested_mocks_answer_from_the_innermost_and_stopping_it_returns_to_the_outer():
    result = _python(_CALL + """
import boto3
import kiln

client = boto3.session.Session(region_name="us-east-1").client("imagebuilder")

def count():
    return len(client.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"])

with kiln.mock_imagebuilder():
    call("outer", client)
    with kiln.mock_imagebuilder():
        print("inner sees", count())
    print("outer sees", count())
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["outer answered by kiln", "inner sees 0", "outer sees 1"]
