"""Webhooks: each EventBridge event Image Builder emits, POSTed as JSON to the URLs given
with --webhook (KILN_WEBHOOKS), retried with backoff while the receiver fails, never holding
up a request. No moto needed: the receiver is a local HTTP server."""
from __future__ import annotations

import time

import boto3
import pytest

import kiln
from tests.integrations.expected import envelope_ok, state_changes
from tests.support.server import KilnServer

ACCOUNT, REGION = "123456789012", "us-east-1"
AL2023 = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"


def build(ib, **extra) -> str:
    recipe = ib.create_image_recipe(name="demo", semanticVersion="1.0.0", parentImage=AL2023)["imageRecipeArn"]
    infra = ib.create_infrastructure_configuration(name="demo", instanceProfileName="p")["infrastructureConfigurationArn"]
    return ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra, **extra)["imageBuildVersionArn"]


def shapes(events: list[dict]) -> list[tuple]:
    return [(e["detail-type"], e["resources"], e["detail"]) for e in events]


def test_in_process_the_events_are_posted_before_the_call_returns(webhook, monkeypatch):
    monkeypatch.setenv("KILN_WEBHOOKS", webhook.url)
    with kiln.mock_imagebuilder():
        ib = boto3.client("imagebuilder", region_name=REGION)
        arn = build(ib)
        assert shapes(webhook.received) == state_changes(arn)  # delivered right after each commit
        assert all(envelope_ok(e, ACCOUNT) for e in webhook.received)
        assert len({e["id"] for e in webhook.received}) == 5

        workflow = ib.create_workflow(name="wait", semanticVersion="1.0.0", type="BUILD", data=(
            "name: wait\nschemaVersion: 1.0\nsteps:\n  - name: WaitForApproval\n    action: WaitForAction\n"
            "    onFailure: Abort\n"))["workflowBuildVersionArn"]
        del webhook.received[:]
        recipe = ib.list_image_recipes()["imageRecipeSummaryList"][0]["arn"]
        infra = ib.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"][0]["arn"]
        waiting = ib.create_image(imageRecipeArn=recipe, infrastructureConfigurationArn=infra,
                                  executionRole="ImageBuilder", workflows=[{"workflowArn": workflow}])["imageBuildVersionArn"]
        [step] = ib.list_waiting_workflow_steps()["steps"]
        assert shapes(webhook.received) == [*state_changes(waiting, ["PENDING", "BUILDING"]), (
            "EC2 Image Builder Workflow Step Waiting", [waiting],
            {"workflow-execution-id": step["workflowExecutionId"], "workflow-step-execution-id": step["stepExecutionId"],
             "workflow-step-name": "WaitForApproval"})]
        ib.send_workflow_step_action(stepExecutionId=step["stepExecutionId"], imageBuildVersionArn=waiting,
                                     action="STOP", reason="Rejected", clientToken="c1")
        assert shapes(webhook.received)[-1] == ("EC2 Image Builder Image State Change", [waiting], {
            "previous-state": {"status": "BUILDING"}, "state": {"status": "FAILED", "reason": "Rejected"}})


@pytest.fixture(scope="module")
def kiln_with_webhook(webhook_server):
    server = KilnServer("--in-memory", "--build-timing", "immediate", "--webhook", webhook_server.url).start()
    yield server
    server.stop()


def test_kiln_serve_retries_a_failing_webhook_with_backoff(kiln_with_webhook, webhook):
    webhook.fail_next = 2  # the first two POSTs answer 500: kiln tries again after 1 s, then 2 s
    ib = boto3.client("imagebuilder", endpoint_url=kiln_with_webhook.url, region_name=REGION,
                      aws_access_key_id=ACCOUNT, aws_secret_access_key="x")
    started = time.monotonic()
    arn = build(ib)
    assert time.monotonic() - started < 2  # the request did not wait for the webhook
    events = webhook.wait_for(5, timeout=20)
    assert shapes(events) == state_changes(arn)  # in order, none lost, none twice
    assert all(envelope_ok(e, ACCOUNT) for e in events)
    assert webhook.attempts == 7
