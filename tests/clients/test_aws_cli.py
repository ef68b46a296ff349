"""The AWS CLI (`aws imagebuilder ...`) against a running kiln: its own argument
handling (file:// documents, shorthand and JSON arguments, --query, --output)
on top of botocore's parsers, and its error reporting (exit code and stderr)."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from clients.support import EXAMPLES, REGION, aws_cli_command, client_env

CLI = aws_cli_command()
pytestmark = pytest.mark.skipif(CLI is None, reason="the AWS CLI is not installed (pip install awscli)")

PARENT = f"arn:aws:imagebuilder:{REGION}:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = f"arn:aws:imagebuilder:{REGION}:aws:component/update-linux/x.x.x"
SERVICE_ERROR_EXIT = (254, 255)  # v2 exits 254 on a service error; v1 exits 255


class Cli:
    def __init__(self, url: str, env: dict):
        self.url = url
        self.env = env

    def run(self, *args: str, output: str = "json") -> subprocess.CompletedProcess:
        cmd = [*CLI, "--endpoint-url", self.url, "--region", REGION, "--output", output, "imagebuilder", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=120)

    def __call__(self, *args: str, output: str = "json"):
        done = self.run(*args, output=output)
        assert done.returncode == 0, f"aws imagebuilder {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        if output == "json":
            return json.loads(done.stdout) if done.stdout.strip() else None
        return done.stdout

    def fails(self, *args: str) -> subprocess.CompletedProcess:
        done = self.run(*args)
        assert done.returncode in SERVICE_ERROR_EXIT, (done.returncode, done.stdout, done.stderr)
        assert done.stdout == ""
        return done


@pytest.fixture
def cli(server, tmp_path):
    return Cli(server.url, client_env(tmp_path))


def _build_flow(cli: Cli, tmp_path) -> dict:
    """component from file:// YAML -> recipe -> infrastructure -> distribution -> image."""
    component = cli("create-component", "--name", "cli-hello", "--semantic-version", "1.0.0", "--platform", "Linux",
                    "--description", "from the CLI", "--data", f"file://{EXAMPLES / 'hello-component.yaml'}",
                    "--tags", "team=kiln,sdk=cli")
    component_arn = component["componentBuildVersionArn"]
    components = json.dumps([
        {"componentArn": component_arn, "parameters": [{"name": "Greeting", "value": ["hi from the CLI"]}]},
        {"componentArn": UPDATE_LINUX},
    ])
    recipe_arn = cli("create-image-recipe", "--name", "cli-recipe", "--semantic-version", "1.0.0",
                     "--parent-image", PARENT, "--components", components,
                     "--block-device-mappings", "deviceName=/dev/xvda,ebs={volumeSize=16,volumeType=gp3}",
                     "--query", "imageRecipeArn", output="text").strip()
    infra_arn = cli("create-infrastructure-configuration", "--name", "cli-infra",
                    "--instance-profile-name", "EC2InstanceProfileForImageBuilder",
                    "--instance-types", "t3.micro", "t3.small", "--no-terminate-instance-on-failure",
                    "--instance-metadata-options", "httpTokens=required,httpPutResponseHopLimit=2",
                    )["infrastructureConfigurationArn"]
    distributions = tmp_path / "distributions.json"
    distributions.write_text(json.dumps([
        {"region": region, "amiDistributionConfiguration": {"name": "cli-{{ imagebuilder:buildDate }}",
                                                            "amiTags": {"from": "cli"}}}
        for region in ("us-east-1", "us-west-2")
    ]))
    dist_arn = cli("create-distribution-configuration", "--name", "cli-dist",
                   "--distributions", f"file://{distributions}")["distributionConfigurationArn"]
    image = cli("create-image", "--image-recipe-arn", recipe_arn, "--infrastructure-configuration-arn", infra_arn,
                "--distribution-configuration-arn", dist_arn, "--image-tests-configuration",
                "imageTestsEnabled=false", "--tags", "sdk=cli")
    return {"component": component, "recipe": recipe_arn, "infra": infra_arn, "dist": dist_arn, "image": image}


