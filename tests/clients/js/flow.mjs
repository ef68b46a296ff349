// Drives kiln with @aws-sdk/client-imagebuilder (JavaScript SDK v3) and prints one JSON
// document of what it saw; tests/clients/test_js_sdk.py asserts on it.
//
//   KILN_URL=http://127.0.0.1:PORT COMPONENT_YAML=/path/hello-component.yaml node flow.mjs
import { readFile } from "node:fs/promises";
import * as sdk from "@aws-sdk/client-imagebuilder";

const {
  ImagebuilderClient, ImagebuilderServiceException,
  CreateComponentCommand, GetComponentCommand, DeleteComponentCommand,
  CreateImageRecipeCommand, GetImageRecipeCommand, DeleteImageRecipeCommand,
  CreateInfrastructureConfigurationCommand, GetInfrastructureConfigurationCommand,
  UpdateInfrastructureConfigurationCommand, DeleteInfrastructureConfigurationCommand,
  CreateDistributionConfigurationCommand, GetDistributionConfigurationCommand, DeleteDistributionConfigurationCommand,
  CreateImageCommand, GetImageCommand, DeleteImageCommand, CancelImageCreationCommand,
  ListImagesCommand, ListComponentsCommand,
  CreateWorkflowCommand, DeleteWorkflowCommand, ListWaitingWorkflowStepsCommand, SendWorkflowStepActionCommand,
  GetWorkflowExecutionCommand, GetWorkflowStepExecutionCommand, ListWorkflowsCommand,
  TagResourceCommand, UntagResourceCommand, ListTagsForResourceCommand,
  ResourceNotFoundException, ResourceAlreadyExistsException, InvalidPaginationTokenException,
  InvalidParameterValueException, IdempotentParameterMismatchException, DryRunOperationException,
  InvalidRequestException, ResourceDependencyException, InvalidParameterCombinationException,
  paginateListComponents, paginateListImages, paginateListImageBuildVersions,
  paginateListComponentBuildVersions, paginateListDistributionConfigurations,
  paginateListWaitingWorkflowSteps, paginateListWorkflowExecutions, paginateListWorkflowStepExecutions,
} = sdk;

const ib = new ImagebuilderClient({
  region: "us-east-1",
  endpoint: process.env.KILN_URL,
  credentials: { accessKeyId: "123456789012", secretAccessKey: "x" },
  maxAttempts: 1,
});
const PARENT = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x";
const UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x";
const out = { types: {}, errors: {} };

const EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ImageBuilderExecutionRole";
const typeOf = (v) => (v instanceof Date ? "Date" : Array.isArray(v) ? "array" : v === null ? "null" : typeof v);

async function expectError(label, promise) {
  try {
    await promise;
    out.errors[label] = { thrown: false };
  } catch (err) {
    out.errors[label] = {
      thrown: true,
      name: err.name,
      message: err.message,
      status: err.$metadata?.httpStatusCode,
      requestId: err.$metadata?.requestId ?? null,
      fault: err.$fault,
      isServiceException: err instanceof ImagebuilderServiceException,
      isResourceNotFound: err instanceof ResourceNotFoundException,
      isResourceAlreadyExists: err instanceof ResourceAlreadyExistsException,
      isInvalidPaginationToken: err instanceof InvalidPaginationTokenException,
      isInvalidParameterValue: err instanceof InvalidParameterValueException,
      isIdempotentParameterMismatch: err instanceof IdempotentParameterMismatchException,
      isDryRun: err instanceof DryRunOperationException,
      isInvalidRequest: err instanceof InvalidRequestException,
      isResourceDependency: err instanceof ResourceDependencyException,
      isInvalidParameterCombination: err instanceof InvalidParameterCombinationException,
    };
  }
}

async function collect(paginator, key) {
  const items = [];
  let pages = 0;
  for await (const page of paginator) {
    pages += 1;
    items.push(...page[key]);
  }
  return { pages, items };
}

