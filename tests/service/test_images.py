import re

import pytest
from botocore.exceptions import ClientError, WaiterError

import kiln
from kiln import admin
from tests.service.builders import (
    ACCOUNT, AL2023, UPDATE_LINUX, component, distribution, error, image, infrastructure, recipe,
)
from tests.support.backend import Backend
from tests.support.server import KilnServer

BASE = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/demo"
BUILD1 = f"{BASE}/1.0.0/1"
WAIT = {"Delay": 0.05, "MaxAttempts": 200}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Control:
    """kiln's admin controls, in-process or over HTTP."""

    def __init__(self, backend: Backend):
        self.backend = backend

    def _post(self, path, body):
        r = self.backend.raw.post(path, body=body)
        assert r.status == 200, r.json
        return r.json

    def advance(self, arn=None, to_end=False):
        if self.backend.kiln is not None:
            return admin.advance_builds(self.backend.kiln, arn, to_end)
        return self._post("/_kiln/builds/advance", {"imageBuildVersionArn": arn, "toEnd": to_end})

    def fail(self, state, reason, arn=None):
        if self.backend.kiln is not None:
            return admin.plan_failure(self.backend.kiln, state, reason, arn)
        return self._post("/_kiln/builds/fail", {"state": state, "reason": reason, "imageBuildVersionArn": arn})


@pytest.fixture(scope="module")
def manual_server():
    server = KilnServer("--in-memory", "--build-timing", "manual").start()
    yield server
    server.stop()


@pytest.fixture(params=["inprocess", "server"])
def manual(request):
    """A kiln whose builds move only when told to: (client, control)."""
    if request.param == "inprocess":
        with kiln.mock_imagebuilder(build_timing="manual") as core:
            backend = Backend("inprocess", kiln=core)
            yield backend.client(), Control(backend)
    else:
        server = request.getfixturevalue("manual_server")
        server.reset()
        backend = Backend("server", server=server)
        yield backend.client(), Control(backend)
    assert not backend.violations, backend.violations


def test_get_image_resolves_every_arn_form(ib):
    arn = image(ib)
    assert arn == BUILD1
    for ask in (BUILD1, f"{BASE}/1.0.0", f"{BASE}/x.x.x", f"{BASE}/1.x.x", f"{BASE}/1.0.x"):
        out = ib.get_image(imageBuildVersionArn=ask)
        assert out["image"]["arn"] == BUILD1, ask
        assert out["image"]["version"] == "1.0.0/1"
        assert out["latestVersionReferences"] == {
            "latestVersionArn": f"{BASE}/x.x.x", "latestMajorVersionArn": f"{BASE}/1.x.x",
            "latestMinorVersionArn": f"{BASE}/1.0.x", "latestPatchVersionArn": f"{BASE}/1.0.0"}


