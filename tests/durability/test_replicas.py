"""Several `kiln serve` processes on one store behave as one service."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.service.builders import ACCOUNT, component, infrastructure, recipe
from tests.support.backend import Backend
from tests.support.server import KilnServer


@pytest.fixture
def replicas(store_args):
    """Two replicas on one store, with builds that take 0.2 s per state."""
    servers = [KilnServer(*store_args, "--build-timing", "0.2").start() for _ in range(2)]
    backends = [Backend("server", server=s) for s in servers]
    yield backends
    for s in servers:
        s.stop()
    for b in backends:
        assert not b.violations, b.violations


def _both(backends, n, call):
    """Run call(client, i) n times, alternating replicas, all at once; return results or errors."""
    clients = [b.client() for b in backends]

    def one(i):
        try:
            return call(clients[i % len(clients)], i)
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_creates_of_one_name_one_succeeds(replicas):
    results = _both(replicas, 16, lambda ib, i: ib.create_infrastructure_configuration(
        name="shared", instanceProfileName=f"profile-{i}")["infrastructureConfigurationArn"])
    arn = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:infrastructure-configuration/shared"
    assert results.count(arn) == 1, results
    assert results.count("ResourceAlreadyExistsException") == 15, results


def test_concurrent_create_image_numbers_are_unique_and_gap_free(replicas):
    ib = replicas[0].client()
    rec, infra = recipe(ib), infrastructure(ib)
    results = _both(replicas, 24, lambda c, i: c.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra)[
        "imageBuildVersionArn"])
    builds = sorted(int(a.rsplit("/", 1)[1]) for a in results)
    assert builds == list(range(1, 25)), results


def test_concurrent_component_builds_are_unique(replicas):
    data = "schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: S\n        action: ExecuteBash\n        inputs:\n          commands: ['echo {n}']\n"
    results = _both(replicas, 12, lambda c, i: component(c, data=data.replace("{n}", str(i))))
    assert sorted(int(a.rsplit("/", 1)[1]) for a in results) == list(range(1, 13)), results


def test_a_build_reads_the_same_through_either_replica(replicas):
    a, b = (r.client() for r in replicas)
    arn = a.create_image(imageRecipeArn=recipe(a), infrastructureConfigurationArn=infrastructure(a))["imageBuildVersionArn"]
    seen = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # Read through A, then B, then A again: B must never be behind A's first read
        # nor ahead of A's second (states only move forward).
        order = ["PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]
        first = a.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]
        middle = b.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]
        last = a.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]
        assert order.index(first) <= order.index(middle) <= order.index(last), (first, middle, last)
        seen.add(middle)
        if last == "AVAILABLE":
            break
        time.sleep(0.03)
    assert "AVAILABLE" in seen or b.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "AVAILABLE"
    assert a.get_image(imageBuildVersionArn=arn) ["image"] == b.get_image(imageBuildVersionArn=arn)["image"]


def test_client_token_replays_across_replicas(replicas):
    a, b = (r.client() for r in replicas)
    first = a.create_infrastructure_configuration(name="tok", instanceProfileName="p", clientToken="same-token")
    again = b.create_infrastructure_configuration(name="tok", instanceProfileName="p", clientToken="same-token")
    assert again["infrastructureConfigurationArn"] == first["infrastructureConfigurationArn"]
    with pytest.raises(ClientError) as e:
        b.create_infrastructure_configuration(name="tok", instanceProfileName="other", clientToken="same-token")
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_concurrent_tagging_loses_nothing(replicas):
    ib = replicas[0].client()
    arn = infrastructure(ib)
    results = _both(replicas, 20, lambda c, i: c.tag_resource(resourceArn=arn, tags={f"k{i}": str(i)}) and "ok")
    assert results == ["ok"] * 20, results
    assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {f"k{i}": str(i) for i in range(20)}


def test_workers_share_one_sqlite_store(tmp_path):
    server = KilnServer("--data-dir", str(tmp_path), "--workers", "2", "--build-timing", "immediate").start()
    try:
        backend = Backend("server", server=server)
        ib = backend.client()
        rec, infra = recipe(ib), infrastructure(ib)
        results = _both([backend], 20, lambda c, i: c.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra)[
            "imageBuildVersionArn"])
        assert sorted(int(a.rsplit("/", 1)[1]) for a in results) == list(range(1, 21)), results
        assert not backend.violations
    finally:
        server.stop()


def test_a_write_through_one_replica_is_read_at_once_through_the_other(replicas):
    """Each replica keeps read documents in memory (kiln/store/document_cache.py) on
    SQLite; a commit anywhere must make the next read see it, never the kept copy."""
    a, b = (r.client() for r in replicas)
    rec, infra = recipe(a), infrastructure(a)
    arns = [a.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra)["imageBuildVersionArn"] for _ in range(2)]
    for i in range(10):
        for arn in arns:
            a.get_image(imageBuildVersionArn=arn)  # read (and keep) both through A
        for arn in arns:
            b.tag_resource(resourceArn=arn, tags={f"k{i}": str(i)})
        for arn in arns:
            assert a.get_image(imageBuildVersionArn=arn)["image"]["tags"].get(f"k{i}") == str(i), (i, arn)
    arn = arns[0]
    deadline = time.monotonic() + 10
    while _read(a, arn) != "AVAILABLE" and time.monotonic() < deadline:
        time.sleep(0.05)
    b.delete_image(imageBuildVersionArn=arn)
    assert _read(a, arn) == "ResourceNotFoundException"


def _read(ib, arn) -> str:
    try:
        return ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]
    except ClientError as e:
        return e.response["Error"]["Code"]


def test_the_clock_is_one_for_every_replica(replicas):
    """The clock lives in the store: moved through one replica, it is moved for the
    other, at once; and what fell due is applied, whichever replica is asked."""
    from kiln.pytest_plugin import admin_request

    a, b = replicas
    ib = a.client()
    manual = ib.create_image(imageRecipeArn=recipe(ib), infrastructureConfigurationArn=infrastructure(ib))["imageBuildVersionArn"]
    moved = admin_request(b.server.url, "POST", "/_kiln/clock/advance", {"seconds": 7 * 86400})["epochSeconds"]
    seen = admin_request(a.server.url, "POST", "/_kiln/clock/advance", {"seconds": 0})["epochSeconds"]
    assert moved <= seen < moved + 5, (moved, seen)
    # The build (0.2 s per state) ended a week ago, by the clock both replicas share.
    assert ib.get_image(imageBuildVersionArn=manual)["image"]["state"]["status"] == "AVAILABLE"
    # A resource created through A now is dated by the shared clock, a week ahead.
    created = ib.create_infrastructure_configuration(name="later", instanceProfileName="p")["infrastructureConfigurationArn"]
    date = ib.get_infrastructure_configuration(infrastructureConfigurationArn=created)["infrastructureConfiguration"]["dateCreated"]
    assert date >= time.strftime("%Y-%m-%d", time.gmtime(moved - 60)), date
    admin_request(b.server.url, "POST", "/_kiln/reset")
    back = admin_request(a.server.url, "POST", "/_kiln/clock/advance", {"seconds": 0})["epochSeconds"]
    assert abs(back - time.time()) < 5
