"""Components through boto3, in-process and against a real server: documents, versions,
build numbers, wildcard ARNs, the AWS-managed catalog, lists."""
from __future__ import annotations

import re

import pytest

from tests.support.documents import (
    ARN_PREFIX,
    BUILD_COMPONENT_JSON,
    BUILD_COMPONENT_YAML,
    TEST_COMPONENT_YAML,
)
from tests.support.errors import raises

ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ARN = f"{ARN_PREFIX}:component"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux"
WILDCARD_ORDER = ("When you use a wildcard (x) in a node, every node to its right must also be a wildcard, "
                  "as in x.x.x, 1.x.x or 1.2.x.")


def _create(ib, name="hello", version="1.0.0", data=BUILD_COMPONENT_YAML, **kwargs) -> str:
    return ib.create_component(name=name, semanticVersion=version, platform="Linux", data=data,
                               **kwargs)["componentBuildVersionArn"]


def _get(ib, arn) -> dict:
    return ib.get_component(componentBuildVersionArn=arn)["component"]


def _not_found(arn) -> str:
    return f"The following resource 'Component' cannot be found: '{arn}'."


def _references(base: str, major: int, minor: int, patch: int) -> dict:
    return {
        "latestVersionArn": f"{base}/x.x.x",
        "latestMajorVersionArn": f"{base}/{major}.x.x",
        "latestMinorVersionArn": f"{base}/{major}.{minor}.x",
        "latestPatchVersionArn": f"{base}/{major}.{minor}.{patch}",
    }


def _build_arns(ib, version_arn) -> list[str]:
    return [s["arn"] for s in ib.list_component_build_versions(componentVersionArn=version_arn)["componentSummaryList"]]


# -- create / get ------------------------------------------------------------------

def test_create_component_returns_build_arn_and_references(ib):
    r = ib.create_component(name="Hello_World", semanticVersion="1.2.3", platform="Linux",
                            data=BUILD_COMPONENT_YAML, clientToken="c1")
    assert r["componentBuildVersionArn"] == f"{ARN}/hello-world/1.2.3/1"
    assert r["clientToken"] == "c1"
    assert r["latestVersionReferences"] == _references(f"{ARN}/hello-world", 1, 2, 3)


def test_get_component_returns_every_field(ib):
    arn = _create(ib, "Hello", "1.0.0", description="Says hello.", changeDescription="First.",
                  supportedOsVersions=["Amazon Linux 2023"], kmsKeyId="alias/mine", tags={"team": "a"})
    r = ib.get_component(componentBuildVersionArn=arn)
    component = r["component"]
    assert ISO_MILLIS.match(component.pop("dateCreated"))
    assert component == {
        "arn": arn, "name": "Hello", "version": "1.0.0", "description": "Says hello.", "changeDescription": "First.",
        "type": "BUILD", "platform": "Linux", "supportedOsVersions": ["Amazon Linux 2023"],
        "state": {"status": "ACTIVE"},
        "parameters": [
            {"name": "Greeting", "type": "string", "defaultValue": ["hello"], "description": "What to say."},
            {"name": "Target", "type": "string"},
        ],
        "owner": "123456789012", "data": BUILD_COMPONENT_YAML, "kmsKeyId": "alias/mine", "encrypted": True,
        "tags": {"team": "a"},
    }
    assert r["latestVersionReferences"] == _references(f"{ARN}/hello", 1, 0, 0)


def test_create_component_json_document_kept_verbatim(ib):
    arn = _create(ib, "json-doc", data=BUILD_COMPONENT_JSON)
    component = _get(ib, arn)
    assert component["data"] == BUILD_COMPONENT_JSON
    assert component["type"] == "BUILD"
    assert "parameters" not in component


def test_create_component_yaml_document_kept_verbatim(ib):
    data = "# leading comment\n" + BUILD_COMPONENT_YAML + "\n\n# trailing comment\n"
    assert _get(ib, _create(ib, data=data))["data"] == data


