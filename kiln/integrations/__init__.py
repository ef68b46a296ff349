"""kiln and the rest of the AWS toolbox: AMIs registered in EC2, documents read from S3,
notifications to SNS, EventBridge and webhooks (docs/integrations.md).

Every integration is optional. With no endpoint configured and no moto `mock_aws` active
in the process, nothing here runs and kiln behaves exactly as it does alone.

How it fits kiln's transactions: handlers and the due engine run inside store transactions
that may be retried, and build states are applied lazily; so nothing here calls another
service from inside one. `Integrations.attach` wraps the `run` of its kiln's store (an
attribute of that store object; the Store class is untouched): each write transaction gets
a frame (kiln/integrations/notes.py) on which the engine and handlers note what happened;
at the end of the transaction's function the notes become outbox rows (row type "outbox")
written in the same transaction, and after the commit the deliverer sends them
(kiln/integrations/outbox.py): on a background thread under `kiln serve`, synchronously
right after the commit in-process.

Reads (a component document from S3, a parent AMI or SSM parameter) are made where the
handler needs them: they change nothing, so a retried transaction only reads again.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from kiln.integrations import moto_support, notes

log = logging.getLogger("kiln.integrations")

# The environment variables (and kiln serve options) naming each service's endpoint.
ENDPOINT_VARIABLES = {"ec2": "KILN_EC2_ENDPOINT_URL", "s3": "KILN_S3_ENDPOINT_URL", "sns": "KILN_SNS_ENDPOINT_URL",
                      "events": "KILN_EVENTS_ENDPOINT_URL", "ssm": "KILN_SSM_ENDPOINT_URL"}
WEBHOOKS_VARIABLE = "KILN_WEBHOOKS"


def split_webhooks(value: str | None) -> tuple[str, ...]:
    """KILN_WEBHOOKS: URLs separated by commas or white space."""
    return tuple(u for u in (value or "").replace(",", " ").split() if u)


def check_url(url: str, what: str) -> str:
    """An http(s) URL with a host, or ValueError naming `what`."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http:// or https:// URL with a host, not {url!r}")
    return url


@dataclass(frozen=True)
class Settings:
    endpoints: dict = field(default_factory=dict)   # service -> endpoint URL (None: not configured)
    webhooks: tuple[str, ...] = ()
    moto: bool = False          # in-process: services without an endpoint go to moto's mock_aws while it is active
    synchronous: bool = False   # deliver right after each commit, on the committing thread (in-process)

    @classmethod
    def from_env(cls, env=None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        endpoints = {service: env.get(var) or None for service, var in ENDPOINT_VARIABLES.items()}
        for service, url in endpoints.items():
            if url:
                check_url(url, ENDPOINT_VARIABLES[service])
        webhooks = split_webhooks(env.get(WEBHOOKS_VARIABLE))
        for url in webhooks:
            check_url(url, WEBHOOKS_VARIABLE)
        return cls(endpoints=endpoints, webhooks=webhooks, **overrides)

    def configured(self) -> bool:
        """Whether any endpoint or webhook is configured (moto aside)."""
        return any(self.endpoints.values()) or bool(self.webhooks)


class Integrations:
    """One kiln's integrations: its settings, its clients, its outbox deliverer."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self._clients = None
        self.kiln = None
        self.deliverer = None

    @property
    def clients(self):
        """The botocore clients, made on first use: importing botocore.session costs ~80 ms
        of every kiln's start-up, and kiln alone never needs it."""
        if self._clients is None:
            from kiln.integrations import clients

            self._clients = clients.shared(self.settings.endpoints)
        return self._clients

    @classmethod
    def from_env(cls, **overrides) -> "Integrations":
        return cls(Settings.from_env(**overrides))

    @classmethod
    def in_process(cls) -> "Integrations":
        """kiln.mock_imagebuilder's: the KILN_* endpoints if set, moto's mock_aws when active,
        deliveries made right after each commit."""
        return cls(Settings.from_env(moto=True, synchronous=True))

    # -- what is available now ---------------------------------------------
    def enabled(self) -> bool:
        return self.settings.configured() or (self.settings.moto and moto_support.active())

    def has(self, service: str) -> bool:
        """Whether `service` (ec2, s3, sns, ssm, events) can be reached now: its endpoint is
        configured, or moto's mock_aws is active in this process."""
        if self.settings.endpoints.get(service):
            return True
        return self.settings.moto and moto_support.active()

    def where(self, service: str) -> str:
        """For messages: where kiln sends that service's requests."""
        return self.settings.endpoints.get(service) or "moto's mock_aws"

    # -- wiring into a kiln --------------------------------------------------
    def attach(self, kiln) -> None:
        """Wrap the kiln's store so that write transactions carry notes and outbox rows, and
        start the deliverer (and, under kiln serve, the thread that applies due work on time)."""
        if not (self.settings.configured() or self.settings.moto):
            return  # kiln alone: nothing is wrapped, nothing runs
        from kiln.integrations.outbox import Deliverer, wrap_store

        store = kiln.store
        if getattr(store, "_kiln_integrations", None) is not None:
            return  # another kiln on the same store carries them already
        self.kiln = kiln
        self.deliverer = Deliverer(self, kiln)
        wrap_store(self, store, self.deliverer.lock)
        store._kiln_integrations = self
        if not self.settings.synchronous:
            self.deliverer.start()

    def stop(self) -> None:
        if self.deliverer is not None:
            self.deliverer.stop()


def current() -> Integrations | None:
    """The integrations of the write transaction running on this thread, if any is active."""
    frame = notes.current()
    return frame.integrations if frame is not None else None

