// Loads several pages need, through the API.
import { call, listAll } from "./api.js";

/** `fn` over `items`, at most `width` at a time. */
export async function mapLimit(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

/** Every build of the account's own images (ImageSummary documents), newest first:
 * ListImages gives the versions, ListImageBuildVersions each version's builds. */
export async function loadImageBuilds() {
  const versions = await listAll("ListImages", { owner: "Self", includeDeprecated: true, maxResults: 100 }, "imageVersionList");
  const builds = await mapLimit(versions, 6, (v) =>
    listAll("ListImageBuildVersions", { imageVersionArn: v.arn, maxResults: 100 }, "imageSummaryList"));
  return builds.flat().sort((a, b) => Date.parse(b.dateCreated) - Date.parse(a.dateCreated) || (a.arn < b.arn ? 1 : -1));
}

/** A fresh idempotency token for the operations that take one. */
export const clientToken = () =>
  (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

export { call };
