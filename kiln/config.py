"""Settings from flags and KILN_* environment variables (flags win)."""
from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_PORT = 4599


def default_data_dir() -> str:
    """Per-user state: $XDG_DATA_HOME/kiln, else ~/.local/share/kiln."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "kiln")


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: str | None = None          # None with in_memory=False means default_data_dir()
    in_memory: bool = False
    database_url: str | None = None      # overrides data_dir (e.g. postgresql://...)
    build_timing: str = "1"              # "immediate" | "manual" | seconds per state
    account: str = "123456789012"        # account for access keys that are not 12 digits
    workers: int = 1
    cache_mb: int = 64                   # read documents kept in memory per process (SQLite files only)
    log_level: str = "info"              # of the `kiln` loggers; the request log is `kiln.requests` at info
    admin_token: str | None = None       # needed by the /_kiln/ routes that change state; see is_loopback
    auth: str = "none"                   # "sigv4": every API request's signature is checked (kiln/http/sigv4.py)
    credentials: str | None = None       # the JSON credentials file --auth sigv4 checks against
    request_timeout: float = 10.0        # seconds a started request may take to arrive (kiln/http/timeouts.py)
    # Other AWS services kiln works with (kiln/integrations, docs/integrations.md); None: not used.
    ec2_endpoint_url: str | None = None
    s3_endpoint_url: str | None = None
    sns_endpoint_url: str | None = None
    events_endpoint_url: str | None = None
    ssm_endpoint_url: str | None = None
    webhooks: tuple[str, ...] = ()       # URLs the EventBridge events are POSTed to

    def integration_env(self) -> dict[str, str]:
        """The KILN_* variables kiln/integrations reads (set for the server's processes)."""
        from kiln.integrations import ENDPOINT_VARIABLES, WEBHOOKS_VARIABLE

        env = {var: getattr(self, f"{service}_endpoint_url") or "" for service, var in ENDPOINT_VARIABLES.items()}
        env[WEBHOOKS_VARIABLE] = " ".join(self.webhooks)
        return env

    def to_env(self) -> dict[str, str]:
        env = {"KILN_HOST": self.host, "KILN_PORT": str(self.port), "KILN_BUILD_TIMING": self.build_timing,
               "KILN_ACCOUNT": self.account, "KILN_IN_MEMORY": "1" if self.in_memory else "",
               "KILN_CACHE_MB": str(self.cache_mb), "KILN_LOG_LEVEL": self.log_level}
        if self.data_dir:
            env["KILN_DATA_DIR"] = self.data_dir
        if self.database_url:
            env["KILN_DATABASE_URL"] = self.database_url
        if self.admin_token:
            env["KILN_ADMIN_TOKEN"] = self.admin_token
        env["KILN_AUTH"] = self.auth
        env["KILN_REQUEST_TIMEOUT"] = str(self.request_timeout)
        if self.credentials:
            env["KILN_CREDENTIALS"] = self.credentials
        env.update({k: v for k, v in self.integration_env().items() if v})
        return env

    def store_url(self) -> str:
        from kiln.store.repository import sqlite_url

        if self.database_url:
            return self.database_url
        if self.in_memory:
            return "sqlite://"
        return sqlite_url(self.data_dir or default_data_dir())

    @property
    def seconds_per_state(self) -> float | None:
        """None for manual timing, 0 for immediate."""
        if self.build_timing == "manual":
            return None
        if self.build_timing == "immediate":
            return 0.0
        return float(self.build_timing)


def config_from_env() -> Config:
    """Settings from the KILN_* environment variables; ValueError names a bad one."""
    env = os.environ
    return Config(
        host=env.get("KILN_HOST", "127.0.0.1"),
        port=int(env.get("KILN_PORT", DEFAULT_PORT)),
        data_dir=env.get("KILN_DATA_DIR") or None,
        in_memory=env.get("KILN_IN_MEMORY", "").lower() in ("1", "true", "yes"),
        database_url=env.get("KILN_DATABASE_URL") or None,
        build_timing=parse_build_timing(env.get("KILN_BUILD_TIMING", "1")),
        account=env.get("KILN_ACCOUNT", "123456789012"),
        workers=int(env.get("KILN_WORKERS", "1")),
        cache_mb=int(env.get("KILN_CACHE_MB", "64")),
        log_level=parse_log_level(env.get("KILN_LOG_LEVEL", "info")),
        admin_token=env.get("KILN_ADMIN_TOKEN") or None,
        auth=parse_auth(env.get("KILN_AUTH", "none")),
        credentials=env.get("KILN_CREDENTIALS") or None,
        request_timeout=parse_request_timeout(env.get("KILN_REQUEST_TIMEOUT", "10")),
        **integration_settings(env),
    )


def integration_settings(env) -> dict:
    """The integrations' endpoints and webhooks from KILN_*_ENDPOINT_URL and KILN_WEBHOOKS
    (ValueError naming a variable that is not an http(s) URL)."""
    from kiln.integrations import ENDPOINT_VARIABLES, WEBHOOKS_VARIABLE, check_url, split_webhooks

    settings: dict = {}
    for service, var in ENDPOINT_VARIABLES.items():
        if env.get(var):
            settings[f"{service}_endpoint_url"] = check_url(env[var], var)
    webhooks = split_webhooks(env.get(WEBHOOKS_VARIABLE))
    if webhooks:
        settings["webhooks"] = tuple(check_url(u, WEBHOOKS_VARIABLE) for u in webhooks)
    return settings


def parse_request_timeout(value) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < 3600:
        raise ValueError(f"KILN_REQUEST_TIMEOUT must be a number of seconds above 0 and below 3600, not {value!r}")
    return seconds


AUTH_MODES = ("none", "sigv4")


def parse_auth(value: str) -> str:
    mode = str(value).strip().lower()
    if mode not in AUTH_MODES:
        raise ValueError(f"KILN_AUTH must be none or sigv4, not {value!r}")
    return mode


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach an address: there the admin routes stay open
    unless a token is set; anywhere else (0.0.0.0, a LAN address) they need one."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def parse_log_level(value: str) -> str:
    level = str(value).strip().lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


def parse_build_timing(value: str) -> str:
    value = str(value).strip().lower()
    if value in ("immediate", "manual"):
        return value
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"build timing must be 'immediate', 'manual' or a number of seconds, not {value!r}") from None
    if seconds < 0:
        raise ValueError("build timing seconds must be zero or more")
    return value
