import { useEffect, useRef, useState } from "preact/hooks";
import { admin, call, listAll } from "../api.js";
import { clientToken, mapLimit } from "../data.js";
import { session } from "../session.js";
import {
  ActionButton, ErrorBox, Facts, IN_PROGRESS, JsonText, Loading, Status, Tags, Time, arnTail, duration, href,
  seconds, useLoad, useTitle,
} from "../ui.jsx";

async function loadImage(arn) {
  const [{ image }, runs, waiting] = await Promise.all([
    call("GetImage", { imageBuildVersionArn: arn }),
    call("ListWorkflowExecutions", { imageBuildVersionArn: arn, maxResults: 100 }),
    listAll("ListWaitingWorkflowSteps", { maxResults: 100 }, "steps"),
  ]);
  const executions = await mapLimit(runs.workflowExecutions || [], 4, async (run) => ({
    ...run,
    steps: await listAll("ListWorkflowStepExecutions", { workflowExecutionId: run.workflowExecutionId, maxResults: 100 }, "steps"),
  }));
  return { image, executions, message: runs.message, waiting: waiting.filter((s) => s.imageBuildVersionArn === arn) };
}

const running = (data) => data && (IN_PROGRESS.has(data.image.state?.status)
  || data.executions.some((r) => r.status === "RUNNING" || r.status === "PENDING"));

export function ImagePage({ params }) {
  const arn = decodeURIComponent(params.arn);
  const focus = params.step ? decodeURIComponent(params.step) : null;
  const { data, error, loading, reload } = useLoad(() => loadImage(arn), [arn], (d) => (running(d) ? 1500 : null));
  const image = data?.image;
  useTitle(image ? `${image.name} ${image.version}` : "Image");
  if (loading && !data) return <Loading what="Loading the image" />;
  if (!data) return <><h1>Image</h1><ErrorBox error={error} /></>;
  const status = image.state?.status;
  const failedStep = findFailedStep(image, data.executions);
  return (
    <>
      <p class="crumbs"><a href="#/images">Images</a> ›</p>
      <h1>{image.name} <span class="mono version">{image.version}</span></h1>
      <p class="status-line">
        <Status value={status} /> {image.type === "DOCKER" ? "Container image" : "AMI"} · {image.platform}
        {image.osVersion ? ` · ${image.osVersion}` : ""} · created <Time value={image.dateCreated} rel />
        {running(data) && <span class="live" role="status"> · updating live</span>}
      </p>
      <ErrorBox error={error} title="Could not refresh" />
      {status === "FAILED" && <WhyFailed image={image} step={failedStep} />}
      {status === "CANCELLED" && image.state?.reason && (
        <div class="alert alert-off"><strong>Cancelled:</strong> {image.state.reason}</div>
      )}
      {data.waiting.length > 0 && (
        <div class="alert alert-warn" role="status">
          This build is waiting at {data.waiting.map((s) => s.name).join(", ")} for someone to resume or stop it
          (see the step below).
        </div>
      )}
      {IN_PROGRESS.has(status) && <BuildControls arn={arn} onDone={reload} />}
      <Timeline arn={arn} executions={data.executions} message={data.message} focus={focus}
        failed={failedStep?.stepExecutionId} waiting={data.waiting} onChange={reload} />
      <Recipe image={image} />
      <Configurations image={image} />
      <Outputs image={image} />
      <section aria-labelledby="tags-h">
        <h2 id="tags-h">Tags</h2>
        <Tags tags={image.tags} />
      </section>
      <section aria-labelledby="arn-h">
        <h2 id="arn-h">ARN</h2>
        <p class="mono">{image.arn}</p>
      </section>
    </>
  );
}

function findFailedStep(image, executions) {
  const ctx = image.state?.failureContext || {};
  for (const run of executions) {
    for (const step of run.steps) {
      if (ctx.stepExecutionId ? step.stepExecutionId === ctx.stepExecutionId : step.status === "FAILED" && !run.retried) {
        return { ...step, run };
      }
    }
  }
  return null;
}