const data = await readFile(process.env.COMPONENT_YAML, "utf8");

// Components: two versions, so the paginators have more than one page at pageSize 1.
const c1 = await ib.send(new CreateComponentCommand({
  name: "js-hello", semanticVersion: "1.0.0", platform: "Linux", description: "hello", data, tags: { sdk: "js" },
}));
const c2 = await ib.send(new CreateComponentCommand({
  name: "js-hello", semanticVersion: "1.1.0", platform: "Linux", data,
}));
out.componentArns = [c1.componentBuildVersionArn, c2.componentBuildVersionArn];
out.createComponent = { requestId: c1.requestId, clientToken: c1.clientToken, latest: c1.latestVersionReferences,
  status: c1.$metadata.httpStatusCode };
const gc = await ib.send(new GetComponentCommand({ componentBuildVersionArn: c1.componentBuildVersionArn }));
out.component = gc.component;
out.types.component = Object.fromEntries(Object.entries(gc.component).map(([k, v]) => [k, typeOf(v)]));
out.dataRoundTrip = gc.component.data === data;

const recipe = await ib.send(new CreateImageRecipeCommand({
  name: "js-recipe", semanticVersion: "1.0.0", parentImage: PARENT,
  components: [
    { componentArn: c1.componentBuildVersionArn, parameters: [{ name: "Greeting", value: ["hi from js"] }] },
    { componentArn: UPDATE_LINUX },
  ],
  blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 20, volumeType: "gp3", deleteOnTermination: true } }],
}));
const gr = await ib.send(new GetImageRecipeCommand({ imageRecipeArn: recipe.imageRecipeArn }));
out.recipe = gr.imageRecipe;

const infra = await ib.send(new CreateInfrastructureConfigurationCommand({
  name: "js-infra", instanceProfileName: "EC2InstanceProfileForImageBuilder", instanceTypes: ["t3.micro"],
  instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
}));
await ib.send(new UpdateInfrastructureConfigurationCommand({
  infrastructureConfigurationArn: infra.infrastructureConfigurationArn,
  instanceProfileName: "EC2InstanceProfileForImageBuilder", instanceTypes: ["t3.small"], description: "updated",
}));
const gi = await ib.send(new GetInfrastructureConfigurationCommand({
  infrastructureConfigurationArn: infra.infrastructureConfigurationArn,
}));
out.infrastructureConfiguration = gi.infrastructureConfiguration;

const dist = await ib.send(new CreateDistributionConfigurationCommand({
  name: "js-dist",
  distributions: ["us-east-1", "eu-west-1"].map((region) => ({
    region, amiDistributionConfiguration: { name: "js-{{ imagebuilder:buildDate }}", amiTags: { from: "js" } },
  })),
}));
const gd = await ib.send(new GetDistributionConfigurationCommand({
  distributionConfigurationArn: dist.distributionConfigurationArn,
}));
out.distributionConfiguration = gd.distributionConfiguration;
out.types.distributionConfiguration = Object.fromEntries(
  Object.entries(gd.distributionConfiguration).map(([k, v]) => [k, typeOf(v)]),
);

// The image: poll until the build ends, recording the states seen on the way.
const created = await ib.send(new CreateImageCommand({
  imageRecipeArn: recipe.imageRecipeArn,
  infrastructureConfigurationArn: infra.infrastructureConfigurationArn,
  distributionConfigurationArn: dist.distributionConfigurationArn,
  tags: { sdk: "js" },
}));
const imageArn = created.imageBuildVersionArn;
out.imageArn = imageArn;
out.statesSeen = [];
for (let i = 0; i < 400; i++) {
  const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn: imageArn }));
  if (out.statesSeen.at(-1) !== image.state.status) out.statesSeen.push(image.state.status);
  if (["AVAILABLE", "FAILED", "CANCELLED"].includes(image.state.status)) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const byBuild = await ib.send(new GetImageCommand({ imageBuildVersionArn: imageArn }));
