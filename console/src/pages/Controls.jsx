// kiln's own controls (the /_kiln/ routes): the clock, builds, planned failures, fault rules, reset.
import { useState } from "preact/hooks";
import { admin } from "../api.js";
import model from "../operations.json";
import { session, useSession } from "../session.js";
import { clockFrozen, kilnNow } from "../clock.js";
import { ActionButton, ErrorBox, Loading, formatTime, useLoad, useTitle } from "../ui.jsx";

const ERRORS = ["ServiceUnavailableException", "CallRateLimitExceededException", "ServiceException", "ForbiddenException",
  "TooManyRequestsException"];
const STEPS = ["LaunchBuildInstance", "ApplyBuildComponents", "InventoryCollection", "RunSanitizeScript", "CreateOutputAMI",
  "TerminateBuildInstance", "LaunchTestInstance", "ApplyTestComponents", "TerminateTestInstance"];

export function ControlsPage({ refreshConfig }) {
  useTitle("kiln controls");
  useSession();
  const config = session.config();
  return (
    <>
      <h1>kiln's controls</h1>
      <p class="lede">
        kiln's own routes under <code>/_kiln/</code>, beside the Image Builder API: its clock, its builds, failures on
        demand and a reset. Build timing: <strong>{String(config.buildTiming)}</strong>
        {config.buildTiming === "manual" ? " (builds move only when advanced)" : typeof config.buildTiming === "number" ? " seconds per build state" : ""}.
      </p>
      {config.adminToken && <TokenForm />}
      <ClockControls refreshConfig={refreshConfig} />
      <BuildsControls />
      <PlannedFailure />
      <FaultRules />
      <Reset refreshConfig={refreshConfig} />
    </>
  );
}

function TokenForm() {
  const [token, setToken] = useState("");
  const has = Boolean(session.adminToken());
  return (
    <section class="panel" aria-labelledby="token-h">
      <h2 id="token-h">Admin token</h2>
      <p>
        This kiln asks for its admin token before anything below changes its state (it prints it when it starts, or takes
        it from <code>--admin-token</code>). The page keeps it for this tab only.
      </p>
      {has ? (
        <p>A token is set. <button type="button" class="btn btn-quiet" onClick={() => session.setAdminToken("")}>Forget it</button></p>
      ) : (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); session.setAdminToken(token.trim()); setToken(""); }}>
          <label>Token<input type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required /></label>
          <button type="submit" class="btn btn-primary">Use this token</button>
        </form>
      )}
    </section>
  );
}

