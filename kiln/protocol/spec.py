"""The Image Builder service model, loaded once per process from the installed botocore.

Everything on the wire (routes, member names, constraints, output shapes, error
status codes) is read from here; nothing in kiln restates it by hand.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import botocore.session
from botocore.model import ServiceModel, Shape

SERVICE = "imagebuilder"


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str                      # requestUri, e.g. "/GetImage" or "/tags/{resourceArn}"
    input: Shape | None
    output: Shape | None
    idempotency_member: str | None  # the clientToken member, when the model marks one
    has_request_id: bool            # whether the output shape carries `requestId`
    label: str | None = None        # the URI label member, for /tags/{resourceArn}
    query: dict[str, str] = field(default_factory=dict)  # wire name -> member name
    body_members: tuple[str, ...] = ()
    arn_members: tuple[str, ...] = ()  # top-level string members naming a resource by ARN

    @property
    def is_read(self) -> bool:
        """Reads never change stored resources (Get*/List* and GetMarketplaceResource)."""
        return self.name.startswith(("Get", "List"))


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model(SERVICE)


@lru_cache(maxsize=1)
def operations() -> dict[str, Operation]:
    model = service_model()
    ops = {}
    for name in model.operation_names:
        op = model.operation_model(name)
        inp, out = op.input_shape, op.output_shape
        token = label = None
        query: dict[str, str] = {}
        body: list[str] = []
        named: list[str] = []
        if inp is not None:
            for member_name, member in inp.members.items():
                loc = member.serialization.get("location")
                if loc == "querystring":
                    query[member.serialization.get("name", member_name)] = member_name
                elif loc == "uri":
                    label = member_name
                else:
                    body.append(member_name)
                if member.metadata.get("idempotencyToken"):
                    token = member_name
                if member_name.endswith("Arn") and member.type_name == "string":
                    named.append(member_name)
        ops[name] = Operation(
            name=name,
            method=op.http["method"],
            path=op.http["requestUri"],
            input=inp,
            output=out,
            idempotency_member=token,
            has_request_id=out is not None and "requestId" in out.members,
            label=label,
            query=query,
            body_members=tuple(body),
            arn_members=tuple(named),
        )
    return ops


@lru_cache(maxsize=None)
def compiled_pattern(pattern: str) -> re.Pattern:
    # Model patterns are Java regexes applied to the whole value (some, like
    # `optional|required` or `[^\x00]+`, carry no anchors), so kiln full-matches.
    return re.compile(pattern)


def error_status(code: str) -> int | None:
    """HTTP status the model gives an error shape, or None for unmodeled codes."""
    model = service_model()
    try:
        shape = model.shape_for(code)
    except Exception:
        return None
    return shape.metadata.get("error", {}).get("httpStatusCode")
