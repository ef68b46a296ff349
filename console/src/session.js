// Who the page acts as: the account and Region chosen in the page (kept in localStorage),
// and, when kiln asks for them, the access key (--auth sigv4) and the admin token, kept in
// sessionStorage only: they go when the tab closes.
import { useEffect, useState } from "preact/hooks";

const listeners = new Set();
let config = { auth: "none", adminToken: false, defaultAccount: "123456789012", defaultRegion: "us-east-1" };

function read(store, key, fallback = "") {
  try {
    return store.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

function write(store, key, value) {
  try {
    if (value) store.setItem(key, value);
    else store.removeItem(key);
  } catch {
    /* storage may be off: the value lasts until the page reloads */
  }
}

const memory = {};

export const session = {
  setConfig(c) {
    config = c;
    changed();
  },
  config: () => config,
  signed: () => config.auth === "sigv4",
  account: () => memory.account || read(localStorage, "kiln.account", config.defaultAccount),
  region: () => memory.region || read(localStorage, "kiln.region", config.defaultRegion),
  setScope(account, region) {
    memory.account = account;
    memory.region = region;
    write(localStorage, "kiln.account", account);
    write(localStorage, "kiln.region", region);
    changed();
  },
  keys: () => ({
    accessKeyId: memory.accessKeyId || read(sessionStorage, "kiln.accessKeyId"),
    secretAccessKey: memory.secretAccessKey || read(sessionStorage, "kiln.secretAccessKey"),
  }),
  hasKeys() {
    const k = session.keys();
    return Boolean(k.accessKeyId && k.secretAccessKey);
  },
  setKeys(accessKeyId, secretAccessKey) {
    memory.accessKeyId = accessKeyId;
    memory.secretAccessKey = secretAccessKey;
    write(sessionStorage, "kiln.accessKeyId", accessKeyId);
    write(sessionStorage, "kiln.secretAccessKey", secretAccessKey);
    changed();
  },
  /** What requests are signed with: with --auth sigv4 the key given in the page (its account is
   * the one kiln's credentials file gives it); otherwise the account id as the access key id,
   * which is how kiln (and its README) names the account, and any secret. */
  credentials() {
    const region = session.region();
    if (session.signed()) return { ...session.keys(), region };
    return { accessKeyId: session.account(), secretAccessKey: "kiln-console", region };
  },
  adminToken: () => memory.adminToken || read(sessionStorage, "kiln.adminToken"),
  setAdminToken(token) {
    memory.adminToken = token;
    write(sessionStorage, "kiln.adminToken", token);
    changed();
  },
};

function changed() {
  for (const fn of listeners) fn();
}

/** Re-render when the account, Region, keys or token change; answers a number that changes with them. */
export function useSession() {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const fn = () => setVersion((v) => v + 1);
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return `${session.account()}|${session.region()}|${session.keys().accessKeyId}|${version}`;
}
