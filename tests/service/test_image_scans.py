"""Image inventory and scan findings through boto3 (in-process, server, PostgreSQL):
ListImagePackages, ListImageScanFindings and ListImageScanFindingAggregations list only
what was seeded (KilnControl.seed_inventory: in-process, or POST /_kiln/images/inventory),
for an image or for the parent image it was built from."""
from __future__ import annotations

import pytest

from kiln.admin import AdminError
from kiln.pytest_plugin import KilnControl
from tests.service.builders import ACCOUNT, AL2023, infrastructure, recipe
from tests.support.errors import raises

IMAGE = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image"
SCAN = {"imageScanningEnabled": True}


@pytest.fixture
def control(backend) -> KilnControl:
    if backend.kiln is not None:
        return KilnControl(kiln=backend.kiln)
    return KilnControl(url=backend.server.url)


def _finding(cve: str, severity: str = "HIGH", **extra) -> dict:
    return {"severity": severity, "title": f"{cve} - kernel", "description": f"{cve} in kernel",
            "packageVulnerabilityDetails": {"vulnerabilityId": cve, "source": "NVD",
                                            "vulnerablePackages": [{"name": "kernel", "version": "6.1"}]},
            "fixAvailable": "YES", "inspectorScore": 7.5, "firstObservedAt": 1767730377.0, "updatedAt": 1767730377.0,
            **extra}


def _build(ib, name="demo", parent=AL2023, **kwargs) -> str:
    rec = recipe(ib, name=name, parent=parent)
    return ib.create_image(imageRecipeArn=rec, infrastructureConfigurationArn=infrastructure(ib, name=f"{name}-infra"),
                           **kwargs)["imageBuildVersionArn"]


def _pipeline_build(ib, name="nightly") -> tuple[str, str]:
    pipeline = ib.create_image_pipeline(name=name, imageRecipeArn=recipe(ib, name=f"{name}-recipe"),
                                        infrastructureConfigurationArn=infrastructure(ib, name=f"{name}-infra"),
                                        imageScanningConfiguration=SCAN)["imagePipelineArn"]
    ib.start_image_pipeline_execution(imagePipelineArn=pipeline)
    images = ib.list_image_pipeline_images(imagePipelineArn=pipeline)["imageSummaryList"]
    return pipeline, images[0]["arn"]


def _findings(ib, **kwargs) -> list[dict]:
    return [f for p in ib.get_paginator("list_image_scan_findings").paginate(**kwargs) for f in p["findings"]]


def _admin_error(message: str):
    """The seed is refused with `message`: AdminError in-process, a 400 from the server."""
    return pytest.raises((AdminError, RuntimeError), match="^" + _escape(message) + "$")


def _escape(message: str) -> str:
    import re

    return r"(POST /_kiln/images/inventory answered 400: )?" + re.escape(message)


# -- nothing seeded -----------------------------------------------------------------------

def test_without_a_seed_every_list_is_empty(ib):
    arn = _build(ib, imageScanningConfiguration=SCAN)
    r = ib.list_image_packages(imageBuildVersionArn=arn)
    assert r["imagePackageList"] == [] and "nextToken" not in r
    assert ib.list_image_scan_findings()["findings"] == []
    r = ib.list_image_scan_finding_aggregations()
    assert r["aggregationType"] == "accountId"
    assert r["responses"] == [{"accountAggregation": {"accountId": ACCOUNT, "severityCounts": {
        "all": 0, "critical": 0, "high": 0, "medium": 0}}}]
    r = ib.list_image_scan_finding_aggregations(filter={"name": "imageBuildVersionArn", "values": [arn]})
    assert (r["aggregationType"], r["responses"]) == ("imageBuildVersionArn", [])


# -- packages ---------------------------------------------------------------------------

