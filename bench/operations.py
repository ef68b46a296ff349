"""Every operation benchmarked: calls/s of each kiln operation against a comparable moto
operation, over raw HTTP and through boto3, one run, one client thread.

Servers, all started at once and left running for the whole run:
  - `kiln serve --build-timing immediate` (bench/_common.py: kiln_server), pinned to core 0;
  - moto's server (`moto_server -p PORT`), pinned to core 0;
  - the floor (bench/floor_app.py: kiln's server stack answering one fixed body), pinned to
    core 0, for reads: it is restarted for each read operation with the body kiln answered
    that operation with, so HTTP moves the same bytes.
The client (this process) runs on core 1.

Each operation is called two ways on each side:
  - raw HTTP: http.client, one keep-alive connection per server, the request exactly as
    botocore serializes it (its own serializer, from the service model), built before the
    clock starts, so only the server and the socket are timed (moto's server closes the
    connection after each response: that reconnect is moto's cost and is counted);
  - boto3: one client per server and service, endpoint_url, dummy credentials, us-east-1,
    no retries (signing, serializing, parsing: the same botocore work on both sides).
Turns, as in boto3_e2e.py: --cycles times, --chunk calls to each of kiln-http, kiln-boto3,
moto-http, moto-boto3 (and floor-http for reads), in a new random order each cycle, so a
slow spell of the machine falls on every side alike. Ratios are calls/s over the time
spent calling each side; their spread is taken per cycle.

Comparable moto operations: those the issue names (GetImage ~ Lambda GetFunction,
GetComponent ~ SSM GetParameter, ListComponents owner=Amazon and ListImages of 25 ~
Lambda ListFunctions of 25, TagResource ~ Lambda TagResource, CreateImage ~ Lambda
CreateFunction, CreateComponent ~ SSM PutParameter), and for the rest (see the table):
  other Get*                          ~ SSM GetParameter
  Get*Policy                          ~ Lambda GetPolicy (a resource policy document)
  every other List* (25 items or what the resource has) ~ Lambda ListFunctions of 25
                                        (rest-json like Image Builder; moto pages nothing)
  ListTagsForResource / UntagResource ~ Lambda ListTags / UntagResource
  other Create*, Import*              ~ SSM PutParameter of a new parameter
  CreateImagePipeline, DistributeImage, StartImagePipelineExecution ~ Lambda CreateFunction
  Update*, state changes (Cancel*, RetryImage, SendWorkflowStepAction,
  StartResourceStateUpdate)           ~ Lambda UpdateFunctionConfiguration (one resource changed in place)
  Put*Policy                          ~ SSM PutParameter Overwrite=True (one document replaced)
  Delete*                             ~ SSM DeleteParameter (DeleteImage ~ Lambda DeleteFunction)
Writes that create take a fresh name or semantic version per call (1.0.N); deletes and
state changes take one resource each from a pool made before the clock starts, on both
sides. Lambda functions made by a comparable are deleted after the operation, so
ListFunctions always lists the same 25.

Targets (printed beside the figures, judged, not asserted: the script exits 0):
  CreateComponent, CreateImageRecipe, CreateImage, CreateImagePipeline, TagResource:
      kiln/moto >= 3 over HTTP and >= 1.5 through boto3;
  List*: kiln/moto >= 10 over HTTP;
  reads (Get*, List*): kiln/floor over HTTP reported.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import io
import itertools
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
import zipfile
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402

WRITE_TARGETS = {"CreateComponent", "CreateImageRecipe", "CreateImage", "CreateImagePipeline", "TagResource"}
WRITE_HTTP, WRITE_BOTO3, LIST_HTTP = 3.0, 1.5, 10.0
FLOOR_WARMUP = 200
ITEMS = 25  # what every list answers (maxResults) and how many Lambda functions ListFunctions lists

RUN = uuid.uuid4().hex[:6]  # in every name, so a reused --data-dir never collides with an earlier run
ROLE = f"arn:aws:iam::{c.ACCOUNT}:role/ImageBuilderRole"
AL2023 = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"
AGENT = "arn:aws:imagebuilder:us-east-1:aws-marketplace:component/sample-monitoring-agent-prod-kilnsample0agt/x.x.x"
COMPONENT = ("name: x\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: s\n"
             "        action: ExecuteBash\n        inputs:\n          commands: ['echo hi']\n")
WORKFLOW = """\
name: bench-build
schemaVersion: 1.0
steps:
  - name: LaunchBuildInstance
    action: LaunchInstance
    onFailure: Abort
    inputs:
      waitFor: "ssmAgent"
  - name: ApplyBuildComponents
    action: ExecuteComponents
    onFailure: Abort
    inputs:
      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"
  - name: CreateOutputAMI
    action: CreateImage
    onFailure: Abort
    inputs:
      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"
  - name: TerminateBuildInstance
    action: TerminateInstance
    onFailure: Continue
    inputs:
      instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"
