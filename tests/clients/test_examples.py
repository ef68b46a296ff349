"""Every example in examples/ runs against a real kiln exactly as written (only
KILN_URL, or TF_VAR_kiln_url, points it at the test server), so they cannot rot.
Each example cleans up after itself; kiln must be empty afterwards."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from clients.support import (EXAMPLES, Terraform, aws_cli_command, client_env, list_everything, node_modules,
                             stage_script, terraform_setup)


def _run(cmd, env, cwd=None, timeout=300) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _assert_empty(server):
    ib = server.client()
    assert list_everything(ib) == {k: [] for k in list_everything(ib)}


def _env(server, tmp_path) -> dict:
    env = client_env(tmp_path)
    env["KILN_URL"] = server.url
    return env


def test_boto3_flow(timed_server, tmp_path):
    out = _run([sys.executable, str(EXAMPLES / "boto3_flow.py")], _env(timed_server, tmp_path))
    assert "state: AVAILABLE" in out
    assert "image/hello-recipe/x.x.x) -> arn:aws:imagebuilder:us-east-1:123456789012:image/hello-recipe/1.0.0/1" in out
    assert "expected error: ResourceNotFoundException" in out
    assert "cleaned up 5 resources" in out
    _assert_empty(timed_server)


def test_lifecycle_flow(timed_server, tmp_path):
    """Five builds a month apart on a frozen clock, a policy (deprecate after 90 days, delete
    after 365 keeping 2, sparing keep=true) running daily for a year: each image's status month
    by month, and the executions that acted with their per-resource results."""
    out = _run([sys.executable, str(EXAMPLES / "lifecycle_flow.py")], _env(timed_server, tmp_path))
    image = "arn:aws:imagebuilder:us-east-1:123456789012:image/aging-recipe/1.0.0/{}"
    assert "kiln's clock frozen at 2030-01-01T00:00:00Z\n" in out
    for n, date in enumerate(("2030-01-01", "2030-01-31", "2030-03-02", "2030-04-01", "2030-05-01"), 1):
        assert f"built {image.format(n)} on {date}T00:00:00.000Z: AVAILABLE" in out
    assert "lifecycle-policy/age-out-aging-recipe (ENABLED), created on 2030-05-31\n" in out
    table = {line.split()[0]: line.split()[2:] for line in out.splitlines() if re.match(r"^ *\d+  20\d\d-", line)}
    A, DEP, DEL = "AVAILABLE", "DEPRECATED", "DELETED"
    assert table["150"] == [A, A, A, A, A]             # the policy's first run is a day after its creation
    assert table["180"] == [A, DEP, DEP, DEP, A]       # builds 2, 3 (day 151), 4 (day 180): 90 days old
    assert table["210"] == [A, DEP, DEP, DEP, DEP]
    assert table["390"] == [A, DEP, DEP, DEP, DEP]
    assert table["420"] == [A, DEL, DEP, DEP, DEP]     # build 2: 365 days old on day 395
    assert table["510"] == [A, DEL, DEL, DEP, DEP]     # build 3 on day 425; 4 and 5 are the newest two
    assert "policy last ran on 2031-05-26\n" in out
    assert "360 lifecycle executions, 5 of them acted on images:\n" in out
    acted = out.split("acted on images:\n")[1].split("\nfinal status:")[0]
    runs = re.split(r"\n(?=  \S)", acted.strip("\n"))
    assert [r.split()[0] for r in runs] == ["2030-06-01", "2030-06-30", "2030-07-30", "2031-01-31", "2031-03-02"]
    assert all(re.match(r"  \S+ lce-[0-9a-f-]{36} SUCCESS$", r.splitlines()[0]) for r in runs)
    first = [line.split() for line in runs[0].splitlines()[1:]]   # image, its AMI; image, its AMI
    assert [f[0] for f in first] == ["DEPRECATE"] * 4 and [f[-1] for f in first] == ["SUCCESS"] * 4
    assert [f[1] for f in first[::2]] == [image.format(2), image.format(3)]
    assert all(f[1].startswith("ami-") and f[2] == "us-east-1" for f in first[1::2])
    delete = runs[3].splitlines()
    assert delete[1].split() == ["DELETE", image.format(2), "SUCCESS"]
    assert re.match(r" {6}DELETE +ami-[0-9a-f]{17} us-east-1 SUCCESS$", delete[2])
    assert re.match(r" {8}snapshot snap-[0-9a-f]{17} SUCCESS$", delete[3])
    final = out.split("final status:\n")[1]
    assert f"  {image.format(1)}: AVAILABLE\n" in final    # tagged keep=true: spared by both rules
    assert f"  {image.format(2)}: DELETED deprecated 2030-06-01\n" in final
    assert f"  {image.format(5)}: DEPRECATED deprecated 2030-07-30\n" in final
    assert "cleaned up 8 resources; kiln's clock runs again" in out
    _assert_empty(timed_server)
    assert timed_server.client().list_lifecycle_policies()["lifecyclePolicySummaryList"] == []


def test_approval_flow(timed_server, tmp_path):
    """Two builds held at a WaitForAction step: one resumed to AVAILABLE, one stopped."""
    out = _run([sys.executable, str(EXAMPLES / "approval_flow.py")], _env(timed_server, tmp_path))
    image = "arn:aws:imagebuilder:us-east-1:123456789012:image/approval-recipe/1.0.0/{}"
    first, second = out.split("image: " + image.format(1))[1].split("image: " + image.format(2))
    assert "waiting: step WaitForApproval (WaitForAction) step-" in first and "; image is BUILDING" in first
    assert "sent RESUME: Looks good - approved" in first
    assert "state: AVAILABLE\n" in first
    assert "workflow build/build-with-approval/1.0.0/1 (BUILD): COMPLETED, 5/5 steps succeeded, 0 failed" in first
    assert "WaitForAction      COMPLETED  outputs {'action': 'RESUME', 'reason': 'Looks good - approved'}" in first
    assert "CreateImage        COMPLETED  outputs {'imageId': 'ami-" in first
    assert "waiting: step WaitForApproval (WaitForAction) step-" in second and "; image is BUILDING" in second
    assert "sent STOP: Rejected: wrong kernel" in second
    assert "state: FAILED - Rejected: wrong kernel" in second
    assert "failed at step WaitForApproval (step-" in second and ") while BUILDING" in second
    assert "(BUILD): FAILED, 2/5 steps succeeded, 1 failed" in second
    assert "WaitForAction      FAILED  (Rejected: wrong kernel)" in second
    assert "CreateImage        CANCELLED" in second
    assert "cleaned up 5 resources" in second
    _assert_empty(timed_server)
    assert timed_server.client().list_waiting_workflow_steps()["steps"] == []


def test_container_flow(timed_server, tmp_path):
    """ImportComponent of a shell script, a container recipe using it, a pipeline built into
    two Regions' ECR repositories; the image URIs printed come from GetImage."""
    out = _run([sys.executable, str(EXAMPLES / "container_flow.py")], _env(timed_server, tmp_path))
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:"
    assert f"imported component: {arn}component/hello-script/1.0.0/1\n" in out
    assert f"container recipe: {arn}container-recipe/hello-container/1.0.0\n" in out
    assert f"image: {arn}image/hello-container/1.0.0/1\n" in out
    assert "state: AVAILABLE type: DOCKER\n" in out
    assert f"built from: {arn}container-recipe/hello-container/1.0.0\n" in out
    ecr = "123456789012.dkr.ecr.{}.amazonaws.com/"
    uris = [line.split()[1:] for line in out.splitlines() if line.startswith("  ECR ")]
    assert uris == [
        ["us-east-1", ecr.format("us-east-1") + "hello-container:1.0.0-1"],
        ["us-east-1", ecr.format("us-east-1") + "hello-container:latest"],
        ["us-west-2", ecr.format("us-west-2") + "hello-container-west:1.0.0-1"],
        ["us-west-2", ecr.format("us-west-2") + "hello-container-west:latest"],
        ["us-west-2", ecr.format("us-west-2") + "hello-container-west:stable"],
    ]
    assert "cleaned up 6 resources" in out
    _assert_empty(timed_server)
    ib = timed_server.client()
    assert ib.list_container_recipes()["containerRecipeSummaryList"] == []
    assert ib.list_image_pipelines()["imagePipelineList"] == []


