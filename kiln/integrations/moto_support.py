"""moto in the same process: is its `mock_aws` active, and let Image Builder through it.

moto's `mock_aws` answers in a botocore `before-send` handler (moto.core.botocore_stubber,
registered in botocore's BUILTIN_HANDLERS when moto is imported, switched on by
`BotocoreStubber.enabled` while a mock is active: moto/core/models.py, _enable_patching).
kiln never imports moto: when the user's tests did, `sys.modules` has it.
"""
from __future__ import annotations

import sys


def _stubber_module():
    return sys.modules.get("moto.core.botocore_stubber")


def active() -> bool:
    """Whether a moto `mock_aws` is active in this process (then botocore clients kiln makes
    are answered by moto, as the user's own are)."""
    models = sys.modules.get("moto.core.models")
    stubber = getattr(models, "botocore_stubber", None) if models is not None else None
    return bool(getattr(stubber, "enabled", False))


def let_imagebuilder_through(kiln_active) -> None:
    """moto has no Image Builder backend, and while `mock_aws` is active its before-send
    handler answers every *.amazonaws.com request it has no backend for with 404 "Not yet
    implemented", before botocore's Endpoint._send, where kiln's mock answers. Make moto's
    handler step aside for Image Builder requests while `kiln_active()` says a kiln mock is
    active. Done once, on the class, when moto is imported (a no-op otherwise)."""
    module = _stubber_module()
    if module is None:
        return
    cls = module.BotocoreStubber
    if getattr(cls.__call__, "_kiln_passes_imagebuilder", False):
        return
    original = cls.__call__

    def __call__(self, event_name, request, **kwargs):
        if str(event_name).startswith("before-send.imagebuilder.") and kiln_active():
            return None  # kiln's mock (Endpoint._send) answers it
        return original(self, event_name, request, **kwargs)

    __call__._kiln_passes_imagebuilder = True
    cls.__call__ = __call__


def patch_client(client) -> None:
    """Make sure moto's handler is on a client kiln made (moto's own helper; it checks for doubles)."""
    models = sys.modules.get("moto.core.models")
    if models is not None and hasattr(models, "patch_client"):
        try:
            models.patch_client(client)
        except Exception:  # noqa: BLE001 - moto's private layout changed: its BUILTIN_HANDLERS entry still applies
            pass
