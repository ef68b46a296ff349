"""Every example in examples/ runs against a real kiln exactly as written (only
KILN_URL, or TF_VAR_kiln_url, points it at the test server), so they cannot rot.
Each example cleans up after itself; kiln must be empty afterwards."""
from __future__ import annotations

import os
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
