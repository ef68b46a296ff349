"""Failures on demand: the service's throttles, outages and slowness, answered when asked for.

A rule names which calls it touches (an operation or every one, an account, a Region) and
what it does to them: answer one of the service's errors (CallRateLimitExceededException 429,
ServiceUnavailableException 503, ServiceException 500, ForbiddenException 403,
TooManyRequestsException 429) exactly as the service writes it, and/or hold the answer back
(`latency` seconds). It fires on every matching call, on a share of them (`probability`,
drawn from the rule's own seedable generator), on the next N (`count`), or only on the calls
over a token-bucket rate (`rate` calls per second per account, Region and operation, `burst`
at once), the way AWS throttles.

Rules are set through /_kiln/faults (kiln/admin.py), `kiln.mock.faults()`, the pytest plugin
(`@pytest.mark.kiln(faults=[...])`, `kiln_control.add_faults`) and at start from a file
(`kiln serve --faults FILE`, KILN_FAULTS). They live in the process that serves: each worker of
`kiln serve --workers N` loads the file, and a rule added through /_kiln/faults applies to the
worker that received it.

The cost when no rule is set is one attribute check per request (`Kiln.active_faults is not
None`, kiln/core.py and kiln/http/app.py); the book of rules sets it back to None when its last
rule is spent or cleared. In-process, a rule's latency is slept on the caller's thread; under
`kiln serve` it is awaited (`refusal_async`), so other requests go on meanwhile.
"""
from __future__ import annotations

import asyncio
import difflib
import json
import math
import os
import random
import threading
import time
from dataclasses import dataclass, field
from time import perf_counter

ENV = "KILN_FAULTS"

# The errors a rule may answer with, with the wording kiln gives them unless the rule has its
# own `message`. Statuses are the model's (kiln/errors.py). AWS's throttles say "Rate exceeded";
# the others are the model's own description of the error.
ERRORS = {
    "CallRateLimitExceededException": "Rate exceeded",
    "ServiceUnavailableException": "The service is unable to process your request at this time.",
    "ServiceException": "An internal error has occurred.",
    "ForbiddenException": "You are not authorized to perform the requested operation.",
    "TooManyRequestsException": "You have attempted too many requests for the specific operation.",
}
THROTTLE = "CallRateLimitExceededException"  # what a `rate` rule answers unless it names another error
MAX_LATENCY = 300.0  # seconds; more than any client waits for an answer

# The fields of a rule, in the order they are listed back.
FIELDS = ("operation", "account", "region", "error", "message", "probability", "count", "rate", "burst",
          "latency", "seed")


class RuleError(ValueError):
    """A rule kiln cannot use; the message names the field (answered 400 by /_kiln/faults)."""


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------

@dataclass(eq=False)
class Rule:
    spec: dict                     # the rule as given, checked (listed back, and kept for a reset)
    operation: str | None          # None: every operation
    account: str | None
    region: str | None
    error: str | None              # None: latency only
    message: str | None
    probability: float
    remaining: int | None          # calls still to fire on; None: no limit
    rate: float | None             # calls per second per (account, Region, operation)
    burst: float
    latency: float
    rng: random.Random
    id: str = ""
    fired: int = 0
    buckets: dict = field(default_factory=dict)  # (account, region, operation) -> [tokens, at]

    def matches(self, operation: str, account: str, region: str) -> bool:
        return ((self.operation is None or self.operation == operation)
                and (self.account is None or self.account == account)
                and (self.region is None or self.region == region))

    def within_rate(self, key: tuple, now: float) -> bool:
        """Take a token from the call's bucket: True if there was one (the call is within the rate)."""
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return True
        bucket[0] = tokens
        return False

    def describe(self) -> dict:
        doc = {"id": self.id, **self.spec}
        if self.error is not None:
            doc["error"] = self.error  # a rate rule's, when it names none
        if self.rate is not None:
            doc["burst"] = int(self.burst) if self.burst.is_integer() else self.burst
        doc["fired"] = self.fired
        if self.remaining is not None:
            doc["remaining"] = self.remaining
        return doc


def _number(doc: dict, name: str, where: str) -> float | None:
    value = doc.get(name)
    if value is None:
        return None
    try:
        finite = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    except OverflowError:  # an int no float can hold
        finite = False
    if not finite:
        raise RuleError(f"{where}{name} must be a number, not {_show(value)}.")
    return value


