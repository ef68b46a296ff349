// Components and workflows: their names, versions and builds, and each build's document.
import { useState } from "preact/hooks";
import { call, listAll } from "../api.js";
import { Code, ErrorBox, Facts, Loading, Status, Tags, Time, arnTail, href, useLoad, useTitle } from "../ui.jsx";

const KINDS = {
  component: {
    title: "Components", one: "Component", list: "ListComponents", listKey: "componentVersionList",
    builds: "ListComponentBuildVersions", buildsArg: "componentVersionArn", buildsKey: "componentSummaryList",
    get: "GetComponent", getArg: "componentBuildVersionArn", getKey: "component", href: href.component, path: "#/components",
    lede: "Component documents: the steps a build runs, phase by phase.",
  },
  workflow: {
    title: "Workflows", one: "Workflow", list: "ListWorkflows", listKey: "workflowVersionList",
    builds: "ListWorkflowBuildVersions", buildsArg: "workflowVersionArn", buildsKey: "workflowSummaryList",
    get: "GetWorkflow", getArg: "workflowBuildVersionArn", getKey: "workflow", href: href.workflow, path: "#/workflows",
    lede: "Workflow documents: the steps of a build, test or distribution.",
  },
};

export function DocumentsPage({ kind }) {
  const k = KINDS[kind];
  useTitle(k.title);
  const [owner, setOwner] = useState("Self");
  const [search, setSearch] = useState("");
  const { data, error, loading } = useLoad(() => listAll(k.list, { owner, byName: true, maxResults: 100 }, k.listKey), [kind, owner]);
  const words = search.trim().toLowerCase();
  const shown = (data || []).filter((d) => !words || `${d.name} ${d.description || ""} ${d.type || ""}`.toLowerCase().includes(words));
  return (
    <>
      <h1>{k.title}</h1>
      <p class="lede">{k.lede}</p>
      <form class="filters" role="search" aria-label={`Filter ${k.title.toLowerCase()}`} onSubmit={(e) => e.preventDefault()}>
        <label>Owner
          <select value={owner} onChange={(e) => setOwner(e.currentTarget.value)}>
            <option value="Self">This account</option>
            <option value="Amazon">Amazon (AWS-managed)</option>
            <option value="Shared">Shared with this account</option>
          </select>
        </label>
        <label>Search<input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} /></label>
      </form>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what={`Loading ${k.title.toLowerCase()}`} /> : (
        <>
          <p class="muted" aria-live="polite">{shown.length} of {(data || []).length}</p>
          {shown.length > 0 && (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">{k.title}</caption>
                <thead><tr><th scope="col">Name</th><th scope="col">Latest version</th><th scope="col">{kind === "component" ? "Platform" : "Type"}</th><th scope="col">Description</th><th scope="col">Created</th></tr></thead>
                <tbody>
                  {shown.map((d) => (
                    <tr key={d.arn}>
                      <td><a href={k.href(d.arn)}>{d.name}</a></td>
                      <td class="mono">{d.version}</td>
                      <td>{kind === "component" ? d.platform : d.type}</td>
                      <td class="small">{d.description}</td>
                      <td><Time value={d.dateCreated} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}

/** An ARN of a build (…/name/1.0.0/1), a version (…/name/1.0.0) or a wildcard: its parts. */
function parseArn(arn) {
  const [head, ...rest] = arn.split("/");
  const typed = rest.length && /^(build|test|distribution)$/.test(rest[0]); // workflows: workflow/build/name/…
  const parts = typed ? rest.slice(1) : rest;
  const prefix = typed ? `${head}/${rest[0]}` : head;
  return { prefix, name: parts[0], version: parts[1], build: parts[2] };
}

async function loadDocument(k, arn) {
  const { prefix, name, version, build } = parseArn(arn);
  const owner = arn.split(":")[4] === "aws" ? "Amazon" : "Self";
  const versions = await listAll(k.list, { owner, filters: [{ name: "name", values: [name] }], maxResults: 100 }, k.listKey)
    .catch(() => []);
  versions.sort((a, b) => cmpVersion(b.version, a.version));
  const concrete = version && !version.includes("x") ? version : versions[0]?.version;
  if (!concrete) throw Object.assign(new Error(`No version of ${name} was found.`), { code: "NotFound" });
  const versionArn = `${prefix}/${name}/${concrete}`;
  const builds = await listAll(k.builds, { [k.buildsArg]: versionArn, maxResults: 100 }, k.buildsKey);
  builds.sort((a, b) => Number(b.arn.split("/").pop()) - Number(a.arn.split("/").pop()));
  const buildArn = build && version === concrete ? `${versionArn}/${build}` : builds[0]?.arn;
  const doc = buildArn ? (await call(k.get, { [k.getArg]: buildArn }))[k.getKey] : null;
  return { versions, builds, doc, versionArn };
}

function cmpVersion(a, b) {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

export function DocumentPage({ kind, params }) {
  const k = KINDS[kind];
  const arn = decodeURIComponent(params.arn);
  const { data, error, loading } = useLoad(() => loadDocument(k, arn), [kind, arn]);
  const doc = data?.doc;
  useTitle(doc ? `${k.one} ${doc.name} ${doc.version}` : k.one);
  if (loading && !data) return <Loading what={`Loading the ${kind}`} />;
  if (!data) return <><h1>{k.one}</h1><ErrorBox error={error} /></>;
  return (
    <>
      <p class="crumbs"><a href={k.path}>{k.title}</a> ›</p>
      <h1>{doc ? <>{doc.name} <span class="mono version">{arnTail(doc.arn).split("/").slice(-2).join("/")}</span></> : arnTail(arn)}</h1>
      {doc && (
        <p class="status-line">
          {doc.state?.status && <><Status value={doc.state.status} /> </>}
          {kind === "component" ? `${doc.type?.toLowerCase() || ""} component · ${doc.platform}` : `${doc.type?.toLowerCase()} workflow`}
          {" · "}owner {doc.owner} · created <Time value={doc.dateCreated} />
        </p>
      )}
      <div class="doc-layout">
        <nav aria-label="Versions" class="versions">
          <h2>Versions</h2>
          <ul class="plain-list">
            {data.versions.map((v) => (
              <li key={v.arn}>
                <a href={k.href(v.arn)} aria-current={v.arn === data.versionArn ? "true" : undefined} class="mono">{v.version}</a>
              </li>
            ))}
          </ul>
          <h2>Builds of {data.versionArn.split("/").pop()}</h2>
          <ul class="plain-list">
            {data.builds.map((b) => (
              <li key={b.arn}>
                <a href={k.href(b.arn)} aria-current={doc && b.arn === doc.arn ? "true" : undefined} class="mono">{arnTail(b.arn).split("/").slice(-2).join("/")}</a>
                {" "}<Time value={b.dateCreated} />
              </li>
            ))}
          </ul>
        </nav>
        {doc && (
          <div class="doc-main">
            <Facts label={`${k.one} details`} items={[
              ["Description", doc.description],
              ["Change", doc.changeDescription],
              ["Supported OS versions", (doc.supportedOsVersions || []).join(", ")],
              ["Parameters", (doc.parameters || []).map((p) => `${p.name} (${p.type}${p.defaultValue ? `, default ${[].concat(p.defaultValue).join(",")}` : ""})`).join("; ")],
              ["Encrypted", doc.encrypted === undefined ? undefined : String(doc.encrypted)],
              ["ARN", <span class="mono">{doc.arn}</span>],
            ]} />
            <h2>Document</h2>
            {doc.data ? <Code text={doc.data} language="yaml" label={`${doc.name} document, YAML`} /> : <p class="muted">The document is not shown (obfuscated or not returned).</p>}
            <h2>Tags</h2>
            <Tags tags={doc.tags} />
          </div>
        )}
      </div>
    </>
  );
}
