"""The AWS-managed catalogue: Amazon's base images, components and workflows.

The data lives in the YAML files next to this module (shipped as package data):
images.yaml, components.yaml and workflows.yaml hold one compact entry per
family; the functions below expand them into full API documents for a region,
keyed by the member names of the botocore shapes `Image`, `Component` and
`Workflow`, so callers can serve them as they are (service-semantics.md 7).
marketplace.yaml holds a few SAMPLE AWS Marketplace and third-party components
(marketplace_components, marketplace_resources), made up by kiln.

Every ARN uses the owner segment ``aws`` (MANAGED_ACCOUNT_ALIAS) and the
partition of the region (``aws``, ``aws-cn`` or ``aws-us-gov``). Everything is
derived deterministically from the data and the region (AMI ids and times of
day come from hashes), so two processes agree on every value.

The lists are cached per region (functools.lru_cache) and the cached list is
returned on every call: callers must treat the lists and the documents in them
as read-only, and copy before changing anything.
"""
from __future__ import annotations

import datetime as _dt
import functools
import hashlib
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "MANAGED_ACCOUNT_ALIAS",
    "MANAGED_OWNER",
    "MANAGED_AMI_ACCOUNT_ID",
    "managed_images",
    "managed_components",
    "managed_workflows",
    "MARKETPLACE_OWNERS",
    "marketplace_components",
    "marketplace_resources",
]

MANAGED_ACCOUNT_ALIAS = "aws"
"""The owner segment of managed ARNs: ``arn:aws:imagebuilder:<region>:aws:...``."""

MANAGED_OWNER = "Amazon"
"""The `owner` field of managed components and workflows (also the ListX `owner` filter value)."""

MANAGED_AMI_ACCOUNT_ID = "137112412989"
"""The account that owns the AMIs of managed images (`outputResources.amis[].accountId`)."""

