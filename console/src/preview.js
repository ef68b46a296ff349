// A preview of what a lifecycle policy's next run would do. No Image Builder operation
// answers that, so the page applies the policy's rules to the images the API lists now, at
// kiln's time, the way Image Builder documents them (and kiln applies them: docs/behaviour.md):
// selection by resource type and by recipe (name and version, x wildcards) or tags, among
// AVAILABLE, DEPRECATED and DISABLED images; each rule counted per image name, newest first;
// COUNT keeps the newest `value`; AGE acts on images at least `value` units old but keeps the
// newest `retainAtLeast`; images tagged as a rule's exclusionRules.tagMap says are left alone;
// the most severe action wins, and only an action that changes the image is listed.
// It is a preview: the run itself decides.

const SEVERITY = { DEPRECATE: 1, DISABLE: 2, DELETE: 3 };
const ACTS_ON = {
  DEPRECATE: ["AVAILABLE"],
  DISABLE: ["AVAILABLE", "DEPRECATED"],
  DELETE: ["AVAILABLE", "DEPRECATED", "DISABLED"],
};
const ELIGIBLE = ["AVAILABLE", "DEPRECATED", "DISABLED"];
const DAY = 86400000;

function semver(version) {
  return (version || "").split("/")[0].split(".").map(Number);
}

function versionMatches(pattern, version) {
  const want = pattern.split(".");
  const have = semver(version);
  return want.every((w, i) => w === "x" || Number(w) === have[i]);
}

function olderThan(created, now, value, unit) {
  if (unit === "DAYS" || unit === "WEEKS") return now - created >= value * DAY * (unit === "WEEKS" ? 7 : 1);
  const t = new Date(created);
  const months = value * (unit === "YEARS" ? 12 : 1) + t.getUTCMonth();
  const year = t.getUTCFullYear() + Math.floor(months / 12);
  const month = months % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const then = Date.UTC(year, month, Math.min(t.getUTCDate(), lastDay), t.getUTCHours(), t.getUTCMinutes(),
    t.getUTCSeconds(), t.getUTCMilliseconds());
  return now >= then;
}

const hasAnyTag = (tags, map) => Object.entries(map || {}).some(([k, v]) => (tags || {})[k] === v);

function selected(policy, image) {
  if (!ELIGIBLE.includes(image.state?.status)) return false;
  if ((image.type || "AMI") !== (policy.resourceType === "CONTAINER_IMAGE" ? "DOCKER" : "AMI")) return false;
  const selection = policy.resourceSelection || {};
  if (selection.tagMap && Object.keys(selection.tagMap).length) return hasAnyTag(image.tags, selection.tagMap);
  return (selection.recipes || []).some((r) => r.name === image.name && versionMatches(r.semanticVersion, image.version));
}

/** [{image, action, reason}] for `images` (ImageSummary documents) at `now` (ms since the epoch). */
export function previewLifecycle(policy, images, now) {
  const groups = new Map();
  for (const image of images) {
    if (!selected(policy, image)) continue;
    if (!groups.has(image.name)) groups.set(image.name, []);
    groups.get(image.name).push(image);
  }
  const chosen = new Map();
  for (const rule of policy.policyDetails || []) {
    const action = rule.action.type;
    const filter = rule.filter;
    const skip = rule.exclusionRules?.tagMap || {};
    for (const group of groups.values()) {
      const candidates = group
        .filter((i) => !hasAnyTag(i.tags, skip))
        .sort((a, b) => (Date.parse(b.dateCreated) - Date.parse(a.dateCreated)) || (b.arn < a.arn ? -1 : 1));
      let hit;
      let reason;
      if (filter.type === "COUNT") {
        hit = candidates.slice(filter.value);
        reason = `not among the newest ${filter.value}`;
      } else {
        const kept = candidates.slice(0, filter.retainAtLeast || 0);
        hit = candidates.filter((i) => !kept.includes(i) && olderThan(Date.parse(i.dateCreated), now, filter.value, filter.unit));
        reason = `older than ${filter.value} ${filter.unit.toLowerCase()}`;
      }
      for (const image of hit) {
        if (!ACTS_ON[action].includes(image.state?.status)) continue;
        const current = chosen.get(image.arn);
        if (!current || SEVERITY[action] > SEVERITY[current.action]) chosen.set(image.arn, { image, action, reason });
      }
    }
  }
  return [...chosen.values()].sort((a, b) => (a.image.arn < b.image.arn ? -1 : 1));
}

/** A rule in words: "Delete images not among the newest 2 of each image name". */
export function ruleInWords(rule) {
  const verb = { DELETE: "Delete", DEPRECATE: "Deprecate", DISABLE: "Disable" }[rule.action.type] || rule.action.type;
  const f = rule.filter;
  let words = f.type === "COUNT"
    ? `${verb} images beyond the newest ${f.value} of each image name`
    : `${verb} images older than ${f.value} ${f.unit.toLowerCase()}${f.retainAtLeast ? `, keeping at least the newest ${f.retainAtLeast}` : ""}`;
  const inc = rule.action.includeResources;
  if (inc) {
    const parts = [inc.amis && "AMIs", inc.snapshots && "snapshots", inc.containers && "container images"].filter(Boolean);
    if (parts.length) words += `; also acts on their ${parts.join(", ")}`;
  }
  const ex = rule.exclusionRules;
  if (ex?.tagMap && Object.keys(ex.tagMap).length) {
    words += `; except images tagged ${Object.entries(ex.tagMap).map(([k, v]) => `${k}=${v}`).join(" or ")}`;
  }
  if (ex?.amis) {
    const a = ex.amis;
    const bits = [
      a.isPublic && "public AMIs",
      a.regions?.length && `AMIs in ${a.regions.join(", ")}`,
      a.sharedAccounts?.length && `AMIs shared with ${a.sharedAccounts.join(", ")}`,
      a.lastLaunched && `AMIs launched in the last ${a.lastLaunched.value} ${a.lastLaunched.unit.toLowerCase()}`,
      a.tagMap && Object.keys(a.tagMap).length && `AMIs tagged ${Object.entries(a.tagMap).map(([k, v]) => `${k}=${v}`).join(" or ")}`,
    ].filter(Boolean);
    if (bits.length) words += `; never ${bits.join(", ")}`;
  }
  return words;
}