"""
# A build with this workflow waits (BUILDING) until SendWorkflowStepAction or CancelImageCreation.
WAIT_WORKFLOW = WORKFLOW.replace("  - name: ApplyBuildComponents", """\
  - name: WaitForApproval
    action: WaitForAction
    onFailure: Abort
    timeoutSeconds: 43200
  - name: ApplyBuildComponents""", 1)
DOCKERFILE = "FROM {{{ imagebuilder:parentImage }}}\n{{{ imagebuilder:environments }}}\n{{{ imagebuilder:components }}}\n"
LIFECYCLE = {"executionRole": ROLE, "resourceType": "AMI_IMAGE",
             "policyDetails": [{"action": {"type": "DELETE"}, "filter": {"type": "AGE", "value": 6, "unit": "MONTHS"}}],
             "resourceSelection": {"tagMap": {"Environment": "test"}}}
POLICY_ACTIONS = {"component": ["imagebuilder:GetComponent", "imagebuilder:ListComponents"],
                  "image": ["imagebuilder:GetImage", "imagebuilder:ListImages"],
                  "image-recipe": ["imagebuilder:GetImageRecipe", "imagebuilder:ListImageRecipes"],
                  "container-recipe": ["imagebuilder:GetContainerRecipe", "imagebuilder:ListContainerRecipes"]}


def nm(s: str) -> str:
    return f"b{RUN}-{s}"


def policy(arn: str, kind: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ["210987654321"]}, "Action": POLICY_ACTIONS[kind], "Resource": [arn]}]})


def distributions(name: str) -> list:
    return [{"region": c.REGION, "amiDistributionConfiguration": {"name": f"{name} {{{{ imagebuilder:buildDate }}}}"}}]


# --------------------------------------------------------------------- clients
class CallError(Exception):
    pass


def boto3_client(service: str, port: int):
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id=c.ACCOUNT, aws_secret_access_key="kiln", region_name=c.REGION,
    ).client(service, endpoint_url=f"http://127.0.0.1:{port}",
             config=Config(retries={"max_attempts": 0}, max_pool_connections=1))


class RawSide:
    """One operation over raw HTTP: requests serialized by botocore's own serializer for the
    service's protocol (rest-json, json), sent on one keep-alive http.client connection."""

    def __init__(self, port: int, client, op: str, params, counter):
        from botocore import serialize

        model = client.meta.service_model
        self.port, self.op_name, self.params, self.counter = port, op, params, counter
        self.op = model.operation_model(op)
        self.serializer = serialize.create_serializer(model.resolved_protocol, include_validation=False)
        self.token = next((n for n, m in (self.op.input_shape.members.items() if self.op.input_shape else ())
                           if m.metadata.get("idempotencyToken")), None)
        self.auth = {**c.RAW_HEADERS, "Authorization": c.AUTH.replace("/imagebuilder/", f"/{model.signing_name}/")}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def prepare(self, n: int) -> list:
        from botocore.awsrequest import prepare_request_dict

        out = []
        for _ in range(n):
            p = dict(self.params(next(self.counter)))
            if self.token and self.token not in p:
                p[self.token] = str(uuid.uuid4())
            req = self.serializer.serialize_to_request(p, self.op)
            prepare_request_dict(req, endpoint_url=f"http://127.0.0.1:{self.port}")
            url = urlsplit(req["url"])
            body = req["body"]
            if isinstance(body, str):
                body = body.encode()
            out.append((req["method"], url.path + ("?" + url.query if url.query else ""), body or None,
                        {**self.auth, **req["headers"]}))
        return out

    def send(self, method, path, body, headers):
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # uvicorn closes a connection idle for 5 s: reconnect once
                if attempt == 2:
                    raise

    def run(self, reqs: list) -> None:
        conn = self.conn
        for method, path, body, headers in reqs:
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                status, data = r.status, r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                status, data = self.send(method, path, body, headers)
            if status >= 300:
                raise CallError(f"{self.op_name} over HTTP -> {status} {data[:400]!r}\n"
                                f"    request: {method} {path} {(body or b'')[:400]!r}")

    def close(self):
        self.conn.close()


class BotoSide:
    def __init__(self, client, op: str, params, counter):
        from botocore import xform_name

        self.op_name, self.params, self.counter = op, params, counter
        self.fn = getattr(client, xform_name(op))

    def prepare(self, n: int) -> list:
        return [self.params(next(self.counter)) for _ in range(n)]

    def run(self, calls: list) -> None:
        fn = self.fn
        for p in calls:
            try:
                fn(**p)
            except Exception as e:  # botocore's ClientError and friends
                raise CallError(f"{self.op_name} through boto3 -> {e}\n    params: {str(p)[:400]}") from e

    def close(self):
        pass


