"""The hashicorp/aws provider's own acceptance-test configurations for Image Builder,
replayed against kiln.

tests/clients/terraform_acceptance/modules/ holds one folder per acceptance-test config
(`<name>`, and `<name>__stepN` for the config of a later step of the same acceptance test),
each headed by its source: file, function, arguments and commit in hashicorp/terraform-provider-aws
(sources.json lists the same). Everything that is not Image Builder (IAM, VPC, KMS, S3, ...)
is replaced by literal values; every aws_imagebuilder_* argument is as the test sets it.

To stay fast, all configs are modules of ONE root, run once (one provider install, one
provider process per command) against `kiln serve --in-memory --build-timing immediate`:

  step 1   apply every config's first step
  import   `terraform state rm` a few resources, then import them back by ARN (import blocks)
  plan     `terraform plan`: every resource must be a no-op (every field read back as written,
           imported ones included)
  step 2   switch configs with a second step to it (in-place updates and replacements, as
           the acceptance tests do), apply, plan again: no-ops only
  destroy  and kiln must be empty afterwards

Each outcome is attributed to its config (by module address), so a config kiln gets wrong
fails its own test id and nothing else. Configs kiln gets wrong today are marked
xfail(strict=True) with the reason: they start failing once kiln is fixed, so the mark comes off.

Left out, with why: testAccComponentConfig_uri / testAccWorkflowConfig_uri /
testAccContainerRecipeConfig_dockerfileTemplateURI (the document lives in S3, which kiln cannot
read offline), testAccImagePipelineConfig_loggingConfiguration* (logging_configuration is not in
provider 5.100.0), and the third step of TestAccImageBuilderLifecyclePolicy_tags (the replay has two).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import boto3
import pytest

from clients.support import HERE, Terraform, client_env, list_everything, terraform_setup
from support.server import KilnServer

EXE, MIRROR, WHY = terraform_setup()
pytestmark = pytest.mark.skipif(EXE is None, reason=WHY or "terraform unavailable")

DATA = HERE / "terraform_acceptance"
MODULES = DATA / "modules"
SOURCES: dict[str, list[dict]] = json.loads((DATA / "sources.json").read_text())
PARALLELISM = "-parallelism=16"

# Resources removed from state after step 1 and imported back by ARN (like the acceptance
# tests' ImportState/ImportStateVerify steps); the plan that follows must be a no-op for them.
IMPORTS = {
    "component_name": "aws_imagebuilder_component.test",
    "component_supported_os_versions": "aws_imagebuilder_component.test",
    "recipe_name": "aws_imagebuilder_image_recipe.test",
    "recipe_component_parameter": "aws_imagebuilder_image_recipe.test",
    "infra_instance_metadata_options": "aws_imagebuilder_infrastructure_configuration.test",
    "ds_distribution_configuration": "aws_imagebuilder_distribution_configuration.test",
    "workflow_name": "aws_imagebuilder_workflow.test",
    "image_tests_timeout_minutes": "aws_imagebuilder_image.test",
    "pipeline_name": "aws_imagebuilder_image_pipeline.test",
    "pipeline_schedule_timezone": "aws_imagebuilder_image_pipeline.test",
    "pipeline_workflow_parameter": "aws_imagebuilder_image_pipeline.test",
    "lifecycle_policy_details": "aws_imagebuilder_lifecycle_policy.test",
    "lifecycle_resource_selection": "aws_imagebuilder_lifecycle_policy.test",
    "cr_name": "aws_imagebuilder_container_recipe.test",
    "cr_component_parameter": "aws_imagebuilder_container_recipe.test",
    "pipeline_container_recipe_arn": "aws_imagebuilder_image_pipeline.test",
}

# Configurations kiln cannot yet run as AWS does (each an expected failure with its reason;
# strict, so a fix makes the test fail until the entry goes). None today. The last ones were
# changeDescription and workingDirectory, which kiln filled in and AWS does not: the acceptance
# tests, run against AWS, expect an empty plan (TestAccImageBuilderComponent_basic and
# ..._Workflow_basic check change_description == ""), and in provider 5.100.0 both attributes
# are optional and replace-on-change, so a value read back where the config has none would
# replace the resource on every plan.
KNOWN_FAILURES: dict[str, str] = {
    # TestAccImageBuilderContainerRecipe_wildcardVersion: version "1.x.0", state expected "1.0.0".
    "cr_wildcard_version": (
        "kiln refuses CreateContainerRecipe semanticVersion '1.x.0' (InvalidParameterValueException: "
        "'not a valid wildcard version ... every node to its right must also be a wildcard'); since "
        "AWS's November 2025 auto-versioning release a recipe version may hold a single x in any node "
        "(hashicorp/terraform-provider-aws issue #45285 shows version = \"1.x.0\"). Provider 5.100.0 "
        "predates that support too, so it would plan 1.0.0 -> 1.x.0 even once kiln accepts it."),
}
KNOWN_IMPORT_FAILURES: dict[str, str] = {}

# Configurations that fail against AWS itself, with the phase and the error AWS answers: kiln
# must fail them the same way (and nothing else may go wrong with them).
# recipe_pipeline_dependency: the second step changes the recipe's components, which replaces
# the recipe (same name and version, so the same ARN) while the pipeline still uses it; since
# provider 5.74.0 the pipeline is updated in place rather than replaced, so Terraform deletes
# the recipe first and the service refuses (hashicorp/terraform-provider-aws issues #39985,
# #40037, #40128; TestAccImageBuilderImageRecipe_pipelineUpdateDependency fails so against AWS
# in the acceptance run of pull request #44731).
FAILS_AS_ON_AWS: dict[str, tuple[str, str]] = {
    "recipe_pipeline_dependency": (
        "[step 2 apply] deleting Image Builder Image Recipe",
        "ResourceDependencyException: Resource dependency error: The resource ARN "
        "'arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/tf-acc-recipe-pipeline-dependency/1.0.0' "
        "has other resources depended on it"),
}

PROVIDER = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "kiln_url" {
  type = string
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "123456789012"
  secret_key                  = "x"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    imagebuilder = var.kiln_url
  }
}
"""


