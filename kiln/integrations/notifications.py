"""The notifications Image Builder sends, in the forms AWS documents them (docs/integrations.md).

* SNS: the message published to an infrastructure configuration's `snsTopicArn` when an
  image reaches AVAILABLE or FAILED. Its form is the user guide's "SNS message format"
  samples (integ-sns.md): the image as Image Builder keeps it internally, not GetImage's
  shape: `versionlessArn`, `semver` (major<<90 | minor<<60 | patch<<30 | build),
  `buildVersion`, dates written as Java's `MMM d, yyyy h:mm:ss a` in UTC, `tags` holding
  `internalId` and `resourceArn`, `accountId` on the image and each embedded resource,
  `imageTestsConfigurationDocument`, and, on AVAILABLE, the build's four job ids.
* EventBridge: "EC2 Image Builder Image State Change" (detail `previous-state`, `state`)
  and "EC2 Image Builder Workflow Step Waiting" (detail `workflow-execution-id`,
  `workflow-step-execution-id`, `workflow-step-name`), source `aws.imagebuilder`, in the
  envelope every AWS service event has (version "0", id, detail-type, source, account,
  time, region, resources, detail). To an EventBridge endpoint (PutEvents on the default
  bus) and as the JSON body of a POST to each webhook.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

SOURCE = "aws.imagebuilder"
STATE_CHANGE = "EC2 Image Builder Image State Change"
STEP_WAITING = "EC2 Image Builder Workflow Step Waiting"
SNS_STATES = ("AVAILABLE", "FAILED")  # "When the image status reaches one of the following states" (integ-sns.md)
_NAMESPACE = uuid.UUID("6f1f1e0c-6b7e-4a63-9a53-6b696c6e0001")  # kiln's: ids derived from ARNs


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def java_date(text: str | None) -> str | None:
    """`2022-07-28T01:13:45.123Z` as the SNS message writes dates: `Jul 28, 2022 1:13:45 AM`."""
    if not text:
        return text
    moment = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year} {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"


def event_time(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _arn_parts(arn: str) -> tuple[str, str]:
    """(Region, account) of an ARN."""
    parts = arn.split(":")
    return parts[3], parts[4]


def _tags(doc: dict, arn: str) -> dict:
    # The samples show only Image Builder's own two; a resource's own tags are kept beside them (inferred).
    return {**(doc.get("tags") or {}), "internalId": _uuid(arn, "internalId"), "resourceArn": arn}


def _embedded(doc: dict | None, order: tuple[str, ...]) -> dict | None:
    """A recipe or configuration as the message embeds it: its members, dates as Java writes
    them, Image Builder's tags, and the owning account."""
    if not doc:
        return None
    arn = doc.get("arn", "")
    out = {}
    for k in order:
        if k in doc and k not in ("tags", "dateCreated", "dateUpdated", "owner"):
            out[k] = doc[k]
    for k, v in doc.items():  # members the samples do not show, after those they do
        if k not in out and k not in ("tags", "dateCreated", "dateUpdated", "owner"):
            out[k] = v
    if doc.get("dateCreated"):
        out["dateCreated"] = java_date(doc["dateCreated"])
    if doc.get("dateUpdated"):
        out["dateUpdated"] = java_date(doc["dateUpdated"])
    out["tags"] = _tags(doc, arn)
    for k in ("workingDirectory",):  # after tags, as the sample writes them
        if k in out:
            out[k] = out.pop(k)
    out["accountId"] = _arn_parts(arn)[1] if arn.count(":") >= 5 else doc.get("owner")
    return out


_RECIPE = ("arn", "name", "version", "description", "components", "platform", "parentImage", "blockDeviceMappings")
_INFRA = ("arn", "name", "description", "instanceTypes", "instanceProfileName")
_INFRA_AFTER_TAGS = ("logging", "keyPair", "terminateInstanceOnFailure", "snsTopicArn")
_DISTRIBUTION = ("arn", "name", "description", "distributions")


def _infrastructure(doc: dict | None) -> dict | None:
    out = _embedded(doc, _INFRA)
    if out is None:
        return None
    for k in _INFRA_AFTER_TAGS + ("dateCreated", "dateUpdated", "accountId"):  # the sample's order
        if k in out:
            out[k] = out.pop(k)
    return out


def _distribution(doc: dict | None) -> dict | None:
    out = _embedded(doc, _DISTRIBUTION)
    if out is None:
        return None
    out.pop("timeoutMinutes", None)  # GetDistributionConfiguration's; the sample's document has none
    if "dateCreated" in out:  # the sample puts it before distributions
        rest = {k: out.pop(k) for k in list(out) if k not in ("arn", "name", "description", "dateCreated")}
        out.update(rest)
    return out