def test_list_image_packages_lists_the_seeded_packages_in_order(ib, control):
    arn = _build(ib)
    packages = [{"packageName": "passwd", "packageVersion": "0.80"}, {"packageName": "dracut-config-ec2", "packageVersion": "3.1"},
                {"packageName": "libsolv", "packageVersion": "0.7.22"}]
    assert control.seed_inventory(arn, packages=packages) == {"imageBuildVersionArn": arn, "packages": 3, "findings": 0,
                                                              "notes": [
        "This image has image scanning off, so ListImageScanFindings lists no findings for it (images built from it "
        "with scanning on list them)."]}
    assert ib.list_image_packages(imageBuildVersionArn=arn)["imagePackageList"] == packages


def test_list_image_packages_inherits_the_parent_image_packages(ib, control):
    parent = control.seed_inventory(AL2023, packages=[{"packageName": "bash", "packageVersion": "5.2.15"},
                                                       {"packageName": "openssl", "packageVersion": "3.0.8"}])
    assert parent["imageBuildVersionArn"].startswith("arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/")
    arn = _build(ib)
    control.seed_inventory(arn, packages=[{"packageName": "openssl", "packageVersion": "3.0.9"},
                                          {"packageName": "nginx", "packageVersion": "1.24.0"}])
    assert ib.list_image_packages(imageBuildVersionArn=arn)["imagePackageList"] == [
        {"packageName": "bash", "packageVersion": "5.2.15"}, {"packageName": "openssl", "packageVersion": "3.0.9"},
        {"packageName": "nginx", "packageVersion": "1.24.0"}]
    # An image built from that image inherits the whole chain.
    child = _build(ib, name="child", parent=arn)
    assert [p["packageName"] for p in ib.list_image_packages(imageBuildVersionArn=child)["imagePackageList"]] == [
        "bash", "openssl", "nginx"]
    # The AWS-managed image itself lists its own seed.
    assert len(ib.list_image_packages(imageBuildVersionArn=parent["imageBuildVersionArn"])["imagePackageList"]) == 2


def test_list_image_packages_pages(ib, control):
    arn = _build(ib)
    control.seed_inventory(arn, packages=[{"packageName": f"p{i:02d}", "packageVersion": "1"} for i in range(30)])
    first = ib.list_image_packages(imageBuildVersionArn=arn, maxResults=25)
    assert len(first["imagePackageList"]) == 25 and first["nextToken"]
    second = ib.list_image_packages(imageBuildVersionArn=arn, maxResults=25, nextToken=first["nextToken"])
    assert [p["packageName"] for p in second["imagePackageList"]] == [f"p{i}" for i in range(25, 30)]
    assert "nextToken" not in second
    other = _build(ib, name="other")
    with raises("InvalidPaginationTokenException", "The nextToken supplied is not valid. Use the nextToken value returned "
                "by the previous ListImagePackages response, unchanged."):
        ib.list_image_packages(imageBuildVersionArn=other, nextToken=first["nextToken"])


def test_a_second_seed_replaces_the_list_it_gives(ib, control):
    arn = _build(ib, imageScanningConfiguration=SCAN)
    control.seed_inventory(arn, packages=[{"packageName": "a", "packageVersion": "1"}], findings=[_finding("CVE-1")])
    control.seed_inventory(arn, packages=[{"packageName": "b", "packageVersion": "2"}])
    assert ib.list_image_packages(imageBuildVersionArn=arn)["imagePackageList"] == [{"packageName": "b", "packageVersion": "2"}]
    assert [f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in _findings(ib)] == ["CVE-1"]  # kept
    control.seed_inventory(arn, findings=[])
    assert _findings(ib) == []


def test_list_image_packages_without_enhanced_metadata_is_empty(ib, control):
    control.seed_inventory(AL2023, packages=[{"packageName": "bash", "packageVersion": "5.2.15"}])
    arn = _build(ib, enhancedImageMetadataEnabled=False)
    assert ib.list_image_packages(imageBuildVersionArn=arn)["imagePackageList"] == []


