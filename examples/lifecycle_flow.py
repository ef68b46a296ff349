#!/usr/bin/env python3
"""Images that age out: a lifecycle policy on kiln's frozen clock, with boto3, against `kiln serve`.

    kiln serve --in-memory &             # listens on http://127.0.0.1:4599
    python examples/lifecycle_flow.py    # KILN_URL=http://host:port to point elsewhere

Freezes kiln's clock (POST /_kiln/clock/freeze: only /_kiln/clock/advance moves it then),
builds five images of one recipe a month apart (the first tagged keep=true), and creates a
lifecycle policy for that recipe: deprecate images older than 90 days, delete images older
than 365 days but keep at least the newest 2 (with their AMIs and snapshots), and spare
images tagged keep=true in both rules. The policy runs once a day on kiln's clock, as AWS
runs it; the flow advances the clock a month at a time for a year and prints each image's
status, then the lifecycle executions that acted (ListLifecycleExecutions) and their
per-resource results (ListLifecycleExecutionResources: the image, its AMI, its snapshot).
Deletes what it made and lets the clock run again.
"""
import http.client
import json
import os
from datetime import datetime, timezone
from urllib.parse import urlsplit

import boto3

KILN_URL = os.environ.get("KILN_URL", "http://127.0.0.1:4599")
PARENT_IMAGE = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ImageBuilderLifecycleExecutionRole"
START = "2030-01-01T00:00:00Z"   # kiln's clock only moves forward: a date in the future
DAY = 86400

ib = boto3.client(
    "imagebuilder",
    region_name="us-east-1",
    endpoint_url=KILN_URL,
    # kiln takes any credentials; a 12-digit access key id becomes the account id.
    aws_access_key_id="123456789012",
    aws_secret_access_key="kiln",
)


def kiln_admin(path, body=None):
    """One of kiln's own /_kiln/ routes (not part of the AWS API)."""
    url = urlsplit(KILN_URL)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
    try:
        conn.request("POST", path, body=json.dumps(body or {}), headers={"content-type": "application/json"})
        resp = conn.getresponse()
        doc = json.loads(resp.read() or b"{}")
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"POST {path}: {resp.status} {doc.get('message')}")
    return doc


def advance(seconds):
    """Move kiln's clock; what falls due meanwhile (builds, daily policy runs) happens on its day."""
    return kiln_admin("/_kiln/clock/advance", {"seconds": seconds})["epochSeconds"]


def day(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


def status(arn):
    return ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]


def build(recipe_arn, infra_arn, tags):
    """One image, built on the frozen clock: a build moves on as the clock is advanced."""
    arn = ib.create_image(imageRecipeArn=recipe_arn, infrastructureConfigurationArn=infra_arn,
                          tags=tags)["imageBuildVersionArn"]
    waited = 0
    while status(arn) not in ("AVAILABLE", "FAILED"):
        advance(60)
        waited += 60
        if waited > 6 * 3600:
            raise SystemExit(f"{arn} did not finish building")
    return arn, waited


