import { useState } from "preact/hooks";
import { call, listAll } from "../api.js";
import { clientToken } from "../data.js";
import { describe, nextRuns } from "../schedule.js";
import { kilnNow } from "../clock.js";
import {
  ActionButton, ErrorBox, Facts, IN_PROGRESS, Loading, Status, Tags, Time, arnTail, formatTime, href, relative,
  useLoad, useTitle,
} from "../ui.jsx";

const START = {
  EXPRESSION_MATCH_ONLY: "on every match of the schedule",
  EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE: "on a match of the schedule, only when its parent image or components have newer versions",
};

/** Start a pipeline now; answers the new build's ARN. */
export function RunNow({ pipeline, onDone, label }) {
  const [started, setStarted] = useState(null);
  return (
    <span class="run-now">
      <ActionButton class="btn-primary" aria-label={label || `Run ${pipeline.name} now`}
        action={() => call("StartImagePipelineExecution", { imagePipelineArn: pipeline.arn, clientToken: clientToken() })}
        onDone={(r) => { setStarted(r.imageBuildVersionArn); onDone && onDone(r); }}>
        Run now
      </ActionButton>
      {started && <span role="status" class="small"> Started <a href={href.image(started)}>{arnTail(started)}</a></span>}
    </span>
  );
}

function Schedule({ pipeline, count = 3 }) {
  const s = pipeline.schedule;
  if (!s?.scheduleExpression) return <span class="muted">Manual only: no schedule</span>;
  const runs = pipeline.status === "ENABLED" ? nextRuns(s.scheduleExpression, s.timezone, count, pipeline.dateNextRun, kilnNow()) : [];
  return (
    <>
      <span>{describe(s.scheduleExpression, s.timezone)}</span>
      <span class="muted mono small"> {s.scheduleExpression}</span>
      {pipeline.status !== "ENABLED" && <div class="small muted">Disabled: it does not run.</div>}
      {runs.length > 0 && (
        <ol class="runs small" aria-label={`Next runs of ${pipeline.name}`}>
          {runs.map((d, i) => (
            <li key={i}><time datetime={d.toISOString()}>{formatTime(d.getTime() / 1000)}</time> <span class="muted">({relative(d.getTime() / 1000)})</span></li>
          ))}
        </ol>
      )}
    </>
  );
}

export function PipelinesPage() {
  useTitle("Pipelines");
  const { data, error, loading, reload } = useLoad(
    () => listAll("ListImagePipelines", { maxResults: 100 }, "imagePipelineList"), [], () => 10000);
  return (
    <>
      <h1>Pipelines</h1>
      <p class="lede">Image pipelines, their schedules in words and the next runs (the first as kiln answers it, dateNextRun).</p>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="Loading pipelines" /> : (data || []).length === 0 ? <p>No pipelines in this account and Region.</p> : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Image pipelines</caption>
            <thead>
              <tr><th scope="col">Pipeline</th><th scope="col">Status</th><th scope="col">Schedule and next runs</th>
                <th scope="col">Last run</th><th scope="col"><span class="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {data.map((p) => (
                <tr key={p.arn}>
                  <td><a href={href.pipeline(p.arn)}>{p.name}</a>{p.description && <div class="small muted">{p.description}</div>}</td>
                  <td><Status value={p.status} /></td>
                  <td><Schedule pipeline={p} /></td>
                  <td>{p.dateLastRun ? <><Status value={p.lastRunStatus} /> <Time value={p.dateLastRun} /></> : <span class="muted">never run</span>}</td>
                  <td><RunNow pipeline={p} onDone={reload} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

async function loadPipeline(arn) {
  const [{ imagePipeline }, images] = await Promise.all([
    call("GetImagePipeline", { imagePipelineArn: arn }),
    listAll("ListImagePipelineImages", { imagePipelineArn: arn, maxResults: 100 }, "imageSummaryList"),
  ]);
  images.sort((a, b) => Date.parse(b.dateCreated) - Date.parse(a.dateCreated) || (a.arn < b.arn ? 1 : -1));
  return { pipeline: imagePipeline, images };
}

export function PipelinePage({ params }) {
  const arn = decodeURIComponent(params.arn);
  const { data, error, loading, reload } = useLoad(() => loadPipeline(arn), [arn],
    (d) => (d && d.images.some((i) => IN_PROGRESS.has(i.state?.status)) ? 2000 : 10000));
  const p = data?.pipeline;
  useTitle(p ? `Pipeline ${p.name}` : "Pipeline");
  if (loading && !data) return <Loading what="Loading the pipeline" />;
  if (!data) return <><h1>Pipeline</h1><ErrorBox error={error} /></>;
  const s = p.schedule || {};
  return (
    <>
      <p class="crumbs"><a href="#/pipelines">Pipelines</a> ›</p>
      <h1>{p.name}</h1>
      <p class="status-line"><Status value={p.status} /> {p.platform} · created <Time value={p.dateCreated} /></p>
      <ErrorBox error={error} title="Could not refresh" />
      <div class="buttons"><RunNow pipeline={p} onDone={reload} /></div>
      <section aria-labelledby="schedule-h">
        <h2 id="schedule-h">Schedule</h2>
        {s.scheduleExpression ? (
          <>
            <p class="big">{describe(s.scheduleExpression, s.timezone)}</p>
            <Facts label="Schedule" items={[
              ["Expression", <span class="mono">{s.scheduleExpression}</span>],
              ["Time zone", s.timezone || "UTC"],
              ["Builds", START[s.pipelineExecutionStartCondition || "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"]],
              ["Last run", p.dateLastRun ? <><Status value={p.lastRunStatus} /> <Time value={p.dateLastRun} rel /></> : "never"],
              ["Consecutive failures", p.consecutiveFailures],
            ]} />
            <h3>Next runs</h3>
            <Schedule pipeline={{ ...p, schedule: s }} count={5} />
          </>
        ) : <p>No schedule: it builds only when run.</p>}
      </section>
      <section aria-labelledby="built-h">
        <h2 id="built-h">Images it built</h2>
        {data.images.length === 0 ? <p class="muted">None yet.</p> : (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Images built by {p.name}</caption>
              <thead><tr><th scope="col">Image</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Started by</th></tr></thead>
              <tbody>
                {data.images.map((i) => (
                  <tr key={i.arn}>
                    <td><a href={href.image(i.arn)}>{i.name} <span class="mono">{i.version}</span></a></td>
                    <td><Status value={i.state?.status} /></td>
                    <td><Time value={i.dateCreated} /></td>
                    <td>{(i.buildType || "").toLowerCase().replace(/_/g, " ") || "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="pconf-h">
        <h2 id="pconf-h">Configuration</h2>
        <Facts label="Pipeline configuration" items={[
          ["Recipe", <span class="mono">{arnTail(p.imageRecipeArn || p.containerRecipeArn)}</span>],
          ["Infrastructure", <span class="mono">{arnTail(p.infrastructureConfigurationArn)}</span>],
          ["Distribution", p.distributionConfigurationArn && <span class="mono">{arnTail(p.distributionConfigurationArn)}</span>],
          ["Tests", p.imageTestsConfiguration?.imageTestsEnabled === false ? "off" : "on"],
          ["Workflows", (p.workflows || []).map((w) => arnTail(w.workflowArn)).join(", ")],
          ["Execution role", p.executionRole],
          ["Description", p.description],
          ["ARN", <span class="mono">{p.arn}</span>],
        ]} />
        <h3>Tags</h3>
        <Tags tags={p.tags} />
      </section>
    </>
  );
}