def test_get_image_wildcards_choose_newest_version_and_build(ib):
    infra = infrastructure(ib)
    image(ib, recipe(ib, version="1.0.0"), infra)
    image(ib, recipe(ib, version="1.2.0"), infra)
    image(ib, recipe(ib, version="1.2.0", name="other"), infra)
    image(ib, recipe(ib, version="2.0.0"), infra)
    second = image(ib, f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/demo/1.2.0", infra)
    assert second == f"{BASE}/1.2.0/2"
    get = lambda a: ib.get_image(imageBuildVersionArn=a)["image"]["arn"]  # noqa: E731
    assert get(f"{BASE}/x.x.x") == f"{BASE}/2.0.0/1"
    assert get(f"{BASE}/1.x.x") == f"{BASE}/1.2.0/2"
    assert get(f"{BASE}/1.2.x") == f"{BASE}/1.2.0/2"
    assert get(f"{BASE}/1.0.x") == f"{BASE}/1.0.0/1"
    assert get(f"{BASE}/1.2.0/1") == f"{BASE}/1.2.0/1"


def test_get_image_embeds_recipe_infrastructure_and_distribution(ib):
    hello = component(ib)
    components = [{"componentArn": hello, "parameters": [{"name": "Target", "value": ["world"]}]},
                  {"componentArn": UPDATE_LINUX}]
    recipe_arn = recipe(ib, components=components)
    infra_arn, dist_arn = infrastructure(ib), distribution(ib)
    arn = image(ib, recipe_arn, infra_arn, distributionConfigurationArn=dist_arn, tags={"env": "test"})
    img = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert img["name"] == "demo" and img["type"] == "AMI" and img["platform"] == "Linux"
    assert img["state"] == {"status": "AVAILABLE"}
    assert img["osVersion"] == "Amazon Linux 2023"
    assert img["enhancedImageMetadataEnabled"] is True
    assert img["imageTestsConfiguration"] == {"imageTestsEnabled": True, "timeoutMinutes": 720}
    assert img["tags"] == {"env": "test"}
    assert img["buildType"] == "USER_INITIATED"
    assert ISO.match(img["dateCreated"])
    # Not in AWS's responses when the caller set none (issue 9's review of published responses).
    assert "imageSource" not in img and "loggingConfiguration" not in img
    assert "owner" not in img["imageRecipe"] and "type" not in img["imageRecipe"]
    # The recipe as built: component and parent references resolved to build versions.
    embedded = img["imageRecipe"]
    assert embedded["arn"] == recipe_arn
    assert embedded["components"][0] == {"componentArn": hello, "parameters": [{"name": "Target", "value": ["world"]}]}
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:component/update-linux/\d+\.\d+\.\d+/\d+",
                        embedded["components"][1]["componentArn"])
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/\d+\.\d+\.\d+/\d+", embedded["parentImage"])
    assert ib.get_image_recipe(imageRecipeArn=recipe_arn)["imageRecipe"]["parentImage"] == AL2023
    assert img["infrastructureConfiguration"] == ib.get_infrastructure_configuration(
        infrastructureConfigurationArn=infra_arn)["infrastructureConfiguration"]
    assert img["distributionConfiguration"] == ib.get_distribution_configuration(
        distributionConfigurationArn=dist_arn)["distributionConfiguration"]
    amis = img["outputResources"]["amis"]
    assert [a["region"] for a in amis] == ["us-east-1", "eu-west-1"]
    stamp = img["dateCreated"].replace(":", "-")
    assert [a["name"] for a in amis] == [f"dist-us-east-1 {stamp}", f"dist-eu-west-1 {stamp}"]
    for a in amis:
        assert re.fullmatch(r"ami-[0-9a-f]{17}", a["image"]) and a["accountId"] == ACCOUNT
        assert "state" not in a  # as in the AWS CLI's list-image-build-versions example
    assert len({a["image"] for a in amis}) == 2


def test_get_image_target_accounts_get_their_own_amis(ib):
    dist = ib.create_distribution_configuration(name="shared", distributions=[
        {"region": "us-west-2", "amiDistributionConfiguration": {"targetAccountIds": ["111122223333", "444455556666"]}}
    ])["distributionConfigurationArn"]
    img = ib.get_image(imageBuildVersionArn=image(ib, distributionConfigurationArn=dist))["image"]
    amis = img["outputResources"]["amis"]
    assert [(a["region"], a["accountId"]) for a in amis] == [
        ("us-east-1", ACCOUNT), ("us-west-2", ACCOUNT), ("us-west-2", "111122223333"), ("us-west-2", "444455556666")]
    assert amis[0]["name"] == f"demo {img['dateCreated'].replace(':', '-')}"


def test_get_image_invalid_wildcard_order(ib):
    image(ib)
    with pytest.raises(ClientError) as e:
        ib.get_image(imageBuildVersionArn=f"{BASE}/x.0.x")
    assert error(e) == ("InvalidParameterValueException",
                        "The value supplied for parameter 'imageBuildVersionArn' is not valid. The version 'x.0.x' is not a "
                        "valid wildcard version. When you use a wildcard (x) in a node, every node to its right must also be a "
                        "wildcard, as in x.x.x, 1.x.x or 1.2.x.", 400)


def test_get_image_malformed_arn(raw):
    r = raw.get("/GetImage", query={"imageBuildVersionArn": "arn:aws:imagebuilder:us-east-1:123456789012:image/Demo/1.0.0/1"})
    assert r.status == 400 and r.headers["x-amzn-errortype"] == "InvalidParameterValueException"
    assert r.json["message"].startswith(
        "The value supplied for parameter 'imageBuildVersionArn' is not valid. 'imageBuildVersionArn' must match pattern "
        "^arn:aws[^:]*:imagebuilder:")