MARKETPLACE_OWNERS = {"ThirdParty": "third-party", "AWSMarketplace": "aws-marketplace"}
"""The `owner` field (and ListComponents `owner` value) of the sample marketplace
components (marketplace.yaml), and the owner segment of their ARNs."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def managed_images(region: str) -> list[dict]:
    """Every managed image build version in `region`, as `Image` documents.

    AMI base images first, then container (DOCKER) base images; within a family
    the builds are in ascending version order. The returned list is cached and
    shared: do not mutate it or the documents in it.
    """
    partition, dns_suffix = _partition(region)
    data = _load("images.yaml")
    images: list[dict] = []
    for family in data["amis"]:
        images.extend(_image_builds(family, "AMI", region, partition, dns_suffix))
    for family in data["containers"]:
        images.extend(_image_builds(family, "DOCKER", region, partition, dns_suffix))
    return images


@functools.lru_cache(maxsize=None)
def managed_components(region: str) -> list[dict]:
    """Every managed component build version in `region`, as `Component` documents.

    The returned list is cached and shared: do not mutate it or the documents in it.
    """
    partition, _ = _partition(region)
    components: list[dict] = []
    for entry in _load("components.yaml")["components"]:
        document = yaml.load(entry["data"], Loader=_Loader)
        phases = [phase["name"] for phase in document["phases"]]
        parameters = _component_parameters(document)
        for release in entry["versions"]:
            version = str(release["version"])
            arn = (f"arn:{partition}:imagebuilder:{region}:{MANAGED_ACCOUNT_ALIAS}:"
                   f"component/{entry['name']}/{version}/1")
            item: dict[str, Any] = {
                "arn": arn,
                "name": entry["name"],
                "version": version,
                "description": entry["description"],
            }
            if release.get("changeDescription"):
                item["changeDescription"] = release["changeDescription"]
            item.update({
                "type": "TEST" if phases == ["test"] else "BUILD",
                "platform": entry["platform"],
                "supportedOsVersions": list(entry["supportedOsVersions"]),
                "state": {"status": "ACTIVE"},
            })
            if parameters:
                item["parameters"] = [dict(p, defaultValue=list(p["defaultValue"])) if "defaultValue" in p
                                      else dict(p) for p in parameters]
            item.update({
                "owner": MANAGED_OWNER,
                "data": entry["data"],
                "encrypted": True,
                "dateCreated": _timestamp(_date(release["date"]), arn.split(":", 5)[5]),
                "tags": {},
            })
            components.append(item)
    return components


@functools.lru_cache(maxsize=None)
def marketplace_components(region: str) -> list[dict]:
    """The SAMPLE AWS Marketplace and third-party component build versions in `region`
    (marketplace.yaml), as `Component` documents: owner `ThirdParty` or
    `AWSMarketplace`, ARN owner segment `third-party` or `aws-marketplace`, with
    `productCodes`, `obfuscate` true and so no `data` (GetMarketplaceResource serves it,
    see marketplace_resources). Cached and shared: do not mutate."""
    partition, _ = _partition(region)
    components: list[dict] = []
    for entry in _load("marketplace.yaml")["components"]:
        document = yaml.load(entry["data"], Loader=_Loader)
        phases = [phase["name"] for phase in document["phases"]]
        parameters = _component_parameters(document)
        key = entry["name"].lower().replace(" ", "-").replace("_", "-")
        segment = MARKETPLACE_OWNERS[entry["owner"]]
        for release in entry["versions"]:
            version = str(release["version"])
            arn = f"arn:{partition}:imagebuilder:{region}:{segment}:component/{key}/{version}/1"
            item: dict[str, Any] = {
                "arn": arn,
                "name": entry["name"],
                "version": version,
                "description": entry["description"],
                "type": "TEST" if phases == ["test"] else "BUILD",
                "platform": entry["platform"],
                "supportedOsVersions": list(entry["supportedOsVersions"]),
                "state": {"status": "ACTIVE"},
            }
            if parameters:
                item["parameters"] = [dict(p, defaultValue=list(p["defaultValue"])) if "defaultValue" in p
                                      else dict(p) for p in parameters]
            item.update({
                "owner": entry["owner"],
                "encrypted": True,
                "dateCreated": _timestamp(_date(release["date"]), arn.split(":", 5)[5]),
                "tags": {},
            })
            if entry.get("publisher"):
                item["publisher"] = entry["publisher"]
            item["obfuscate"] = True
            item["productCodes"] = [dict(code) for code in entry["productCodes"]]
            components.append(item)
    return components


@functools.lru_cache(maxsize=None)
def marketplace_resources(region: str) -> dict[str, dict]:
    """What GetMarketplaceResource serves for each sample marketplace component build in
    `region`, by build ARN: `data` (its AWSTOE document) and `artifacts` (the S3
    locations its document downloads). Cached and shared: do not mutate."""
    entries = _load("marketplace.yaml")["components"]
    resources_by_arn: dict[str, dict] = {}
    for doc in marketplace_components(region):
        entry = next(e for e in entries if e["name"] == doc["name"])
        resources_by_arn[doc["arn"]] = {"data": entry["data"], "artifacts": list(entry.get("artifacts") or [])}
    return resources_by_arn


def workflow_actions() -> dict:
    """The workflow step actions (workflow_actions.yaml): each one's documented default
    and maximum timeoutSeconds, maxAttempts, inputs and outputs, by action name."""
    return _load("workflow_actions.yaml")["actions"]


@functools.lru_cache(maxsize=None)
def managed_workflows(region: str) -> list[dict]:
    """Every managed workflow build version in `region`, as `Workflow` documents.

    `state` is omitted: the model's WorkflowStatus has only DEPRECATED, so an
    active workflow has no state. The returned list is cached and shared: do not
    mutate it or the documents in it.
    """
    partition, _ = _partition(region)
    workflows: list[dict] = []
    for entry in _load("workflows.yaml")["workflows"]:
        document = yaml.load(entry["data"], Loader=_Loader)
        parameters = _workflow_parameters(document)
        segment = {"BUILD": "build", "TEST": "test", "DISTRIBUTION": "distribution"}[entry["type"]]
        for release in entry["versions"]:
            version = str(release["version"])
            arn = (f"arn:{partition}:imagebuilder:{region}:{MANAGED_ACCOUNT_ALIAS}:"
                   f"workflow/{segment}/{entry['name']}/{version}/1")
            item: dict[str, Any] = {
                "arn": arn,
                "name": entry["name"],
                "version": version,
                "description": entry["description"],
            }
            if release.get("changeDescription"):
                item["changeDescription"] = release["changeDescription"]
            item.update({
                "type": entry["type"],
                "owner": MANAGED_OWNER,
                "data": entry["data"],
                "dateCreated": _timestamp(_date(release["date"]), arn.split(":", 5)[5]),
                "tags": {},
            })
            if parameters:
                item["parameters"] = [dict(p, defaultValue=list(p["defaultValue"])) if "defaultValue" in p
                                      else dict(p) for p in parameters]
            workflows.append(item)
    return workflows


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

def _image_builds(family: dict, image_type: str, region: str, partition: str, dns_suffix: str) -> list[dict]:
    builds = []
    for spec in family["versions"]:
        semver, build = _split_build(str(spec))
        arn = (f"arn:{partition}:imagebuilder:{region}:{MANAGED_ACCOUNT_ALIAS}:"
               f"image/{family['key']}/{semver}/{build}")
        major, minor, patch = (int(n) for n in semver.split("."))
        # Date-like versions: the nodes are the build date; later builds of the
        # same version were made on the following days.
        day = _dt.date(major, minor, patch) + _dt.timedelta(days=build - 1)
        created = _timestamp(day, f"image/{family['key']}/{semver}/{build}")
        if image_type == "AMI":
            outputs = {"amis": [{
                "region": region,
                "image": "ami-" + hashlib.sha256(f"{region}|{arn}".encode()).hexdigest()[:17],
                # The default AMI name: "<image name> <dateCreated with ':' as '-'>".
                "name": f"{family['name']} {created.replace(':', '-')}",
                "description": f"Amazon-managed {family['name']} image, version {semver}/{build}",
                "accountId": MANAGED_AMI_ACCOUNT_ID,
            }]}
        else:
            # The default container tag is the version with '/' replaced by '-'.
            uri = (f"{MANAGED_AMI_ACCOUNT_ID}.dkr.ecr.{region}.{dns_suffix}/"
                   f"{family['key']}:{semver}-{build}")
            outputs = {"containers": [{"region": region, "imageUris": [uri]}]}
        builds.append({
            "arn": arn,
            "type": image_type,
            "name": family["name"],
            "version": f"{semver}/{build}",
            "platform": family["platform"],
            "enhancedImageMetadataEnabled": True,
            "osVersion": family["osVersion"],
            "state": {"status": "AVAILABLE"},
            # No imageRecipe/containerRecipe, infrastructure, distribution or
            # tests configuration: GetImage on a managed image has none
            # (service-semantics.md 4.3).
            "dateCreated": created,
            "outputResources": outputs,
            "tags": {},
            # Amazon rebuilds its base images on a release schedule.
            "buildType": "SCHEDULED",
            "imageSource": "AMAZON_MANAGED",
        })
    return builds


def _split_build(spec: str) -> tuple[str, int]:
    semver, _, build = spec.partition("/")
    return semver, int(build or 1)


# --------------------------------------------------------------------------
# Parameters derived from documents
# --------------------------------------------------------------------------

def _component_parameters(document: dict) -> list[dict]:
    """AWSTOE `parameters` (a list of single-key maps) as ComponentParameterDetail."""
    details = []
    for entry in document.get("parameters") or []:
        (name, spec), = entry.items()
        detail: dict[str, Any] = {"name": name, "type": spec["type"]}
        if "default" in spec:
            detail["defaultValue"] = [_text(spec["default"])]
        if spec.get("description"):
            detail["description"] = spec["description"]
        details.append(detail)
    return details


def _workflow_parameters(document: dict) -> list[dict]:
    """Workflow `parameters` (a list of maps with a `name` key) as WorkflowParameterDetail.

    Values are always reported as a list of strings.
    """
    details = []
    for spec in document.get("parameters") or []:
        detail: dict[str, Any] = {"name": spec["name"], "type": spec["type"]}
        if "default" in spec:
            default = spec["default"]
            values = default if isinstance(default, list) else [default]
            detail["defaultValue"] = [_text(v) for v in values]
        if spec.get("description"):
            detail["description"] = spec["description"]
        details.append(detail)
    return details


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _load(filename: str) -> dict:
    """Parse one catalogue file (once per process)."""
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    return yaml.load(text, Loader=_Loader)


def _partition(region: str) -> tuple[str, str]:
    """(ARN partition, DNS suffix) for a region name."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def _date(value: Any) -> _dt.date:
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value))


def _timestamp(day: _dt.date, seed: str) -> str:
    """ISO-8601 UTC with milliseconds on `day`, at a time of day derived from `seed`.

    The time falls between 01:00 and 22:59 so it never reads as a round value.
    """
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    millis = n % 1000
    seconds = 3600 + (n // 1000) % (22 * 3600)
    moment = _dt.datetime(day.year, day.month, day.day) + _dt.timedelta(seconds=seconds, milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"
