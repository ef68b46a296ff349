"""The two ways a test reaches kiln (in-process mock, real server), behind one object.

`Backend.client()` makes boto3 imagebuilder clients whose every raw response is
checked against the model before botocore parses it; `Backend.raw` sends raw
HTTP the same way. Violations are raised at once (so the call that caused one
fails) and also kept in `violations`, which the fixture asserts empty at teardown.
"""
from __future__ import annotations

import boto3
import botocore.config
import botocore.session

import kiln.mock  # noqa: F401  (registers the mock's before-send hook for every session made after this)
from tests.support import shapes
from tests.support.raw import DEFAULT_ACCOUNT, DEFAULT_REGION, Raw, ShapeViolation

_CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
_session: boto3.session.Session | None = None


def session() -> boto3.session.Session:
    """One boto3 session for the whole run: clients share its loaded model."""
    global _session
    if _session is None:
        _session = boto3.session.Session(botocore_session=botocore.session.get_session())
    return _session


class Backend:
    def __init__(self, mode: str, *, kiln=None, server=None):
        self.mode = mode
        self.kiln = kiln            # in-process: the mock's kiln.core.Kiln
        self.server = server        # server: a tests.support.server.KilnServer
        self.violations: list[str] = []
        if server is not None:
            self.raw = Raw(host=server.host, port=server.port, violations=self.violations)
        else:
            self.raw = Raw(kiln=kiln, violations=self.violations)

    @property
    def endpoint_url(self) -> str | None:
        return self.server.url if self.server is not None else None

    def client(self, access_key: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION):
        client = session().client(
            "imagebuilder", region_name=region, endpoint_url=self.endpoint_url,
            aws_access_key_id=access_key, aws_secret_access_key="x", config=_CONFIG,
        )
        watch(client, self.violations)
        return client


def watch(client, violations: list) -> None:
    """Check each raw response the client receives against the model."""

    def before_parse(operation_model, response_dict, **_kwargs):
        body = response_dict.get("body") or b""
        problems = shapes.check_response(operation_model.name, response_dict["status_code"],
                                         response_dict["headers"], body)
        if problems:
            violations.extend(problems)
            raise ShapeViolation("\n".join(problems))

    client.meta.events.register("before-parse.imagebuilder", before_parse)