out.image = byBuild.image;
out.types.image = Object.fromEntries(Object.entries(byBuild.image).map(([k, v]) => [k, typeOf(v)]));
out.imageLatest = byBuild.latestVersionReferences;
const versionArn = imageArn.replace(/\/\d+$/, "");
const wildcardArn = versionArn.replace(/\/[^/]+$/, "/x.x.x");
out.resolved = {
  version: (await ib.send(new GetImageCommand({ imageBuildVersionArn: versionArn }))).image.arn,
  wildcard: (await ib.send(new GetImageCommand({ imageBuildVersionArn: wildcardArn }))).image.arn,
  managed: (await ib.send(new GetImageCommand({ imageBuildVersionArn: PARENT }))).image.arn,
};

// Paginators.
const own = await collect(paginateListComponents({ client: ib, pageSize: 1 }, {}), "componentVersionList");
out.paginateListComponents = { pages: own.pages, arns: own.items.map((c) => c.arn) };
const amazon = await collect(paginateListComponents({ client: ib, pageSize: 7 }, { owner: "Amazon" }), "componentVersionList");
out.paginateListComponentsAmazon = { pages: amazon.pages, count: amazon.items.length,
  distinct: new Set(amazon.items.map((c) => c.arn)).size };
const builds = await collect(paginateListComponentBuildVersions({ client: ib, pageSize: 1 }, {}), "componentSummaryList");
out.paginateListComponentBuildVersions = { pages: builds.pages, arns: builds.items.map((c) => c.arn) };
const images = await collect(paginateListImages({ client: ib, pageSize: 1 }, {}), "imageVersionList");
out.paginateListImages = { pages: images.pages, items: images.items };
const imageBuilds = await collect(
  paginateListImageBuildVersions({ client: ib, pageSize: 1 }, { imageVersionArn: versionArn }), "imageSummaryList",
);
out.paginateListImageBuildVersions = { pages: imageBuilds.pages, arns: imageBuilds.items.map((i) => i.arn),
  types: imageBuilds.items.map((i) => typeOf(i.dateCreated)) };
const dists = await collect(paginateListDistributionConfigurations({ client: ib, pageSize: 5 }, {}),
  "distributionConfigurationSummaryList");
out.paginateListDistributionConfigurations = dists.items;
const filtered = await ib.send(new ListComponentsCommand({ filters: [{ name: "version", values: ["1.1.0"] }] }));
out.filteredComponents = filtered.componentVersionList.map((c) => c.arn);

// Tags through the /tags/{resourceArn} label.
await ib.send(new TagResourceCommand({ resourceArn: imageArn, tags: { extra: "yes", team: "kiln" } }));
await ib.send(new UntagResourceCommand({ resourceArn: imageArn, tagKeys: ["extra", "sdk"] }));
out.tags = (await ib.send(new ListTagsForResourceCommand({ resourceArn: imageArn }))).tags;

// Typed errors.
const missing = versionArn.replace("js-recipe", "js-missing") + "/1";
await expectError("getMissingImage", ib.send(new GetImageCommand({ imageBuildVersionArn: missing })));
await expectError("getMissingWildcard", ib.send(new GetImageCommand({
  imageBuildVersionArn: wildcardArn.replace("js-recipe", "js-missing") })));
