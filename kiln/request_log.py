"""The request log: one line per request on the `kiln.requests` logger, at INFO.

    GetImage 200 - 0.1ms account=123456789012 requestId=5e0c5d2a-...
    CreateImageRecipe 400 ResourceAlreadyExistsException 2.1ms account=123456789012 requestId=...
    /_kiln/reset 200 - 0.9ms account=- requestId=-

operation (the path, for kiln's own /_kiln/ routes and paths no operation is served
at), HTTP status, error code (`-` for none), latency (kiln's handling of the request,
from the time it has it to its answer), account and request id (`-` for /_kiln/ routes). The same
values ride on the record as attributes (`record.kiln_operation`, `kiln_status`,
`kiln_error`, `kiln_ms`, `kiln_account`, `kiln_request_id`) for structured handlers.

It goes through Python's `logging`, so whoever runs kiln decides: `kiln serve
--log-level` / `KILN_LOG_LEVEL`, pytest's `--log-level` / `caplog`, or an embedding
app's own configuration. Callers ask `enabled()` once per request and do nothing more
when it is off (the default outside `kiln serve`: the root logger is at WARNING), so
the disabled log costs one cached level check.
"""
from __future__ import annotations

import logging
from time import perf_counter

from kiln.identity import identify
from kiln.protocol import router

log = logging.getLogger("kiln.requests")
_INFO = logging.INFO


def enabled() -> bool:
    return log.isEnabledFor(_INFO)


def write(operation: str, status: int, error: str | None, started: float, request_id: str, account: str) -> None:
    ms = (perf_counter() - started) * 1000.0
    log.info("%s %d %s %.1fms account=%s requestId=%s", operation, status, error or "-", ms, account, request_id,
             extra={"kiln_operation": operation, "kiln_status": status, "kiln_error": error, "kiln_ms": ms,
                    "kiln_account": account, "kiln_request_id": request_id})


def record(kiln, request, response, started: float) -> None:
    """One line for a request answered by kiln.core.Kiln (`request`, `response` are its types)."""
    found = router.route(request.method, request.path)
    operation = found[0].name if found is not None else request.path.split("?", 1)[0]  # no operation there
    account = (request.identity or identify(request.headers.get("authorization"), kiln.default_account)).account
    write(operation, response.status, response.headers.get("x-amzn-errortype"), started,
          response.headers.get("x-amzn-requestid", "-"), account)


def configure(level: str) -> None:
    """What `kiln serve` does with --log-level: kiln's loggers to stderr at that level,
    one line each. An app embedding kiln configures logging its own way instead."""
    root = logging.getLogger("kiln")
    root.setLevel(level.upper())
    if not any(getattr(h, "_kiln", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._kiln = True
        root.addHandler(handler)
        root.propagate = False
