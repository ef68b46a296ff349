"""Helpers for the failure-rule tests: kiln's controls for the backend under test (cleared after
each test, so the shared server is left without rules), and boto3 clients with a retry mode."""
from __future__ import annotations

import botocore.config
import pytest

from kiln.pytest_plugin import KilnControl
from tests.support.backend import session, watch
from tests.support.raw import DEFAULT_ACCOUNT, DEFAULT_REGION


@pytest.fixture
def control(backend) -> KilnControl:
    """KilnControl of the backend: the in-process kiln, or the shared server over /_kiln/."""
    c = KilnControl(kiln=backend.kiln) if backend.kiln is not None else KilnControl(url=backend.server.url)
    c.clear_faults()
    yield c
    c.clear_faults()


def retrying(backend, mode: str = "standard", attempts: int = 3, access_key: str = DEFAULT_ACCOUNT,
             region: str = DEFAULT_REGION):
    """A boto3 client on the backend with botocore's `mode` retries, making at most `attempts`
    attempts per call (botocore's total_max_attempts: AWS_MAX_ATTEMPTS, `max_attempts` in
    ~/.aws/config), so at most attempts - 1 retries. Every raw response, each attempt's, is
    checked against the model."""
    client = session().client(
        "imagebuilder", region_name=region, endpoint_url=backend.endpoint_url,
        aws_access_key_id=access_key, aws_secret_access_key="x",
        config=botocore.config.Config(retries={"mode": mode, "total_max_attempts": attempts}),
    )
    watch(client, backend.violations)
    return client
