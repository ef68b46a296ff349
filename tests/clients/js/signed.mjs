// The JavaScript SDK v3 against `kiln serve --auth sigv4`: its own SigV4 signer (Smithy's,
// not botocore's) must pass kiln's check, and a wrong secret must not.
//
//   KILN_URL=... KEY_ID=... SECRET=... node signed.mjs
import { ImagebuilderClient, ListComponentsCommand, CreateComponentCommand, GetComponentCommand } from "@aws-sdk/client-imagebuilder";

const client = (secret) => new ImagebuilderClient({
  region: "us-east-1", endpoint: process.env.KILN_URL, maxAttempts: 1,
  credentials: { accessKeyId: process.env.KEY_ID, secretAccessKey: secret },
});
const out = {};
const ib = client(process.env.SECRET);
const created = await ib.send(new CreateComponentCommand({
  name: "js-signed", semanticVersion: "1.0.0", platform: "Linux",
  data: "name: x\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: s\n        action: ExecuteBash\n        inputs:\n          commands: ['true']\n",
}));
out.arn = created.componentBuildVersionArn;
out.got = (await ib.send(new GetComponentCommand({ componentBuildVersionArn: out.arn }))).component.arn;
out.listed = (await ib.send(new ListComponentsCommand({ owner: "Self" }))).componentVersionList.length;
try {
  await client("wrong").send(new ListComponentsCommand({}));
  out.wrong = "accepted";
} catch (e) {
  out.wrong = { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
}
console.log(JSON.stringify(out));
