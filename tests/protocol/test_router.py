"""Routing: every operation of the model is found by method + path, the tag label is
matched on the raw (still percent-encoded) path, and what no operation serves is refused."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from kiln.cli import main as kiln_cli
from tests.support.documents import ARN_PREFIX
from tests.support.raw import tag_path
from tests.support.shapes import model

INFRA_ARN = f"{ARN_PREFIX}:infrastructure-configuration/routed"
# The tag APIs model InvalidParameterException as their only client error.
TAG_OPERATIONS = {"TagResource", "UntagResource", "ListTagsForResource"}


def _operations():
    m = model()
    return [m.operation_model(name) for name in m.operation_names]


def _not_implemented() -> list[str]:
    result = CliRunner().invoke(kiln_cli, ["operations", "--missing"])
    assert result.exit_code == 0, result.output
    return [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("not implemented")]


def _path(op) -> str:
    uri = op.http["requestUri"]
    return tag_path(INFRA_ARN) if "{resourceArn}" in uri else uri


def test_route_every_modeled_operation(ib, raw):
    """An empty request reaches the operation: it names the operation's first required member,
    or (no required members) answers that operation's output or kiln's 501 naming it."""
    ib.create_infrastructure_configuration(name="routed", instanceProfileName="p")
    ops = _operations()
    assert len(ops) == 77
    missing = set(_not_implemented())
    for op in ops:
        r = raw(op.http["method"], _path(op))
        label = next((n for n, s in op.input_shape.members.items() if s.serialization.get("location") == "uri"), None)
        required = [n for n in op.input_shape.required_members if n != label]
        if op.name in missing:
            assert r.status == 501, op.name
            assert r.json == {"message": f"kiln does not implement the {op.name} operation yet."}, op.name
        elif required:
            code = "InvalidParameterException" if op.name in TAG_OPERATIONS else "InvalidRequestException"
            assert (r.status, r.headers["x-amzn-errortype"]) == (400, code), op.name
            assert r.json == {"message": f"The request is missing the required parameter '{required[0]}'."}, op.name
        else:
            assert r.status == 200, (op.name, r.json)


def test_route_unimplemented_operation_answers_501_naming_it(raw):
    candidates = [op for op in _operations() if op.name in set(_not_implemented())]
    if not candidates:
        pytest.skip("every operation without required members is implemented")
    for op in candidates:
        r = raw(op.http["method"], op.http["requestUri"], body={} if op.http["method"] in ("PUT", "POST") else None)
        assert r.status == 501
        assert r.headers["x-amzn-errortype"] == "OperationNotSupportedException"
        assert r.json == {"message": f"kiln does not implement the {op.name} operation yet."}


def test_route_unknown_path_answers_404(raw):
    r = raw.get("/GetNothing")
    assert r.status == 404
    assert r.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert r.json == {"message": "No Image Builder operation is served at GET /GetNothing."}


def test_route_known_path_with_wrong_method_answers_404(raw):
    r = raw.delete("/GetComponent", query={"componentBuildVersionArn": "x"})
    assert r.status == 404
    assert r.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert r.json == {"message": "No Image Builder operation is served at DELETE /GetComponent."}


def test_route_root_path_answers_404(raw):
    r = raw.post("/", body={})
    assert r.status == 404
    assert r.json == {"message": "No Image Builder operation is served at POST /."}


def test_route_trailing_slash_still_routes(raw):
    r = raw.post("/ListInfrastructureConfigurations/", body={})
    assert r.status == 200
    assert r.json["infrastructureConfigurationSummaryList"] == []


def test_route_tags_with_percent_encoded_arn(ib, raw):
    arn = ib.create_infrastructure_configuration(name="routed", instanceProfileName="p")["infrastructureConfigurationArn"]
    path = tag_path(arn)
    assert "%2F" in path and "%3A" in path
    r = raw.post(path, body={"tags": {"team": "kiln"}})
    assert (r.status, r.json) == (200, {})
    r = raw.get(path)
    assert (r.status, r.json) == (200, {"tags": {"team": "kiln"}})
    r = raw.delete(path, query=[("tagKeys", "team")])
    assert (r.status, r.json) == (200, {})
    assert raw.get(path).json == {"tags": {}}


def test_route_tags_with_unencoded_slash_means_the_whole_arn(ib, raw):
    arn = ib.create_infrastructure_configuration(name="routed", instanceProfileName="p",
                                                 tags={"a": "1"})["infrastructureConfigurationArn"]
    r = raw.get("/tags/" + arn)
    assert (r.status, r.json) == (200, {"tags": {"a": "1"}})


def test_route_untag_repeats_tag_keys_in_the_query(ib, raw):
    arn = ib.create_infrastructure_configuration(name="routed", instanceProfileName="p",
                                                 tags={"a": "1", "b": "2", "c": "3"})["infrastructureConfigurationArn"]
    r = raw.delete(tag_path(arn), query="tagKeys=a&tagKeys=c")
    assert r.status == 200
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}


def test_route_unknown_query_keys_are_ignored(ib, raw):
    arn = ib.create_infrastructure_configuration(name="routed", instanceProfileName="p")["infrastructureConfigurationArn"]
    r = raw.get("/GetInfrastructureConfiguration", query={"infrastructureConfigurationArn": arn, "bogus": "1"})
    assert r.status == 200
    assert r.json["infrastructureConfiguration"]["arn"] == arn