# Data-source configs carry an output "mismatches": the acceptance test's attribute-pair
# checks between the data source and the resource it reads (empty when all agree).
CHECKED = sorted(n for n in SOURCES if 'output "mismatches"' in (MODULES / n / "main.tf").read_text())


def _root(step: int) -> str:
    """The root module: every config as a module, at its `step`-th step (or its last one)."""
    blocks = []
    for name, steps in SOURCES.items():
        folder = steps[min(step, len(steps)) - 1]["dir"]
        blocks.append(f'module "{name}" {{\n  source = "./modules/{folder}"\n}}\n')
    checks = "".join(f"    {n} = module.{n}.mismatches\n" for n in CHECKED)
    blocks.append(f'output "mismatches" {{\n  value = {{\n{checks}  }}\n}}\n')
    return PROVIDER + "\n" + "\n".join(blocks)


BY_RNAME = {"tf-acc-" + name.replace("_", "-"): name for name in SOURCES}


def _config_of(address: str | None, filename: str | None = None, message: str = "") -> str:
    """The config (module name) a resource address, a file of it, or a message naming
    one of its resources (every config names its resources rName = tf-acc-<config>) belongs to."""
    if address and address.startswith("module."):
        return address.split(".")[1]
    if filename and filename.startswith("modules/"):
        return filename.split("/")[1].split("__")[0]
    for rname in re.findall(r"tf-acc-[a-z0-9-]+[a-z0-9]", message):
        for candidate in (rname, rname.rsplit("-", 1)[0]):   # "<rName>-2" names too
            if candidate in BY_RNAME:
                return BY_RNAME[candidate]
    return "*"


def _diagnostics(stdout: str) -> list[tuple[str, str]]:
    """(config, message) for every error diagnostic in `terraform ... -json` output."""
    found = []
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        diag = event.get("diagnostic") if event.get("type") == "diagnostic" else None
        if not diag or diag.get("severity") != "error":
            continue
        message = f"{diag.get('summary', '')}: {diag.get('detail', '')}".strip(": ")
        found.append((_config_of(diag.get("address"), (diag.get("range") or {}).get("filename"), message), message))
    return found