@pytest.mark.parametrize("data, kind", [(TEST_COMPONENT_YAML, "TEST"), (BUILD_COMPONENT_YAML, "BUILD")])
def test_create_component_type_from_the_phases(ib, data, kind):
    assert _get(ib, _create(ib, data=data))["type"] == kind


def test_create_component_invalid_document(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'data' is not valid. Invalid step name 'Say hello' in phase 'build'. "
                "Allowed characters are combinations of numbers [0-9], english letters [a-z,A-Z] and special "
                "characters [-_]."):
        _create(ib, data=BUILD_COMPONENT_YAML.replace("SayHello", "Say hello"))


def test_create_component_same_content_already_exists(ib):
    arn = _create(ib, tags={"a": "1"})
    with raises("ResourceAlreadyExistsException", f"The following resource 'Component' already exists: '{arn}'."):
        _create(ib, tags={"b": "2"})  # tags are not content
    assert _build_arns(ib, f"{ARN}/hello/1.0.0") == [arn]


def test_create_component_different_content_makes_the_next_build(ib):
    first = _create(ib)
    second = _create(ib, description="Changed.")
    third = _create(ib, data=TEST_COMPONENT_YAML)
    assert (first, second, third) == (f"{ARN}/hello/1.0.0/1", f"{ARN}/hello/1.0.0/2", f"{ARN}/hello/1.0.0/3")
    assert _build_arns(ib, f"{ARN}/hello/1.0.0") == [third, second, first]
    # the version ARN resolves to the newest build
    assert _get(ib, f"{ARN}/hello/1.0.0")["arn"] == third
    assert _get(ib, first)["arn"] == first


def test_create_component_build_numbers_count_per_version(ib):
    _create(ib, version="1.0.0")
    _create(ib, version="1.0.0", description="b")
    assert _create(ib, version="2.0.0") == f"{ARN}/hello/2.0.0/1"


def test_create_component_names_collide_after_normalising(ib):
    arn = _create(ib, "Hello World")
    with raises("ResourceAlreadyExistsException", f"The following resource 'Component' already exists: '{arn}'."):
        _create(ib, "hello_world")


def test_create_component_version_kept_as_written(ib):
    # AWS keeps the spelling: the AWS CLI's create-component / list-component-build-versions
    # examples (aws-cli awscli/examples/imagebuilder) show .../myexamplecomponent/2019.12.02/1.
    r = ib.create_component(name="dated", semanticVersion="2021.01.01", platform="Linux", data=BUILD_COMPONENT_YAML)
    assert r["componentBuildVersionArn"] == f"{ARN}/dated/2021.01.01/1"
    assert r["latestVersionReferences"] == _references(f"{ARN}/dated", "2021", "01", "01")
    assert _get(ib, f"{ARN}/dated/2021.01.01/1")["version"] == "2021.01.01"
    assert _get(ib, f"{ARN}/dated/2021.01.01")["arn"] == f"{ARN}/dated/2021.01.01/1"
    listed = ib.list_components(filters=[{"name": "version", "values": ["2021.01.01"]}])["componentVersionList"]
    assert [c["arn"] for c in listed] == [f"{ARN}/dated/2021.01.01"]


def test_create_component_same_numbers_spelled_otherwise_is_the_same_version(ib):
    _create(ib, "dated", "2021.01.01")
    with raises("ResourceAlreadyExistsException", f"The following resource 'Component' already exists: '{ARN}/dated/2021.01.01/1'."):
        _create(ib, "dated", "2021.1.01")
    other = BUILD_COMPONENT_YAML.replace("Hello", "Hi") if "Hello" in BUILD_COMPONENT_YAML else BUILD_COMPONENT_YAML + "\n"
    assert _create(ib, "dated", "2021.1.1", data=other) == f"{ARN}/dated/2021.01.01/2"


