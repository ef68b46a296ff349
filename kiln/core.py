"""handle(request) -> response: identity -> route -> parse -> validate -> dispatch -> serialize.

Knows nothing about uvicorn or botocore; the ASGI app, the in-process mock and
the tests all call this one function.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass, field
from random import getrandbits
from time import perf_counter

import orjson
from sqlalchemy.exc import IntegrityError, OperationalError

from kiln import api_faults, errors, fast_path, request_log
from kiln.engine import timeline  # noqa: F401  (registers the image builds' due work)
from kiln.engine.clock import Clock
from kiln.engine.due import DueEngine
from kiln.errors import ApiError
from kiln.identity import REGION, Identity, identify
from kiln.protocol import parser, router, serializer, validator
from kiln.protocol.serializer import filter_for
from kiln.protocol.spec import operations, service_model
from kiln.service import Context, load_handlers
from kiln.store import Store

log = logging.getLogger("kiln")


@dataclass
class Request:
    method: str
    path: str                    # raw, still percent-encoded
    query: str = ""              # raw query string
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    identity: Identity | None = None  # the caller, when the front door has verified it (--auth sigv4)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Kiln:
    """One emulator instance: a store, its clock, the due-work engine and the build timing."""

    active_faults = api_faults.AT_START  # failures on demand (kiln/api_faults.py): None while no rule is set

    def __init__(self, store: Store, seconds_per_state: float | None = 1.0, default_account: str = "123456789012",
                 integrations=None):
        self.store = store
        store.shape = stored_shape
        self.clock = Clock(store)
        self.seconds_per_state = seconds_per_state
        self.default_account = default_account
        self.handlers = load_handlers()
        self.engine = DueEngine(store, self.due_context)
        self.get_image_fast = fast_path.GetImageFastPath(self)
        operations()  # load the model now, not on the first request
        # EC2, S3, SNS, EventBridge, webhooks (kiln/integrations): the KILN_*_ENDPOINT_URL and
        # KILN_WEBHOOKS settings unless given; with none configured, nothing is attached.
        from kiln.integrations import Integrations

        self.integrations = integrations if integrations is not None else Integrations.from_env()
        self.integrations.attach(self)

    def handle(self, request: Request) -> Response:
        request_id = new_request_id()
        if self.active_faults is not None and (refused := api_faults.refusal(self, request, request_id)) is not None:
            return refused
        if request.path == fast_path.PATH and request.method == "GET":
            started = perf_counter()
            body = self.get_image_fast.body(request.query, request.headers.get("authorization"), request_id)
            if body is not None:
                response = Response(200, _headers(request_id), body)
                if request_log.enabled():
                    request_log.record(self, request, response, started)
                return response
        return self.handle_general(request, request_id)

    def handle_general(self, request: Request, request_id: str) -> Response:
        """handle() without the fast path: for a caller that has offered the request to it already."""
        if not request_log.enabled():  # the request log (kiln/request_log.py) costs one level check when off
            return self._answer(request, request_id)
        started = perf_counter()
        response = self._answer(request, request_id)
        request_log.record(self, request, response, started)
        return response

    def _answer(self, request: Request, request_id: str) -> Response:
        try:
            output, op = self._dispatch(request, request_id)
        except ApiError as e:
            return error_response(e, request_id)
        except OperationalError as e:  # the store cannot be written (disk full, read-only): say so plainly
            reason = str(e.orig).strip().splitlines()[0] if e.orig is not None else type(e).__name__
            log.error("cannot serve %s %s: the store refused it (%s); check the disk and the data directory's "
                      "permissions. Reads still work.", request.method, request.path.split("?", 1)[0], reason)
            return error_response(errors.ServiceException("An internal error has occurred."), request_id)
        except Exception:  # never a stack trace on the wire
            log.exception("internal error serving %s %s", request.method, request.path)
            return error_response(errors.ServiceException("An internal error has occurred."), request_id)
        if op.has_request_id:
            output["requestId"] = request_id
        return Response(200, _headers(request_id), serializer.serialize(op.output, output))

    def _dispatch(self, request: Request, request_id: str):
        found = router.route(request.method, request.path)
        if found is None:
            raise UnknownOperation(f"No Image Builder operation is served at {request.method} {request.path}.")
        op, label = found
        handler = self.handlers.get(op.name)
        if handler is None:
            raise errors.OperationNotSupportedException(f"kiln does not implement the {op.name} operation yet.")
        params = parser.parse(op, label, request.query, request.body)
        validator.validate(op.input, params)
        who = request.identity or identify(request.headers.get("authorization"), self.default_account)
        if REGION.fullmatch(who.region) is None:
            raise errors.InvalidSignatureException(
                f"Credential should be scoped to a valid region, not '{who.region}'.")
        now = self.clock.now()
        self.engine.catch_up(now)

        def run(tx):
            if op.arn_members and not op.is_read:
                # The resources the request names, asked for with its first statement.
                tx.prefetch([v for v in map(params.get, op.arn_members) if v is not None])
            ctx = Context(tx, who.account, who.region, request_id, now, self.seconds_per_state, self.store.secret)
            return _idempotent(op, params, lambda: handler(ctx, params), tx, now)

        attempts = 4
        for attempt in range(attempts):
            try:
                return self.store.run(run, who.account, who.region, write=not op.is_read), op
            except IntegrityError:
                # A concurrent writer took the same key first; running again lets
                # the handler see that row and answer as the service would.
                if attempt == attempts - 1:
                    raise

    def due_context(self, tx, now: float) -> Context:
        """What a due handler gets: the Context an operation would, at the moment the work fell due."""
        return Context(tx, tx.account, tx.region, new_request_id(), now, self.seconds_per_state, self.store.secret)


# Each type's document is filtered by its API shape when written (Store.shape), so
# that Gets can serve the stored text as it is (kiln.protocol.stored). Types not
# listed here (image versions, whose rows also keep tags) are stored unfiltered and
# always go through the serializer.
_STORED_SHAPES = {"image": "Image", "component": "Component", "image-recipe": "ImageRecipe",
                  "infrastructure-configuration": "InfrastructureConfiguration",
                  "distribution-configuration": "DistributionConfiguration",
                  "workflow/build": "Workflow", "workflow/test": "Workflow", "workflow/distribution": "Workflow"}


@functools.lru_cache(maxsize=None)
def stored_shape(type_: str):
    """The filter a stored document of this row type goes through, or None."""
    shape = _STORED_SHAPES.get(type_)
    # By name: botocore builds a new Shape object on every shape_for() call.
    return filter_for(service_model().shape_for(shape)) if shape is not None else None


_V4 = ((1 << 128) - 1) & ~(0xF000 << 64) & ~(0xC000 << 48)  # keep 128 bits, clear the version and variant bits,
_V4_BITS = (0x4000 << 64) | (0x8000 << 48)  # then set version 4, RFC 4122 variant


def new_request_id() -> str:
    """A random (version 4) UUID as text. Request ids need to be unique, not
    unguessable: the Mersenne Twister is reseeded in forked workers, and asking
    it costs no system call (os.urandom does). They are made 64 at a time: a
    request then costs a list pop."""
    try:
        return _REQUEST_IDS.pop()
    except IndexError:
        ids = _request_ids(64)
        _REQUEST_IDS.extend(ids[1:])
        return ids[0]


def _request_ids(n: int) -> list[str]:
    bits = getrandbits(128 * n)
    ids = []
    for _ in range(n):
        h = f"{bits & _V4 | _V4_BITS:032x}"
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        bits >>= 128
    return ids


_REQUEST_IDS: list[str] = []
os.register_at_fork(after_in_child=_REQUEST_IDS.clear)  # a forked worker must not repeat its parent's ids


UnknownOperation = type("UnknownOperationException", (ApiError,), {"code": "UnknownOperationException", "status": 404})


def _idempotent(op, params: dict, call, tx, now: float) -> dict:
    member = op.idempotency_member
    token = params.get(member) if member else None
    if token is None:
        return call()
    rest = {k: v for k, v in params.items() if k != member}
    digest = hashlib.sha256(orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)).hexdigest()
    seen = tx.idempotent_get(op.name, token)
    if seen is not None:
        if seen[0] != digest:
            raise errors.IdempotentParameterMismatchException(
                f"The client token '{token}' was already used with different request parameters for {op.name}."
            )
        return seen[1]
    output = call()
    tx.idempotent_put(op.name, token, digest, output, now)
    return output


def _headers(request_id: str) -> dict[str, str]:
    return {"content-type": "application/json", "x-amzn-requestid": request_id}


def error_response(e: ApiError, request_id: str) -> Response:
    headers = _headers(request_id)
    headers["x-amzn-errortype"] = e.code
    return Response(e.status, headers, orjson.dumps({"message": e.message}))