# --------------------------------------------------------------------- the store each side lists and reads
class Env:
    """Servers, clients and the resources every operation reads, made once."""

    def __init__(self, kiln_port: int, moto_port: int):
        self.kiln_port, self.moto_port = kiln_port, moto_port
        self.ib = boto3_client("imagebuilder", kiln_port)
        self.lam = boto3_client("lambda", moto_port)
        self.ssm = boto3_client("ssm", moto_port)
        self.iam = boto3_client("iam", moto_port)
        self.moto = {"lambda": self.lam, "ssm": self.ssm}
        self.k: dict = {}
        self.m: dict = {}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("handler.py", "def handler(event, context):\n    return event\n")
        self.zip = buf.getvalue()

    # -- kiln
    def image(self, recipe=None, **kw) -> str:
        return self.ib.create_image(imageRecipeArn=recipe or self.k["recipes"][0],
                                    infrastructureConfigurationArn=self.k["infras"][0],
                                    distributionConfigurationArn=self.k["dists"][0], **kw)["imageBuildVersionArn"]

    def image_pool(self, n: int, **kw) -> list[str]:
        """n builds of a recipe made for them alone, so what an operation on them costs does not
        depend on how many builds earlier operations added to a shared recipe's version."""
        recipe = self.ib.create_image_recipe(name=nm(f"pool-{uuid.uuid4().hex[:6]}"), semanticVersion="1.0.0",
                                             parentImage=AL2023, components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
        return [self.image(recipe, **kw) for _ in range(n)]

    def waiting_image(self) -> str:
        return self.image(self.k["recipes"][1], workflows=[{"workflowArn": self.k["wait_workflow"]}],
                          executionRole="ImageBuilderRole")

    def waiting_steps(self) -> dict:
        """imageBuildVersionArn -> stepExecutionId of every step waiting for an action."""
        out, token = {}, None
        while True:
            r = self.ib.list_waiting_workflow_steps(maxResults=100, **({"nextToken": token} if token else {}))
            out.update((s["imageBuildVersionArn"], s["stepExecutionId"]) for s in r["steps"])
            token = r.get("nextToken")
            if not token:
                return out

    def seed_kiln(self) -> None:
        ib, k = self.ib, self.k
        k["comps"] = [ib.create_component(name=nm(f"comp{i}"), semanticVersion="1.0.0", platform="Linux",
                                          data=COMPONENT, tags={"team": "platform"})["componentBuildVersionArn"]
                      for i in range(ITEMS)]
        k["infras"] = [ib.create_infrastructure_configuration(
            name=nm(f"infra{i}"), instanceProfileName="EC2InstanceProfileForImageBuilder",
            instanceTypes=["m5.large"], tags={"team": "platform"})["infrastructureConfigurationArn"] for i in range(ITEMS)]
        k["dists"] = [ib.create_distribution_configuration(name=nm(f"dist{i}"), distributions=distributions(nm("d")))[
            "distributionConfigurationArn"] for i in range(ITEMS)]
        k["recipes"] = [ib.create_image_recipe(name=nm(f"recipe{i}"), semanticVersion="1.0.0", parentImage=AL2023,
                                               components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"]
                        for i in range(ITEMS)]
        k["images"] = [self.image(r, tags={"team": "platform"}) for r in k["recipes"]]  # ListImages: 25 versions
        for _ in range(ITEMS - 1):  # ListImageBuildVersions of recipe 0: 25 builds
            self.image()
        k["crs"] = [ib.create_container_recipe(
            containerType="DOCKER", name=nm(f"cr{i}"), semanticVersion="1.0.0", parentImage="amazonlinux:latest",
            components=[{"componentArn": UPDATE_LINUX}], dockerfileTemplateData=DOCKERFILE,
            targetRepository={"service": "ECR", "repositoryName": "bench"})["containerRecipeArn"] for i in range(ITEMS)]
        k["workflows"] = [ib.create_workflow(name=nm(f"wf{i}"), semanticVersion="1.0.0", type="BUILD", data=WORKFLOW)[
            "workflowBuildVersionArn"] for i in range(ITEMS)]
        k["lps"] = [ib.create_lifecycle_policy(name=nm(f"lp{i}"), **LIFECYCLE)["lifecyclePolicyArn"] for i in range(ITEMS)]
        k["pipes"] = [ib.create_image_pipeline(name=nm(f"pipe{i}"), imageRecipeArn=k["recipes"][2],
                                               infrastructureConfigurationArn=k["infras"][0])["imagePipelineArn"]
                      for i in range(ITEMS)]
        for _ in range(ITEMS):  # ListImagePipelineImages of pipeline 0: 25 images
            ib.start_image_pipeline_execution(imagePipelineArn=k["pipes"][0])
        k["wait_workflow"] = ib.create_workflow(name=nm("wait"), semanticVersion="1.0.0", type="BUILD",
                                                data=WAIT_WORKFLOW)["workflowBuildVersionArn"]
        k["waiting"] = [self.waiting_image() for _ in range(3)]
        steps = self.waiting_steps()
        k["waiting_step"] = steps[k["waiting"][0]]
        gone = self.image()
        k["lce"] = ib.start_resource_state_update(resourceArn=gone, state={"status": "DELETED"}, executionRole=ROLE,
                                                  includeResources={"amis": True, "snapshots": True})["lifecycleExecutionId"]
        k["lce_image"] = gone
        ib.put_component_policy(componentArn=k["comps"][0], policy=policy(k["comps"][0], "component"))
        ib.put_image_policy(imageArn=k["images"][0], policy=policy(k["images"][0], "image"))
        ib.put_image_recipe_policy(imageRecipeArn=k["recipes"][0], policy=policy(k["recipes"][0], "image-recipe"))
        ib.put_container_recipe_policy(containerRecipeArn=k["crs"][0], policy=policy(k["crs"][0], "container-recipe"))
        k["wfx"] = ib.list_workflow_executions(imageBuildVersionArn=k["images"][0])["workflowExecutions"][0][
            "workflowExecutionId"]
        k["steps"] = [s["stepExecutionId"] for s in
                      ib.list_workflow_step_executions(workflowExecutionId=k["wfx"])["steps"]]

    # -- moto
    def function(self, name: str) -> str:
        return self.lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=self.m["role"], Handler="handler.handler",
            Code={"ZipFile": self.zip}, Description="Benchmark function", Timeout=30, MemorySize=256,
            Environment={"Variables": {"STAGE": "bench"}}, Tags={"team": "platform"})["FunctionArn"]

    def seed_moto(self) -> None:
        m = self.m
        m["role"] = self.iam.create_role(RoleName=nm("lambda"), AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        m["fns"] = [nm(f"fn{i:02d}") for i in range(ITEMS)]
        m["fn_arns"] = [self.function(f) for f in m["fns"]]
        self.lam.add_permission(FunctionName=m["fns"][0], StatementId="bench", Action="lambda:GetFunction",
                                Principal="210987654321")
        m["params"] = [f"/{nm('p')}/{i:02d}" for i in range(ITEMS)]
        for p in m["params"]:
            self.ssm.put_parameter(Name=p, Value="x" * 64, Type="String")
        self.ssm.put_parameter(Name=f"/{nm('overwrite')}", Value="x" * 64, Type="String")

    def moto_cleanup(self) -> None:
        """Delete every Lambda function but the 25 ListFunctions lists."""
        keep = set(self.m["fns"])
        for f in self.lam.list_functions()["Functions"]:
            if f["FunctionName"] not in keep:
                self.lam.delete_function(FunctionName=f["FunctionName"])


# --------------------------------------------------------------------- kiln operations: setup(env, n) -> params(i)
# n: how many calls the measurement will make (warm-up included); i: 0..n-1, unique per call.
def rotate(key: str, name: str):
    return lambda env, n: (lambda i, a=env.k[key]: {name: a[i % len(a)]})


def fixed(**params):
    return lambda env, n: (lambda i: params)


def fixed_k(**keys):
    """Params whose values are env.k entries: name=(key, index or None)."""
    def setup(env, n):
        p = {name: (env.k[key] if idx is None else env.k[key][idx]) for name, (key, idx) in keys.items()}
        return lambda i: p
    return setup


def pool(make, name: str, extra=None):
    """One fresh resource per call, made before the clock starts."""
    def setup(env, n):
        arns = [make(env, j) for j in range(n)]
        return lambda i: {name: arns[i], **(extra(env, i) if extra else {})}
    return setup


def version_arn(build_arn: str) -> str:
    return build_arn.rsplit("/", 1)[0]


K: dict = {}

# reads
K["GetImage"] = rotate("images", "imageBuildVersionArn")
K["GetComponent"] = rotate("comps", "componentBuildVersionArn")
K["GetComponentPolicy"] = fixed_k(componentArn=("comps", 0))
K["GetContainerRecipe"] = rotate("crs", "containerRecipeArn")
K["GetContainerRecipePolicy"] = fixed_k(containerRecipeArn=("crs", 0))
K["GetDistributionConfiguration"] = rotate("dists", "distributionConfigurationArn")
K["GetImagePipeline"] = rotate("pipes", "imagePipelineArn")
K["GetImagePolicy"] = fixed_k(imageArn=("images", 0))
K["GetImageRecipe"] = rotate("recipes", "imageRecipeArn")
K["GetImageRecipePolicy"] = fixed_k(imageRecipeArn=("recipes", 0))
K["GetInfrastructureConfiguration"] = rotate("infras", "infrastructureConfigurationArn")
K["GetLifecycleExecution"] = fixed_k(lifecycleExecutionId=("lce", None))
K["GetLifecyclePolicy"] = rotate("lps", "lifecyclePolicyArn")
K["GetMarketplaceResource"] = fixed(resourceType="COMPONENT_DATA", resourceArn=AGENT)
K["GetWorkflow"] = rotate("workflows", "workflowBuildVersionArn")
K["GetWorkflowExecution"] = fixed_k(workflowExecutionId=("wfx", None))
K["GetWorkflowStepExecution"] = rotate("steps", "stepExecutionId")
# lists
K["ListComponentBuildVersions"] = lambda env, n: (lambda i, v=version_arn(env.k["comps"][0]): {"componentVersionArn": v})
K["ListComponents"] = fixed(owner="Amazon", maxResults=ITEMS)
K["ListContainerRecipes"] = fixed(maxResults=ITEMS)
K["ListDistributionConfigurations"] = fixed(maxResults=ITEMS)
K["ListImageBuildVersions"] = lambda env, n: (
    lambda i, v=version_arn(env.k["images"][0]): {"imageVersionArn": v, "maxResults": ITEMS})
K["ListImagePackages"] = fixed_k(imageBuildVersionArn=("images", 0))
K["ListImagePipelineImages"] = fixed_k(imagePipelineArn=("pipes", 0))
K["ListImagePipelines"] = fixed(maxResults=ITEMS)
K["ListImageRecipes"] = fixed(maxResults=ITEMS)
K["ListImageScanFindingAggregations"] = fixed()
K["ListImageScanFindings"] = fixed()
K["ListImages"] = fixed(maxResults=ITEMS)
K["ListInfrastructureConfigurations"] = fixed(maxResults=ITEMS)
K["ListLifecycleExecutionResources"] = fixed_k(lifecycleExecutionId=("lce", None))
K["ListLifecycleExecutions"] = fixed_k(resourceArn=("lce_image", None))
K["ListLifecyclePolicies"] = fixed(maxResults=ITEMS)
K["ListTagsForResource"] = fixed_k(resourceArn=("images", 0))
K["ListWaitingWorkflowSteps"] = fixed()
K["ListWorkflowBuildVersions"] = lambda env, n: (lambda i, v=version_arn(env.k["workflows"][0]): {"workflowVersionArn": v})
K["ListWorkflowExecutions"] = fixed_k(imageBuildVersionArn=("images", 0))
K["ListWorkflowStepExecutions"] = fixed_k(workflowExecutionId=("wfx", None))
K["ListWorkflows"] = fixed(maxResults=ITEMS)
# creates
K["CreateComponent"] = lambda env, n: (lambda i: {
    "name": nm("new-comp"), "semanticVersion": f"1.0.{i}", "platform": "Linux", "data": COMPONENT})
K["CreateContainerRecipe"] = lambda env, n: (lambda i: {
    "containerType": "DOCKER", "name": nm("new-cr"), "semanticVersion": f"1.0.{i}", "parentImage": "amazonlinux:latest",
    "components": [{"componentArn": UPDATE_LINUX}], "dockerfileTemplateData": DOCKERFILE,
    "targetRepository": {"service": "ECR", "repositoryName": "bench"}})
K["CreateDistributionConfiguration"] = lambda env, n: (lambda i: {
    "name": nm(f"new-dist{i}"), "distributions": distributions(nm("d"))})
K["CreateImage"] = lambda env, n: (lambda i, k=env.k: {
    "imageRecipeArn": k["recipes"][0], "infrastructureConfigurationArn": k["infras"][0],
    "distributionConfigurationArn": k["dists"][0]})
K["CreateImagePipeline"] = lambda env, n: (lambda i, k=env.k: {
    "name": nm(f"new-pipe{i}"), "imageRecipeArn": k["recipes"][2], "infrastructureConfigurationArn": k["infras"][0]})
K["CreateImageRecipe"] = lambda env, n: (lambda i: {
    "name": nm("new-recipe"), "semanticVersion": f"1.0.{i}", "parentImage": AL2023,
    "components": [{"componentArn": UPDATE_LINUX}]})
K["CreateInfrastructureConfiguration"] = lambda env, n: (lambda i: {
    "name": nm(f"new-infra{i}"), "instanceProfileName": "EC2InstanceProfileForImageBuilder"})
K["CreateLifecyclePolicy"] = lambda env, n: (lambda i: {"name": nm(f"new-lp{i}"), **LIFECYCLE})
K["CreateWorkflow"] = lambda env, n: (lambda i: {
    "name": nm("new-wf"), "semanticVersion": f"1.0.{i}", "type": "BUILD", "data": WORKFLOW})
K["ImportComponent"] = lambda env, n: (lambda i: {
    "name": nm("imported"), "semanticVersion": f"1.0.{i}", "type": "BUILD", "format": "SHELL", "platform": "Linux",
    "data": "sudo yum update -y\n"})
K["ImportVmImage"] = lambda env, n: (lambda i: {
    "name": nm("vm"), "semanticVersion": f"1.0.{i}", "platform": "Linux", "osVersion": "Red Hat Enterprise Linux 9",
    "vmImportTaskId": "import-ami-0123456789abcdef0"})
K["ImportDiskImage"] = lambda env, n: (lambda i, k=env.k: {
    "name": nm("iso"), "semanticVersion": f"1.0.{i}", "platform": "Windows", "osVersion": "Microsoft Windows 11",
    "infrastructureConfigurationArn": k["infras"][0], "uri": "s3://bench-isos/win11.iso"})
K["DistributeImage"] = lambda env, n: (lambda i, k=env.k: {
    "sourceImage": "ami-0123456789abcdef0", "distributionConfigurationArn": k["dists"][0], "executionRole": ROLE})
K["StartImagePipelineExecution"] = fixed_k(imagePipelineArn=("pipes", 1))
# updates and policies
K["UpdateDistributionConfiguration"] = lambda env, n: (lambda i, k=env.k: {
    "distributionConfigurationArn": k["dists"][1], "description": f"v{i}", "distributions": distributions(nm("d"))})
K["UpdateImagePipeline"] = lambda env, n: (lambda i, k=env.k: {
    "imagePipelineArn": k["pipes"][1], "description": f"v{i}", "imageRecipeArn": k["recipes"][2],
    "infrastructureConfigurationArn": k["infras"][0]})
K["UpdateInfrastructureConfiguration"] = lambda env, n: (lambda i, k=env.k: {
    "infrastructureConfigurationArn": k["infras"][1], "description": f"v{i}",
    "instanceProfileName": "EC2InstanceProfileForImageBuilder"})
K["UpdateLifecyclePolicy"] = lambda env, n: (lambda i, k=env.k: {
    "lifecyclePolicyArn": k["lps"][1], "description": f"v{i}", **LIFECYCLE})
K["PutComponentPolicy"] = lambda env, n: (lambda i, a=env.k["comps"][1]: {"componentArn": a, "policy": policy(a, "component")})
K["PutImagePolicy"] = lambda env, n: (lambda i, a=env.k["images"][1]: {"imageArn": a, "policy": policy(a, "image")})
K["PutImageRecipePolicy"] = lambda env, n: (lambda i, a=env.k["recipes"][1]: {
    "imageRecipeArn": a, "policy": policy(a, "image-recipe")})
K["PutContainerRecipePolicy"] = lambda env, n: (lambda i, a=env.k["crs"][1]: {
    "containerRecipeArn": a, "policy": policy(a, "container-recipe")})
# tags
K["TagResource"] = lambda env, n: (lambda i, a=env.k["images"][1]: {"resourceArn": a, "tags": {"env": f"v{i}"}})


def _untag_setup(env, n):
    """40 tags on each of n/40 components; call i removes one of them."""
    per = 40
    arns = [env.ib.create_component(name=nm(f"untag{j}-{uuid.uuid4().hex[:4]}"), semanticVersion="1.0.0", platform="Linux",
                                    data=COMPONENT, tags={f"k{t}": "v" for t in range(per)})["componentBuildVersionArn"]
            for j in range((n + per - 1) // per)]
    return lambda i: {"resourceArn": arns[i // per], "tagKeys": [f"k{i % per}"]}


K["UntagResource"] = _untag_setup


# state changes
def _waiting_pool(env, n) -> list[str]:
    return [env.waiting_image() for _ in range(n)]


def _send_action_setup(env, n):
    arns = _waiting_pool(env, n)
    steps = env.waiting_steps()
    return lambda i: {"imageBuildVersionArn": arns[i], "stepExecutionId": steps[arns[i]], "action": "RESUME"}


def _retry_setup(env, n):
    arns = _waiting_pool(env, n)
    for a in arns:
        env.ib.cancel_image_creation(imageBuildVersionArn=a)
    return lambda i: {"imageBuildVersionArn": arns[i]}


def _cancel_lce_setup(env, n):
    when = time.time() + 30 * 86400
    ids = [env.ib.start_resource_state_update(resourceArn=a, state={"status": "DEPRECATED"}, updateAt=when)[
        "lifecycleExecutionId"] for a in env.image_pool(n)]
    return lambda i: {"lifecycleExecutionId": ids[i]}


K["CancelImageCreation"] = pool(lambda env, j: env.waiting_image(), "imageBuildVersionArn")
K["SendWorkflowStepAction"] = _send_action_setup
K["RetryImage"] = _retry_setup
def _image_pool(name: str, **extra):
    def setup(env, n):
        arns = env.image_pool(n)
        return lambda i: {name: arns[i], **extra}
    return setup


K["StartResourceStateUpdate"] = _image_pool("resourceArn", state={"status": "DEPRECATED"})
K["CancelLifecycleExecution"] = _cancel_lce_setup
# deletes
K["DeleteComponent"] = pool(lambda env, j: env.ib.create_component(
    name=nm(f"del-comp{j}"), semanticVersion="1.0.0", platform="Linux", data=COMPONENT)["componentBuildVersionArn"],
    "componentBuildVersionArn")
K["DeleteContainerRecipe"] = pool(lambda env, j: env.ib.create_container_recipe(
    containerType="DOCKER", name=nm(f"del-cr{j}"), semanticVersion="1.0.0", parentImage="amazonlinux:latest",
    components=[{"componentArn": UPDATE_LINUX}], dockerfileTemplateData=DOCKERFILE,
    targetRepository={"service": "ECR", "repositoryName": "bench"})["containerRecipeArn"], "containerRecipeArn")
K["DeleteDistributionConfiguration"] = pool(lambda env, j: env.ib.create_distribution_configuration(
    name=nm(f"del-dist{j}"), distributions=distributions(nm("d")))["distributionConfigurationArn"],
    "distributionConfigurationArn")
K["DeleteImage"] = _image_pool("imageBuildVersionArn")  # n builds of one version, deleted one by one
K["DeleteImagePipeline"] = pool(lambda env, j: env.ib.create_image_pipeline(
    name=nm(f"del-pipe{j}"), imageRecipeArn=env.k["recipes"][2], infrastructureConfigurationArn=env.k["infras"][0])[
    "imagePipelineArn"], "imagePipelineArn")
K["DeleteImageRecipe"] = pool(lambda env, j: env.ib.create_image_recipe(
    name=nm(f"del-recipe{j}"), semanticVersion="1.0.0", parentImage=AL2023,
    components=[{"componentArn": UPDATE_LINUX}])["imageRecipeArn"], "imageRecipeArn")
K["DeleteInfrastructureConfiguration"] = pool(lambda env, j: env.ib.create_infrastructure_configuration(
    name=nm(f"del-infra{j}"), instanceProfileName="EC2InstanceProfileForImageBuilder")["infrastructureConfigurationArn"],
    "infrastructureConfigurationArn")
K["DeleteLifecyclePolicy"] = pool(lambda env, j: env.ib.create_lifecycle_policy(
    name=nm(f"del-lp{j}"), **LIFECYCLE)["lifecyclePolicyArn"], "lifecyclePolicyArn")
K["DeleteWorkflow"] = pool(lambda env, j: env.ib.create_workflow(
    name=nm(f"del-wf{j}"), semanticVersion="1.0.0", type="BUILD", data=WORKFLOW)["workflowBuildVersionArn"],
    "workflowBuildVersionArn")


# --------------------------------------------------------------------- moto comparables: (service, operation, setup)
def _ssm_put_new(env, n):
    prefix = f"/{nm('new')}/{uuid.uuid4().hex[:6]}"
    return lambda i: {"Name": f"{prefix}/{i}", "Value": "x" * 64, "Type": "String"}


def _ssm_delete(env, n):
    prefix = f"/{nm('del')}/{uuid.uuid4().hex[:6]}"
    for j in range(n):
        env.ssm.put_parameter(Name=f"{prefix}/{j}", Value="x" * 64, Type="String")
    return lambda i: {"Name": f"{prefix}/{i}"}


def _lambda_create(env, n):
    prefix = nm(f"new{uuid.uuid4().hex[:6]}")
    return lambda i: {"FunctionName": f"{prefix}-{i}", "Runtime": "python3.12", "Role": env.m["role"],
                      "Handler": "handler.handler", "Code": {"ZipFile": env.zip}, "Description": "Benchmark function",
                      "Timeout": 30, "MemorySize": 256, "Environment": {"Variables": {"STAGE": "bench"}},
                      "Tags": {"team": "platform"}}


def _lambda_delete(env, n):
    prefix = nm(f"del{uuid.uuid4().hex[:6]}")
    names = [f"{prefix}-{j}" for j in range(n)]
    for f in names:
        env.function(f)
    return lambda i: {"FunctionName": names[i]}


def _lambda_untag(env, n):
    per = 40
    prefix = nm(f"untag{uuid.uuid4().hex[:6]}")
    arns = []
    for j in range((n + per - 1) // per):
        arns.append(env.function(f"{prefix}-{j}"))
        env.lam.tag_resource(Resource=arns[-1], Tags={f"k{t}": "v" for t in range(per)})
    return lambda i: {"Resource": arns[i // per], "TagKeys": [f"k{i % per}"]}


MOTO = {
    "lambda.GetFunction": ("lambda", "GetFunction", lambda env, n: (lambda i, f=env.m["fns"]: {"FunctionName": f[i % len(f)]})),
    "lambda.GetPolicy": ("lambda", "GetPolicy", lambda env, n: (lambda i, f=env.m["fns"][0]: {"FunctionName": f})),
    "lambda.ListFunctions": ("lambda", "ListFunctions", lambda env, n: (lambda i: {})),
    "lambda.ListTags": ("lambda", "ListTags", lambda env, n: (lambda i, a=env.m["fn_arns"][0]: {"Resource": a})),
    "lambda.TagResource": ("lambda", "TagResource", lambda env, n: (
        lambda i, a=env.m["fn_arns"][1]: {"Resource": a, "Tags": {"env": f"v{i}"}})),
    "lambda.UntagResource": ("lambda", "UntagResource", _lambda_untag),
    "lambda.CreateFunction": ("lambda", "CreateFunction", _lambda_create),
    "lambda.UpdateFunctionConfiguration": ("lambda", "UpdateFunctionConfiguration", lambda env, n: (
        lambda i, f=env.m["fns"][2]: {"FunctionName": f, "Description": f"v{i}"})),
    "lambda.DeleteFunction": ("lambda", "DeleteFunction", _lambda_delete),
    "ssm.GetParameter": ("ssm", "GetParameter", lambda env, n: (lambda i, p=env.m["params"]: {"Name": p[i % len(p)]})),
    "ssm.PutParameter": ("ssm", "PutParameter", _ssm_put_new),
    "ssm.PutParameter(Overwrite)": ("ssm", "PutParameter", lambda env, n: (
        lambda i: {"Name": f"/{nm('overwrite')}", "Value": f"{i:064d}", "Type": "String", "Overwrite": True})),
    "ssm.DeleteParameter": ("ssm", "DeleteParameter", _ssm_delete),
}


def comparable(op: str) -> str:
    special = {
        "GetImage": "lambda.GetFunction", "ListTagsForResource": "lambda.ListTags",
        "TagResource": "lambda.TagResource", "UntagResource": "lambda.UntagResource",
        "CreateImage": "lambda.CreateFunction", "CreateImagePipeline": "lambda.CreateFunction",
        "DistributeImage": "lambda.CreateFunction", "StartImagePipelineExecution": "lambda.CreateFunction",
        "DeleteImage": "lambda.DeleteFunction",
    }
    if op in special:
        return special[op]
    if op.startswith("Get") and op.endswith("Policy"):
        return "lambda.GetPolicy"
    if op.startswith("Get"):
        return "ssm.GetParameter"
    if op.startswith("List"):
        return "lambda.ListFunctions"
    if op.startswith(("Create", "Import")):
        return "ssm.PutParameter"
    if op.startswith("Put") and op.endswith("Policy"):
        return "ssm.PutParameter(Overwrite)"
    if op.startswith("Delete"):
        return "ssm.DeleteParameter"
    return "lambda.UpdateFunctionConfiguration"  # Update*, Cancel*, Retry, Send*, StartResourceStateUpdate


def kind(op: str) -> str:
    if op.startswith("List"):
        return "list"
    if op.startswith("Get"):
        return "read"
    return "write"


# In this order: reads and lists first (so what they read is the seeded store), writes, deletes last.
ORDER = [op for op in K if kind(op) != "write"] + [op for op in K if kind(op) == "write" and not op.startswith("Delete")] \
    + [op for op in K if op.startswith("Delete")]


# --------------------------------------------------------------------- measuring one operation
def items_of(body: bytes):
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    found = [v for v in doc.values() if isinstance(v, list)] or [v for v in doc.values() if isinstance(v, dict)]
    return len(found[0]) if found else None  # a list's entries, or a tag map's keys


def measure(op: str, env: Env, args) -> dict:
    n_side = args.warmup + args.cycles * args.chunk
    n = 2 * n_side + 1  # two sides each; one more for the probe of a read
    t_setup = time.perf_counter()
    kparams = K[op](env, n)
    service, mop, msetup = MOTO[comparable(op)]
    mparams = msetup(env, n)
    kcount, mcount = itertools.count(), itertools.count()
    sides = {
        "kiln http": RawSide(env.kiln_port, env.ib, op, kparams, kcount),
        "kiln boto3": BotoSide(env.ib, op, kparams, kcount),
        "moto http": RawSide(env.moto_port, env.moto[service], mop, mparams, mcount),
        "moto boto3": BotoSide(env.moto[service], mop, mparams, mcount),
    }
    row = {"op": op, "kind": kind(op), "moto": comparable(op), "items": None}
    floor = None
    if kind(op) != "write":
        probe = sides["kiln http"]
        method, path, body, headers = probe.prepare(1)[0]
        status, data = probe.send(method, path, body, headers)
        if status != 200:
            raise CallError(f"{op} over HTTP -> {status} {data[:400]!r}\n    request: {method} {path} {(body or b'')[:400]!r}")
        if kind(op) == "list":
            moto_side = sides["moto http"]
            _, moto_data = moto_side.send(*moto_side.prepare(1)[0])
            row["items"] = (items_of(data), items_of(moto_data))
        fd, body_file = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        floor = c.floor_server(body_file, core=0).start()
        os.unlink(body_file)
        sides["floor http"] = RawSide(floor.port, env.ib, op, kparams, itertools.count())
    row["setup_s"] = time.perf_counter() - t_setup
    try:
        for name, side in sides.items():  # the floor, a fresh process, gets more: it costs no pool
            side.run(side.prepare(FLOOR_WARMUP if name == "floor http" else args.warmup))
        c.wait_quiet(max_wait=1, window=0.2)
        spent = {name: [] for name in sides}
        order = list(sides)
        shuffle = random.Random(op).shuffle
        for _ in range(args.cycles):
            shuffle(order)
            for name in order:
                side = sides[name]
                work = side.prepare(args.chunk)
                t0 = time.perf_counter()
                side.run(work)
                spent[name].append(time.perf_counter() - t0)
    finally:
        for side in sides.values():
            side.close()
        if floor is not None:
            floor.stop()
    calls = args.cycles * args.chunk
    rate = {name: calls / sum(s) for name, s in spent.items()}
    row["rate"] = rate
    for way in ("http", "boto3"):
        row[f"ratio {way}"] = rate[f"kiln {way}"] / rate[f"moto {way}"]
        row[f"cycles {way}"] = sorted(m / k for k, m in zip(spent[f"kiln {way}"], spent[f"moto {way}"]))
    if floor is not None:
        row["floor"] = rate["kiln http"] / rate["floor http"]
    if service == "lambda":
        env.moto_cleanup()
    return row


# --------------------------------------------------------------------- report
def targets(row) -> tuple[float | None, float | None]:
    if row["kind"] == "list":
        return LIST_HTTP, None
    if row["op"] in WRITE_TARGETS:
        return WRITE_HTTP, WRITE_BOTO3
    return None, None


def mark(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "ok" if value >= target else "MISS"


def print_table(rows: list[dict]) -> None:
    def line(op, kd, moto, items, http, boto3, floor):
        return f"{op:34} {kd:5} {moto:34} {items:>7} | {http:54} | {boto3:47} | {floor:>7}"

    rule = line("", "", "", "", "", "", "")
    print(line("", "", "", "", "raw HTTP, kiln vs moto (http.client keep-alive)", "boto3, kiln vs moto", "raw HTTP"))
    print(line("operation", "kind", "moto comparable", "k/m n",
               f"{'kiln/s':>7} {'moto/s':>7} {'k/m':>6} {'min':>6} {'med':>6} {'max':>6} {'target':>10}",
               f"{'kiln/s':>7} {'moto/s':>7} {'k/m':>6} {'min':>6} {'max':>6} {'target':>10}", "k/floor"))
    print("-" * len(rule))
    for r in rows:
        if "error" in r:
            print(f"{r['op']:34} {r['kind']:5} {r['moto']:34} {'':7} | ERROR: {r['error'].splitlines()[0][:120]}")
            continue
        th, tb = targets(r)
        ch, cb, rate = r["cycles http"], r["cycles boto3"], r["rate"]
        th_s = f">={th:g} {mark(r['ratio http'], th)}" if th else ""
        tb_s = f">={tb:g} {mark(r['ratio boto3'], tb)}" if tb else ""
        items = "" if r["items"] is None else "/".join("-" if x is None else str(x) for x in r["items"])
        print(line(r["op"], r["kind"], r["moto"], items,
                   f"{rate['kiln http']:7.0f} {rate['moto http']:7.0f} {r['ratio http']:6.2f} {ch[0]:6.2f} "
                   f"{c.median(ch):6.2f} {ch[-1]:6.2f} {th_s:>10}",
                   f"{rate['kiln boto3']:7.0f} {rate['moto boto3']:7.0f} {r['ratio boto3']:6.2f} {cb[0]:6.2f} "
                   f"{cb[-1]:6.2f} {tb_s:>10}",
                   f"{r['floor']:7.2f}" if "floor" in r else ""))


class QuietServer(c.Server):
    """c.Server with the child's stderr thrown away: moto's server (werkzeug) logs every
    request there."""

    def __init__(self, cmd: list[str], port: int, health: str, env: dict | None = None):
        super().__init__(cmd, port, health, env, quiet=True)


def moto_server_cmd(port: int) -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if not os.path.exists(exe):
        exe = shutil.which("moto_server") or "moto_server"
    return c.pinned([exe, "-p", str(port)], 0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cycles", type=int, default=8, help="turns per operation (default 8; the whole run: ~3-4 min)")
    p.add_argument("--chunk", type=int, default=20, help="calls to one side before the next takes its turn (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls per side before the turns (default 3)")
    p.add_argument("--only", help="OP[,OP...]: only these kiln operations")
    p.add_argument("--data-dir", help="kiln's store (default: a temporary directory); names carry a per-run prefix")
    args = p.parse_args()

    import botocore.session
    import moto

    model_ops = botocore.session.get_session().get_service_model("imagebuilder").operation_names
    ops = ORDER
    if args.only:
        wanted = [o.strip() for o in args.only.split(",") if o.strip()]
        unknown = [o for o in wanted if o not in K]
        if unknown:
            raise SystemExit(f"--only: not in the table: {', '.join(unknown)} (known: {', '.join(ORDER)})")
        ops = [o for o in ORDER if o in wanted]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    if c.cpu_count() > 1:
        os.sched_setaffinity(0, {1})  # the client; servers get core 0
    t_start = time.perf_counter()
    print(f"# every operation, kiln vs moto {moto.__version__}, one client thread, {datetime.date.today()}, {c.machine()}")
    print(f"# {args.cycles} cycles x {args.chunk} calls per side and operation, {args.warmup} warm-up calls per side")
    rows: list[dict] = []
    findings: list[str] = []
    with c.tempdir("kiln-ops-", args.data_dir) as data_dir, contextlib.ExitStack() as stack:
        kiln = stack.enter_context(c.kiln_server(data_dir, core=0))
        moto_port = c.free_port()
        stack.enter_context(QuietServer(moto_server_cmd(moto_port), moto_port, "/moto-api/"))
        print(f"# kiln serve :{kiln.port} (store {data_dir}), moto_server :{moto_port}, floor per read operation; "
              f"servers on core 0, client on core 1", flush=True)
        env = Env(kiln.port, moto_port)
        c.wait_quiet(max_wait=30)
        t = time.perf_counter()
        env.seed_kiln()
        env.seed_moto()
        print(f"# seeded in {time.perf_counter() - t:.1f}s: kiln {ITEMS} of each resource (+ builds, pipeline images, "
              f"waiting builds, a lifecycle execution, policies); moto {ITEMS} Lambda functions, {ITEMS} SSM parameters",
              flush=True)
        for op in ops:
            t = time.perf_counter()
            try:
                row = measure(op, env, args)
            except Exception as e:  # a refused call is a finding; the run goes on
                msg = str(e) if isinstance(e, CallError) else f"{type(e).__name__}: {e}"
                findings.append(f"{op}: {msg}")
                row = {"op": op, "kind": kind(op), "moto": comparable(op), "error": msg}
                print(f"{op:34} ERROR {msg}", flush=True)
                with contextlib.suppress(Exception):
                    env.moto_cleanup()
            else:
                print(f"{op:34} http k/m {row['ratio http']:6.2f}  boto3 k/m {row['ratio boto3']:5.2f}"
                      + (f"  k/floor {row['floor']:.2f}" if "floor" in row else "")
                      + f"  ({time.perf_counter() - t:.1f}s, setup {row['setup_s']:.1f}s)", flush=True)
            rows.append(row)

    print()
    print_table(rows)
    print()
    covered = set(K)
    missing = [o for o in model_ops if o not in covered]
    print(f"covered: {len(covered)} of {len(model_ops)} modeled operations"
          + (f"; not covered: {', '.join(missing)}" if missing else "; none left out"))
    if args.only:
        print(f"(this run: {len(rows)} of them, --only)")
    ok = [r for r in rows if "error" not in r]
    judged = []
    for r in ok:
        th, tb = targets(r)
        if th:
            judged.append((f"{r['op']} http", r["ratio http"] >= th))
        if tb:
            judged.append((f"{r['op']} boto3", r["ratio boto3"] >= tb))
    if judged:
        missed = [name for name, good in judged if not good]
        print(f"targets: {len(judged) - len(missed)} of {len(judged)} met" + (f"; missed: {', '.join(missed)}" if missed else ""))
    if ok:
        slow = sorted(ok, key=lambda r: r["ratio http"])[:5]
        print("slowest relative to moto (raw HTTP kiln/moto): "
              + ", ".join(f"{r['op']} {r['ratio http']:.2f}" for r in slow))
        slow = sorted(ok, key=lambda r: r["ratio boto3"])[:5]
        print("slowest relative to moto (boto3 kiln/moto):    "
              + ", ".join(f"{r['op']} {r['ratio boto3']:.2f}" for r in slow))
    if findings:
        print(f"\n!! {len(findings)} operation(s) answered an error to valid input:")
        for f in findings:
            print(f"  {f}")
    c.report_busy()
    print(f"total {time.perf_counter() - t_start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
