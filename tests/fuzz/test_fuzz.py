"""Bad input never hurts: a bounded, seeded, model-driven fuzz of every operation on every
backend (in-process SQLite, a real server, PostgreSQL). Each request is built from the
operation's input shape and then mutated (wrong types, empty and huge strings, deep
nesting, odd Unicode, bad percent-encoding, broken and empty bodies, odd regions); every
answer must be below 500 and well formed: the model's output shape on 200, and on an error
a request id, an error type kiln knows and a JSON {"message"} (tests/support/shapes.py).
KILN_FUZZ_REQUESTS sets how many requests per operation (default 20)."""
from __future__ import annotations

import json
import os
import random
from urllib.parse import quote

import pytest

from kiln.protocol.spec import operations
from tests.support.shapes import check_response, model

PER_OPERATION = int(os.environ.get("KILN_FUZZ_REQUESTS", "20"))

WEIRD_VALUES = [None, True, False, 0, -1, 2 ** 63, 2 ** 70, -2 ** 70, 1e308, -0.0, 3.5, "", " ", "x" * 70000,
                "é漢字🙂", "../..", "\t\n", "\"'", "%zz", "arn:aws:imagebuilder:us-east-1:123456789012:image/x/1.0.0/1",
                "\ud800", [], {}, [None], {"": None}, [[[[[[[[[[[]]]]]]]]]]]]
WEIRD_BODIES = [b"", b"null", b"[]", b"\"x\"", b"1", b"{", b"{\"a\":", b"\xff\xfe\x00", b"{}" * 1000,
                b"[" * 5000 + b"]" * 5000, b"{\"a\":" * 2000 + b"1" + b"}" * 2000, b"\x00",
                json.dumps({"x": "y" * 200000}).encode()]
WEIRD_LABELS = ["%zz", "%", "%C3%28", "%00", "..", "a%2Fb", "x" * 3000, "%E2%82", "arn%3Aaws"]
WEIRD_REGIONS = ["..", "*", "us-east-1\t", "x" * 80, "'", ""]


def _string(shape, rng):
    enum = shape.metadata.get("enum")
    if enum and rng.random() < 0.7:
        return rng.choice(enum)
    return rng.choice(["x", "fuzz-name", "1.0.0", "1.0.0/1", "Linux", "us-east-1",
                       "arn:aws:imagebuilder:us-east-1:123456789012:component/fuzz/1.0.0/1",
                       "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x",
                       "cron(0 0 * * ? *)", "name: x\nschemaVersion: 1.0\nphases: []\n", "t" * rng.randint(1, 40)])


def value(shape, rng, depth=0):
    if rng.random() < 0.25 or depth > 6:
        return rng.choice(WEIRD_VALUES)
    kind = shape.type_name
    if kind == "string":
        return _string(shape, rng)
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 5, 25, -3, 1000])
    if kind in ("double", "float"):
        return rng.choice([0.5, 1.0, -2.5])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "timestamp":
        return rng.choice([0, 1700000000, "2026-01-01T00:00:00Z"])
    if kind == "blob":
        return "aGVsbG8="
    if kind == "list":
        return [value(shape.member, rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "map":
        return {_string(shape.key, rng) if rng.random() < 0.8 else rng.choice(["", "é", "a" * 200]):
                value(shape.value, rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if kind == "structure":
        return {name: value(member, rng, depth + 1) for name, member in shape.members.items()
                if name in shape.required_members or rng.random() < 0.5}
    return rng.choice(WEIRD_VALUES)


def _q(v) -> str:
    return quote(str(v).encode("utf-8", "surrogatepass"), safe="")


def build(op, rng):
    """(method, path, query, headers, body) for one mutated call of `op`."""
    http = op.http
    uri, _, fixed_query = http["requestUri"].partition("?")
    query, headers, body = [], {}, {}
    if fixed_query:
        query.append(fixed_query)
    shape = op.input_shape
    members = shape.members if shape is not None else {}
    for name, member in members.items():
        if name not in (shape.required_members if shape else ()) and rng.random() < 0.4:
            continue
        v = value(member, rng)
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri":
            text = rng.choice(WEIRD_LABELS) if rng.random() < 0.3 else _q(v)
            uri = uri.replace("{" + wire + "+}", text).replace("{" + wire + "}", text)
        elif where == "querystring":
            if isinstance(v, list):
                query.extend(f"{quote(wire)}={_q(i)}" for i in v)
            else:
                text = rng.choice(WEIRD_LABELS) if rng.random() < 0.2 else _q(v)
                query.append(f"{quote(wire)}={text}")
        elif where == "header":
            headers[wire] = str(v)[:200].encode("ascii", "replace").decode()
        else:
            body[wire] = v
    for label in [p for p in uri.split("/") if p.startswith("{")]:
        uri = uri.replace(label, "x")
    data = json.dumps(body).encode()
    if rng.random() < 0.2:
        data = rng.choice(WEIRD_BODIES)
    return http["method"], uri, "&".join(query), headers, data


@pytest.mark.parametrize("name", sorted(operations()))
def test_no_operation_answers_5xx_or_a_malformed_error(raw, name):
    op = model().operation_model(name)
    rng = random.Random(f"kiln-fuzz-{name}")
    for i in range(PER_OPERATION):
        method, path, query, headers, data = build(op, rng)
        region = rng.choice(WEIRD_REGIONS) if rng.random() < 0.1 else "us-east-1"
        r = raw(method, path, query=query or None, body=data, headers=headers, region=region, check=False)
        raw_body = json.dumps(r.json).encode() if r.json is not None else b""
        where = f"{name} #{i}: {method} {path[:200]}?{query[:200]} body={data[:300]!r} region={region!r}"
        assert r.status < 500, f"{where} answered {r.status}: {r.json}"
        problems = check_response(name if r.status != 404 or r.headers.get("x-amzn-errortype") != "UnknownOperationException"
                                  else None, r.status, r.headers, raw_body)
        assert not problems, f"{where}: {problems}"
