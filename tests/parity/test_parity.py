"""Replay AWS's published Image Builder examples against kiln and hold the differences exact.

Each file in cases/ is one published request/response pair with its source. The test creates
what the example implies (`setup`), sends the example's request through boto3 to the
in-process mock, and compares kiln's raw JSON body with the published one (compare.py says
how). The differences found must be exactly those listed for the case in
known_differences.yaml: a new one fails, and so does a listed one that no longer occurs.
"""
from __future__ import annotations

import json
import pathlib

import jmespath

import boto3
import pytest
import yaml
from botocore import xform_name
from botocore.exceptions import ClientError

import kiln
from kiln import admin
from kiln.service import load_handlers

from .compare import Comparer, Difference

HERE = pathlib.Path(__file__).parent
CASES = sorted((HERE / "cases").glob("*.yaml"))
KNOWN = yaml.safe_load((HERE / "known_differences.yaml").read_text()) or []
IMPLEMENTED = frozenset(load_handlers())


def _load(path: pathlib.Path) -> dict:
    case = yaml.safe_load(path.read_text())
    case["id"] = path.stem
    return case


def _operations(case: dict) -> list[str]:
    """The operations a case needs: every setup call's (admin steps are kiln's own, not API
    operations, and have no "call"), then its own."""
    return [step["call"] for step in case.get("setup") or [] if "call" in step] + [case["operation"]]


def missing_operation(case: dict) -> str | None:
    """Why the case cannot run yet (an operation it needs that kiln lacks), or None."""
    for op in _operations(case):
        if op not in IMPLEMENTED:
            return f"{op} not implemented"
    return None


def _known_for(case_id: str) -> set[tuple[str, str]]:
    return {(k["path"], k["kind"]) for k in KNOWN if k["case"] == case_id}


def _client(case: dict):
    return boto3.client("imagebuilder", region_name=case.get("region", "us-west-2"),
                        aws_access_key_id=str(case.get("account", "123456789012")),
                        aws_secret_access_key="kiln")


def _call(client, operation: str, params: dict):
    captured = {}

    def keep(http_response, **_):
        captured["body"] = http_response.content

    event = f"after-call.imagebuilder.{operation}"
    client.meta.events.register(event, keep)
    try:
        getattr(client, xform_name(operation))(**(params or {}))
    finally:
        client.meta.events.unregister(event, keep)
    return json.loads(captured["body"] or b"{}")


def _substitute(value, bound: dict[str, str]):
    """`value` with every published value in `bound` replaced by what kiln made for it."""
    if isinstance(value, str):
        for published, made in bound.items():
            value = value.replace(published, made)
        return value
    if isinstance(value, list):
        return [_substitute(v, bound) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, bound) for k, v in value.items()}
    return value


def _run_setup(k, client, steps) -> dict[str, str]:
    """Run the setup; return the values it bound: a call's `bind` maps a value the example
    uses (a workflow execution id AWS made) to a JMESPath into that call's answer (the id
    kiln made), and later params and the request get kiln's value in its place."""
    bound: dict[str, str] = {}
    for step in steps or []:
        if "admin" in step:
            if step["admin"] == "plan_failure":
                admin.plan_failure(k, step.get("state"), step["reason"], image_arn=step.get("imageBuildVersionArn"),
                                   step=step.get("step"))
            elif step["admin"] == "advance_clock":
                admin.advance_clock(k, step["seconds"])
            elif step["admin"] == "advance_builds":
                admin.advance_builds(k, step.get("imageBuildVersionArn"), step.get("toEnd", False))
            elif step["admin"] == "seed_inventory":
                admin.seed_inventory(k, step["imageArn"], step.get("packages"), step.get("findings"))
            else:
                raise ValueError(f"unknown admin step {step['admin']!r}")
        elif "call" in step:
            answer = _call(client, step["call"], _substitute(step.get("params"), bound))
            for published, expression in (step.get("bind") or {}).items():
                made = jmespath.search(expression, answer)
                if not isinstance(made, str):
                    raise ValueError(f"bind {published!r}: {expression!r} found {made!r} in {step['call']}'s answer")
                bound[published] = made
        else:
            raise ValueError(f"setup step is neither a call nor an admin step: {step!r}")
    return bound


def replay(case: dict):
    with kiln.mock_imagebuilder(build_timing=case.get("build_timing", "immediate")) as k:
        client = _client(case)
        bound = _run_setup(k, client, case.get("setup"))
        shape = client.meta.service_model.operation_model(case["operation"]).output_shape
        try:
            body = _call(client, case["operation"], _substitute(case.get("request"), bound))
        except ClientError as e:  # AWS answered the example; kiln refused it
            err = e.response.get("Error", {})
            return [Difference("$", "error", f"kiln refused: {err.get('Code')}: {err.get('Message')}")], err
    # kiln's ids for the bound values read back as the published ones, so they compare by value
    body = _substitute(body, {made: published for published, made in bound.items()})
    comparer = Comparer(case["date"], case.get("abridged", False), case.get("ignore_values"))
    return comparer.compare(case["response"], body, shape), body


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_published_example(path):
    case = _load(path)
    for field in ("source", "date", "operation", "response"):
        assert field in case, f"{path.name} lacks {field!r}"
    assert "pending" not in case, f"{path.name}: skipping is computed from kiln's handlers; drop 'pending'"
    reason = missing_operation(case)
    if reason:
        pytest.skip(reason)
    diffs, body = replay(case)
    found = {d.key() for d in diffs}
    known = _known_for(case["id"])
    new = [d for d in diffs if d.key() not in known]
    gone = sorted(known - found)
    msg = []
    if new:
        msg.append("new differences from AWS's published response (fix kiln, or list them in known_differences.yaml):")
        msg += [f"  {d.path} [{d.kind}] {d.detail}" for d in new]
    if gone:
        msg.append("listed in known_differences.yaml but no longer found (remove them):")
        msg += [f"  {p} [{kind}]" for p, kind in gone]
    if msg:
        msg.append("kiln answered: " + json.dumps(body, sort_keys=True)[:2000])
    assert not msg, "\n".join(msg)


def test_known_differences_name_real_cases():
    ids = {p.stem for p in CASES}
    pending = {p.stem for p in CASES if missing_operation(_load(p))}
    for entry in KNOWN:
        assert {"case", "path", "kind", "reason"} <= entry.keys(), entry
        assert entry["case"] in ids, f"known difference for unknown case {entry['case']!r}"
        assert entry["case"] not in pending, f"known difference for pending case {entry['case']!r}"
    keys = [(e["case"], e["path"], e["kind"]) for e in KNOWN]
    assert len(keys) == len(set(keys)), "duplicate entries in known_differences.yaml"