def test_main_flow(cli, tmp_path):
    made = _build_flow(cli, tmp_path)
    component = made["component"]
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:123456789012:component/cli-hello/1\.0\.0/1",
                        component["componentBuildVersionArn"])
    assert component["latestVersionReferences"]["latestVersionArn"].endswith("component/cli-hello/x.x.x")
    assert component["requestId"] and component["clientToken"]  # the CLI fills in the idempotency token

    # The document comes back byte for byte as the file had it.
    got = cli("get-component", "--component-build-version-arn", component["componentBuildVersionArn"])["component"]
    assert got["data"] == (EXAMPLES / "hello-component.yaml").read_text()
    assert got["parameters"] == [{"name": "Greeting", "type": "string", "defaultValue": ["hello from kiln"],
                                  "description": "What the build prints."}]
    assert got["tags"] == {"team": "kiln", "sdk": "cli"}
    assert got["type"] == "BUILD" and got["encrypted"] is True

    recipe = cli("get-image-recipe", "--image-recipe-arn", made["recipe"])["imageRecipe"]
    assert recipe["parentImage"] == PARENT
    assert recipe["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 16, "volumeType": "gp3"}}]
    assert recipe["components"][0]["parameters"] == [{"name": "Greeting", "value": ["hi from the CLI"]}]

    infra = cli("get-infrastructure-configuration", "--infrastructure-configuration-arn", made["infra"])
    infra = infra["infrastructureConfiguration"]
    assert infra["instanceTypes"] == ["t3.micro", "t3.small"]
    assert infra["terminateInstanceOnFailure"] is False
    assert infra["instanceMetadataOptions"] == {"httpTokens": "required", "httpPutResponseHopLimit": 2}

    image_arn = made["image"]["imageBuildVersionArn"]
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:123456789012:image/cli-recipe/1\.0\.0/1", image_arn)
    version_arn = image_arn.rsplit("/", 1)[0]
    wildcards = [version_arn.rsplit("/", 1)[0] + suffix for suffix in ("/x.x.x", "/1.x.x", "/1.0.x")]

    # get-image in every ARN form resolves to the one build.
    image = cli("get-image", "--image-build-version-arn", image_arn)
    assert image["image"]["state"]["status"] == "AVAILABLE"
    assert image["image"]["imageTestsConfiguration"]["imageTestsEnabled"] is False
    assert image["latestVersionReferences"]["latestPatchVersionArn"] == version_arn
    for arn in (version_arn, *wildcards):
        assert cli("get-image", "--image-build-version-arn", arn, "--query", "image.arn", output="text").strip() == image_arn
    managed = cli("get-image", "--image-build-version-arn", PARENT, "--query", "image.[arn,name,osVersion]")
    assert re.fullmatch(r"arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/\d+\.\d+\.\d+/\d+", managed[0])
    assert managed[1:] == ["Amazon Linux 2023 x86", "Amazon Linux 2023"]

    # The image records what the x.x.x references resolved to when it was built.
    embedded = image["image"]["imageRecipe"]
    assert embedded["parentImage"] == managed[0]
    assert re.fullmatch(r".*:aws:component/update-linux/\d+\.\d+\.\d+/\d+", embedded["components"][1]["componentArn"])

    regions = cli("get-image", "--image-build-version-arn", image_arn,
                  "--query", "image.outputResources.amis[].region")
    assert sorted(regions) == ["us-east-1", "us-west-2"]

    # Lists, through --query.
    assert cli("list-images", "--query", "imageVersionList[].arn") == [version_arn]
    assert cli("list-images", "--query", "imageVersionList[?name=='cli-recipe'].version") == ["1.0.0"]
    assert cli("list-image-build-versions", "--image-version-arn", version_arn,
               "--query", "imageSummaryList[].[arn,state.status]") == [[image_arn, "AVAILABLE"]]
    assert cli("list-components", "--query", "componentVersionList[].name") == ["cli-hello"]
    amazon = cli("list-components", "--owner", "Amazon", "--filters", "name=name,values=update-linux",
                 "--query", "componentVersionList[].arn")
    assert amazon and all("/update-linux/" in a for a in amazon)
    assert cli("list-distribution-configurations",
               "--query", "distributionConfigurationSummaryList[0].regions") == ["us-east-1", "us-west-2"]

    # Text and table output go through the same parsed response.
    text = cli("list-image-build-versions", "--image-version-arn", version_arn,
               "--query", "imageSummaryList[].[arn,state.status]", output="text")
    assert text.split() == [image_arn, "AVAILABLE"]
    table = cli("get-image", "--image-build-version-arn", image_arn,
                "--query", "image.{name: name, version: version, status: state.status}", output="table")
    assert "cli-recipe" in table and "1.0.0/1" in table and "AVAILABLE" in table and "GetImage" in table

    # Tags through /tags/{resourceArn} (the ARN as one path label).
    cli("tag-resource", "--resource-arn", image_arn, "--tags", "stage=test")
    cli("untag-resource", "--resource-arn", image_arn, "--tag-keys", "sdk")
    assert cli("list-tags-for-resource", "--resource-arn", image_arn) == {"tags": {"stage": "test"}}

    # Cleanup in dependency order leaves nothing behind.
    cli("delete-image", "--image-build-version-arn", image_arn)
    cli("delete-image-recipe", "--image-recipe-arn", made["recipe"])
    cli("delete-component", "--component-build-version-arn", component["componentBuildVersionArn"])
    cli("delete-infrastructure-configuration", "--infrastructure-configuration-arn", made["infra"])
    cli("delete-distribution-configuration", "--distribution-configuration-arn", made["dist"])
    for op, key in (("list-images", "imageVersionList"), ("list-components", "componentVersionList"),
                    ("list-image-recipes", "imageRecipeSummaryList"),
                    ("list-infrastructure-configurations", "infrastructureConfigurationSummaryList"),
                    ("list-distribution-configurations", "distributionConfigurationSummaryList")):
        assert cli(op)[key] == [], op


def test_errors(cli, tmp_path):
    made = _build_flow(cli, tmp_path)
    image_arn = made["image"]["imageBuildVersionArn"]
    missing = image_arn.replace("cli-recipe", "cli-missing")

    done = cli.fails("get-image", "--image-build-version-arn", missing)
    assert "An error occurred (ResourceNotFoundException) when calling the GetImage operation" in done.stderr
    assert f"The following resource 'Image' cannot be found: '{missing}'." in done.stderr

    done = cli.fails("get-image", "--image-build-version-arn", missing.rsplit("/", 2)[0] + "/x.x.x")
    assert "(ResourceNotFoundException)" in done.stderr

    done = cli.fails("create-image-recipe", "--name", "cli-recipe", "--semantic-version", "1.0.0",
                     "--parent-image", PARENT, "--components", f"componentArn={UPDATE_LINUX}")
    assert "(ResourceAlreadyExistsException) when calling the CreateImageRecipe operation" in done.stderr
    assert "The following resource 'ImageRecipe' already exists" in done.stderr

    done = cli.fails("create-component", "--name", "cli-hello", "--semantic-version", "1.0.0", "--platform", "Linux",
                     "--description", "from the CLI", "--data", f"file://{EXAMPLES / 'hello-component.yaml'}",
                     "--tags", "team=kiln,sdk=cli")
    assert "(ResourceAlreadyExistsException)" in done.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: bad step\n"
                   "        action: ExecuteBash\n        inputs:\n          commands: [echo]\n")
    done = cli.fails("create-component", "--name", "cli-bad", "--semantic-version", "1.0.0", "--platform", "Linux",
                     "--data", f"file://{bad}")
    assert "(InvalidParameterValueException)" in done.stderr
    assert "The value supplied for parameter 'data' is not valid." in done.stderr

    done = cli.fails("get-image", "--image-build-version-arn", image_arn.rsplit("/", 2)[0] + "/x.1.x")
    assert "(InvalidParameterValueException)" in done.stderr

    done = cli.fails("delete-component", "--component-build-version-arn",
                     made["component"]["componentBuildVersionArn"])
    assert "(ResourceDependencyException)" in done.stderr
    assert "has other resources depended on it" in done.stderr

    done = cli.fails("list-images", "--no-paginate", "--next-token", "bogus")
    assert "(InvalidPaginationTokenException)" in done.stderr

    done = cli.fails("cancel-image-creation", "--image-build-version-arn", image_arn)
    assert "(InvalidParameterValueException)" in done.stderr

    done = cli.fails("create-distribution-configuration", "--name", "cli-no-outputs",
                     "--distributions", "region=us-east-1")
    assert "One or more outputs should be provided for each region" in done.stderr