def _whole(doc: dict, name: str, where: str) -> int | None:
    value = _number(doc, name, where)
    if value is None:
        return None
    if value != int(value):
        raise RuleError(f"{where}{name} must be a whole number, not {_show(value)}.")
    return int(value)


def _text(doc: dict, name: str, where: str) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RuleError(f"{where}{name} must be a non-empty string, not {_show(value)}.")
    return value


def _show(value) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def parse_rule(doc, where: str = "") -> Rule:
    """One rule from its JSON form; RuleError names the first field kiln cannot use
    (`where` prefixes the field, e.g. "rules[2].")."""
    from kiln.identity import REGION
    from kiln.protocol.spec import operations

    if not isinstance(doc, dict):
        raise RuleError(f"{where.rstrip('.') or 'A rule'} must be an object with some of the fields "
                        f"{', '.join(FIELDS)}, not {_show(doc)}.")
    for name in doc:
        if name not in FIELDS:
            raise RuleError(f"Unknown field {name!r}{' in ' + where.rstrip('.') if where else ''}: "
                            f"a fault rule takes {', '.join(FIELDS)}.")
    spec = {k: doc[k] for k in FIELDS if doc.get(k) is not None}

    operation = _text(doc, "operation", where)
    if operation == "*":
        operation = None
    elif operation is not None and operation not in operations():
        near = difflib.get_close_matches(operation, list(operations()), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise RuleError(f"{where}operation must be an Image Builder operation such as GetImage, or \"*\" for "
                        f"every operation, not {_show(operation)}{hint}.")
    account = _text(doc, "account", where)
    if account is not None and not (len(account) == 12 and account.isdigit()):
        raise RuleError(f"{where}account must be a 12-digit AWS account id, not {_show(account)}.")
    region = _text(doc, "region", where)
    if region is not None and REGION.fullmatch(region) is None:
        raise RuleError(f"{where}region must be a Region such as us-east-1, not {_show(region)}.")
    error = _text(doc, "error", where)
    if error is not None and error not in ERRORS:
        raise RuleError(f"{where}error must be one of {', '.join(ERRORS)}, not {_show(error)}.")
    message = _text(doc, "message", where)
    if message is not None and error is None and doc.get("rate") is None:
        raise RuleError(f"{where}message goes with error (or rate): the error the rule answers with.")
    probability = _number(doc, "probability", where)
    if probability is not None and not 0 <= probability <= 1:
        raise RuleError(f"{where}probability must be between 0 and 1, not {_show(probability)}.")
    count = _whole(doc, "count", where)
    if count is not None and count < 1:
        raise RuleError(f"{where}count must be 1 or more (how many of the next matching calls fail), "
                        f"not {_show(count)}.")
    rate = _number(doc, "rate", where)
    if rate is not None and rate <= 0:
        raise RuleError(f"{where}rate must be above 0 (calls per second), not {_show(rate)}.")
    burst = _number(doc, "burst", where)
    if burst is not None and rate is None:
        raise RuleError(f"{where}burst goes with rate: how many calls at once the rate allows.")
    if burst is not None and burst < 1:
        raise RuleError(f"{where}burst must be 1 or more, not {_show(burst)}.")
    latency = _number(doc, "latency", where)
    if latency is not None and not 0 <= latency <= MAX_LATENCY:
        raise RuleError(f"{where}latency must be between 0 and {MAX_LATENCY:g} seconds, not {_show(latency)}.")
    seed = _whole(doc, "seed", where)
    if error is None and rate is not None:
        error = THROTTLE
    if error is None and latency is None:
        raise RuleError(f"{where[:-1] + ' needs' if where else 'A rule needs'} error, rate or latency: what to do "
                        "to the calls it matches.")
    return Rule(spec=spec, operation=operation, account=account, region=region, error=error,
                message=message or (ERRORS[error] if error else None),
                probability=1.0 if probability is None else float(probability), remaining=count,
                rate=None if rate is None else float(rate),
                burst=float(burst if burst is not None else max(1.0, math.ceil(rate or 1.0))),
                latency=float(latency or 0.0), rng=random.Random(seed))


def parse_rules(docs, where: str = "rules") -> list[Rule]:
    if not isinstance(docs, list):
        raise RuleError(f"{where} must be a list of rules, not {_show(docs)}.")
    return [parse_rule(doc, f"{where}[{i}].") for i, doc in enumerate(docs)]


def load_file(path: str) -> list[Rule]:
    """The rules of a JSON or YAML file: a list of rules, or an object whose `rules` is one."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise RuleError(f"cannot read {path}: {e.strerror}") from None
    try:
        doc = json.loads(text)
    except ValueError:
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            raise RuleError(f"{path} is neither JSON nor YAML{at}: {getattr(e, 'problem', None) or e}") from None
    if doc is None:
        doc = []
    if isinstance(doc, dict):
        if set(doc) != {"rules"}:
            raise RuleError(f"{path} must hold a list of rules (or an object with only 'rules'), "
                            f"not an object with {', '.join(map(repr, doc))}.")
        doc = doc["rules"]
    try:
        return parse_rules(doc)
    except RuleError as e:
        raise RuleError(f"{path}: {e}") from None


# ---------------------------------------------------------------------------
# A kiln's book of rules
# ---------------------------------------------------------------------------

class Book:
    """The rules of one kiln, in order; thread-safe. `clock` (monotonic seconds) drives the
    rate buckets and may be replaced in tests."""

    def __init__(self, start: list[Rule] = (), clock=time.monotonic):
        self.lock = threading.Lock()
        self.clock = clock
        self.start = [r.spec for r in start]  # what a reset goes back to
        self.rules: list[Rule] = []
        self._ids = 0
        self._add(start)

    def _add(self, rules) -> list[Rule]:
        for rule in rules:
            self._ids += 1
            rule.id = f"f{self._ids}"
            self.rules.append(rule)
        return list(rules)

    def decide(self, operation: str, account: str, region: str) -> tuple[float, Rule | None] | None:
        """What the rules do to one call: (seconds to hold it, the rule whose error answers it, or
        None), or None when no rule fires. Rules are tried in order; the first to answer with an
        error stops the rest (a latency-only rule that fires adds its latency and goes on)."""
        delay = 0.0
        fired = False
        with self.lock:
            now = None
            for rule in list(self.rules):
                if not rule.matches(operation, account, region):
                    continue
                if rule.rate is not None:
                    if now is None:
                        now = self.clock()
                    if rule.within_rate((account, region, operation), now):
                        continue
                if rule.probability < 1.0 and rule.rng.random() >= rule.probability:
                    continue
                fired = True
                rule.fired += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.rules.remove(rule)
                delay += rule.latency
                if rule.error is not None:
                    return delay, rule
        return (delay, None) if fired else None

    def describe(self) -> list[dict]:
        with self.lock:
            return [r.describe() for r in self.rules]


def book(kiln) -> Book:
    """`kiln`'s book of rules, made on first use (holding the rules kiln serve --faults gave)."""
    with _making:
        made = kiln.__dict__.get("_fault_book")
        if made is None:
            kiln.active_faults  # noqa: B018  (a kiln's first look installs its book: _AtStart)
            made = kiln.__dict__.get("_fault_book") or install(kiln, [])
        return made


_making = threading.RLock()


def _publish(kiln, made: Book) -> None:
    """Under made.lock: requests check the rules only while there are some."""
    kiln.active_faults = made if made.rules else None


def install(kiln, rules: list[Rule]) -> Book:
    """Give `kiln` a new book starting with `rules` (the ones a reset goes back to)."""
    made = Book(rules)
    with _making:
        kiln.__dict__["_fault_book"] = made
    with made.lock:
        _publish(kiln, made)
    return made


def add(kiln, rules: list[Rule]) -> list[dict]:
    made = book(kiln)
    with made.lock:
        added = made._add(rules)
        _publish(kiln, made)
        return [r.describe() for r in added]


def clear(kiln, rule_id: str | None = None) -> int:
    """Remove one rule (by id) or all; returns how many went. KeyError for an unknown id."""
    made = book(kiln)
    with made.lock:
        if rule_id is None:
            gone = len(made.rules)
            made.rules.clear()
        else:
            found = [r for r in made.rules if r.id == rule_id]
            if not found:
                raise KeyError(rule_id)
            made.rules.remove(found[0])
            gone = 1
        _publish(kiln, made)
        return gone


def listed(kiln) -> list[dict]:
    return book(kiln).describe()


def reset(kiln) -> None:
    """Back to the rules the kiln started with (its --faults file, the mock's `faults=`), with
    fresh counts, generators and buckets."""
    made = book(kiln)
    fresh = [parse_rule(spec) for spec in made.start]
    with made.lock:
        made.rules.clear()
        made._add(fresh)
        _publish(kiln, made)


class _AtStart:
    """`Kiln.active_faults` until a kiln has its own: on first use, the rules of the KILN_FAULTS
    file (what `kiln serve --faults` sets, for itself and its --workers), or None. The answer is
    stored on the instance, so every later request reads a plain attribute."""

    def __get__(self, kiln, owner=None):
        if kiln is None:
            return self
        with _making:
            if "_fault_book" not in kiln.__dict__:
                install(kiln, _from_environment())
        return kiln.__dict__.get("active_faults")


def _from_environment() -> list[Rule]:
    path = os.environ.get(ENV)
    if not path:
        return []
    try:
        return load_file(path)
    except RuleError as e:  # kiln serve checked it at start: changed since?
        import logging

        logging.getLogger("kiln").error("ignoring the fault rules of %s: %s", ENV, e)
        return []


AT_START = _AtStart()


# ---------------------------------------------------------------------------
# The hooks (kiln/core.py in-process, kiln/http/app.py under kiln serve)
# ---------------------------------------------------------------------------

def _decide(kiln, request):
    made = kiln.active_faults
    if made is None:
        return None
    from kiln.identity import identify
    from kiln.protocol import router

    found = router.route(request.method, request.path)
    if found is None:  # no operation is served there: nothing to fail
        return None
    who = request.identity or identify(request.headers.get("authorization"), kiln.default_account)
    decision = made.decide(found[0].name, who.account, who.region)
    if decision is not None and not made.rules:
        with made.lock:
            _publish(kiln, made)
    return decision


def _answer(kiln, request, request_id: str, rule: Rule, started: float):
    from kiln import errors, request_log
    from kiln.core import error_response

    response = error_response(getattr(errors, rule.error)(rule.message), request_id)
    if request_log.enabled():
        request_log.record(kiln, request, response, started)
    return response


def refusal(kiln, request, request_id: str):
    """The error response a rule answers `request` with, or None to serve it; a rule's latency
    is slept here, on the caller's thread (the in-process mock)."""
    started = perf_counter()
    decision = _decide(kiln, request)
    if decision is None:
        return None
    delay, rule = decision
    if delay:
        time.sleep(delay)
    return None if rule is None else _answer(kiln, request, request_id, rule, started)


async def refusal_async(kiln, request, request_id: str):
    """refusal() for the event loop: the latency is awaited, so other requests go on."""
    started = perf_counter()
    decision = _decide(kiln, request)
    if decision is None:
        return None
    delay, rule = decision
    if delay:
        await asyncio.sleep(delay)
    return None if rule is None else _answer(kiln, request, request_id, rule, started)


# ---------------------------------------------------------------------------
# For code holding an in-process kiln
# ---------------------------------------------------------------------------

class Faults:
    """The failure rules of one kiln (see kiln.mock.faults)."""

    def __init__(self, kiln):
        self.kiln = kiln

    def add(self, *rules: dict, **rule) -> list[dict]:
        """Add rules (dicts, or one rule's fields as keywords); returns them with their ids.
        RuleError names a field kiln cannot use."""
        docs = list(rules) + ([rule] if rule else [])
        parsed = [parse_rule(doc, f"rules[{i}]." if len(docs) > 1 else "") for i, doc in enumerate(docs)]
        return add(self.kiln, parsed)

    def list(self) -> list[dict]:
        """The rules in force: as given, with `id`, `fired` and (with a count) `remaining`."""
        return listed(self.kiln)

    def clear(self, rule_id: str | None = None) -> int:
        """Remove the rule with that id, or every rule; returns how many went."""
        try:
            return clear(self.kiln, rule_id)
        except KeyError:
            raise RuleError(f"No fault rule has the id {rule_id!r}.") from None