def sns_message(doc: dict, state: dict) -> str:
    """The JSON text Image Builder publishes to the topic, for the image `doc` (GetImage's
    document) in `state`. Built with the standard json module: `semver` is a 93-bit number."""
    arn = doc["arn"]
    region, account = _arn_parts(arn)
    version, build = doc["version"].split("/")
    major, minor, patch = (int(n) for n in version.split("."))
    m: dict = {"versionlessArn": arn.rsplit("/", 2)[0],
               "semver": (major << 90) | (minor << 60) | (patch << 30) | int(build),
               "arn": arn, "name": doc["name"], "version": version, "type": doc.get("type", "AMI"),
               "buildVersion": int(build), "state": {k: state[k] for k in ("status", "reason") if state.get(k)},
               "platform": doc.get("platform")}
    if doc.get("imageRecipe"):
        m["imageRecipe"] = _embedded(doc["imageRecipe"], _RECIPE)
    if doc.get("containerRecipe"):
        m["containerRecipe"] = _embedded(doc["containerRecipe"], _RECIPE)
    if doc.get("sourcePipelineArn"):
        m["sourcePipelineArn"] = doc["sourcePipelineArn"]
    if doc.get("infrastructureConfiguration"):
        m["infrastructureConfiguration"] = _infrastructure(doc["infrastructureConfiguration"])
    if doc.get("imageTestsConfiguration"):
        m["imageTestsConfigurationDocument"] = doc["imageTestsConfiguration"]
    if doc.get("distributionConfiguration"):
        m["distributionConfiguration"] = _distribution(doc["distributionConfiguration"])
    m["dateCreated"] = java_date(doc.get("dateCreated"))
    m["outputResources"] = doc.get("outputResources") or {"amis": []}
    if state.get("status") == "AVAILABLE":  # the failure sample has none of the job ids
        m["buildExecutionId"] = _uuid(arn, "build")
        if (doc.get("imageTestsConfiguration") or {}).get("imageTestsEnabled", True):
            m["testExecutionId"] = _uuid(arn, "test")
        m["distributionJobId"] = _uuid(arn, "distribution")
        m["integrationJobId"] = _uuid(arn, "integration")
    m["accountId"] = account
    if doc.get("osVersion"):
        m["osVersion"] = doc["osVersion"]
    if "enhancedImageMetadataEnabled" in doc:
        m["enhancedImageMetadataEnabled"] = doc["enhancedImageMetadataEnabled"]
    if doc.get("buildType"):
        m["buildType"] = doc["buildType"]
    m["tags"] = _tags(doc, arn)
    return json.dumps(m)


def _state(state: dict | None) -> dict:
    return {k: state[k] for k in ("status", "reason") if (state or {}).get(k)}


def envelope(detail_type: str, arn: str, resources: list[str], detail: dict, at: float) -> dict:
    region, account = _arn_parts(arn)
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": SOURCE,
            "account": account, "time": event_time(at), "region": region, "resources": resources, "detail": detail}


def state_change_event(arn: str, previous: dict | None, state: dict, at: float) -> dict:
    return envelope(STATE_CHANGE, arn, [arn], {"previous-state": _state(previous), "state": _state(state)}, at)


def step_waiting_event(arn: str, run: dict, step: dict, at: float) -> dict:
    return envelope(STEP_WAITING, arn, [arn], {"workflow-execution-id": run["id"],
                                              "workflow-step-execution-id": step["id"],
                                              "workflow-step-name": step["name"]}, at)


# -- sending ----------------------------------------------------------------
def publish(integrations, topic_arn: str, message: str) -> None:
    region, account = _arn_parts(topic_arn)
    integrations.clients.get("sns", region, account).publish(TopicArn=topic_arn, Message=message)


def put_event(integrations, event: dict) -> None:
    client = integrations.clients.get("events", event["region"], event["account"])
    entry = {"Time": datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc),
             "Source": event["source"], "Resources": event["resources"], "DetailType": event["detail-type"],
             "Detail": json.dumps(event["detail"])}
    answer = client.put_events(Entries=[entry])
    if answer.get("FailedEntryCount"):
        failed = answer["Entries"][0]
        raise RuntimeError(f"PutEvents refused the event: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")


def post(url: str, event: dict, timeout: float = 5.0) -> None:
    """POST the event as JSON; anything but a 2xx answer is a failure (retried by the outbox)."""
    from kiln import __version__

    body = json.dumps(event).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "content-type": "application/json", "user-agent": f"kiln/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"the webhook answered HTTP {e.code}") from None
