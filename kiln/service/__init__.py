"""The service layer: one module per resource family, each handler registered
under the exact operation name it serves."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from kiln.store import Tx

HANDLERS: dict[str, Callable] = {}

# Resource-family modules, imported once so their @operation decorators register.
FAMILIES = (
    "components",
    "component_imports",
    "workflows",
    "image_recipes",
    "container_recipes",
    "infrastructure_configurations",
    "distribution_configurations",
    "images",
    "image_pipelines",
    "workflow_runs",
    "image_distributions",
    "image_imports",
    "lifecycle_executions",
    "tags",
    "image_scans",
    "marketplace",
    "lifecycle_policies",
    "resource_policies",
)


def operation(name: str):
    """Register `fn(ctx, request) -> output` as the handler of operation `name`."""

    def register(fn: Callable) -> Callable:
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for {name}")
        HANDLERS[name] = fn
        return fn

    return register


@dataclass
class Context:
    """What a handler knows about the call it serves."""

    tx: Tx
    account: str
    region: str
    request_id: str
    now: float
    seconds_per_state: float | None   # build timing; None = manual
    secret: str = ""                   # signs pagination tokens
    partition: str = "aws"
    extra: dict = field(default_factory=dict)


def load_handlers() -> dict[str, Callable]:
    for family in FAMILIES:
        importlib.import_module(f"kiln.service.{family}")
    return HANDLERS
