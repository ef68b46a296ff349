"""Helpers for the real-client tests: a kiln server handle, a clean environment for
AWS clients, and finding the clients (AWS CLI, Node + the JavaScript SDK)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3

from kiln.pytest_plugin import KilnControl, KilnProcess

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXAMPLES = REPO / "examples"
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Server:
    """One running kiln: its URL, its admin controls, and a boto3 client on it."""

    process: KilnProcess

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def control(self) -> KilnControl:
        return KilnControl(url=self.url)

    def client(self, region: str = REGION):
        return boto3.client("imagebuilder", region_name=region, endpoint_url=self.url,
                            aws_access_key_id=ACCOUNT, aws_secret_access_key="x")

    def reset(self) -> "Server":
        self.process.reset()
        return self


def client_env(tmp_path: Path) -> dict[str, str]:
    """An environment for AWS clients: fake credentials, no user config, nothing
    that could point them at a real endpoint."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "KILN_", "TF_")) and k not in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    env.update({
        "AWS_ACCESS_KEY_ID": ACCOUNT,
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config-none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials-none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        # Belt and braces against reaching the network: anything not for kiln on
        # 127.0.0.1 goes to a proxy that refuses connections (port 9, discard).
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    return env


def aws_cli_command() -> list[str] | None:
    """How to run the AWS CLI here: `aws` on PATH, else `python -m awscli`."""
    exe = shutil.which("aws")
    if exe:
        return [exe]
    try:
        import awscli  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "awscli"]


# --- Node and @aws-sdk/client-imagebuilder, installed once into a cache kept across runs ---

PACKAGE = "@aws-sdk/client-imagebuilder"


def wanted_range() -> str:
    """The version range examples/node/package.json pins (one place to change it)."""
    return json.loads((EXAMPLES / "node" / "package.json").read_text())["dependencies"][PACKAGE]


def tests_cache() -> Path:
    """Where slow one-time setup (npm packages, Terraform providers) is kept across runs."""
    base = os.environ.get("KILN_TESTS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "kiln-tests")
    return Path(base)


def cache_dir() -> Path:
    return tests_cache() / "node"


def node_modules() -> tuple[Path | None, str]:
    """(node_modules folder holding the SDK, "") or (None, why not)."""
    if not shutil.which("node") or not shutil.which("npm"):
        return None, "node and npm are needed to test the JavaScript SDK v3 (not found on PATH)"
    folder = cache_dir()
    spec = wanted_range()
    stamp = folder / "installed-spec.txt"
    installed = folder / "node_modules" / PACKAGE / "package.json"
    if installed.exists() and stamp.exists() and stamp.read_text() == spec:
        return folder / "node_modules", ""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps(
        {"name": "kiln-tests-node", "private": True, "version": "0.0.0", "dependencies": {PACKAGE: spec}}, indent=2))
    try:
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder,
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return None, f"npm install {PACKAGE} took more than 10 minutes"
    if done.returncode != 0 or not installed.exists():
        return None, f"npm install {PACKAGE}@{spec} failed (is the npm registry reachable?):\n{done.stderr[-2000:]}"
    stamp.write_text(spec)
    return folder / "node_modules", ""


def stage_script(script: Path, workdir: Path, modules: Path) -> Path:
    """Copy a .mjs script into workdir beside a node_modules link, so its bare
    `import "@aws-sdk/..."` resolves (ES modules ignore NODE_PATH)."""
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "node_modules"
    if not link.exists():
        link.symlink_to(modules, target_is_directory=True)
    target = workdir / script.name
    shutil.copyfile(script, target)
    return target


# --- Terraform with the hashicorp/aws provider from a local mirror (no network) ---

AWS_PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"
_MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/terraform/plugins",
    "/opt/terraform-plugins",
)


def _provider_versions(mirror: Path) -> list[str]:
    """Versions of hashicorp/aws in a mirror, unpacked (aws/<v>/<os_arch>/) or packed
    (aws/terraform-provider-aws_<v>_<os>_<arch>.zip)."""
    folder = mirror / AWS_PROVIDER
    versions = set()
    for entry in folder.iterdir() if folder.is_dir() else ():
        if entry.is_dir() and entry.name[:1].isdigit():
            versions.add(entry.name)
        elif entry.name.startswith("terraform-provider-aws_") and entry.suffix == ".zip":
            versions.add(entry.name.split("_")[1])
    return sorted(versions)


def terraform_setup() -> tuple[str | None, Path | None, str]:
    """(terraform binary, provider mirror, "") or (None, None, why the tests skip)."""
    exe = os.environ.get("KILN_TERRAFORM") or shutil.which("terraform")
    if not exe:
        return None, None, "terraform is not installed (not on PATH; KILN_TERRAFORM may name it)"
    candidates = []
    if os.environ.get("KILN_TF_MIRROR"):
        candidates.append(os.environ["KILN_TF_MIRROR"])
    if os.environ.get("XDG_DATA_HOME"):
        candidates.append(os.path.join(os.environ["XDG_DATA_HOME"], "terraform", "plugins"))
    candidates.extend(_MIRROR_CANDIDATES)
    for candidate in candidates:
        mirror = Path(os.path.expanduser(candidate))
        if any(v.startswith("5.") for v in _provider_versions(mirror)):
            return exe, mirror, ""
    return None, None, ("no offline mirror of the hashicorp/aws 5.x provider was found (set KILN_TF_MIRROR to a "
                        "folder holding registry.terraform.io/hashicorp/aws/...; looked in " + ", ".join(candidates) + ")")


class Terraform:
    """terraform in one working folder, offline: the provider comes from the mirror
    (through a plugin cache kept across runs), no checkpoint calls, no prompts."""

    def __init__(self, exe: str, mirror: Path, workdir: Path, env: dict):
        self.exe = exe
        self.workdir = workdir
        rc = workdir.parent / f"{workdir.name}.tfrc"
        rc.write_text(
            "provider_installation {\n"
            f"  filesystem_mirror {{\n    path = {json.dumps(str(mirror))}\n  }}\n"
            "}\n"
        )
        plugin_cache = tests_cache() / "terraform-plugin-cache"
        plugin_cache.mkdir(parents=True, exist_ok=True)
        self.env = dict(env, TF_CLI_CONFIG_FILE=str(rc), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
                        TF_INPUT="0", TF_PLUGIN_CACHE_DIR=str(plugin_cache))

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        done = subprocess.run([self.exe, *args, "-no-color"], cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} exited {done.returncode}:\n{done.stdout[-6000:]}\n{done.stderr}")
        return done

    def outputs(self) -> dict:
        return {k: v["value"] for k, v in json.loads(self.run("output", "-json").stdout).items()}


def list_everything(client) -> dict[str, list]:
    """Every resource the account owns, by list call (empty lists mean kiln is empty)."""
    calls = {
        "components": ("list_component_build_versions", "componentSummaryList"),
        "image_recipes": ("list_image_recipes", "imageRecipeSummaryList"),
        "infrastructure_configurations": ("list_infrastructure_configurations", "infrastructureConfigurationSummaryList"),
        "distribution_configurations": ("list_distribution_configurations", "distributionConfigurationSummaryList"),
        "images": ("list_images", "imageVersionList"),
        "image_builds": ("list_image_build_versions", "imageSummaryList"),
        "workflows": ("list_workflows", "workflowVersionList"),
    }
    found = {}
    for label, (method, key) in calls.items():
        items = []
        for page in client.get_paginator(method).paginate():
            items.extend(i["arn"] for i in page[key])
        found[label] = items
    return found