def test_list_image_packages_not_found(ib):
    missing = f"{IMAGE}/missing/1.0.0/1"
    with raises("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{missing}'."):
        ib.list_image_packages(imageBuildVersionArn=missing)
    other = "arn:aws:imagebuilder:us-east-1:210987654321:image/theirs/1.0.0/1"
    with raises("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{other}'."):
        ib.list_image_packages(imageBuildVersionArn=other)


def test_list_image_packages_needs_a_build_arn(ib):
    with raises("InvalidParameterValueException", "The value supplied for parameter 'imageBuildVersionArn' is not valid. "
                "'imageBuildVersionArn' must match pattern ^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?):"
                "image/[a-z0-9-_]+/[0-9]+\\.[0-9]+\\.[0-9]+/[0-9]+$"):
        ib.list_image_packages(imageBuildVersionArn=f"{IMAGE}/demo/1.0.0")


def test_packages_are_kept_per_account(backend, ib, control):
    arn = _build(ib)
    control.seed_inventory(arn, packages=[{"packageName": "a", "packageVersion": "1"}])
    theirs = backend.client(access_key="210987654321")
    with raises("ResourceNotFoundException", f"The following resource 'Image' cannot be found: '{arn}'."):
        theirs.list_image_packages(imageBuildVersionArn=arn)


# -- findings ---------------------------------------------------------------------------

def test_list_image_scan_findings_lists_the_seeded_findings_on_the_image(ib, control):
    pipeline, arn = _pipeline_build(ib)
    finding = _finding("CVE-2025-38064", remediation={"recommendation": {"text": "None Provided"}},
                       inspectorScoreDetails={"adjustedCvss": {"scoreSource": "AMAZON_CVE", "version": "3.1", "score": 7.0,
                                                               "adjustments": []}})
    control.seed_inventory(arn, findings=[finding])
    got = ib.list_image_scan_findings(filters=[{"name": "imageBuildVersionArn", "values": [arn]}])["findings"]
    assert len(got) == 1
    f = got[0]
    assert (f["awsAccountId"], f["imageBuildVersionArn"], f["imagePipelineArn"], f["type"]) == (
        ACCOUNT, arn, pipeline, "PACKAGE_VULNERABILITY")
    assert f["firstObservedAt"].timestamp() == 1767730377.0 and f["updatedAt"].timestamp() == 1767730377.0
    assert {k: v for k, v in f.items() if k not in ("awsAccountId", "imageBuildVersionArn", "imagePipelineArn", "type",
                                                    "firstObservedAt", "updatedAt")} == {
        k: v for k, v in finding.items() if k not in ("firstObservedAt", "updatedAt")}


