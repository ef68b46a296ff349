// The Image Builder API, called as any SDK calls it: rest-json requests built from the
// service model (operations.json, written from botocore's model by scripts/operations.py),
// signed with AWS Signature Version 4 (the AWS SDK's own signer, @smithy/signature-v4), and
// kiln's /_kiln/ routes for what only kiln has (the clock, builds, failure rules).
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import model from "./operations.json";
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message, operation) {
    super(message);
    this.status = status;
    this.code = code;
    this.operation = operation;
  }
}

// RFC 3986 encoding, as SigV4 canonicalises it (encodeURIComponent leaves !'()* alone).
const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

let signer = null;
let signerKey = "";

function currentSigner() {
  const { accessKeyId, secretAccessKey, region } = session.credentials();
  const key = [accessKeyId, secretAccessKey, region].join("\n");
  if (signer === null || key !== signerKey) {
    // Unsigned kiln reads only the Credential scope: the access key id is the account there.
    signer = new SignatureV4({
      credentials: { accessKeyId, secretAccessKey },
      region,
      service: "imagebuilder",
      sha256: Sha256, // pure JavaScript: signs on plain http:// too, where crypto.subtle is absent
      applyChecksum: false,
    });
    signerKey = key;
  }
  return signer;
}

/** Call an Image Builder operation with its input members; answers the output document. */
export async function call(operation, input = {}) {
  const spec = model.operations[operation];
  if (!spec) throw new Error(`Unknown operation ${operation}`);
  const [method, uri, where] = spec;
  let path = uri;
  const query = {};
  const body = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    const place = where[name];
    if (!place) body[name] = value;
    else if (place[0] === "uri") path = path.replace(`{${place[1]}}`, encode(String(value)));
    else if (place[0] === "querystring") query[place[1]] = String(value);
  }
  const hasBody = method !== "GET" && method !== "DELETE";
  const text = hasBody ? JSON.stringify(body) : "";
  const headers = { host: location.host };
  if (hasBody) headers["content-type"] = "application/json";
  const signed = await currentSigner().sign({
    method, protocol: location.protocol, hostname: location.hostname, port: location.port ? Number(location.port) : undefined,
    path, query, headers, body: hasBody ? text : undefined,
  });
  const qs = Object.keys(query).sort().map((k) => `${encode(k)}=${encode(query[k])}`).join("&");
  const sent = { ...signed.headers };
  delete sent.host; // the browser sends it
  const response = await fetch(path + (qs ? "?" + qs : ""), {
    method, headers: sent, body: hasBody ? text : undefined, credentials: "omit", cache: "no-store",
  });
  const doc = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = (response.headers.get("x-amzn-errortype") || "").split(":")[0] || `HTTP ${response.status}`;
    throw new ApiError(response.status, code, doc.message || doc.Message || response.statusText, operation);
  }
  return doc;
}

/** Every page of a list operation: the members named `key` of each page, concatenated. */
export async function listAll(operation, input, key, limit = 1000) {
  let items = [];
  let nextToken;
  do {
    const page = await call(operation, { ...input, nextToken });
    items = items.concat(page[key] || []);
    nextToken = page.nextToken;
  } while (nextToken && items.length < limit);
  return items;
}

/** A kiln control under /_kiln/: GET without a body, POST with one (the admin token, if set, is sent). */
export async function admin(path, body) {
  const headers = {};
  const token = session.adminToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`/_kiln/${path}`, {
    method: body === undefined ? "GET" : "POST", headers, credentials: "omit", cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const doc = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = response.status === 401 ? "AdminTokenRequired" : response.status === 403 ? "Forbidden" : `HTTP ${response.status}`;
    throw new ApiError(response.status, code, doc.message || response.statusText, `/_kiln/${path}`);
  }
  return doc;
}

/** How this kiln is set up (kiln/console/__init__.py's config()). */
export async function kilnConfig() {
  const response = await fetch("/_kiln/console/config.json", { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new ApiError(response.status, `HTTP ${response.status}`, "kiln's console config could not be read", "config");
  return response.json();
}