function WhyFailed({ image, step }) {
  const state = image.state || {};
  const ctx = state.failureContext || {};
  const component = ctx.componentFailure;
  return (
    <section class="alert alert-bad why" aria-labelledby="why-h">
      <h2 id="why-h">Why the build failed</h2>
      <p class="reason">{state.reason || "No reason given."}</p>
      <Facts label="Where it failed" items={[
        ["Failed during", ctx.imageStatus && ctx.imageStatus.toLowerCase()],
        ["Workflow", (ctx.workflowArn || step?.run?.workflowBuildVersionArn) && arnTail(ctx.workflowArn || step.run.workflowBuildVersionArn)],
        ["Step", (ctx.failedStep || step?.name) && (step
          ? <a href={href.step(image.arn, step.stepExecutionId)}>{ctx.failedStep || step.name} — go to the failed step</a>
          : ctx.failedStep)],
        ["Component", component && <a href={href.component(component.componentArn)}>{arnTail(component.componentArn)}</a>],
        ["Phase", component?.phaseName],
        ["Component step", component?.stepName],
        ["Component error", component?.errorMessage],
      ]} />
    </section>
  );
}

function BuildControls({ arn, onDone }) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState("BUILDING");
  const [step, setStep] = useState("");
  const [reason, setReason] = useState("");
  const manual = session.config().buildTiming === "manual";
  return (
    <section class="kiln-panel" aria-labelledby="kiln-build-h">
      <h2 id="kiln-build-h">kiln's build controls</h2>
      <p class="muted small">
        Not part of Image Builder: kiln moves builds on {manual ? "only when told (--build-timing manual)" : "by itself; these hurry it"}.
      </p>
      <div class="buttons">
        <ActionButton action={() => admin("builds/advance", { imageBuildVersionArn: arn })} onDone={onDone}>Advance one state</ActionButton>
        <ActionButton action={() => admin("builds/advance", { imageBuildVersionArn: arn, toEnd: true })} onDone={onDone}>Advance to the end</ActionButton>
        <ActionButton class="btn-quiet" action={() => call("CancelImageCreation", { imageBuildVersionArn: arn, clientToken: clientToken() })}
          confirm="Cancel this build?" onDone={onDone}>Cancel build</ActionButton>
        <button type="button" class="btn btn-quiet" aria-expanded={open} onClick={() => setOpen(!open)}>Make it fail…</button>
      </div>
      {open && (
        <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
          <label>State
            <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
              {["BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"].map((s) => <option key={s}>{s}</option>)}
            </select>
          </label>
          <label>Step (optional)<input value={step} onInput={(e) => setStep(e.currentTarget.value)} placeholder="CreateOutputAMI" /></label>
          <label>Reason<input value={reason} required onInput={(e) => setReason(e.currentTarget.value)} /></label>
          <ActionButton action={() => admin("builds/fail", {
            imageBuildVersionArn: arn, state, reason: reason || "Failed from the kiln console.", ...(step ? { step } : {}),
          })} onDone={() => { setOpen(false); onDone(); }}>Plan the failure</ActionButton>
        </form>
      )}
    </section>
  );
}

function Timeline({ arn, executions, message, focus, failed, waiting, onChange }) {
  return (
    <section aria-labelledby="timeline-h">
      <h2 id="timeline-h">Build timeline</h2>
      {message && !executions.some((r) => r.message === message || (r.message || "").endsWith(message)) && <p>{message}</p>}
      {executions.length === 0 ? <p class="muted">No workflow has run for this image.</p> : executions.map((run) => (
        <article class={`run${run.retried ? " retried" : ""}`} key={run.workflowExecutionId} aria-label={`${run.type} workflow ${arnTail(run.workflowBuildVersionArn)}`}>
          <h3>
            <Status value={run.status} /> {run.type.toLowerCase()} workflow{" "}
            <a href={href.workflow(run.workflowBuildVersionArn)} class="mono">{arnTail(run.workflowBuildVersionArn)}</a>
            {run.retried && <span class="muted"> (an earlier attempt, retried)</span>}
          </h3>
          <p class="small muted">
            <Time value={run.startTime} /> → <Time value={run.endTime} /> {duration(run.startTime, run.endTime) && `(${duration(run.startTime, run.endTime)})`}
            {" · "}{run.totalStepsSucceeded ?? 0} succeeded, {run.totalStepsFailed ?? 0} failed, {run.totalStepsSkipped ?? 0} skipped of {run.totalStepCount ?? run.steps.length} steps
          </p>
          {run.message && <p class="run-message">{run.message}</p>}
          <ol class="steps">
            {run.steps.map((step) => (
              <Step key={step.stepExecutionId} arn={arn} step={step} focused={focus === step.stepExecutionId}
                failed={failed === step.stepExecutionId} waiting={waiting.find((w) => w.stepExecutionId === step.stepExecutionId)}
                onChange={onChange} />
            ))}
          </ol>
        </article>
      ))}
    </section>
  );
}