def main():
    try:
        start = kiln_admin("/_kiln/clock/freeze", {"at": START})["epochSeconds"]
    except RuntimeError:   # kiln's clock is past START already: freeze it where it stands
        start = kiln_admin("/_kiln/clock/freeze")["epochSeconds"]
    print(f"kiln's clock frozen at {datetime.fromtimestamp(start, timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
    made = []
    try:
        recipe_arn = ib.create_image_recipe(
            name="aging-recipe", semanticVersion="1.0.0", parentImage=PARENT_IMAGE,
            components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
        made.append(("recipe", recipe_arn))
        infra_arn = ib.create_infrastructure_configuration(
            name="aging-infra", instanceProfileName="EC2InstanceProfileForImageBuilder",
            instanceTypes=["t3.micro"])["infrastructureConfigurationArn"]
        made.append(("infra", infra_arn))

        # Five builds a month apart: days 0, 30, 60, 90, 120. The first one is tagged keep=true.
        images = []
        for i in range(5):
            tags = {"keep": "true"} if i == 0 else {"build": str(i + 1)}
            arn, took = build(recipe_arn, infra_arn, tags)
            image = ib.get_image(imageBuildVersionArn=arn)["image"]
            images.append(arn)
            made.append(("image", arn))
            tagged = " keep=true" if i == 0 else ""
            print(f"built {arn} on {image['dateCreated']}: {image['state']['status']}{tagged}")
            advance(30 * DAY - took)

        policy_arn = ib.create_lifecycle_policy(
            name="age-out-aging-recipe",
            description="Deprecate after 90 days; delete after 365 days, keeping the newest 2; spare keep=true",
            resourceType="AMI_IMAGE",
            executionRole=EXECUTION_ROLE,
            resourceSelection={"recipes": [{"name": "aging-recipe", "semanticVersion": "1.0.0"}]},
            policyDetails=[
                {"action": {"type": "DEPRECATE", "includeResources": {"amis": True}},
                 "filter": {"type": "AGE", "value": 90, "unit": "DAYS"},
                 "exclusionRules": {"tagMap": {"keep": "true"}}},
                {"action": {"type": "DELETE", "includeResources": {"amis": True, "snapshots": True}},
                 "filter": {"type": "AGE", "value": 365, "unit": "DAYS", "retainAtLeast": 2},
                 "exclusionRules": {"tagMap": {"keep": "true"}}},
            ],
        )["lifecyclePolicyArn"]
        made.append(("policy", policy_arn))
        policy = ib.get_lifecycle_policy(lifecyclePolicyArn=policy_arn)["lifecyclePolicy"]
        print(f"lifecycle policy: {policy_arn} ({policy['status']}), created on {day(policy['dateCreated'].timestamp())}")

        # The policy runs daily from a day after its creation: a year, a month at a time.
        print("\nday  date        " + "  ".join(f"image {i + 1:<4}" for i in range(len(images))))
        now = advance(0)
        for month in range(13):
            if month:
                now = advance(30 * DAY)
            states = "  ".join(f"{status(arn):<10}" for arn in images)
            print(f"{round((now - start) / DAY):>3}  {day(now)}  {states}")

        policy = ib.get_lifecycle_policy(lifecyclePolicyArn=policy_arn)["lifecyclePolicy"]
        print(f"\npolicy last ran on {day(policy['dateLastRun'].timestamp())}")
        executions = [e for page in ib.get_paginator("list_lifecycle_executions").paginate(resourceArn=policy_arn)
                      for e in page["lifecycleExecutions"]]
        acted = [e for e in executions if e["resourcesImpactedSummary"]["hasImpactedResources"]]
        acted.sort(key=lambda e: e["startTime"])
        print(f"{len(executions)} lifecycle executions, {len(acted)} of them acted on images:")
        for execution in acted:
            key = execution["lifecycleExecutionId"]
            print(f"  {day(execution['startTime'].timestamp())} {key} {execution['state']['status']}")
            for res in ib.list_lifecycle_execution_resources(lifecycleExecutionId=key)["resources"]:
                print(f"    {res['action']['name']:<9} {res['resourceId']} {res['state']['status']}")
                for child in ib.list_lifecycle_execution_resources(
                        lifecycleExecutionId=key, parentResourceId=res["resourceId"])["resources"]:
                    print(f"      {child['action']['name']:<9} {child['resourceId']} {child['region']} "
                          f"{child['state']['status']}")
                    for snap in child.get("snapshots", []):
                        print(f"        snapshot {snap['snapshotId']} {snap['state']['status']}")
        print("\nfinal status:")
        for i, arn in enumerate(images):
            image = ib.get_image(imageBuildVersionArn=arn)["image"]
            extra = f" deprecated {day(image['deprecationTime'].timestamp())}" if image.get("deprecationTime") else ""
            print(f"  {arn}: {image['state']['status']}{extra}")
    finally:
        deleted = 0
        for kind, arn in reversed(made):
            try:
                if kind == "policy":
                    ib.delete_lifecycle_policy(lifecyclePolicyArn=arn)
                elif kind == "image":
                    ib.delete_image(imageBuildVersionArn=arn)
                elif kind == "infra":
                    ib.delete_infrastructure_configuration(infrastructureConfigurationArn=arn)
                else:
                    ib.delete_image_recipe(imageRecipeArn=arn)
                deleted += 1
            except ib.exceptions.ResourceNotFoundException:
                deleted += 1   # an image the policy deleted is gone already
        kiln_admin("/_kiln/clock/unfreeze")
        print(f"cleaned up {deleted} resources; kiln's clock runs again")


if __name__ == "__main__":
    main()