def _differences(before, after, unknown=None, path: str = "") -> list[str]:
    """Attribute paths whose planned value is known and differs, with both values."""
    if unknown is True:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        unknown = unknown if isinstance(unknown, dict) else {}
        out = []
        for key in sorted(set(before) | set(after)):
            out += _differences(before.get(key), after.get(key), unknown.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        unknown = unknown if isinstance(unknown, list) else [None] * len(after)
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out += _differences(b, a, unknown[i] if i < len(unknown) else None, f"{path}[{i}]")
        return out
    if before != after:
        return [f"{path}: {json.dumps(before)} -> {json.dumps(after)}"]
    return []


def _normal(value):
    """A value as the acceptance tests' flatmap checks see it: null and empty are the same."""
    if isinstance(value, dict):
        value = {k: _normal(v) for k, v in value.items()}
        value = {k: v for k, v in value.items() if v is not None}
    elif isinstance(value, list):
        value = [_normal(v) for v in value]
    return value if value not in ({}, [], "") else None


# After an import the provider plans skip_destroy null -> false (a Terraform-only argument,
# nothing kiln returns; the acceptance tests' ImportStateVerifyIgnore lists it). Not kiln's doing.
IMPORT_ONLY = {"skip_destroy: null -> false"}


class Replay:
    """Runs every phase once and files each problem under its config."""

    def __init__(self, tf: Terraform, server: KilnServer):
        self.tf = tf
        self.server = server
        self.problems: dict[str, list[str]] = {name: [] for name in SOURCES}
        self.import_problems: dict[str, list[str]] = {name: [] for name in IMPORTS}
        self.general: list[str] = []
        self.timings: dict[str, float] = {}

    def note(self, config: str, phase: str, message: str, imported: bool = False) -> None:
        if config not in self.problems:
            self.general.append(f"[{phase}] {message}")
        elif imported:
            self.import_problems[config].append(f"[{phase}] {message}")
        else:
            self.problems[config].append(f"[{phase}] {message}")

    def timed(self, label: str, *args: str):
        start = time.monotonic()
        done = self.tf.run(*args, check=False)
        self.timings[label] = round(time.monotonic() - start, 1)
        return done

    def command(self, phase: str, *args: str):
        done = self.timed(phase, *args, "-json")
        for config, message in _diagnostics(done.stdout):
            self.note(config, phase, message)
        if done.returncode != 0 and not _diagnostics(done.stdout):
            self.general.append(f"[{phase}] terraform exited {done.returncode}: {done.stdout[-3000:]}{done.stderr[-3000:]}")
        return done

    def check_outputs(self, phase: str) -> None:
        done = self.tf.run("output", "-json", "mismatches", check=False)
        if done.returncode != 0:
            self.general.append(f"[{phase}] terraform output: {done.stderr[-2000:]}")
            return
        for config, mismatches in (json.loads(done.stdout) or {}).items():
            if isinstance(mismatches, dict):   # {data_source, resource}: compare what they share
                ds, res = mismatches["data_source"], mismatches["resource"]
                mismatches = [f"{k}: data source {json.dumps(ds[k])}, resource {json.dumps(res[k])}"
                              for k in sorted(set(ds) & set(res) - {"id"}) if _normal(ds[k]) != _normal(res[k])]
            if mismatches:
                self.note(config, phase, f"data source and resource disagree: {mismatches}")

    def plan(self, phase: str, imported: set[str] = frozenset()) -> None:
        """A plan must be all no-ops: anything else is a field kiln did not read back as written."""
        planfile = f"{phase}.tfplan"
        self.command(phase, "plan", "-input=false", PARALLELISM, f"-out={planfile}")
        if not (self.tf.workdir / planfile).exists():
            return
        shown = json.loads(self.tf.run("show", "-json", planfile).stdout)
        for change in shown.get("resource_changes", []):
            actions = change["change"]["actions"]
            if actions in (["no-op"], ["read"]):
                continue
            address = change["address"]
            config = _config_of(address)
            planned = change["change"]
            if actions == ["create"]:
                self.note(config, phase, f"{address} would be created (it is gone)", imported=config in imported)
                continue
            diff = _differences(planned.get("before"), planned.get("after"), planned.get("after_unknown"))
            if planned.get("replace_paths"):   # a replacement: what forces it is what matters
                forcing = {str(p[0]) for p in planned["replace_paths"]}
                diff = [d for d in diff if d.split(":")[0].split(".")[0].split("[")[0] in forcing]
            if actions == ["update"] and config in imported and set(diff) <= IMPORT_ONLY:
                continue
            message = f"{address} would be {'/'.join(actions)}"
            if planned.get("replace_paths"):
                message += f" (replacement forced by {planned['replace_paths']})"
            if diff:
                message += ": " + "; ".join(diff[:12])
            self.note(config, phase, message, imported=config in imported)
        (self.tf.workdir / planfile).unlink()

    def run(self) -> "Replay":
        tf = self.tf
        (tf.workdir / "main.tf").write_text(_root(1))
        done = self.timed("init", "init", "-input=false")
        if done.returncode != 0:
            raise AssertionError(f"terraform init failed:\n{done.stdout[-3000:]}\n{done.stderr}")
        self.command("step 1 apply", "apply", "-auto-approve", "-input=false", PARALLELISM)
        self.check_outputs("step 1 data sources")

        # Import a few resources back by ARN: state rm, then import blocks.
        state = json.loads(tf.run("show", "-json").stdout)
        arns = {}
        for module in state.get("values", {}).get("root_module", {}).get("child_modules", []):
            for res in module.get("resources", []):
                config = _config_of(res["address"])
                if IMPORTS.get(config) and res["address"] == f"module.{config}.{IMPORTS[config]}":
                    arns[config] = res["values"]["arn"]
        for config in IMPORTS:
            if config not in arns:
                self.import_problems[config].append("[import] the resource was not created in step 1")
        if arns:
            tf.run("state", "rm", *(f"module.{c}.{IMPORTS[c]}" for c in arns))
            (tf.workdir / "imports.tf").write_text("".join(
                f'import {{\n  to = module.{c}.{IMPORTS[c]}\n  id = "{arn}"\n}}\n\n' for c, arn in arns.items()))
        self.plan("step 1 plan", imported=set(arns))

        # Step 2: the acceptance tests' second configs (updates in place, or replacements).
        # This apply also takes the imports into state (the import blocks stay for it).
        (tf.workdir / "main.tf").write_text(_root(2))
        tf.run("get")
        self.command("step 2 apply", "apply", "-auto-approve", "-input=false", PARALLELISM)
        self.check_outputs("step 2 data sources")
        (tf.workdir / "imports.tf").unlink(missing_ok=True)
        self.plan("step 2 plan")

        # The state is fresh from the plan's refresh: destroy needs no second one.
        self.command("destroy", "destroy", "-auto-approve", "-input=false", "-refresh=false", PARALLELISM)
        client = self.server_client()
        left = {k: v for k, v in list_everything(client).items() if v}
        for label, method, key in (("image_pipelines", "list_image_pipelines", "imagePipelineList"),
                                   ("container_recipes", "list_container_recipes", "containerRecipeSummaryList")):
            arns = [r["arn"] for page in client.get_paginator(method).paginate() for r in page[key]]
            if arns:
                left[label] = arns
        if left:
            self.general.append(f"[destroy] kiln still holds {left}")
        return self

    def server_client(self):
        return boto3.client("imagebuilder", region_name="us-east-1", endpoint_url=self.server.url,
                            aws_access_key_id="123456789012", aws_secret_access_key="x")


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tf-acceptance")
    workdir = tmp / "root"
    workdir.mkdir()
    shutil.copytree(MODULES, workdir / "modules")
    server = KilnServer("--in-memory", "--build-timing", "immediate").start()
    try:
        tf = Terraform(EXE, MIRROR, workdir, client_env(tmp))
        tf.env["TF_VAR_kiln_url"] = server.url
        start = time.monotonic()
        result = Replay(tf, server).run()
        result.timings["total"] = round(time.monotonic() - start, 1)
        print(f"\nterraform acceptance replay timings (s): {result.timings}")
        if os.environ.get("KILN_TF_ACCEPTANCE_REPORT"):   # a JSON dump of every problem, for triage
            Path(os.environ["KILN_TF_ACCEPTANCE_REPORT"]).write_text(json.dumps(
                {"general": result.general, "problems": result.problems, "imports": result.import_problems,
                 "timings": result.timings}, indent=1))
        yield result
    finally:
        server.stop()


def _params(names, known):
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=known[n])) if n in known else n
            for n in names]