await expectError("duplicateRecipe", ib.send(new CreateImageRecipeCommand({
  name: "js-recipe", semanticVersion: "1.0.0", parentImage: PARENT, components: [{ componentArn: UPDATE_LINUX }],
})));
await expectError("badToken", ib.send(new ListImagesCommand({ nextToken: "not-a-kiln-token" })));
await expectError("badArn", ib.send(new GetImageCommand({ imageBuildVersionArn: "arn:aws:imagebuilder:us-east-1:123456789012:image/Bad Name/1.0.0/1" })));
await expectError("badWildcard", ib.send(new GetImageCommand({ imageBuildVersionArn: versionArn.replace(/\/[^/]+$/, "/x.1.x") })));
await expectError("idempotentMismatch", (async () => {
  const token = "js-token-0001";
  await ib.send(new CreateDistributionConfigurationCommand({
    name: "js-dist-idem", clientToken: token,
    distributions: [{ region: "us-east-1", amiDistributionConfiguration: { name: "a-{{ imagebuilder:buildDate }}" } }],
  }));
  await ib.send(new CreateDistributionConfigurationCommand({
    name: "js-dist-idem-other", clientToken: token,
    distributions: [{ region: "us-east-1", amiDistributionConfiguration: { name: "a-{{ imagebuilder:buildDate }}" } }],
  }));
})());
await expectError("dryRun", ib.send(new CreateComponentCommand({
  name: "js-dry", semanticVersion: "1.0.0", platform: "Linux", data, dryRun: true,
})));
await expectError("cancelFinished", ib.send(new CancelImageCreationCommand({ imageBuildVersionArn: imageArn })));
await expectError("deleteUsedComponent", ib.send(new DeleteComponentCommand({
  componentBuildVersionArn: c1.componentBuildVersionArn })));
await expectError("missingRequired", ib.send(new CreateInfrastructureConfigurationCommand({ name: "js-no-profile" })));

// Workflow runs: a custom BUILD workflow whose WaitForAction step holds the build until
// someone sends RESUME; then the executions and steps the build recorded.
const APPROVAL_WORKFLOW = `name: js-approval
description: Builds an AMI once someone approves it
schemaVersion: 1.0
steps:
  - name: LaunchBuildInstance
    action: LaunchInstance
    onFailure: Abort
    inputs:
      waitFor: "ssmAgent"
  - name: WaitForApproval
    action: WaitForAction
    onFailure: Abort
    timeoutSeconds: 3600
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
`;
const typesOf = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeOf(v)]));
const wf = await ib.send(new CreateWorkflowCommand({
  name: "js-approval", semanticVersion: "1.0.0", type: "BUILD", data: APPROVAL_WORKFLOW,
}));
const approvalRequest = {
  imageRecipeArn: recipe.imageRecipeArn, infrastructureConfigurationArn: infra.infrastructureConfigurationArn,
  imageTestsConfiguration: { imageTestsEnabled: false },
  workflows: [{ workflowArn: wf.workflowBuildVersionArn }],
};
await expectError("workflowsWithoutRole", ib.send(new CreateImageCommand(approvalRequest)));
const approval = await ib.send(new CreateImageCommand({ ...approvalRequest, executionRole: EXECUTION_ROLE }));
const approvalArn = approval.imageBuildVersionArn;
out.workflowRuns = { workflowArn: wf.workflowBuildVersionArn, imageArn: approvalArn, statesSeen: [] };
let waiting = [];
for (let i = 0; i < 400 && waiting.length === 0; i++) {
  waiting = (await collect(paginateListWaitingWorkflowSteps({ client: ib, pageSize: 1 }, {}), "steps")).items;
  if (waiting.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
}
out.workflowRuns.waiting = waiting;
out.types.waitingStep = waiting.length ? typesOf(waiting[0]) : {};
// Parked: kiln's clock moves (0.2 s per state) but the build stays where it waits.
await new Promise((resolve) => setTimeout(resolve, 600));
out.workflowRuns.whileWaiting = (await ib.send(new GetImageCommand({ imageBuildVersionArn: approvalArn }))).image.state;
const waitingStep = await ib.send(new GetWorkflowStepExecutionCommand({ stepExecutionId: waiting[0].stepExecutionId }));
out.workflowRuns.waitingStep = { status: waitingStep.status, outputs: waitingStep.outputs ?? null };
const sent = await ib.send(new SendWorkflowStepActionCommand({
  stepExecutionId: waiting[0].stepExecutionId, imageBuildVersionArn: approvalArn, action: "RESUME",
  reason: "Approved by the JS SDK",
}));
out.workflowRuns.sent = { stepExecutionId: sent.stepExecutionId, imageBuildVersionArn: sent.imageBuildVersionArn,
  clientToken: sent.clientToken, status: sent.$metadata.httpStatusCode };
for (let i = 0; i < 400; i++) {
  const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn: approvalArn }));
  if (out.workflowRuns.statesSeen.at(-1) !== image.state.status) out.workflowRuns.statesSeen.push(image.state.status);
  if (["AVAILABLE", "FAILED", "CANCELLED"].includes(image.state.status)) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