def test_findings_without_times_are_dated_when_seeded(ib, control):
    arn = _build(ib, imageScanningConfiguration=SCAN)
    now = control.freeze_clock("2030-01-02T03:04:05Z")
    control.seed_inventory(arn, findings=[{"severity": "LOW", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-9"}}])
    f = _findings(ib)[0]
    assert f["firstObservedAt"].timestamp() == f["updatedAt"].timestamp() == now
    assert f["type"] == "PACKAGE_VULNERABILITY" and "imagePipelineArn" not in f  # not built by a pipeline


def test_findings_show_only_on_images_with_a_completed_scan(ib, control):
    control.seed_inventory(AL2023, findings=[_finding("CVE-1")])
    plain = _build(ib, name="plain")
    scanned = _build(ib, name="scanned", imageScanningConfiguration=SCAN)
    assert [f["imageBuildVersionArn"] for f in _findings(ib)] == [scanned]
    note = control.seed_inventory(plain, findings=[_finding("CVE-2")])["notes"]
    assert note == ["This image has image scanning off, so ListImageScanFindings lists no findings for it (images "
                    "built from it with scanning on list them)."]
    assert [f["imageBuildVersionArn"] for f in _findings(ib)] == [scanned]


@pytest.mark.parametrize("name", ["imageBuildVersionArn", "imagePipelineArn", "vulnerabilityId", "severity"])
def test_list_image_scan_findings_filters(ib, control, name):
    pipeline, from_pipeline = _pipeline_build(ib)
    alone = _build(ib, name="alone", imageScanningConfiguration=SCAN)
    control.seed_inventory(from_pipeline, findings=[_finding("CVE-1", "CRITICAL"), _finding("CVE-2", "LOW")])
    control.seed_inventory(alone, findings=[_finding("CVE-1", "CRITICAL"), _finding("CVE-3", "MEDIUM")])
    value, expected = {
        "imageBuildVersionArn": (alone, [(alone, "CVE-1"), (alone, "CVE-3")]),
        "imagePipelineArn": (pipeline, [(from_pipeline, "CVE-1"), (from_pipeline, "CVE-2")]),
        "vulnerabilityId": ("CVE-1", [(alone, "CVE-1"), (from_pipeline, "CVE-1")]),
        "severity": ("MEDIUM", [(alone, "CVE-3")]),
    }[name]
    got = _findings(ib, filters=[{"name": name, "values": [value]}])
    assert [(f["imageBuildVersionArn"], f["packageVulnerabilityDetails"]["vulnerabilityId"]) for f in got] == expected


def test_list_image_scan_findings_unknown_filter_is_refused(ib):
    with raises("InvalidParameterValueException", "The value supplied for parameter 'filters[0].name' is not valid. The "
                "filter name 'name' is not supported. Supported filter names: imageBuildVersionArn, imagePipelineArn, "
                "severity, vulnerabilityId."):
        ib.list_image_scan_findings(filters=[{"name": "name", "values": ["x"]}])


def test_list_image_scan_findings_takes_one_filter_with_one_value(ib):
    with raises("InvalidParameterValueException", "The value supplied for parameter 'filters[0].values' is not valid. "
                "'filters[0].values' must have a number of items less than or equal to 1."):
        ib.list_image_scan_findings(filters=[{"name": "severity", "values": ["HIGH", "LOW"]}])


def test_list_image_scan_findings_pages_across_images(ib, control):
    first = _build(ib, name="first", imageScanningConfiguration=SCAN)
    second = _build(ib, name="second", imageScanningConfiguration=SCAN)
    control.seed_inventory(first, findings=[_finding(f"CVE-{i}") for i in range(3)])
    control.seed_inventory(second, findings=[_finding(f"CVE-{i}") for i in range(3, 5)])
    pages = list(ib.get_paginator("list_image_scan_findings").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["findings"]) for p in pages] == [2, 2, 1]
    assert [f["packageVulnerabilityDetails"]["vulnerabilityId"] for p in pages for f in p["findings"]] == [
        f"CVE-{i}" for i in range(5)]
    with raises("InvalidPaginationTokenException", "The nextToken supplied is not valid. Use the nextToken value returned "
                "by the previous ListImageScanFindings response, unchanged."):
        ib.list_image_scan_findings(nextToken="forged")


def test_findings_are_kept_per_account(backend, ib, control):
    arn = _build(ib, imageScanningConfiguration=SCAN)
    control.seed_inventory(arn, findings=[_finding("CVE-1")])
    theirs = backend.client(access_key="210987654321")
    assert theirs.list_image_scan_findings()["findings"] == []
    assert theirs.list_image_scan_finding_aggregations()["responses"][0]["accountAggregation"]["severityCounts"]["all"] == 0


# -- aggregations -------------------------------------------------------------------------

@pytest.fixture
def seeded(ib, control):
    """Two pipeline builds and one plain build, with findings of every severity; the
    AWS-managed parent carries one finding every build inherits."""
    control.seed_inventory(AL2023, findings=[_finding("CVE-PARENT", "MEDIUM")])
    pipeline, built = _pipeline_build(ib)
    alone = _build(ib, name="alone", imageScanningConfiguration=SCAN)
    control.seed_inventory(built, findings=[_finding("CVE-1", "CRITICAL"), _finding("CVE-2", "HIGH"),
                                            _finding("CVE-3", "LOW"), _finding("CVE-4", "INFORMATIONAL")])
    control.seed_inventory(alone, findings=[_finding("CVE-1", "CRITICAL"), _finding("CVE-5", "UNTRIAGED")])
    return pipeline, built, alone


def _counts(all_, critical, high, medium) -> dict:
    return {"all": all_, "critical": critical, "high": high, "medium": medium}


def test_aggregation_by_account(ib, seeded):
    r = ib.list_image_scan_finding_aggregations()
    assert r["aggregationType"] == "accountId" and "nextToken" not in r
    assert r["responses"] == [{"accountAggregation": {"accountId": ACCOUNT, "severityCounts": _counts(8, 2, 1, 2)}}]
    same = ib.list_image_scan_finding_aggregations(filter={"name": "accountId", "values": [ACCOUNT]})
    assert (same["aggregationType"], same["responses"]) == ("accountId", r["responses"])
    other = ib.list_image_scan_finding_aggregations(filter={"name": "accountId", "values": ["210987654321"]})
    assert other["responses"] == []


def test_aggregation_by_image(ib, seeded):
    _, built, alone = seeded
    r = ib.list_image_scan_finding_aggregations(filter={"name": "imageBuildVersionArn", "values": [built, alone]})
    assert r["aggregationType"] == "imageBuildVersionArn"
    assert r["responses"] == [
        {"imageAggregation": {"imageBuildVersionArn": built, "severityCounts": _counts(5, 1, 1, 1)}},
        {"imageAggregation": {"imageBuildVersionArn": alone, "severityCounts": _counts(3, 1, 0, 1)}},
    ]


def test_aggregation_by_pipeline(ib, seeded):
    pipeline, _, _ = seeded
    r = ib.list_image_scan_finding_aggregations(filter={"name": "imagePipelineArn", "values": [pipeline]})
    assert r["aggregationType"] == "imagePipelineArn"
    assert r["responses"] == [{"imagePipelineAggregation": {"imagePipelineArn": pipeline, "severityCounts": _counts(5, 1, 1, 1)}}]


def test_aggregation_by_vulnerability(ib, seeded):
    r = ib.list_image_scan_finding_aggregations(filter={"name": "vulnerabilityId", "values": ["CVE-1", "CVE-PARENT", "CVE-404"]})
    assert r["aggregationType"] == "vulnerabilityId"
    assert r["responses"] == [
        {"vulnerabilityIdAggregation": {"vulnerabilityId": "CVE-1", "severityCounts": _counts(2, 2, 0, 0)}},
        {"vulnerabilityIdAggregation": {"vulnerabilityId": "CVE-PARENT", "severityCounts": _counts(2, 0, 0, 2)}},
    ]


def test_aggregation_unknown_filter_is_refused(ib):
    with raises("InvalidParameterValueException", "The value supplied for parameter 'filter.name' is not valid. The filter "
                "name 'severity' is not supported. Supported filter names: accountId, imageBuildVersionArn, "
                "imagePipelineArn, vulnerabilityId."):
        ib.list_image_scan_finding_aggregations(filter={"name": "severity", "values": ["HIGH"]})


def test_aggregation_bad_token_is_refused(ib):
    with raises("InvalidPaginationTokenException", "The nextToken supplied is not valid. Use the nextToken value returned "
                "by the previous ListImageScanFindingAggregations response, unchanged."):
        ib.list_image_scan_finding_aggregations(nextToken="forged")


# -- seeding refused ----------------------------------------------------------------------

def test_seed_of_an_unknown_image_is_refused(control):
    missing = f"{IMAGE}/missing/1.0.0/1"
    with _admin_error(f"No image has the ARN '{missing}'."):
        control.seed_inventory(missing, packages=[])


def test_seed_with_nothing_to_seed_is_refused(ib, control):
    with _admin_error("Give packages, findings or both: the image's inventory and its scan findings."):
        control.seed_inventory(_build(ib))


@pytest.mark.parametrize("packages, findings, message", [
    ([{"packageName": "a"}], None, "packages[0].packageVersion must be a string of 1 to 1024 characters."),
    ([{"packageName": "a", "packageVersion": "1", "arch": "x86_64"}], None,
     "Unknown field 'arch' in packages[0]: a package has packageName and packageVersion."),
    (None, [{"severity": "High", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1"}}],
     "findings[0].severity must be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, UNTRIAGED, not 'High'."),
    (None, [{"severity": "LOW"}],
     "findings[0].packageVulnerabilityDetails is required: it names the vulnerability (vulnerabilityId) the finding is about."),
    (None, [{"severity": "LOW", "packageVulnerabilityDetails": {}}],
     "The request is missing the required parameter 'findings[0].packageVulnerabilityDetails.vulnerabilityId'."),
    (None, [{"severity": "LOW", "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1", "cvss": [{"score": 1}]}}],
     "Unknown field 'score' in findings[0].packageVulnerabilityDetails.cvss[0]: an ImageScanFinding has no such member."),
    (None, [{"severity": "LOW", "inspectorScore": -1, "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1"}}],
     "The value supplied for parameter 'findings[0].inspectorScore' is not valid. 'findings[0].inspectorScore' must be "
     "greater than or equal to 0."),
    (None, [{**_finding("CVE-1"), "imageBuildVersionArn": "x"}],
     "findings[0].imageBuildVersionArn is filled in by kiln (the image the finding is listed for); leave it out of the seed."),
    (None, [{**_finding("CVE-1"), "type": "NETWORK_REACHABILITY"}],
     "findings[0].type must be PACKAGE_VULNERABILITY: Image Builder lists no other type of finding."),
    (None, [{**_finding("CVE-1"), "firstObservedAt": "2026-01-01T00:00:00Z"}],
     "findings[0].firstObservedAt must be a number (epoch seconds), as the API returns it."),
])
def test_seed_is_checked_against_the_model(ib, control, packages, findings, message):
    arn = _build(ib)
    with _admin_error(message):
        control.seed_inventory(arn, packages=packages, findings=findings)


def test_a_build_that_failed_while_building_lists_no_packages(ib, control):
    control.seed_inventory(AL2023, packages=[{"packageName": "bash", "packageVersion": "5.2.15"}])
    control.fail_next_build("BUILDING", "Component failed.")
    arn = _build(ib)
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "FAILED"
    assert ib.list_image_packages(imageBuildVersionArn=arn)["imagePackageList"] == []


def test_the_admin_route_checks_its_body(backend, ib):
    if backend.server is None:
        pytest.skip("the HTTP route itself: server mode")
    from kiln.pytest_plugin import admin_request

    url = backend.server.url
    for body, message in [
        ({"packages": []}, "imageArn is required: the ARN of the image the packages and findings belong to."),
        ({"imageArn": AL2023, "packages": {}}, "packages must be a list, not {}."),
        ({"imageArn": AL2023, "findings": []}, None),
        ({"imageArn": AL2023, "package": []}, "Unknown field 'package': /_kiln/images/inventory takes imageArn, packages, findings."),
        ({"imageArn": "ami-0123456789abcdef0", "packages": []},
         "imageArn must be an Image Builder image ARN, not 'ami-0123456789abcdef0'."),
    ]:
        if message is None:
            assert admin_request(url, "POST", "/_kiln/images/inventory", body)["findings"] == 0
            continue
        with pytest.raises(RuntimeError) as info:
            admin_request(url, "POST", "/_kiln/images/inventory", body)
        assert str(info.value) == f"POST /_kiln/images/inventory answered 400: {message}"
    with pytest.raises(RuntimeError, match="answered 405: /_kiln/images/inventory answers POST, not GET."):
        admin_request(url, "GET", "/_kiln/images/inventory")