def test_replay_ran_cleanly(replay):
    """Problems not attributable to one config (provider start-up, leftovers after destroy)."""
    assert not replay.general, "\n".join(replay.general)


def test_destroy_left_no_lifecycle_policy(replay):
    """After destroy kiln holds no lifecycle policy (list_everything does not list them)."""
    left = [p["arn"] for page in replay.server_client().get_paginator("list_lifecycle_policies").paginate()
            for p in page["lifecyclePolicySummaryList"]]
    assert not left, f"[destroy] kiln still holds lifecycle policies {left}"


@pytest.mark.parametrize("config", _params(SOURCES, KNOWN_FAILURES))
def test_acceptance_config(replay, config):
    """Applies, reads back exactly as written (empty plan), updates, and destroys."""
    steps = SOURCES[config]
    source = "; ".join(f"{s['file']} {s['function']}({s['args']}) @ {s['commit'][:10]}" for s in steps)
    problems = replay.problems[config]
    if config in FAILS_AS_ON_AWS:   # AWS's own failure, and only what follows from it (step 2)
        start, error = FAILS_AS_ON_AWS[config]
        assert any(p.startswith(start) and error in p for p in problems), f"{config} ({source}): " + (
            f"expected AWS's failure '{start} ... {error}', got:\n" + "\n".join(problems))
        problems = [p for p in problems if not p.startswith(("[step 2 apply]", "[step 2 plan]"))]
    assert not problems, f"{config} ({source}):\n" + "\n".join(problems)


@pytest.mark.parametrize("config", _params(IMPORTS, KNOWN_IMPORT_FAILURES))
def test_import_by_arn(replay, config):
    """Imported by ARN, the resource plans as a no-op against its config."""
    assert not replay.import_problems[config], "\n".join(replay.import_problems[config])


def test_sources_recorded():
    """Every module folder is listed with its source, and every listed folder exists."""
    folders = {p.name for p in MODULES.iterdir() if p.is_dir()}
    listed = {s["dir"] for steps in SOURCES.values() for s in steps}
    assert folders == listed
    for steps in SOURCES.values():
        for s in steps:
            text = (MODULES / s["dir"] / "main.tf").read_text()
            assert s["commit"] in text and s["function"] in text
