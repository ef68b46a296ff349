"""SIGKILL in the middle of a write storm loses no acknowledged write and leaves
nothing half-written."""
from __future__ import annotations

import os
import signal
import threading
import time

from botocore.exceptions import ClientError, EndpointConnectionError
from urllib3.exceptions import HTTPError

from tests.service.builders import ACCOUNT, component, infrastructure, recipe
from tests.support.backend import Backend
from tests.support.server import KilnServer

_GONE = (EndpointConnectionError, ConnectionError, HTTPError, OSError)


def _storm(backend, rec, infra, acked: dict, stop: threading.Event, worker: int):
    """Creates, tags and builds until the server dies; record what was acknowledged."""
    ib = backend.client()
    i = 0
    while not stop.is_set():
        i += 1
        try:
            name = f"w{worker}-{i}"
            arn = ib.create_infrastructure_configuration(name=name, instanceProfileName="p")["infrastructureConfigurationArn"]
            acked["infra"].append(arn)
            ib.tag_resource(resourceArn=arn, tags={"n": str(i)})
            acked["tags"].append((arn, str(i)))
            acked["images"].append(ib.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra)["imageBuildVersionArn"])
        except ClientError as e:  # a request cut mid-flight may come back as an error; not acknowledged
            if e.response["ResponseMetadata"].get("HTTPStatusCode") == 200:
                raise
        except _GONE:
            return
        except Exception as e:  # noqa: BLE001 - botocore wraps a dropped connection in several ways
            if "Connection" in type(e).__name__ or "connection" in str(e).lower():
                return
            raise


def test_sigkill_during_writes_loses_nothing_acknowledged(store_args):
    server = KilnServer(*store_args, "--build-timing", "0.05").start()
    backend = Backend("server", server=server)
    ib = backend.client()
    rec, infra = recipe(ib), infrastructure(ib)
    acked: dict = {"infra": [], "tags": [], "images": []}
    stop = threading.Event()
    workers = [threading.Thread(target=_storm, args=(backend, rec, infra, acked, stop, w)) for w in range(4)]
    for t in workers:
        t.start()
    time.sleep(1.5)
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)
    stop.set()
    for t in workers:
        t.join(30)
    assert len(acked["images"]) > 5, acked  # the storm really ran

    server.start()
    try:
        ib = Backend("server", server=server).client()
        for arn in acked["infra"]:
            ib.get_infrastructure_configuration(infrastructureConfigurationArn=arn)
        for arn, value in acked["tags"]:
            assert ib.list_tags_for_resource(resourceArn=arn)["tags"] == {"n": value}
        builds = []
        for arn in acked["images"]:
            img = ib.get_image(imageBuildVersionArn=arn)["image"]  # shape-checked whole
            assert img["imageRecipe"]["arn"] == rec
            builds.append(int(arn.rsplit("/", 1)[1]))
        # Nothing half-written: every stored build has its version row, every
        # build is whole, and numbering goes on after the highest one stored.
        stored = [s for p in ib.get_paginator("list_image_build_versions").paginate(
            imageVersionArn=f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/demo/1.0.0") for s in p["imageSummaryList"]]
        numbers = sorted(int(s["arn"].rsplit("/", 1)[1]) for s in stored)
        assert set(builds) <= set(numbers)
        assert numbers == list(range(1, len(numbers) + 1))
        assert [v["arn"] for v in ib.list_images()["imageVersionList"]] == [f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/demo/1.0.0"]
        nxt = ib.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra)["imageBuildVersionArn"]
        assert int(nxt.rsplit("/", 1)[1]) == numbers[-1] + 1
        ib.get_waiter("image_available").wait(imageBuildVersionArn=nxt, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
        component(ib)  # and the store takes new writes
    finally:
        server.stop()
