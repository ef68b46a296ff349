// Small pieces every page uses: loading with polling, status badges, times, errors, code.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import hljs from "highlight.js/lib/core";
import yaml from "highlight.js/lib/languages/yaml";
import json from "highlight.js/lib/languages/json";
import { useSession } from "./session.js";
import { kilnNow } from "./clock.js";

hljs.registerLanguage("yaml", yaml);
hljs.registerLanguage("json", json);

const CHANGED = "kiln:changed";

/** Tell every loaded view that the store changed (after an action). */
export const changed = () => dispatchEvent(new Event(CHANGED));

/** Load with `fn()` when the session or `deps` change; poll while `every(data)` answers milliseconds. */
export function useLoad(fn, deps = [], every = null) {
  const scope = useSession();
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const timer = useRef(null);
  const run = useCallback(async () => {
    const mine = ++generation.current;
    clearTimeout(timer.current);
    try {
      const data = await fn();
      if (mine !== generation.current) return;
      setState({ data, error: null, loading: false });
      const wait = every ? every(data) : null;
      if (wait) timer.current = setTimeout(run, wait);
    } catch (error) {
      if (mine !== generation.current) return;
      setState((s) => ({ data: s.data, error, loading: false }));
      const wait = every ? every(undefined) : null;
      if (wait) timer.current = setTimeout(run, Math.max(wait, 3000));
    }
  }, [scope, ...deps]);
  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    run();
    addEventListener(CHANGED, run); // an action on the page changed something: every view reloads
    return () => {
      generation.current++;
      clearTimeout(timer.current);
      removeEventListener(CHANGED, run);
    };
  }, [run]);
  return { ...state, reload: run };
}

const TONE = {
  AVAILABLE: "ok", COMPLETED: "ok", SUCCESS: "ok", ENABLED: "ok", ACTIVE: "ok",
  FAILED: "bad", ROLLBACK_COMPLETED: "bad",
  CANCELLED: "off", CANCELLING: "off", SKIPPED: "off", DISABLED: "warn", DELETED: "off", DEPRECATED: "warn",
  PENDING: "wait", RUNNING: "run", CREATING: "run", BUILDING: "run", TESTING: "run", DISTRIBUTING: "run",
  INTEGRATING: "run", IN_PROGRESS: "run", ROLLBACK_IN_PROGRESS: "run", WAITING: "warn",
};

export const IN_PROGRESS = new Set(["PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"]);

export function Status({ value }) {
  if (!value) return <span class="muted">—</span>;
  return <span class={`badge badge-${TONE[value] || "off"}`}>{value.replace(/_/g, " ").toLowerCase()}</span>;
}

const pad = (n) => String(n).padStart(2, "0");

/** An instant as kiln writes it (ISO 8601 or epoch seconds) in UTC, e.g. 2026-11-30 18:20:42 UTC. */
export function formatTime(value) {
  const d = toDate(value);
  if (!d) return "—";
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

export function toDate(value) {
  if (value === undefined || value === null || value === "") return null;
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "in 3 hours", "5 minutes ago": against kiln's clock, which the controls can move. */
export function relative(value) {
  const d = toDate(value);
  if (!d) return "";
  const seconds = Math.round((d.getTime() - kilnNow()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return "just now";
  const [n, unit] = abs < 60 ? [abs, "second"] : abs < 3600 ? [Math.round(abs / 60), "minute"]
    : abs < 86400 * 2 ? [Math.round(abs / 3600), "hour"] : [Math.round(abs / 86400), "day"];
  const words = `${n} ${unit}${n === 1 ? "" : "s"}`;
  return seconds >= 0 ? `in ${words}` : `${words} ago`;
}

export function Time({ value, rel = false }) {
  const d = toDate(value);
  if (!d) return <span class="muted">—</span>;
  return (
    <time datetime={d.toISOString()}>
      {formatTime(value)}
      {rel && <span class="muted"> ({relative(value)})</span>}
    </time>
  );
}

export function duration(start, end) {
  const a = toDate(start);
  const b = toDate(end);
  if (!a || !b) return "";
  const s = Math.max(0, Math.round((b - a) / 1000));
  return seconds(s);
}

/** 90 -> "90 s", 3600 -> "60 min", 43200 -> "12 h". */
export function seconds(s) {
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${+(s / 3600).toFixed(1)} h`;
}

export function ErrorBox({ error, title }) {
  if (!error) return null;
  const token = error.code === "AdminTokenRequired";
  return (
    <div class="alert alert-bad" role="alert">
      <strong>{title || (error.code ? `${error.code}` : "Error")}</strong>
      {title && error.code ? ` (${error.code})` : ""}: {error.message}
      {token && <> — enter kiln's admin token under <a href="#/controls">Controls</a>.</>}
    </div>
  );
}

export function Loading({ what = "Loading" }) {
  return <p class="muted" role="status">{what}…</p>;
}

/** A document, syntax-highlighted by highlight.js (YAML or JSON). */
export function Code({ text, language = "yaml", label }) {
  const html = text ? hljs.highlight(text, { language, ignoreIllegals: true }).value : "";
  return (
    <pre class="code" tabIndex={0} aria-label={label}>
      <code class={`hljs language-${language}`} dangerouslySetInnerHTML={{ __html: html }} />
    </pre>
  );
}

/** A JSON string from the API (a step's inputs or outputs), pretty-printed and highlighted. */
export function JsonText({ text, label }) {
  if (!text) return <span class="muted">none</span>;
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    /* shown as given */
  }
  return <Code text={pretty} language="json" label={label} />;
}

export const href = {
  image: (arn) => `#/images/${encodeURIComponent(arn)}`,
  pipeline: (arn) => `#/pipelines/${encodeURIComponent(arn)}`,
  lifecycle: (arn) => `#/lifecycle/${encodeURIComponent(arn)}`,
  component: (arn) => `#/components/${encodeURIComponent(arn)}`,
  workflow: (arn) => `#/workflows/${encodeURIComponent(arn)}`,
  step: (image, step) => `#/images/${encodeURIComponent(image)}/steps/${encodeURIComponent(step)}`,
};

/** The last part of an ARN after its type: name/version/build. */
export function arnTail(arn) {
  if (!arn) return "";
  const i = arn.indexOf("/");
  return i < 0 ? arn : arn.slice(i + 1);
}

/** A button that runs `action` once at a time and shows its error. */
export function ActionButton({ action, children, class: cls = "", confirm: ask, onDone, ...rest }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const click = async () => {
    if (ask && !window.confirm(ask)) return;
    setBusy(true);
    setError(null);
    try {
      const result = await action();
      onDone && onDone(result);
      changed();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class={`btn ${cls}`} onClick={click} disabled={busy} aria-busy={busy} {...rest}>
        {children}
      </button>
      {error && <ErrorBox error={error} />}
    </>
  );
}

export function Tags({ tags }) {
  const entries = Object.entries(tags || {});
  if (!entries.length) return <p class="muted">No tags.</p>;
  return (
    <ul class="tags" aria-label="Tags">
      {entries.map(([k, v]) => (
        <li key={k}><span class="tag-key">{k}</span>=<span class="tag-value">{v}</span></li>
      ))}
    </ul>
  );
}

/** A definition list of label/value pairs, skipping empty values. */
export function Facts({ items, label }) {
  return (
    <dl class="facts" aria-label={label}>
      {items.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Set the document title: "<page> · kiln console". */
export function useTitle(title) {
  useEffect(() => {
    document.title = title ? `${title} · kiln console` : "kiln console";
  }, [title]);
}