function Step({ arn, step, focused, failed, waiting, onChange }) {
  const ref = useRef(null);
  const [detail, setDetail] = useState(null);
  const [detailError, setDetailError] = useState(null);
  useEffect(() => {
    if (!focused) return;
    ref.current?.scrollIntoView({ block: "center" });
    ref.current?.querySelector("h4")?.focus();
    call("GetWorkflowStepExecution", { stepExecutionId: step.stepExecutionId }).then(setDetail, setDetailError);
  }, [focused, step.stepExecutionId, step.status]);
  return (
    <li ref={ref} id={`step-${step.stepExecutionId}`} class={`step step-${(step.status || "").toLowerCase()}${focused ? " focused" : ""}`}>
      <div class="step-head">
        <Status value={waiting ? "WAITING" : step.status} />
        <h4 tabIndex={-1}><a href={href.step(arn, step.stepExecutionId)}>{step.name}</a></h4>
        <span class="muted small">{step.action}</span>
        <span class="small step-time">
          {step.startTime ? <Time value={step.startTime} /> : "not started"}
          {step.endTime && <> → <Time value={step.endTime} /> ({duration(step.startTime, step.endTime)})</>}
        </span>
      </div>
      {step.description && <p class="small">{step.description}</p>}
      {step.message && <p class={step.status === "FAILED" ? "step-message bad" : "step-message"}>{failed ? "Failed: " : ""}{step.message}</p>}
      {waiting && <StepAction arn={arn} step={step} onDone={onChange} />}
      <details open={focused || failed}>
        <summary>Inputs and outputs</summary>
        <div class="io">
          <div><h5>Inputs</h5><JsonText text={step.inputs} label={`${step.name} inputs`} /></div>
          <div><h5>Outputs</h5><JsonText text={step.outputs} label={`${step.name} outputs`} /></div>
        </div>
      </details>
      {focused && <ErrorBox error={detailError} />}
      {focused && detail && (
        <Facts label="Step details" items={[
          ["Step execution", <span class="mono">{detail.stepExecutionId}</span>],
          ["On failure", detail.onFailure],
          ["Timeout", detail.timeoutSeconds && seconds(detail.timeoutSeconds)],
          ["Attempt", detail.attemptNumber && `${detail.attemptNumber} of ${detail.maxAttempts ?? 1}`],
          ["Rollback", detail.rollbackStatus],
          ["Workflow execution", <span class="mono">{detail.workflowExecutionId}</span>],
        ]} />
      )}
    </li>
  );
}

/** Resume or stop a WaitForAction step (SendWorkflowStepAction). */
export function StepAction({ arn, step, onDone }) {
  const [reason, setReason] = useState("");
  const id = `reason-${step.stepExecutionId}`;
  const send = (action) => call("SendWorkflowStepAction", {
    stepExecutionId: step.stepExecutionId, imageBuildVersionArn: arn, action,
    ...(reason ? { reason } : {}), clientToken: clientToken(),
  });
  return (
    <div class="step-action">
      <label for={id}>Reason (optional)</label>
      <input id={id} value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="Approved by QA" />
      <ActionButton class="btn-primary" action={() => send("RESUME")} onDone={onDone} aria-label={`Resume ${step.name}`}>Resume</ActionButton>
      <ActionButton class="btn-danger" action={() => send("STOP")} onDone={onDone} aria-label={`Stop ${step.name}`}
        confirm={`Stop ${step.name}? The build fails there unless the step continues on failure.`}>Stop</ActionButton>
    </div>
  );
}

