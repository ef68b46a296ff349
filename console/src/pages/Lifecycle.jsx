import { useState } from "preact/hooks";
import { admin, call, listAll } from "../api.js";
import { loadImageBuilds } from "../data.js";
import { kilnNow } from "../clock.js";
import { previewLifecycle, ruleInWords } from "../preview.js";
import { ActionButton, ErrorBox, Facts, Loading, Status, Tags, Time, arnTail, href, useLoad, useTitle } from "../ui.jsx";

export function LifecyclePoliciesPage() {
  useTitle("Lifecycle policies");
  const { data, error, loading } = useLoad(
    () => listAll("ListLifecyclePolicies", { maxResults: 100 }, "lifecyclePolicySummaryList"), [], () => 15000);
  return (
    <>
      <h1>Lifecycle policies</h1>
      <p class="lede">Policies that deprecate, disable or delete old images, once a day.</p>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="Loading lifecycle policies" /> : (data || []).length === 0 ? <p>No lifecycle policies in this account and Region.</p> : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Lifecycle policies</caption>
            <thead><tr><th scope="col">Policy</th><th scope="col">Status</th><th scope="col">Resources</th><th scope="col">Last run</th></tr></thead>
            <tbody>
              {data.map((p) => (
                <tr key={p.arn}>
                  <td><a href={href.lifecycle(p.arn)}>{p.name}</a>{p.description && <div class="small muted">{p.description}</div>}</td>
                  <td><Status value={p.status} /></td>
                  <td>{p.resourceType === "CONTAINER_IMAGE" ? "Container images" : "AMI images"}</td>
                  <td>{p.dateLastRun ? <Time value={p.dateLastRun} /> : <span class="muted">never run</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

async function loadPolicy(arn) {
  const [{ lifecyclePolicy }, executions, images] = await Promise.all([
    call("GetLifecyclePolicy", { lifecyclePolicyArn: arn }),
    listAll("ListLifecycleExecutions", { resourceArn: arn, maxResults: 100 }, "lifecycleExecutions"),
    loadImageBuilds(),
  ]);
  executions.sort((a, b) => Date.parse(b.startTime) - Date.parse(a.startTime));
  return { policy: lifecyclePolicy, executions, images };
}

export function LifecyclePolicyPage({ params }) {
  const arn = decodeURIComponent(params.arn);
  const { data, error, loading, reload } = useLoad(() => loadPolicy(arn), [arn]);
  const p = data?.policy;
  useTitle(p ? `Lifecycle policy ${p.name}` : "Lifecycle policy");
  if (loading && !data) return <Loading what="Loading the lifecycle policy" />;
  if (!data) return <><h1>Lifecycle policy</h1><ErrorBox error={error} /></>;
  const preview = previewLifecycle(p, data.images, kilnNow());
  const selection = p.resourceSelection || {};
  return (
    <>
      <p class="crumbs"><a href="#/lifecycle">Lifecycle policies</a> ›</p>
      <h1>{p.name}</h1>
      <p class="status-line">
        <Status value={p.status} /> {p.resourceType === "CONTAINER_IMAGE" ? "container images" : "AMI images"}
        {" · "}runs once a day; last run {p.dateLastRun ? <Time value={p.dateLastRun} rel /> : "never"}
      </p>
      <ErrorBox error={error} title="Could not refresh" />
      <section aria-labelledby="rules-h">
        <h2 id="rules-h">Rules</h2>
        <ol class="plain-list rules">
          {(p.policyDetails || []).map((rule, i) => <li key={i}>{ruleInWords(rule)}.</li>)}
        </ol>
        <h3>Which images</h3>
        {selection.tagMap && Object.keys(selection.tagMap).length ? (
          <p>Images tagged {Object.entries(selection.tagMap).map(([k, v]) => `${k}=${v}`).join(" or ")}.</p>
        ) : (
          <ul class="plain-list">
            {(selection.recipes || []).map((r, i) => <li key={i}>Images built from the recipe <strong>{r.name}</strong>, version {r.semanticVersion}</li>)}
          </ul>
        )}
        <Facts label="Policy" items={[
          ["Execution role", p.executionRole], ["Description", p.description], ["Created", <Time value={p.dateCreated} />],
          ["ARN", <span class="mono">{p.arn}</span>],
        ]} />
      </section>
      <section aria-labelledby="preview-h">
        <h2 id="preview-h">Preview of the next run</h2>
        <p class="note">
          Preview: no Image Builder operation says what a run will do, so this page applies the rules above to the images
          listed now, at kiln's time. The run itself decides.
        </p>
        {preview.length === 0 ? <p>The next run would change no image.</p> : (
          <div class="table-wrap">
            <table>
              <caption>What the next run would do ({preview.length} {preview.length === 1 ? "image" : "images"})</caption>
              <thead><tr><th scope="col">Image</th><th scope="col">Now</th><th scope="col">Would</th><th scope="col">Because it is</th></tr></thead>
              <tbody>
                {preview.map(({ image, action, reason }) => (
                  <tr key={image.arn}>
                    <td><a href={href.image(image.arn)}>{image.name} <span class="mono">{image.version}</span></a></td>
                    <td><Status value={image.state?.status} /></td>
                    <td><strong class={`action action-${action.toLowerCase()}`}>{action.toLowerCase()}</strong></td>
                    <td>{reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <ActionButton action={() => admin("lifecycle/run", { lifecyclePolicyArn: arn })} onDone={reload}>
          Run it now (kiln)
        </ActionButton>
      </section>
      <section aria-labelledby="exec-h">
        <h2 id="exec-h">Past runs</h2>
        {data.executions.length === 0 ? <p class="muted">It has not run yet.</p> : data.executions.map((e) => <Execution key={e.lifecycleExecutionId} execution={e} />)}
      </section>
      <section aria-labelledby="ptags-h">
        <h2 id="ptags-h">Tags</h2>
        <Tags tags={p.tags} />
      </section>
    </>
  );
}

function Execution({ execution }) {
  const [open, setOpen] = useState(false);
  const { data, error, loading } = useLoad(
    () => (open ? listAll("ListLifecycleExecutionResources", { lifecycleExecutionId: execution.lifecycleExecutionId, maxResults: 100 }, "resources") : null),
    [open, execution.lifecycleExecutionId]);
  const impacted = execution.resourcesImpactedSummary?.hasImpactedResources;
  return (
    <details class="execution" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <Status value={execution.state?.status} /> <Time value={execution.startTime} />
        {" · "}{impacted ? "changed resources" : "changed nothing"}
        <span class="muted mono small"> {execution.lifecycleExecutionId}</span>
      </summary>
      {execution.state?.reason && <p>{execution.state.reason}</p>}
      {open && (loading && !data ? <Loading what="Loading its resources" /> : error ? <ErrorBox error={error} /> : (data || []).length === 0 ? <p class="muted">No resources.</p> : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Resources of run {execution.lifecycleExecutionId}</caption>
            <thead><tr><th scope="col">Resource</th><th scope="col">Region</th><th scope="col">Action</th><th scope="col">Result</th><th scope="col">Snapshots / URIs</th></tr></thead>
            <tbody>
              {data.map((r, i) => (
                <tr key={i}>
                  <td class="mono">{r.resourceId}</td>
                  <td>{r.region}</td>
                  <td>{r.action?.name?.toLowerCase()}{r.action?.reason && <div class="small muted">{r.action.reason}</div>}</td>
                  <td><Status value={r.state?.status} />{r.state?.reason && <div class="small">{r.state.reason}</div>}</td>
                  <td class="mono small">{[...(r.snapshots || []).map((s) => s.snapshotId), ...(r.imageUris || [])].join(", ") || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </details>
  );
}
