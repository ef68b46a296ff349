import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { Link, Redirect, Route, Router, Switch, useLocation } from "wouter-preact";
import { useHashLocation } from "wouter-preact/use-hash-location";
import { kilnConfig, listAll } from "./api.js";
import { setClock, kilnNow, clockFrozen } from "./clock.js";
import { session, useSession } from "./session.js";
import { ErrorBox, formatTime, useLoad } from "./ui.jsx";
import { ImagesPage } from "./pages/Images.jsx";
import { ImagePage } from "./pages/Image.jsx";
import { WaitingPage } from "./pages/Waiting.jsx";
import { PipelinePage, PipelinesPage } from "./pages/Pipelines.jsx";
import { LifecyclePoliciesPage, LifecyclePolicyPage } from "./pages/Lifecycle.jsx";
import { DocumentPage, DocumentsPage } from "./pages/Documents.jsx";
import { ControlsPage } from "./pages/Controls.jsx";

const REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "eu-north-1",
  "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ca-central-1", "sa-east-1"];

export function App() {
  const [ready, setReady] = useState(false);
  const [error, setError] = useState(null);
  const refreshConfig = useCallback(async () => {
    try {
      const config = await kilnConfig();
      setClock(config.clock);
      session.setConfig(config);
      setReady(true);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    refreshConfig();
    const t = setInterval(refreshConfig, 15000);
    return () => clearInterval(t);
  }, [refreshConfig]);
  useSession();
  const needKeys = ready && session.signed() && !session.hasKeys();
  return (
    <Router hook={useHashLocation}>
      <RouteFocus />
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>Skip to the content</a>
      <header class="top">
        <a class="brand" href="#/images">kiln <span>console</span></a>
        {ready && <Scope />}
        {ready && <Clock />}
      </header>
      <div class="layout">
        <Nav />
        <main id="main" tabIndex={-1}>
          <ErrorBox error={error} title="kiln does not answer" />
          {!ready ? (error ? null : <p class="muted" role="status">Connecting to kiln…</p>) : needKeys ? <SignIn /> : (
            <Switch>
              <Route path="/"><Redirect to="/images" replace /></Route>
              <Route path="/images" component={ImagesPage} />
              <Route path="/images/:arn/steps/:step" component={ImagePage} />
              <Route path="/images/:arn" component={ImagePage} />
              <Route path="/waiting" component={WaitingPage} />
              <Route path="/pipelines" component={PipelinesPage} />
              <Route path="/pipelines/:arn" component={PipelinePage} />
              <Route path="/lifecycle" component={LifecyclePoliciesPage} />
              <Route path="/lifecycle/:arn" component={LifecyclePolicyPage} />
              <Route path="/components">{() => <DocumentsPage kind="component" />}</Route>
              <Route path="/components/:arn">{(params) => <DocumentPage kind="component" params={params} />}</Route>
              <Route path="/workflows">{() => <DocumentsPage kind="workflow" />}</Route>
              <Route path="/workflows/:arn">{(params) => <DocumentPage kind="workflow" params={params} />}</Route>
              <Route path="/controls">{() => <ControlsPage refreshConfig={refreshConfig} />}</Route>
              <Route><h1>Not found</h1><p>The console has no such page. <a href="#/images">Go to the images.</a></p></Route>
            </Switch>
          )}
        </main>
      </div>
    </Router>
  );
}

/** On each new page, start at its top and move focus to it, as a full page load would
 * (a step's own link focuses that step instead). */
function RouteFocus() {
  const [location] = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (location.includes("/steps/")) return;
    window.scrollTo(0, 0);
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [location]);
  return null;
}

function NavLink({ to, children, count }) {
  const [location] = useLocation();
  const current = location === to || location.startsWith(to + "/");
  return (
    <li>
      <Link href={to} aria-current={current ? "page" : undefined}>
        {children}
        {count > 0 && <span class="count" aria-label={`${count} waiting`}>{count}</span>}
      </Link>
    </li>
  );
}

function Nav() {
  const ready = session.signed() ? session.hasKeys() : true;
  const { data } = useLoad(() => (ready ? listAll("ListWaitingWorkflowSteps", { maxResults: 100 }, "steps") : []), [ready], () => 5000);
  return (
    <nav class="side" aria-label="Console">
      <ul>
        <NavLink to="/images">Images</NavLink>
        <NavLink to="/waiting" count={(data || []).length}>Waiting steps</NavLink>
        <NavLink to="/pipelines">Pipelines</NavLink>
        <NavLink to="/lifecycle">Lifecycle policies</NavLink>
        <NavLink to="/components">Components</NavLink>
        <NavLink to="/workflows">Workflows</NavLink>
        <NavLink to="/controls">kiln controls</NavLink>
      </ul>
    </nav>
  );
}

function Scope() {
  const [account, setAccount] = useState(session.account());
  const [region, setRegion] = useState(session.region());
  const signed = session.signed();
  const submit = (e) => {
    e.preventDefault();
    session.setScope(account.trim(), region.trim());
  };
  const changed = account !== session.account() || region !== session.region();
  return (
    <form class="scope" onSubmit={submit} aria-label="Account and Region">
      {signed ? (
        <span class="small">
          Signed as <span class="mono">{session.keys().accessKeyId}</span>{" "}
          <button type="button" class="btn btn-quiet btn-small" onClick={() => session.setKeys("", "")}>Sign out</button>
        </span>
      ) : (
        <label>Account
          <input value={account} onInput={(e) => setAccount(e.currentTarget.value)} inputMode="numeric" pattern="[0-9]{12}"
            title="12 digits" size={13} required />
        </label>
      )}
      <label>Region
        <input value={region} onInput={(e) => setRegion(e.currentTarget.value)} list="regions" size={14} required
          pattern="[a-z]{2}(-[a-z]+){1,3}-[0-9]{1,2}" title="a Region such as us-east-1" />
      </label>
      <datalist id="regions">{REGIONS.map((r) => <option key={r} value={r} />)}</datalist>
      <button type="submit" class="btn btn-small" disabled={!changed}>Show</button>
    </form>
  );
}

function Clock() {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
  return (
    <p class="clock small" title="kiln's clock: the controls can move it">
      kiln time <time>{formatTime(kilnNow() / 1000)}</time>{clockFrozen() ? " (frozen)" : ""}
    </p>
  );
}

function SignIn() {
  const [keyId, setKeyId] = useState("");
  const [secret, setSecret] = useState("");
  return (
    <section class="signin" aria-labelledby="signin-h">
      <h1 id="signin-h">Sign in</h1>
      <p>
        This kiln checks every request's signature (<code>--auth sigv4</code>). Enter an access key from its credentials
        file: the page signs its requests with it, as the AWS SDKs do, and keeps it in this tab only (sessionStorage).
        You act as the account the file gives the key.
      </p>
      <form onSubmit={(e) => { e.preventDefault(); session.setKeys(keyId.trim(), secret); }}>
        <label>Access key id<input value={keyId} onInput={(e) => setKeyId(e.currentTarget.value)} autocomplete="username" required /></label>
        <label>Secret access key<input type="password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} autocomplete="current-password" required /></label>
        <button type="submit" class="btn btn-primary">Sign in</button>
      </form>
    </section>
  );
}
