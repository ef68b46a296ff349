import { useState } from "preact/hooks";
import { listAll } from "../api.js";
import { loadImageBuilds } from "../data.js";
import { ErrorBox, IN_PROGRESS, Loading, Status, Time, href, useLoad, useTitle } from "../ui.jsx";
import { session } from "../session.js";

const STATUS_CHOICES = [
  ["", "Any status"], ["IN_PROGRESS", "In progress"], ["AVAILABLE", "Available"], ["FAILED", "Failed"],
  ["CANCELLED", "Cancelled"], ["DEPRECATED", "Deprecated"], ["DISABLED", "Disabled"],
];

function outputs(image) {
  const out = image.outputResources || {};
  const amis = (out.amis || []).map((a) => `${a.image} (${a.region})`);
  const uris = (out.containers || []).flatMap((c) => c.imageUris || []);
  return [...amis, ...uris];
}

export function ImagesPage() {
  useTitle("Images");
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const [type, setType] = useState("");
  const [platform, setPlatform] = useState("");
  const { data, error, loading } = useLoad(async () => {
    const [builds, steps] = await Promise.all([loadImageBuilds(), listAll("ListWaitingWorkflowSteps", { maxResults: 100 }, "steps")]);
    return { builds, waiting: new Map(steps.map((s) => [s.imageBuildVersionArn, s.name])) };
  }, [], (d) => (d && d.builds.some((b) => IN_PROGRESS.has(b.state?.status)) ? 3000 : 15000));
  const builds = data?.builds || [];
  const platforms = [...new Set(builds.map((b) => b.platform).filter(Boolean))].sort();
  const words = search.trim().toLowerCase();
  const shown = builds.filter((b) => {
    const s = b.state?.status;
    if (status === "IN_PROGRESS" ? !IN_PROGRESS.has(s) : status && s !== status) return false;
    if (type && b.type !== type) return false;
    if (platform && b.platform !== platform) return false;
    if (words && !`${b.name} ${b.version} ${b.arn} ${b.osVersion || ""} ${outputs(b).join(" ")}`.toLowerCase().includes(words)) return false;
    return true;
  });
  return (
    <>
      <h1>Images</h1>
      <p class="lede">Every build of this account's images in {session.region()}, newest first.</p>
      <form class="filters" role="search" aria-label="Filter images" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)}
            placeholder="name, version, AMI id…" />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            {STATUS_CHOICES.map(([v, l]) => <option value={v} key={v}>{l}</option>)}
          </select>
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">AMI and container</option>
            <option value="AMI">AMI</option>
            <option value="DOCKER">Container</option>
          </select>
        </label>
        <label>
          Platform
          <select value={platform} onChange={(e) => setPlatform(e.currentTarget.value)}>
            <option value="">Any platform</option>
            {platforms.map((p) => <option value={p} key={p}>{p}</option>)}
          </select>
        </label>
      </form>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="Loading images" /> : (
        <>
          <p class="muted" aria-live="polite">{shown.length} of {builds.length} builds</p>
          {builds.length === 0 && !error ? (
            <p>No images in this account and Region yet. Create one with CreateImage or a pipeline's “Run now”.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Image builds</caption>
                <thead>
                  <tr>
                    <th scope="col">Image</th><th scope="col">Version</th><th scope="col">Type</th>
                    <th scope="col">Platform</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Output</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((b) => (
                    <tr key={b.arn}>
                      <td><a href={href.image(b.arn)}>{b.name}</a></td>
                      <td class="mono">{b.version}</td>
                      <td>{b.type === "DOCKER" ? "Container" : "AMI"}</td>
                      <td>{b.platform}{b.osVersion ? <span class="muted"> · {b.osVersion}</span> : null}</td>
                      <td>
                        <Status value={b.state?.status} />
                        {data.waiting.has(b.arn) && <> <Status value="WAITING" /> <span class="small muted">at {data.waiting.get(b.arn)}</span></>}
                      </td>
                      <td><Time value={b.dateCreated} /></td>
                      <td class="mono small">{outputs(b).join(", ") || <span class="muted">—</span>}</td>
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