def test_failed_build(server, cli, tmp_path):
    """A build kiln was told to fail shows FAILED with the reason, and version ARNs
    keep resolving to the newest AVAILABLE build."""
    made = _build_flow(cli, tmp_path)

    server.control.fail_next_build("BUILDING", "SSM execution failed with status = 'TimedOut'")
    failed = cli("create-image", "--image-recipe-arn", made["recipe"],
                 "--infrastructure-configuration-arn", made["infra"])["imageBuildVersionArn"]
    assert failed.endswith("/cli-recipe/1.0.0/2")
    state = cli("get-image", "--image-build-version-arn", failed, "--query", "image.state")
    # Where it failed, when this CLI's botocore knows the member (older ones drop it).
    assert state.pop("failureContext", {"failedStep": "ApplyBuildComponents"})["failedStep"] == "ApplyBuildComponents"
    assert state == {"status": "FAILED", "reason": "SSM execution failed with status = 'TimedOut'"}
    # A version ARN resolves only to AVAILABLE builds: still build 1.
    version_arn = failed.rsplit("/", 1)[0]
    assert cli("get-image", "--image-build-version-arn", version_arn, "--query", "image.arn",
               output="text").strip() == made["image"]["imageBuildVersionArn"]


def test_pagination(cli):
    """The CLI follows nextToken itself (--page-size), and hands out its own resumable
    NextToken with --max-items (botocore keeps kiln's token inside it)."""
    full = cli("list-components", "--owner", "Amazon", "--query", "componentVersionList[].arn")
    assert len(full) > 10 and len(set(full)) == len(full)
    assert cli("list-components", "--owner", "Amazon", "--page-size", "4",
               "--query", "componentVersionList[].arn") == full
    collected, token = [], None
    while True:
        args = ["list-components", "--owner", "Amazon", "--page-size", "4", "--max-items", "15"]
        if token:
            args += ["--starting-token", token]
        page = cli(*args)
        collected += [c["arn"] for c in page["componentVersionList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert collected == full
