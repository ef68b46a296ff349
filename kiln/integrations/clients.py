"""botocore clients for the AWS services kiln talks to (EC2, S3, SNS, SSM, EventBridge).

Each goes to the endpoint the user configured (`--ec2-endpoint-url`, ...), or, in-process
with no endpoint for that service, to AWS's own URL, which moto's `mock_aws` answers.

Accounts: moto picks the account of a request from the `x-moto-account-id` header
(moto/core/responses.py, get_current_account: after MOTO_ACCOUNT_ID, before the access
key), so every request kiln makes for an account carries it; and it signs with that
account id as its access key id, which LocalStack reads as the account. S3 reads are not
made for an account (bucket names are global) and sign with the credentials botocore
finds (AWS_ACCESS_KEY_ID..., as MinIO needs), else placeholder ones.
"""
from __future__ import annotations

import threading

import botocore.session
from botocore.config import Config

from kiln.integrations import moto_support

SERVICES = ("ec2", "s3", "sns", "ssm", "events")
_TIMEOUTS = dict(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})


class Clients:
    """Makes and keeps one client per (service, Region, account, endpoint)."""

    def __init__(self, endpoints: dict[str, str | None]):
        self.endpoints = endpoints
        self._clients: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self._session = None  # one botocore session: each service's model is loaded once

    def endpoint(self, service: str) -> str | None:
        return self.endpoints.get(service)

    def get(self, service: str, region: str, account: str | None = None):
        endpoint = self.endpoints.get(service)
        key = (service, region, account, endpoint)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._make(service, region, account, endpoint)
        return client

    def _make(self, service: str, region: str, account: str | None, endpoint: str | None):
        if self._session is None:
            self._session = botocore.session.Session()
        session = self._session  # (used under the lock: a botocore session is not thread-safe)
        options = dict(_TIMEOUTS)
        if service == "s3" and endpoint:
            options["s3"] = {"addressing_style": "path"}  # MinIO and moto_server: no bucket subdomains
        if account is not None:
            key, secret = account, "kiln"
        else:
            found = session.get_credentials()
            key, secret = (found.access_key, found.secret_key) if found is not None else ("kiln", "kiln")
        client = session.create_client(service, region_name=region, endpoint_url=endpoint, aws_access_key_id=key,
                                       aws_secret_access_key=secret, config=Config(**options))
        if account is not None:
            def add_account(request, **_):
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-sign", add_account)
        if endpoint is None:
            moto_support.patch_client(client)
        return client


_SHARED: dict[tuple, Clients] = {}
_SHARED_LOCK = threading.Lock()


def shared(endpoints: dict[str, str | None]) -> Clients:
    """One Clients per set of endpoints in this process: every in-process kiln (a new one per
    mock activation) uses the same clients, so each service's model is loaded once."""
    key = tuple(sorted((k, v) for k, v in endpoints.items() if v))
    with _SHARED_LOCK:
        clients = _SHARED.get(key)
        if clients is None:
            clients = _SHARED[key] = Clients(dict(endpoints))
        return clients