out.workflowRuns.waitingAfter = (await ib.send(new ListWaitingWorkflowStepsCommand({}))).steps;
const executions = await collect(
  paginateListWorkflowExecutions({ client: ib, pageSize: 1 }, { imageBuildVersionArn: approvalArn }), "workflowExecutions");
out.workflowRuns.executions = { pages: executions.pages, items: executions.items };
out.types.workflowExecution = executions.items.length ? typesOf(executions.items[0]) : {};
const runId = executions.items[0].workflowExecutionId;
const execution = await ib.send(new GetWorkflowExecutionCommand({ workflowExecutionId: runId }));
delete execution.$metadata;
out.workflowRuns.execution = execution;
const steps = await collect(
  paginateListWorkflowStepExecutions({ client: ib, pageSize: 3 }, { workflowExecutionId: runId }), "steps");
out.workflowRuns.steps = { pages: steps.pages, items: steps.items };
out.types.stepMetadata = Object.fromEntries(steps.items.map((s) => [s.name, typesOf(s)]));
out.workflowRuns.stepDetails = {};
for (const s of steps.items) {
  const got = await ib.send(new GetWorkflowStepExecutionCommand({ stepExecutionId: s.stepExecutionId }));
  delete got.$metadata;
  out.workflowRuns.stepDetails[s.name] = got;
}
out.types.stepExecution = typesOf(out.workflowRuns.stepDetails.WaitForApproval);
out.workflowRuns.amis = (await ib.send(new GetImageCommand({ imageBuildVersionArn: approvalArn })))
  .image.outputResources.amis.map((a) => a.image);
await expectError("resumeAgain", ib.send(new SendWorkflowStepActionCommand({
  stepExecutionId: waiting[0].stepExecutionId, imageBuildVersionArn: approvalArn, action: "RESUME" })));
await expectError("missingStepExecution", ib.send(new GetWorkflowStepExecutionCommand({
  stepExecutionId: "step-00000000-0000-4000-a000-000000000000" })));

// Clean up: everything this script made can be deleted, in dependency order.
await ib.send(new DeleteImageCommand({ imageBuildVersionArn: imageArn }));
await ib.send(new DeleteImageCommand({ imageBuildVersionArn: approvalArn }));
await ib.send(new DeleteWorkflowCommand({ workflowBuildVersionArn: wf.workflowBuildVersionArn }));
await ib.send(new DeleteImageRecipeCommand({ imageRecipeArn: recipe.imageRecipeArn }));
for (const arn of out.componentArns) await ib.send(new DeleteComponentCommand({ componentBuildVersionArn: arn }));
await ib.send(new DeleteInfrastructureConfigurationCommand({ infrastructureConfigurationArn: infra.infrastructureConfigurationArn }));
for (const arn of [dist.distributionConfigurationArn, dist.distributionConfigurationArn.replace("js-dist", "js-dist-idem")]) {
  await ib.send(new DeleteDistributionConfigurationCommand({ distributionConfigurationArn: arn }));
}
out.remaining = {
  components: (await ib.send(new ListComponentsCommand({}))).componentVersionList.length,
  images: (await ib.send(new ListImagesCommand({}))).imageVersionList.length,
  workflows: (await ib.send(new ListWorkflowsCommand({}))).workflowVersionList.length,
};

console.log(JSON.stringify(out));