def test_get_image_wrong_resource_type(ib):
    with pytest.raises(ClientError) as e:
        ib.get_image(imageBuildVersionArn=f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:component/demo/1.0.0/1")
    assert error(e)[0::2] == ("InvalidParameterValueException", 400)


def test_get_image_missing_build(ib):
    with pytest.raises(ClientError) as e:
        ib.get_image(imageBuildVersionArn=BUILD1)
    assert error(e) == ("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{BUILD1}'.", 404)


def test_get_image_other_account_and_region_are_invisible(backend):
    arn = image(backend.client())
    for other in (backend.client(access_key="210987654321"), backend.client(region="us-west-2")):
        with pytest.raises(ClientError) as e:
            other.get_image(imageBuildVersionArn=arn)
        assert error(e)[0::2] == ("ResourceNotFoundException", 404)


def test_get_image_managed_image(ib):
    img = ib.get_image(imageBuildVersionArn="arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2-x86/x.x.x")["image"]
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2-x86/\d+\.\d+\.\d+/\d+", img["arn"])
    assert img["name"] == "Amazon Linux 2 x86" and img["osVersion"] == "Amazon Linux 2" and img["platform"] == "Linux"
    assert img["state"]["status"] == "AVAILABLE" and len(img["outputResources"]["amis"]) == 1
    assert "imageRecipe" not in img and "infrastructureConfiguration" not in img and img["tags"] == {}


def test_list_images_versions_and_owner_amazon(ib):
    infra = infrastructure(ib)
    first_recipe = recipe(ib)
    image(ib, first_recipe, infra)
    image(ib, first_recipe, infra)
    image(ib, recipe(ib, version="2.0.0"), infra)
    versions = ib.list_images()["imageVersionList"]
    assert [v["arn"] for v in versions] == [f"{BASE}/1.0.0", f"{BASE}/2.0.0"]  # versions ascending
    assert versions[0] == {**versions[0], "name": "demo", "version": "1.0.0", "type": "AMI", "platform": "Linux",
                           "owner": ACCOUNT, "osVersion": "Amazon Linux 2023", "buildType": "USER_INITIATED"}
    assert [v["arn"] for v in ib.list_images(byName=True)["imageVersionList"]] == [f"{BASE}/2.0.0"]
    managed = ib.list_images(owner="Amazon", filters=[{"name": "name", "values": ["Amazon Linux 2023 x86"]}])["imageVersionList"]
    assert managed and all(v["owner"] == "Amazon" and "/amazon-linux-2023-x86/" in v["arn"] for v in managed)
    assert all(v["arn"].count("/") == 2 for v in managed)  # version ARNs, no build number


def test_list_images_paginates(ib):
    infra = infrastructure(ib)
    for v in range(5):
        image(ib, recipe(ib, version=f"1.0.{v}"), infra)
    pages = list(ib.get_paginator("list_images").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["imageVersionList"]) for p in pages] == [2, 2, 1]
    assert [v["version"] for p in pages for v in p["imageVersionList"]] == ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4"]


def test_list_image_build_versions_newest_first(ib):
    infra, rec = infrastructure(ib), recipe(ib)
    for _ in range(3):
        image(ib, rec, infra)
    out = ib.list_image_build_versions(imageVersionArn=f"{BASE}/1.0.0")["imageSummaryList"]
    assert [s["arn"] for s in out] == [f"{BASE}/1.0.0/3", f"{BASE}/1.0.0/2", f"{BASE}/1.0.0/1"]
    assert out[0]["state"] == {"status": "AVAILABLE"} and out[0]["owner"] == ACCOUNT and out[0]["version"] == "1.0.0/3"
    assert ib.list_image_build_versions(imageVersionArn=f"{BASE}/9.9.9")["imageSummaryList"] == []


def test_create_image_idempotent(ib):
    rec, infra = recipe(ib), infrastructure(ib)
    first = ib.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra, clientToken="token-1")
    again = ib.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra, clientToken="token-1")
    assert again["imageBuildVersionArn"] == first["imageBuildVersionArn"] == BUILD1
    assert len(ib.list_image_build_versions(imageVersionArn=f"{BASE}/1.0.0")["imageSummaryList"]) == 1
    with pytest.raises(ClientError) as e:
        ib.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infra, clientToken="token-1",
                        enhancedImageMetadataEnabled=False)
    assert error(e) == ("IdempotentParameterMismatchException",
                        "The client token 'token-1' was already used with different request parameters for CreateImage.", 400)