def test_get_component_leading_zero_arn_finds_a_build_written_without(ib):
    _create(ib, version="1.2.0")
    assert _get(ib, f"{ARN}/hello/01.2.0/1")["arn"] == f"{ARN}/hello/1.2.0/1"


@pytest.mark.parametrize("version", ["1073741824.0.0", "0.1073741824.0", "0.0.99999999999"])
def test_create_component_version_node_out_of_bounds(ib, version):
    with raises("InvalidVersionNumberException",
                f"Your version number is out of bounds or does not follow the required syntax: '{version}'. "
                "Each of <major>.<minor>.<patch> must be an integer from 0 to 1073741823."):
        _create(ib, version=version)


def test_create_component_version_node_at_the_bound(ib):
    assert _create(ib, version="1073741823.0.0") == f"{ARN}/hello/1073741823.0.0/1"


def test_create_component_neither_data_nor_uri(ib):
    with raises("InvalidParameterCombinationException", "You must specify exactly one of the parameters 'data' and 'uri'."):
        ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux")


def test_create_component_both_data_and_uri(ib):
    with raises("InvalidParameterCombinationException", "You must specify exactly one of the parameters 'data' and 'uri'."):
        ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux", data=BUILD_COMPONENT_YAML,
                            uri="s3://bucket/component.yaml")


def test_create_component_uri_cannot_be_read_offline(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'uri' is not valid. kiln cannot read 's3://bucket/c.yaml': "
                "no S3 is configured. Start kiln with --s3-endpoint-url URL (KILN_S3_ENDPOINT_URL; a moto_server "
                "or MinIO), or use it in-process under moto's mock_aws; or pass the document inline in 'data'."):
        ib.create_component(name="hello", semanticVersion="1.0.0", platform="Linux", uri="s3://bucket/c.yaml")


def test_create_component_dry_run(ib):
    with raises("DryRunOperationException", "The request would have succeeded, but the dryRun parameter was set.", 412):
        _create(ib, dryRun=True)
    assert ib.list_components()["componentVersionList"] == []
    assert _create(ib) == f"{ARN}/hello/1.0.0/1"


def test_create_component_client_token_replay(ib):
    first = _create(ib, clientToken="same")
    assert _create(ib, clientToken="same") == first
    assert _build_arns(ib, f"{ARN}/hello/1.0.0") == [first]


def test_create_component_client_token_mismatch(ib):
    _create(ib, clientToken="same")
    with raises("IdempotentParameterMismatchException",
                "The client token 'same' was already used with different request parameters for CreateComponent."):
        _create(ib, version="2.0.0", clientToken="same")


def test_get_component_not_found(ib):
    arn = f"{ARN}/missing/1.0.0/1"
    with raises("ResourceNotFoundException", _not_found(arn)):
        _get(ib, arn)


# -- wildcards ---------------------------------------------------------------------

@pytest.fixture
def versions(ib):
    """Versions 2.2.4, 1.7.8 and 1.6.8 (the user guide's example), plus 1.0.0 with two builds."""
    for v in ("1.0.0", "1.6.8", "1.7.8", "2.2.4"):
        _create(ib, "multi", v)
    _create(ib, "multi", "1.0.0", description="second build")
    return ib


@pytest.mark.parametrize("asked, resolved", [
    ("x.x.x", "2.2.4/1"),
    ("1.x.x", "1.7.8/1"),
    ("1.6.x", "1.6.8/1"),
    ("1.0.x", "1.0.0/2"),
    ("1.0.0", "1.0.0/2"),
    ("1.0.0/1", "1.0.0/1"),
])
def test_get_component_resolves_version_and_wildcard_arns(versions, asked, resolved):
    r = versions.get_component(componentBuildVersionArn=f"{ARN}/multi/{asked}")
    assert r["component"]["arn"] == f"{ARN}/multi/{resolved}"
    major, minor, patch = (int(n) for n in resolved.split("/")[0].split("."))
    assert r["latestVersionReferences"] == _references(f"{ARN}/multi", major, minor, patch)