@pytest.mark.skipif(aws_cli_command() is None, reason="the AWS CLI is not installed (pip install awscli)")
def test_aws_cli_walkthrough(timed_server, tmp_path):
    env = _env(timed_server, tmp_path)
    # The walkthrough calls `aws`: make sure the one these tests found comes first on PATH.
    cli = aws_cli_command()
    if cli[0] == sys.executable:
        pytest.skip("the walkthrough needs an `aws` command on PATH (awscli is only importable here)")
    env["PATH"] = os.path.dirname(cli[0]) + os.pathsep + env.get("PATH", "")
    out = _run(["bash", str(EXAMPLES / "aws_cli_walkthrough.sh")], env)
    assert "  AVAILABLE" in out
    assert "hello-recipe/x.x.x -> arn:aws:imagebuilder:us-east-1:123456789012:image/hello-recipe/1.0.0/1" in out
    assert "(ResourceNotFoundException) when calling the GetImage operation" in out
    assert "us-west-2" in out and "== done" in out and "== cleaned up" in out
    _assert_empty(timed_server)


def test_node_flow(timed_server, tmp_path):
    modules, why = node_modules()
    if modules is None:
        pytest.skip(why)
    # The example reads ../hello-component.yaml and imports the SDK from its own
    # node_modules: stage it the same way, outside the repository.
    shutil.copyfile(EXAMPLES / "hello-component.yaml", tmp_path / "hello-component.yaml")
    script = stage_script(EXAMPLES / "node" / "flow.mjs", tmp_path / "node", modules)
    env = _env(timed_server, tmp_path)
    env["NODE_NO_WARNINGS"] = "1"
    out = _run(["node", str(script)], env, cwd=script.parent)
    assert "state: AVAILABLE" in out
    assert "hello-recipe/x.x.x) -> arn:aws:imagebuilder:us-east-1:123456789012:image/hello-recipe/1.0.0/1" in out
    assert "expected error: ResourceNotFoundException 404" in out
    assert "cleaned up 5 resources" in out
    _assert_empty(timed_server)


def test_terraform_example(timed_server, tmp_path):
    exe, mirror, why = terraform_setup()
    if exe is None:
        pytest.skip(why)
    shutil.copyfile(EXAMPLES / "hello-component.yaml", tmp_path / "hello-component.yaml")
    workdir = tmp_path / "terraform"
    shutil.copytree(EXAMPLES / "terraform", workdir, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    tf = Terraform(exe, mirror, workdir, client_env(tmp_path))
    tf.env["TF_VAR_kiln_url"] = timed_server.url
    tf.run("init", "-input=false")
    tf.run("apply", "-auto-approve", "-input=false")
    out = tf.outputs()
    assert out["image_arn"] == "arn:aws:imagebuilder:us-east-1:123456789012:image/hello-recipe/1.0.0/1"
    assert sorted(out["amis"]) == ["us-east-1", "us-west-2"]
    assert "/amazon-linux-2023-x86/" in out["parent_image_build"]
    image = timed_server.client().get_image(imageBuildVersionArn=out["image_arn"])["image"]
    assert image["state"]["status"] == "AVAILABLE"
    tf.run("destroy", "-auto-approve", "-input=false")
    _assert_empty(timed_server)