@pytest.mark.parametrize("missing", ["recipe", "infrastructure", "distribution"])
def test_create_image_missing_references(ib, missing):
    rec, infra = recipe(ib), infrastructure(ib)
    kwargs = {"imageRecipeArn": rec, "infrastructureConfigurationArn": infra}
    gone = {"recipe": ("imageRecipeArn", f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/nope/1.0.0", "ImageRecipe"),
            "infrastructure": ("infrastructureConfigurationArn",
                               f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:infrastructure-configuration/nope", "InfrastructureConfiguration"),
            "distribution": ("distributionConfigurationArn",
                             f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:distribution-configuration/nope", "DistributionConfiguration")}[missing]
    kwargs[gone[0]] = gone[1]
    with pytest.raises(ClientError) as e:
        ib.create_image(**kwargs)
    assert error(e) == ("ResourceNotFoundException", f"The following resource '{gone[2]}' cannot be found: '{gone[1]}'.", 404)


def test_create_image_needs_exactly_one_recipe(raw):
    infra = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:infrastructure-configuration/x"
    r = raw.put("/CreateImage", body={"infrastructureConfigurationArn": infra, "clientToken": "t"})
    assert (r.status, r.headers["x-amzn-errortype"], r.json["message"]) == (
        400, "InvalidRequestException", "You must specify exactly one of the parameters 'imageRecipeArn' and 'containerRecipeArn'.")


def test_create_image_build_numbers_never_reused(ib):
    rec, infra = recipe(ib), infrastructure(ib)
    first = image(ib, rec, infra)
    ib.delete_image(imageBuildVersionArn=first)
    assert image(ib, rec, infra) == f"{BASE}/1.0.0/2"


def test_delete_image_then_not_found_and_version_gone(ib):
    arn = image(ib)
    assert ib.delete_image(imageBuildVersionArn=arn)["imageBuildVersionArn"] == arn
    with pytest.raises(ClientError) as e:
        ib.get_image(imageBuildVersionArn=arn)
    assert error(e)[0::2] == ("ResourceNotFoundException", 404)
    assert ib.list_images()["imageVersionList"] == []


def test_image_lifecycle_moves_through_every_state(manual):
    ib, control = manual
    arn = image(ib)
    seen = [ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]]
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["outputResources"] == {"amis": []}
    assert "osVersion" not in ib.get_image(imageBuildVersionArn=arn)["image"]
    while seen[-1] != "AVAILABLE":
        control.advance(arn)
        seen.append(ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"])
    assert seen == ["PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]
    done = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert len(done["outputResources"]["amis"]) == 1 and done["osVersion"] == "Amazon Linux 2023"


def test_image_lifecycle_without_tests_skips_testing(manual):
    ib, control = manual
    arn = image(ib, imageTestsConfiguration={"imageTestsEnabled": False})
    seen = [ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]]
    while seen[-1] != "AVAILABLE":
        control.advance(arn)
        seen.append(ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"])
    assert seen == ["PENDING", "BUILDING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["imageTestsConfiguration"] == {
        "imageTestsEnabled": False, "timeoutMinutes": 720}


def test_wildcard_skips_builds_that_are_not_available(manual):
    ib, control = manual
    rec, infra = recipe(ib), infrastructure(ib)
    first = image(ib, rec, infra)
    with pytest.raises(ClientError) as e:
        ib.get_image(imageBuildVersionArn=f"{BASE}/x.x.x")
    assert error(e) == ("ResourceNotFoundException",
                        f"The following resource 'Image' cannot be found: '{BASE}/x.x.x'. Version and wildcard ARNs resolve "
                        "only to builds in the AVAILABLE state; use the full build version ARN to get a build in any other "
                        "state.", 404)
    control.advance(first, to_end=True)
    image(ib, rec, infra)  # build 2, still PENDING
    assert ib.get_image(imageBuildVersionArn=f"{BASE}/x.x.x")["image"]["arn"] == first
    assert ib.get_image(imageBuildVersionArn=f"{BASE}/1.0.0/2")["image"]["state"] == {"status": "PENDING"}


def test_planned_failure_fails_the_next_build(manual):
    ib, control = manual
    control.fail("TESTING", "Test component hello-test failed")
    rec, infra = recipe(ib), infrastructure(ib)
    arn = image(ib, rec, infra)
    statuses = [ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]]
    while statuses[-1] not in ("FAILED", "AVAILABLE"):
        control.advance(arn)
        statuses.append(ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"])
    assert statuses == ["PENDING", "BUILDING", "TESTING", "FAILED"]
    img = ib.get_image(imageBuildVersionArn=arn)["image"]
    context = img["state"].pop("failureContext")
    assert img["state"] == {"status": "FAILED", "reason": "Test component hello-test failed"}
    # Where it failed: the test workflow's component step (the model's FailureContext).
    assert (context["imageStatus"], context["failedStep"]) == ("TESTING", "ApplyTestComponents")
    assert context["workflowArn"].startswith("arn:aws:imagebuilder:us-east-1:aws:workflow/test/test-image/")
    assert re.fullmatch(r"wf-[0-9a-f-]{36}", context["workflowExecutionId"])
    assert re.fullmatch(r"step-[0-9a-f-]{36}", context["stepExecutionId"])
    assert img["outputResources"] == {"amis": []}
    with pytest.raises(WaiterError) as e:
        ib.get_waiter("image_available").wait(imageBuildVersionArn=arn, WaiterConfig=WAIT)
    assert "FAILED" in str(e.value)
    second = image(ib, rec, infra)  # the plan was for one build only
    control.advance(second, to_end=True)
    assert ib.get_image(imageBuildVersionArn=second)["image"]["state"]["status"] == "AVAILABLE"


def test_planned_failure_of_a_given_build(manual):
    ib, control = manual
    arn = image(ib)
    control.fail("BUILDING", "SSM execution failed", arn)
    control.advance(arn, to_end=True)
    state = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]
    assert state.pop("failureContext")["failedStep"] == "ApplyBuildComponents"
    assert state == {"status": "FAILED", "reason": "SSM execution failed"}


def test_cancel_image_creation(manual):
    ib, control = manual
    arn = image(ib)
    control.advance(arn)
    out = ib.cancel_image_creation(imageBuildVersionArn=arn)
    assert out["imageBuildVersionArn"] == arn and out["clientToken"]
    state = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]
    assert state == {"status": "CANCELLED", "reason": "The image creation was cancelled by the user."}
    with pytest.raises(ClientError) as e:
        ib.cancel_image_creation(imageBuildVersionArn=arn)
    assert error(e) == ("InvalidParameterValueException",
                        f"The value supplied for parameter 'imageBuildVersionArn' is not valid. The image '{arn}' is CANCELLED; "
                        "only an image that is still being built can be cancelled.", 400)
    with pytest.raises(WaiterError):
        ib.get_waiter("image_available").wait(imageBuildVersionArn=arn, WaiterConfig=WAIT)


def test_delete_image_in_progress_is_refused(manual):
    ib, control = manual
    arn = image(ib)
    with pytest.raises(ClientError) as e:
        ib.delete_image(imageBuildVersionArn=arn)
    assert error(e) == ("ResourceDependencyException",
                        f"The image '{arn}' could not be deleted as it is not in a terminal state (it is PENDING). "
                        "Cancel the build or wait for it to finish.", 400)
    control.advance(arn, to_end=True)
    ib.delete_image(imageBuildVersionArn=arn)


def test_build_timing_seconds_follows_the_clock():
    with kiln.mock_imagebuilder(build_timing="10") as core:
        backend = Backend("inprocess", kiln=core)
        ib = backend.client()
        arn = image(ib)
        seen = []
        for _ in range(6):
            seen.append(ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"])
            core.clock.advance(10)
        assert seen == ["PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]
        assert not backend.violations


def test_waiter_on_a_real_server_with_timed_builds():
    server = KilnServer("--in-memory", "--build-timing", "0.1").start()
    try:
        backend = Backend("server", server=server)
        ib = backend.client()
        arn = image(ib)
        assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] in ("PENDING", "BUILDING")
        ib.get_waiter("image_available").wait(imageBuildVersionArn=arn, WaiterConfig=WAIT)
        assert ib.get_image(imageBuildVersionArn=f"{BASE}/x.x.x")["image"]["arn"] == arn
        assert not backend.violations
    finally:
        server.stop()


def test_restart_keeps_images_and_build_progress(tmp_path):
    server = KilnServer("--data-dir", str(tmp_path), "--build-timing", "0.2").start()
    try:
        ib = Backend("server", server=server).client()
        arn = image(ib, distributionConfigurationArn=distribution(ib))
        server.stop()
        server.start()
        ib = Backend("server", server=server).client()
        ib.get_waiter("image_available").wait(imageBuildVersionArn=arn, WaiterConfig=WAIT)
        img = ib.get_image(imageBuildVersionArn=f"{BASE}/x.x.x")["image"]
        assert img["arn"] == arn and len(img["outputResources"]["amis"]) == 2
        assert image(ib, f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/demo/1.0.0",
                     f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:infrastructure-configuration/infra") == f"{BASE}/1.0.0/2"
    finally:
        server.stop()


def test_image_scanning_state_follows_the_build(manual):
    ib, control = manual
    scan = {"imageScanningEnabled": True, "ecrConfiguration": {"repositoryName": "scans"}}
    arn = image(ib, imageScanningConfiguration=scan)
    img = ib.get_image(imageBuildVersionArn=arn)["image"]
    assert img["imageScanningConfiguration"] == scan and img["scanState"] == {"status": "PENDING"}
    seen = []
    while ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] != "AVAILABLE":
        control.advance(arn)
        got = ib.get_image(imageBuildVersionArn=arn)["image"]
        seen.append((got["state"]["status"], got["scanState"]["status"]))
    # PENDING -> SCANNING (the test instance) -> COLLECTING -> COMPLETED, alongside the build.
    assert seen == [("BUILDING", "PENDING"), ("TESTING", "SCANNING"), ("DISTRIBUTING", "COLLECTING"),
                    ("INTEGRATING", "COLLECTING"), ("AVAILABLE", "COMPLETED")]
    second = image(ib, f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/demo/1.0.0",
                   f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:infrastructure-configuration/infra", imageScanningConfiguration=scan)
    ib.cancel_image_creation(imageBuildVersionArn=second)
    assert ib.get_image(imageBuildVersionArn=second)["image"]["scanState"] == {"status": "ABANDONED", "reason": "The image is CANCELLED."}
    plain = image(ib, f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-recipe/demo/1.0.0",
                  f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:infrastructure-configuration/infra")
    assert "scanState" not in ib.get_image(imageBuildVersionArn=plain)["image"]


def test_planned_failure_of_a_build_past_or_without_that_state(manual):
    ib, control = manual
    rec, infra = recipe(ib), infrastructure(ib)
    no_tests = image(ib, rec, infra, imageTestsConfiguration={"imageTestsEnabled": False})
    control.fail("TESTING", "tests would have failed", no_tests)
    control.advance(no_tests, to_end=True)
    state = ib.get_image(imageBuildVersionArn=no_tests)["image"]["state"]
    assert state.pop("failureContext")["imageStatus"] == "DISTRIBUTING"  # the next state it still had
    assert state == {"status": "FAILED", "reason": "tests would have failed"}
    late = image(ib, rec, infra)
    for _ in range(3):
        control.advance(late)                                  # now DISTRIBUTING
    control.fail("BUILDING", "late failure", late)
    control.advance(late, to_end=True)
    state = ib.get_image(imageBuildVersionArn=late)["image"]["state"]
    assert state.pop("failureContext")["imageStatus"] == "DISTRIBUTING"
    assert state == {"status": "FAILED", "reason": "late failure"}


def test_get_image_managed_arn_of_another_region_names_the_region(ib):
    arn = "arn:aws:imagebuilder:eu-west-1:aws:image/amazon-linux-2023-x86/x.x.x"
    with pytest.raises(ClientError) as e:
        ib.get_image(imageBuildVersionArn=arn)
    assert error(e) == ("ResourceNotFoundException",
                        f"The following resource 'Image' cannot be found: '{arn}'. The ARN is in Region 'eu-west-1', "
                        "but the request was sent to Region 'us-east-1'; send it to 'eu-west-1'.", 404)


def test_get_image_version_arn_that_never_existed_is_plainly_not_found(ib):
    arn = f"{BASE}/9.9.9"
    with pytest.raises(ClientError) as e:
        ib.get_image(imageBuildVersionArn=arn)
    assert error(e) == ("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{arn}'.", 404)