@pytest.mark.parametrize("asked", ["3.x.x", "1.5.x", "2.2.5", "2.2.4/2"])
def test_get_component_wildcard_without_a_match(versions, asked):
    arn = f"{ARN}/multi/{asked}"
    with raises("ResourceNotFoundException", _not_found(arn)):
        versions.get_component(componentBuildVersionArn=arn)


@pytest.mark.parametrize("asked", ["x.2.x", "1.x.8", "x.x.0"])
def test_get_component_wildcard_out_of_order(ib, asked):
    with raises("InvalidParameterValueException",
                f"The value supplied for parameter 'componentBuildVersionArn' is not valid. The version '{asked}' is "
                f"not a valid wildcard version. {WILDCARD_ORDER}"):
        ib.get_component(componentBuildVersionArn=f"{ARN}/multi/{asked}")


def test_get_component_wildcard_node_out_of_bounds(ib):
    with raises("InvalidVersionNumberException",
                "Your version number is out of bounds or does not follow the required syntax: '1073741824.x.x'. "
                "Each of <major>.<minor>.<patch> must be an integer from 0 to 1073741823."):
        ib.get_component(componentBuildVersionArn=f"{ARN}/multi/1073741824.x.x")


# -- the AWS-managed catalog ---------------------------------------------------------

def test_get_component_managed_version_arn(ib):
    r = ib.get_component(componentBuildVersionArn=f"{UPDATE_LINUX}/1.0.0")
    component = r["component"]
    assert component["arn"] == f"{UPDATE_LINUX}/1.0.0/1"
    assert (component["name"], component["owner"], component["platform"], component["type"]) == \
        ("update-linux", "Amazon", "Linux", "BUILD")
    assert r["latestVersionReferences"] == _references(UPDATE_LINUX, 1, 0, 0)


def test_get_component_managed_wildcard_is_the_newest(ib):
    newest = _get(ib, f"{UPDATE_LINUX}/x.x.x")["arn"]
    listed = [c["arn"] for c in ib.list_components(owner="Amazon", filters=[{"name": "name", "values": ["update-linux"]}])
              ["componentVersionList"]]
    assert newest == listed[-1] + "/1"  # versions are listed ascending


def test_get_component_managed_in_another_region_is_not_visible(ib):
    arn = "arn:aws:imagebuilder:us-west-2:aws:component/update-linux/x.x.x"
    with raises("ResourceNotFoundException", _not_found(arn)):
        _get(ib, arn)


def test_list_components_owner_amazon_lists_the_catalog(ib):
    pages = list(ib.get_paginator("list_components").paginate(owner="Amazon", PaginationConfig={"PageSize": 10}))
    entries = [c for p in pages for c in p["componentVersionList"]]
    assert len(pages) > 1
    assert all(c["owner"] == "Amazon" for c in entries)
    assert f"{UPDATE_LINUX}/1.0.0" in [c["arn"] for c in entries]
    assert len({c["arn"] for c in entries}) == len(entries)


def test_list_components_default_owner_is_self(ib):
    assert ib.list_components()["componentVersionList"] == []
    arn = _create(ib)
    assert [c["arn"] for c in ib.list_components(owner="Self")["componentVersionList"]] == [arn.rsplit("/", 1)[0]]


@pytest.mark.parametrize("owner", ["Shared"])  # ThirdParty and AWSMarketplace: tests/service/test_marketplace.py
def test_list_components_nothing_shared_or_sold(ib, owner):
    _create(ib)
    assert ib.list_components(owner=owner)["componentVersionList"] == []


# -- lists ---------------------------------------------------------------------------