function ClockControls({ refreshConfig }) {
  const [seconds, setSeconds] = useState("3600");
  const [result, setResult] = useState(null);
  const done = (r) => { setResult(r); refreshConfig(); };
  const advance = (s) => admin("clock/advance", { seconds: s });
  return (
    <section class="panel" aria-labelledby="clock-h">
      <h2 id="clock-h">Clock</h2>
      <p>
        kiln's time: <strong>{formatTime(kilnNow() / 1000)}</strong> {clockFrozen() ? "(frozen)" : "(running)"}.
        Moving it forward applies what fell due on the way: scheduled builds, lifecycle runs, step timeouts.
      </p>
      <div class="buttons">
        <ActionButton action={() => advance(60)} onDone={done}>+1 minute</ActionButton>
        <ActionButton action={() => advance(3600)} onDone={done}>+1 hour</ActionButton>
        <ActionButton action={() => advance(86400)} onDone={done}>+1 day</ActionButton>
        <ActionButton action={() => advance(7 * 86400)} onDone={done}>+1 week</ActionButton>
        {clockFrozen()
          ? <ActionButton class="btn-quiet" action={() => admin("clock/unfreeze", {})} onDone={done}>Unfreeze</ActionButton>
          : <ActionButton class="btn-quiet" action={() => admin("clock/freeze", {})} onDone={done}>Freeze</ActionButton>}
      </div>
      <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
        <label>Seconds<input type="number" min="0" step="1" value={seconds} onInput={(e) => setSeconds(e.currentTarget.value)} /></label>
        <ActionButton action={() => advance(Number(seconds))} onDone={done}>Advance</ActionButton>
      </form>
      {result && <p role="status" class="small">kiln's clock now reads {result.now}.</p>}
    </section>
  );
}

function BuildsControls() {
  const [result, setResult] = useState(null);
  return (
    <section class="panel" aria-labelledby="builds-h">
      <h2 id="builds-h">Builds in progress</h2>
      <p>Move every build in progress (in this kiln, every account and Region) on by one state, or to its end.</p>
      <div class="buttons">
        <ActionButton action={() => admin("builds/advance", {})} onDone={setResult}>Advance all one state</ActionButton>
        <ActionButton action={() => admin("builds/advance", { toEnd: true })} onDone={setResult}>Advance all to the end</ActionButton>
      </div>
      {result && (
        <p role="status" class="small">
          {Object.keys(result.builds || {}).length === 0 ? "No build was in progress."
            : Object.entries(result.builds).map(([arn, s]) => `${arn.split("/").slice(-3).join("/")}: ${s}`).join("; ")}
        </p>
      )}
    </section>
  );
}

function PlannedFailure() {
  const [state, setState] = useState("BUILDING");
  const [step, setStep] = useState("");
  const [reason, setReason] = useState("");
  const [arn, setArn] = useState("");
  const [result, setResult] = useState(null);
  return (
    <section class="panel" aria-labelledby="fail-h">
      <h2 id="fail-h">Planned failures</h2>
      <p>Make the next build created in {session.region()} (or the build named) fail, in a state or at a workflow step, with your reason.</p>
      <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
        <label>State
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            {["PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"].map((s) => <option key={s}>{s}</option>)}
          </select>
        </label>
        <label>Workflow step (optional)
          <input list="step-names" value={step} onInput={(e) => setStep(e.currentTarget.value)} />
        </label>
        <datalist id="step-names">{STEPS.map((s) => <option key={s} value={s} />)}</datalist>
        <label>Reason<input value={reason} onInput={(e) => setReason(e.currentTarget.value)} placeholder="The snapshot could not be made." /></label>
        <label>Image build ARN (optional)<input value={arn} onInput={(e) => setArn(e.currentTarget.value)} placeholder="the next build" /></label>
        <ActionButton action={() => admin("builds/fail", {
          state, reason: reason || "Failed from the kiln console.", ...(step ? { step } : {}),
          ...(arn ? { imageBuildVersionArn: arn } : { account: session.account(), region: session.region() }),
        })} onDone={setResult}>Plan the failure</ActionButton>
      </form>
      {result && <p role="status" class="small">Planned: {result.planned}, failing in {result.state}{result.step ? ` at ${result.step}` : ""}.</p>}
    </section>
  );
}

function FaultRules() {
  const { data, error, loading, reload } = useLoad(() => admin("faults"), []);
  const [form, setForm] = useState({ operation: "", error: ERRORS[0], message: "", count: "", probability: "", latency: "" });
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const rule = () => {
    const r = { error: form.error };
    if (form.operation) r.operation = form.operation;
    if (form.message) r.message = form.message;
    for (const k of ["count", "probability", "latency"]) if (form[k] !== "") r[k] = Number(form[k]);
    return r;
  };
  const rules = data?.rules || [];
  return (
    <section class="panel" aria-labelledby="faults-h">
      <h2 id="faults-h">Fault rules</h2>
      <p>
        Answer Image Builder calls with the service's own errors, throttles or latency (docs/faults.md). They apply to
        this page's calls too.
      </p>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="Loading fault rules" /> : rules.length === 0 ? <p class="muted">No fault rule is in force.</p> : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Fault rules in force</caption>
            <thead><tr><th scope="col">Id</th><th scope="col">Rule</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {rules.map((r) => (
                <tr key={r.id}>
                  <td class="mono">{r.id}</td>
                  <td class="mono small">{Object.entries(r).filter(([k]) => k !== "id").map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")}</td>
                  <td><ActionButton class="btn-quiet" action={() => admin("faults/clear", { id: r.id })} onDone={reload} aria-label={`Clear rule ${r.id}`}>Clear</ActionButton></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form class="inline-form" onSubmit={(e) => e.preventDefault()} aria-label="Add a fault rule">
        <label>Operation (all if empty)<input list="operation-names" value={form.operation} onInput={set("operation")} /></label>
        <datalist id="operation-names">{Object.keys(model.operations).map((o) => <option key={o} value={o} />)}</datalist>
        <label>Error
          <select value={form.error} onChange={set("error")}>{ERRORS.map((e) => <option key={e}>{e}</option>)}</select>
        </label>
        <label>Message<input value={form.message} onInput={set("message")} /></label>
        <label>Count<input type="number" min="1" value={form.count} onInput={set("count")} /></label>
        <label>Probability<input type="number" min="0" max="1" step="0.05" value={form.probability} onInput={set("probability")} /></label>
        <label>Latency (s)<input type="number" min="0" step="0.1" value={form.latency} onInput={set("latency")} /></label>
        <ActionButton action={() => admin("faults/add", rule())} onDone={reload}>Add the rule</ActionButton>
      </form>
      {rules.length > 0 && <ActionButton class="btn-quiet" action={() => admin("faults/clear", {})} onDone={reload}>Clear every rule</ActionButton>}
    </section>
  );
}

function Reset({ refreshConfig }) {
  const [done, setDone] = useState(false);
  return (
    <section class="panel danger-zone" aria-labelledby="reset-h">
      <h2 id="reset-h">Reset</h2>
      <p>Delete every resource of every account and Region in this kiln, put its clock back and its fault rules back to those it started with.</p>
      <ActionButton class="btn-danger" confirm="Delete every resource in this kiln? This cannot be undone."
        action={() => admin("reset", {})} onDone={() => { setDone(true); refreshConfig(); }}>Reset kiln</ActionButton>
      {done && <p role="status">kiln is empty.</p>}
    </section>
  );
}
