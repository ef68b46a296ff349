"""What AWS's documents say Image Builder sends, written out for the integration tests,
independently of kiln/integrations: the SNS message (user guide, integ-sns.md, "SNS
message format") and the EventBridge events (EventBridge's event reference for
aws.imagebuilder; the envelope every AWS service event has)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class AnyUuid:
    """Equal to any UUID string (ids kiln chooses: internalId, the build's job ids)."""

    def __eq__(self, other):
        return isinstance(other, str) and UUID.match(other) is not None

    def __repr__(self):
        return "<any UUID>"


ANY_UUID = AnyUuid()


def java(iso: str) -> str:
    """`2022-07-28T01:13:45.123Z` -> `Jul 28, 2022 1:13:45 AM`, as the SNS samples write dates."""
    d = datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return f"{d:%b} {d.day}, {d.year} {d.hour % 12 or 12}:{d:%M:%S} {'AM' if d.hour < 12 else 'PM'}"


def embedded(resource: dict, drop=("timeoutMinutes",)) -> dict:
    """A recipe or configuration (as its Get* answers it) as the SNS message embeds it."""
    out = {k: v for k, v in resource.items() if k not in ("tags", "dateCreated", "dateUpdated", "owner", *drop)}
    out["dateCreated"] = java(resource["dateCreated"])
    out["tags"] = {**(resource.get("tags") or {}), "internalId": ANY_UUID, "resourceArn": resource["arn"]}
    out["accountId"] = resource["arn"].split(":")[4]
    return out


def sns_message(image: dict, recipe: dict, infrastructure: dict, distribution: dict | None = None) -> dict:
    """The message for `image` (GetImage's) built from `recipe` (GetImageRecipe's, with the
    component ARNs the build used), the infrastructure and distribution configurations."""
    arn = image["arn"]
    version, build = image["version"].split("/")
    major, minor, patch = (int(n) for n in version.split("."))
    state = {k: v for k, v in image["state"].items() if k in ("status", "reason")}
    message = {
        "versionlessArn": arn.rsplit("/", 2)[0],
        "semver": (major << 90) | (minor << 60) | (patch << 30) | int(build),
        "arn": arn, "name": image["name"], "version": version, "type": "AMI", "buildVersion": int(build),
        "state": state, "platform": image["platform"],
        "imageRecipe": embedded({**recipe, "components": image["imageRecipe"]["components"]}),
        "infrastructureConfiguration": embedded(infrastructure),
        "imageTestsConfigurationDocument": {"imageTestsEnabled": True, "timeoutMinutes": 720},
        "dateCreated": java(image["dateCreated"]),
        "outputResources": image["outputResources"],
        "accountId": arn.split(":")[4], "enhancedImageMetadataEnabled": True, "buildType": "USER_INITIATED",
        "tags": {**image.get("tags", {}), "internalId": ANY_UUID, "resourceArn": arn},
    }
    if distribution is not None:
        message["distributionConfiguration"] = embedded(distribution)
    if state["status"] == "AVAILABLE":
        message.update(buildExecutionId=ANY_UUID, testExecutionId=ANY_UUID, distributionJobId=ANY_UUID,
                       integrationJobId=ANY_UUID)
    return message


STATES = ["PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]


def state_changes(arn: str, statuses: list[str] = STATES) -> list[tuple]:
    """(detail-type, resources, detail) of the "Image State Change" events a build through `statuses` sends."""
    return [("EC2 Image Builder Image State Change", [arn],
             {"previous-state": {"status": a}, "state": {"status": b}}) for a, b in zip(statuses, statuses[1:])]


def envelope_ok(event: dict, account: str, region: str = "us-east-1") -> bool:
    """The envelope every AWS service event has (kiln's webhook payload has all of it)."""
    return (set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
            and event["version"] == "0" and UUID.match(event["id"]) is not None and event["source"] == "aws.imagebuilder"
            and event["account"] == account and event["region"] == region
            and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"]) is not None)