def test_list_components_one_entry_per_version(versions):
    # Ascending, as the user guide's list-components output lists 1.0.0 before 1.0.1.
    entries = versions.list_components()["componentVersionList"]
    assert [(c["arn"], c["version"]) for c in entries] == [
        (f"{ARN}/multi/{v}", v) for v in ("1.0.0", "1.6.8", "1.7.8", "2.2.4")]
    entry = entries[0]
    assert ISO_MILLIS.match(entry.pop("dateCreated"))
    assert entry == {"arn": f"{ARN}/multi/1.0.0", "name": "multi", "version": "1.0.0", "description": "second build",
                     "platform": "Linux", "type": "BUILD", "owner": "123456789012", "status": "ACTIVE"}


def test_list_components_by_name(versions):
    _create(versions, "other")
    entries = versions.list_components(byName=True)["componentVersionList"]
    assert [(c["name"], c["version"]) for c in entries] == [("multi", "2.2.4"), ("other", "1.0.0")]


def test_list_components_by_name_with_version_filter(ib):
    with raises("InvalidParameterCombinationException",
                "The parameters 'byName' and the 'version' filter cannot be used together."):
        ib.list_components(byName=True, filters=[{"name": "version", "values": ["1.0.0"]}])


def test_list_components_filters(ib):
    _create(ib, "builder", data=BUILD_COMPONENT_YAML)
    _create(ib, "tester", data=TEST_COMPONENT_YAML, description="Runs checks")
    _create(ib, "windows-thing", data=BUILD_COMPONENT_YAML)

    def names(*filters):
        return [c["name"] for c in ib.list_components(filters=list(filters))["componentVersionList"]]

    assert names({"name": "type", "values": ["TEST"]}) == ["tester"]
    assert names({"name": "type", "values": ["BUILD"]}, {"name": "name", "values": ["win*"]}) == ["windows-thing"]
    assert names({"name": "description", "values": ["Runs checks"]}) == ["tester"]
    assert names({"name": "platform", "values": ["Windows"]}) == []
    assert names({"name": "version", "values": ["1.0.0"]}) == ["builder", "tester", "windows-thing"]


def test_list_components_unknown_filter_name(ib):
    with raises("InvalidParameterValueException",
                "The value supplied for parameter 'filters[0].name' is not valid. The filter name 'owner' is not "
                "supported. Supported filter names: description, name, platform, productCodes, status, "
                "supportedOsVersion, type, version."):
        ib.list_components(filters=[{"name": "owner", "values": ["x"]}])