function Recipe({ image }) {
  const recipe = image.imageRecipe || image.containerRecipe;
  if (!recipe) return null;
  const container = Boolean(image.containerRecipe);
  return (
    <section aria-labelledby="recipe-h">
      <h2 id="recipe-h">{container ? "Container recipe" : "Recipe"}</h2>
      <Facts label="Recipe" items={[
        ["Name", recipe.name],
        ["Version", recipe.version],
        ["Parent image", <span class="mono">{recipe.parentImage}</span>],
        ["Target repository", recipe.targetRepository && `${recipe.targetRepository.service} ${recipe.targetRepository.repositoryName}`],
        ["Working directory", recipe.workingDirectory],
        ["Description", recipe.description],
        ["ARN", <span class="mono">{recipe.arn}</span>],
      ]} />
      <h3>Components</h3>
      {(recipe.components || []).length === 0 ? <p class="muted">None.</p> : (
        <ol class="plain-list">
          {recipe.components.map((c, i) => (
            <li key={i}>
              <a href={href.component(c.componentArn)} class="mono">{arnTail(c.componentArn)}</a>
              {(c.parameters || []).length > 0 && (
                <span class="small"> — {c.parameters.map((p) => `${p.name}=${(p.value || []).join(",")}`).join("; ")}</span>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Configurations({ image }) {
  const infra = image.infrastructureConfiguration;
  const dist = image.distributionConfiguration;
  const tests = image.imageTestsConfiguration;
  return (
    <section aria-labelledby="config-h">
      <h2 id="config-h">Configurations</h2>
      {image.sourcePipelineArn && (
        <p>Built by the pipeline <a href={href.pipeline(image.sourcePipelineArn)}>{image.sourcePipelineName || arnTail(image.sourcePipelineArn)}</a>.</p>
      )}
      <div class="cols">
        <div>
          <h3>Infrastructure</h3>
          {infra ? <Facts label="Infrastructure configuration" items={[
            ["Name", infra.name],
            ["Instance profile", infra.instanceProfileName],
            ["Instance types", (infra.instanceTypes || []).join(", ")],
            ["Subnet", infra.subnetId],
            ["Security groups", (infra.securityGroupIds || []).join(", ")],
            ["Terminate on failure", infra.terminateInstanceOnFailure === undefined ? undefined : String(infra.terminateInstanceOnFailure)],
            ["SNS topic", infra.snsTopicArn],
          ]} /> : <p class="muted">None.</p>}
        </div>
        <div>
          <h3>Distribution</h3>
          {dist ? (
            <>
              <Facts label="Distribution configuration" items={[["Name", dist.name], ["Description", dist.description]]} />
              <ul class="plain-list">
                {(dist.distributions || []).map((d, i) => (
                  <li key={i}>{d.region}{d.amiDistributionConfiguration?.name ? <span class="mono small"> — {d.amiDistributionConfiguration.name}</span> : null}</li>
                ))}
              </ul>
            </>
          ) : <p class="muted">None: the output stays in {session.region()}.</p>}
        </div>
        <div>
          <h3>Tests and workflows</h3>
          <Facts label="Tests and workflows" items={[
            ["Tests", tests ? (tests.imageTestsEnabled === false ? "off" : `on, ${tests.timeoutMinutes ?? 720} min timeout`) : "on"],
            ["Execution role", image.executionRole],
            ["Workflows", (image.workflows || []).length ? image.workflows.map((w) => arnTail(w.workflowArn)).join(", ") : "AWS's default build and test workflows"],
            ["Enhanced metadata", image.enhancedImageMetadataEnabled === undefined ? undefined : String(image.enhancedImageMetadataEnabled)],
          ]} />
        </div>
      </div>
    </section>
  );
}

function Outputs({ image }) {
  const amis = image.outputResources?.amis || [];
  const containers = image.outputResources?.containers || [];
  return (
    <section aria-labelledby="out-h">
      <h2 id="out-h">Output</h2>
      {amis.length === 0 && containers.length === 0 && (
        <p class="muted">{IN_PROGRESS.has(image.state?.status) ? "Nothing yet: the output appears when the build completes." : "None."}</p>
      )}
      {amis.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>AMIs</caption>
            <thead><tr><th scope="col">Region</th><th scope="col">AMI</th><th scope="col">Name</th><th scope="col">Account</th><th scope="col">State</th></tr></thead>
            <tbody>
              {amis.map((a) => (
                <tr key={a.region + a.image}>
                  <td>{a.region}</td><td class="mono">{a.image}</td><td>{a.name}</td><td class="mono">{a.accountId}</td>
                  <td><Status value={a.state?.status} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {containers.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>Container images</caption>
            <thead><tr><th scope="col">Region</th><th scope="col">Image URIs</th></tr></thead>
            <tbody>
              {containers.map((c) => (
                <tr key={c.region}><td>{c.region}</td><td class="mono">{(c.imageUris || []).join(", ")}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
