// The main Image Builder flow with the AWS SDK for JavaScript v3, against `kiln serve`.
//
//   kiln serve --in-memory &                  # listens on http://127.0.0.1:4599
//   cd examples/node && npm install && node flow.mjs
//   (KILN_URL=http://host:port to point elsewhere)
import { readFile } from "node:fs/promises";
import {
  ImagebuilderClient,
  CreateComponentCommand,
  CreateImageRecipeCommand,
  CreateInfrastructureConfigurationCommand,
  CreateDistributionConfigurationCommand,
  CreateImageCommand,
  GetImageCommand,
  ListImageBuildVersionsCommand,
  DeleteComponentCommand,
  DeleteImageRecipeCommand,
  DeleteInfrastructureConfigurationCommand,
  DeleteDistributionConfigurationCommand,
  DeleteImageCommand,
  ResourceNotFoundException,
  paginateListImages,
} from "@aws-sdk/client-imagebuilder";

const KILN_URL = process.env.KILN_URL ?? "http://127.0.0.1:4599";
const PARENT_IMAGE = "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x";
const UPDATE_LINUX = "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x";

const ib = new ImagebuilderClient({
  region: "us-east-1",
  endpoint: KILN_URL,
  // kiln takes any credentials; a 12-digit access key id becomes the account id.
  credentials: { accessKeyId: "123456789012", secretAccessKey: "kiln" },
});

const created = []; // [Command, input] to delete, newest last
try {
  const data = await readFile(new URL("../hello-component.yaml", import.meta.url), "utf8");
  const { componentBuildVersionArn } = await ib.send(new CreateComponentCommand({
    name: "hello-kiln", semanticVersion: "1.0.0", platform: "Linux", data,
  }));
  created.push([DeleteComponentCommand, { componentBuildVersionArn }]);
  console.log("component:", componentBuildVersionArn);

  const { imageRecipeArn } = await ib.send(new CreateImageRecipeCommand({
    name: "hello-recipe",
    semanticVersion: "1.0.0",
    parentImage: PARENT_IMAGE,
    components: [
      { componentArn: componentBuildVersionArn, parameters: [{ name: "Greeting", value: ["hello from Node"] }] },
      { componentArn: UPDATE_LINUX },
    ],
  }));
  created.push([DeleteImageRecipeCommand, { imageRecipeArn }]);
  console.log("recipe:", imageRecipeArn);

  const { infrastructureConfigurationArn } = await ib.send(new CreateInfrastructureConfigurationCommand({
    name: "hello-infra", instanceProfileName: "EC2InstanceProfileForImageBuilder", instanceTypes: ["t3.micro"],
  }));
  created.push([DeleteInfrastructureConfigurationCommand, { infrastructureConfigurationArn }]);
  console.log("infrastructure configuration:", infrastructureConfigurationArn);

  const { distributionConfigurationArn } = await ib.send(new CreateDistributionConfigurationCommand({
    name: "hello-distribution",
    distributions: ["us-east-1", "us-west-2"].map((region) => ({
      region, amiDistributionConfiguration: { name: "hello-kiln-{{ imagebuilder:buildDate }}" },
    })),
  }));
  created.push([DeleteDistributionConfigurationCommand, { distributionConfigurationArn }]);
  console.log("distribution configuration:", distributionConfigurationArn);

  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({
    imageRecipeArn, infrastructureConfigurationArn, distributionConfigurationArn, tags: { project: "kiln-example" },
  }));
  created.push([DeleteImageCommand, { imageBuildVersionArn }]);
  console.log("image:", imageBuildVersionArn);

  // Poll until the build ends (kiln builds in seconds; real builds take many minutes).
  for (let i = 0; ; i++) {
    const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn }));
    console.log("  ", image.state.status);
    if (image.state.status === "AVAILABLE") break;
    if (["FAILED", "CANCELLED"].includes(image.state.status) || i >= 120) {
      throw new Error(`build ended ${image.state.status}: ${image.state.reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }

  const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn }));
  console.log("state:", image.state.status, "created", image.dateCreated);
  for (const ami of image.outputResources.amis) console.log("  AMI", ami.image, "in", ami.region);

  const versionArn = imageBuildVersionArn.replace(/\/\d+$/, "");               // .../image/hello-recipe/1.0.0
  const wildcardArn = versionArn.replace(/\/[^/]+$/, "/x.x.x");                // .../image/hello-recipe/x.x.x
  for (const arn of [versionArn, wildcardArn]) {
    const got = await ib.send(new GetImageCommand({ imageBuildVersionArn: arn }));
    console.log(`GetImage(${arn}) -> ${got.image.arn}`);
    if (got.image.arn !== imageBuildVersionArn) throw new Error("wildcard resolved to the wrong build");
  }

  for await (const page of paginateListImages({ client: ib, pageSize: 10 }, {})) {
    for (const summary of page.imageVersionList) console.log("listed:", summary.arn, summary.version);
  }
  const builds = await ib.send(new ListImageBuildVersionsCommand({ imageVersionArn: versionArn }));
  console.log("builds of 1.0.0:", builds.imageSummaryList.map((b) => b.arn));

  try {
    await ib.send(new GetImageCommand({ imageBuildVersionArn: versionArn.replace("hello-recipe", "no-such-image") + "/1" }));
    throw new Error("expected ResourceNotFoundException");
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    console.log("expected error:", err.name, err.$metadata.httpStatusCode, "-", err.message);
  }
} finally {
  for (const [Command, input] of created.reverse()) await ib.send(new Command(input));
  console.log("cleaned up", created.length, "resources");
}