def test_list_components_pages_by_next_token(versions):
    seen, token = [], None
    while True:
        page = versions.list_components(maxResults=1, **({"nextToken": token} if token else {}))
        assert len(page["componentVersionList"]) <= 1
        seen += [c["version"] for c in page["componentVersionList"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == ["1.0.0", "1.6.8", "1.7.8", "2.2.4"]


def test_list_components_forged_next_token(ib):
    with raises("InvalidPaginationTokenException",
                "The nextToken supplied is not valid. Use the nextToken value returned by the previous ListComponents "
                "response, unchanged."):
        ib.list_components(nextToken="not-a-token")


def test_list_component_build_versions_lists_builds_newest_first(versions):
    summaries = versions.list_component_build_versions(componentVersionArn=f"{ARN}/multi/1.0.0")["componentSummaryList"]
    assert [s["arn"] for s in summaries] == [f"{ARN}/multi/1.0.0/2", f"{ARN}/multi/1.0.0/1"]
    summary = summaries[0]
    assert ISO_MILLIS.match(summary.pop("dateCreated"))
    assert summary == {"arn": f"{ARN}/multi/1.0.0/2", "name": "multi", "version": "1.0.0", "platform": "Linux",
                       "state": {"status": "ACTIVE"}, "type": "BUILD", "owner": "123456789012",
                       "description": "second build", "tags": {}}


def test_list_component_build_versions_missing_version_is_empty(versions):
    assert versions.list_component_build_versions(componentVersionArn=f"{ARN}/multi/9.9.9")["componentSummaryList"] == []
    assert versions.list_component_build_versions(componentVersionArn=f"{ARN}/nothing/1.0.0")["componentSummaryList"] == []


def test_list_component_build_versions_managed_version(ib):
    summaries = ib.list_component_build_versions(componentVersionArn=f"{UPDATE_LINUX}/1.0.0")["componentSummaryList"]
    assert [(s["arn"], s["owner"]) for s in summaries] == [(f"{UPDATE_LINUX}/1.0.0/1", "Amazon")]


def test_list_component_build_versions_another_accounts_version_is_empty(backend):
    _create(backend.client(access_key="111122223333"))
    other = backend.client(access_key="210987654321")
    arn = "arn:aws:imagebuilder:us-east-1:111122223333:component/hello/1.0.0"
    assert other.list_component_build_versions(componentVersionArn=arn)["componentSummaryList"] == []


def test_list_component_build_versions_without_arn_lists_every_build(versions):
    summaries = versions.list_component_build_versions()["componentSummaryList"]
    assert len(summaries) == 5


def test_list_component_build_versions_paginator(versions):
    pages = list(versions.get_paginator("list_component_build_versions").paginate(
        componentVersionArn=f"{ARN}/multi/1.0.0", PaginationConfig={"PageSize": 1}))
    assert [s["arn"] for p in pages for s in p["componentSummaryList"]] == [f"{ARN}/multi/1.0.0/2", f"{ARN}/multi/1.0.0/1"]


# -- delete --------------------------------------------------------------------------

def test_delete_component_then_get_is_not_found(ib):
    arn = _create(ib)
    assert ib.delete_component(componentBuildVersionArn=arn)["componentBuildVersionArn"] == arn
    with raises("ResourceNotFoundException", _not_found(arn)):
        _get(ib, arn)
    with raises("ResourceNotFoundException", _not_found(f"{ARN}/hello/x.x.x")):
        _get(ib, f"{ARN}/hello/x.x.x")
    assert ib.list_components()["componentVersionList"] == []


def test_delete_component_twice_is_not_found(ib):
    arn = _create(ib)
    ib.delete_component(componentBuildVersionArn=arn)
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.delete_component(componentBuildVersionArn=arn)


def test_delete_component_keeps_the_other_builds(ib):
    first = _create(ib)
    second = _create(ib, description="b")
    ib.delete_component(componentBuildVersionArn=second)
    assert _get(ib, f"{ARN}/hello/1.0.0")["arn"] == first


def test_delete_component_build_numbers_are_not_reused(ib):
    first = _create(ib)
    ib.delete_component(componentBuildVersionArn=first)
    assert _create(ib, description="again") == f"{ARN}/hello/1.0.0/2"


def test_delete_component_managed_is_not_found(ib):
    arn = f"{UPDATE_LINUX}/1.0.0/1"
    with raises("ResourceNotFoundException", _not_found(arn)):
        ib.delete_component(componentBuildVersionArn=arn)
    assert _get(ib, arn)["arn"] == arn


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 7, 25])
def test_list_components_names_each_versions_newest_build_at_every_page_size(backend, page_size):
    """A version's entry is its newest build, however the pages cut the builds: the list
    reads builds in key order and knows a version's newest one only when it read past it
    (kiln/service/versioned.py); otherwise it asks the store."""
    ib = backend.client()
    for version in ("1.0.0", "1.0.1", "1.2.0"):
        for build in range(3):
            _create(ib, name="multi", version=version, description=f"build {build + 1}")
    _create(ib, name="single", version="1.0.0", description="build 1")
    seen, token = [], None
    while True:
        kwargs = {"maxResults": page_size, **({"nextToken": token} if token else {})}
        out = ib.list_components(**kwargs)
        seen += [(c["name"], c["version"], c["description"]) for c in out["componentVersionList"]]
        token = out.get("nextToken")
        if not token:
            break
    assert [(n, v) for n, v, _ in seen] == [("multi", "1.0.0"), ("multi", "1.0.1"), ("multi", "1.2.0"), ("single", "1.0.0")]
    assert [d for _, _, d in seen] == ["build 3", "build 3", "build 3", "build 1"]  # each version's newest build
