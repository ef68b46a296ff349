"""Shared helpers for the benchmark scripts (not a test module).

Everything here drives kiln the way a user does (HTTP, boto3) except seeding,
which writes through kiln's own service layer or bulk-inserts rows into kiln's
own schema, so a store of 10k..1M images can be built in seconds to minutes.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from urllib.parse import quote, urlencode

import orjson

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "123456789012"
REGION = "us-east-1"
# kiln reads the account and region from the SigV4 Credential scope; it does not
# check the signature, but the header is parsed on every request, as from boto3.
AUTH = (
    f"AWS4-HMAC-SHA256 Credential={ACCOUNT}/20250101/{REGION}/imagebuilder/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
RAW_HEADERS = {
    "Authorization": AUTH,
    "X-Amz-Date": "20250101T000000Z",
    "User-Agent": "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux lang/python#3.11.7 cfg/retry-mode#legacy",
    "Accept-Encoding": "identity",
}


# --------------------------------------------------------------------- machine
def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def pinned(cmd: list[str], core: int | None) -> list[str]:
    """Prefix `taskset -c core` when taskset exists and the machine has that core."""
    if core is None or shutil.which("taskset") is None or core >= cpu_count():
        return cmd
    return ["taskset", "-c", str(core), *cmd]


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model or 'unknown CPU'}), Python {sys.version.split()[0]}"


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MiB (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


BUSY_WARNINGS: list[str] = []


def wait_quiet(max_wait: float = 60.0, threshold: float = 0.15, window: float = 1.0) -> float:
    """Wait until the machine is nearly idle (all CPUs busy < threshold over `window`
    seconds), at most max_wait seconds: on a shared machine, other work running
    during a measurement skews it. Returns the busy fraction last seen; a busy
    machine after max_wait is recorded in BUSY_WARNINGS (and the run goes on)."""
    if not os.path.exists("/proc/stat") or os.environ.get("BENCH_NO_WAIT"):
        return 0.0
    deadline = time.monotonic() + max_wait
    while True:
        t0, i0 = _cpu_times()
        time.sleep(window)
        t1, i1 = _cpu_times()
        busy = 1 - (i1 - i0) / max(1, t1 - t0)
        if busy < threshold:
            return busy
        if time.monotonic() > deadline:
            BUSY_WARNINGS.append(f"{time.strftime('%H:%M:%S')}: machine {busy:.0%} busy with other work")
            return busy


def report_busy() -> None:
    if BUSY_WARNINGS:
        print(f"!! measured while the machine was busy with other work ({len(BUSY_WARNINGS)} times, "
              f"e.g. {BUSY_WARNINGS[0]}): figures are noisier than usual; ratios, measured side by side, less so")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------- servers
def kiln_executable() -> list[str]:
    """The `kiln` console script of this interpreter (not a pyenv shim, whose own
    start-up would be counted in the cold start)."""
    script = os.path.join(os.path.dirname(sys.executable), "kiln")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "kiln.cli"]


class Server:
    """A child process serving HTTP on 127.0.0.1:port."""

    def __init__(self, cmd: list[str], port: int, health: str, env: dict | None = None, quiet: bool = False):
        self.cmd, self.port, self.health = cmd, port, health
        self.env = env
        self.quiet = quiet  # stderr thrown away (a server that logs every request there)
        self.proc: subprocess.Popen | None = None
        self.errors = None  # the file the server's stderr goes to
        self.started_in = float("nan")

    def start(self, timeout: float = 30.0) -> "Server":
        t0 = time.perf_counter()
        # stderr goes to a file, not a pipe: a pipe nobody reads fills after 64 kB of warnings,
        # and then the server blocks in its logger (seen: a PostgreSQL fill hung that way).
        self.errors = None if self.quiet else tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL if self.quiet else self.errors, env=self.env,
                                     start_new_session=True)
        try:
            self.started_in = wait_healthy(self.port, self.health, t0, timeout, self.proc)
        except RuntimeError as e:
            if self.errors is None:
                raise
            self.errors.seek(0)
            raise RuntimeError(f"{e}\n{self.errors.read().decode(errors='replace')}") from None
        return self

    @property
    def pid(self) -> int:
        """The server process itself (taskset execs the command, so this is it)."""
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.errors is not None:
            self.errors.close()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_healthy(port: int, path: str, t0: float, timeout: float, proc=None) -> float:
    """Poll GET path until 200; returns seconds since t0."""
    deadline = t0 + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"server exited with {proc.returncode} before it was healthy:\n{err}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        if time.perf_counter() > deadline:
            raise RuntimeError(f"nothing healthy on port {port}{path} after {timeout}s")
        time.sleep(0.002)


def kiln_server(data_dir: str, core: int | None = 0, port: int | None = None, source: str | None = None) -> Server:
    """`kiln serve` on data_dir; `source`: a directory holding another `kiln`
    package (a checkout of another branch) to serve instead of the installed one."""
    port = port or free_port()
    cmd = pinned([*kiln_executable(), "serve", "--port", str(port), "--data-dir", data_dir,
                  "--build-timing", "immediate"], core)
    # No request log (it would cost each call and fill the unread stderr pipe); an
    # environment variable, so an older kiln served as a variant ignores it.
    env = dict(os.environ, KILN_LOG_LEVEL="warning")
    if source:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    return Server(cmd, port, "/_kiln/health", env)


def add_store_arguments(p) -> None:
    """--images, --data-dir and --variant, as the GetImage benchmarks take them
    (see image_arns and parse_variants)."""
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--data-dir", help="seed here and keep it (default: a temporary directory)")
    p.add_argument("--variant", action="append", metavar="NAME=DIR",
                   help="also serve the kiln package in DIR (another checkout) in the same run; repeatable")


def parse_variants(values: list[str] | None) -> list[tuple[str, str | None]]:
    """[("kiln", None)] plus each --variant NAME=DIR (another kiln source tree)."""
    out: list[tuple[str, str | None]] = [("kiln", None)]
    for v in values or ():
        name, _, path = v.partition("=")
        if not path or not os.path.isdir(os.path.join(path, "kiln")):
            raise SystemExit(f"--variant {v!r}: expected NAME=DIR with DIR/kiln a kiln package")
        out.append((name, os.path.abspath(path)))
    return out


def floor_server(body_file: str, core: int | None = 0, port: int | None = None) -> Server:
    port = port or free_port()
    cmd = pinned([sys.executable, os.path.join(HERE, "floor_app.py"), "--port", str(port), "--body", body_file], core)
    return Server(cmd, port, "/_kiln/health")


# --------------------------------------------------------------------- raw HTTP
class Http:
    """One keep-alive connection, for setup calls and latency probes."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        h = dict(RAW_HEADERS)
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # uvicorn closes a connection idle for 5 s (e.g. while wait_quiet waited): reconnect once.
                self.conn.close()
                if attempt == 2:
                    raise

    def call(self, op: str, params: dict) -> dict:
        method, path, body = wire(op, params)
        status, _, data = self.request(method, path, body)
        if status != 200:
            raise RuntimeError(f"{op} -> {status}: {data[:500]!r}")
        return orjson.loads(data)

    def close(self):
        self.conn.close()


def wire(op_name: str, params: dict) -> tuple[str, str, bytes | None]:
    """(method, path with query, body) of an operation, from the service model."""
    from kiln.protocol.spec import operations

    op = operations()[op_name]
    query = {wire_name: params[member] for wire_name, member in op.query.items() if member in params}
    body = {k: v for k, v in params.items() if k in op.body_members}
    path = op.path + ("?" + urlencode(query, quote_via=quote, safe="") if query else "")
    return op.method, path, orjson.dumps(body) if op.method != "GET" else None


def getimage_path(arn: str) -> str:
    return "/GetImage?imageBuildVersionArn=" + quote(arn, safe="")


# --------------------------------------------------------------------- seeding
def make_kiln(data_dir: str):
    from kiln.core import Kiln
    from kiln.store import Store
    from kiln.store.repository import sqlite_url

    return Kiln(Store(sqlite_url(data_dir)), seconds_per_state=0.0)


def handle(kiln, op_name: str, params: dict) -> dict:
    """One API call through kiln.core.Kiln.handle, in-process, exactly as the server makes it."""
    from kiln.core import Request

    method, path, body = wire(op_name, params)
    p, _, q = path.partition("?")
    r = kiln.handle(Request(method, p, q, {"authorization": AUTH}, body or b""))
    if r.status != 200:
        raise RuntimeError(f"{op_name} -> {r.status}: {r.body[:500]!r}")
    return orjson.loads(r.body)


def image_arns(data_dir: str, n: int) -> list[str]:
    """The ARNs of the image builds stored in data_dir, after seeding n (with
    create_fixtures and create_images_bulk, all AVAILABLE) if it holds none."""
    import sqlalchemy as sa
    from kiln.store.schema import resources

    t = time.perf_counter()
    kiln = make_kiln(data_dir)
    try:
        with kiln.store.engine.connect() as conn:
            arns = [r[0] for r in conn.execute(sa.select(resources.c.arn).where(resources.c.type == "image"))]
        if arns:
            print(f"reusing {len(arns)} images in {data_dir}", flush=True)
            return arns
        arns = create_images_bulk(kiln, create_fixtures(kiln), n)
        probe = handle(kiln, "GetImage", {"imageBuildVersionArn": arns[-1]})
        assert probe["image"]["state"]["status"] == "AVAILABLE", probe["image"]["state"]
        print(f"seeded {n} images in {time.perf_counter() - t:.1f}s ({data_dir})", flush=True)
        return arns
    finally:
        kiln.store.close()


def create_fixtures(kiln, name: str = "bench-image", semantic_version: str = "1.0.0") -> dict:
    """An infrastructure configuration, a two-Region distribution configuration and a
    three-component recipe, through the API: what each benchmark image is built from.
    Returns the ARNs a CreateImage needs."""
    comps = handle(kiln, "ListComponents", {"owner": "Amazon", "maxResults": 100})["componentVersionList"]
    linux = [c["arn"] for c in comps if c.get("platform") == "Linux"]
    seen, chosen = set(), []
    for arn in linux:  # three different Linux components without required parameters
        key = arn.split("/")[1]
        if key in seen:
            continue
        doc = handle(kiln, "GetComponent", {"componentBuildVersionArn": arn + "/1"})["component"]
        if any("defaultValue" not in p for p in doc.get("parameters") or ()):
            continue
        seen.add(key)
        chosen.append(arn)
        if len(chosen) == 3:
            break
    parent = handle(kiln, "ListImages", {"owner": "Amazon"})["imageVersionList"]
    parent_arn = next(i["arn"] for i in parent if i.get("platform") == "Linux" and i.get("type", "AMI") == "AMI")
    infra = handle(kiln, "CreateInfrastructureConfiguration", {
        "name": f"{name}-infra", "instanceProfileName": "EC2InstanceProfileForImageBuilder",
        "instanceTypes": ["m5.large", "c5.large"], "description": "Benchmark build infrastructure",
        "terminateInstanceOnFailure": True, "tags": {"team": "platform", "purpose": "benchmark"},
        "clientToken": str(uuid.uuid4()),
    })["infrastructureConfigurationArn"]
    dist = handle(kiln, "CreateDistributionConfiguration", {
        "name": f"{name}-dist", "description": "Benchmark distribution",
        "distributions": [
            {"region": REGION, "amiDistributionConfiguration": {
                "name": f"{name} {{{{ imagebuilder:buildDate }}}}", "description": "Golden image",
                "amiTags": {"team": "platform"}}},
            {"region": "eu-west-1", "amiDistributionConfiguration": {
                "name": f"{name} {{{{ imagebuilder:buildDate }}}}", "targetAccountIds": ["210987654321"]}},
        ],
        "clientToken": str(uuid.uuid4()),
    })["distributionConfigurationArn"]
    recipe = handle(kiln, "CreateImageRecipe", {
        "name": name, "semanticVersion": semantic_version, "parentImage": parent_arn,
        "description": "Benchmark golden image recipe", "components": [{"componentArn": c} for c in chosen],
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 30, "volumeType": "gp3", "encrypted": True}}],
        "tags": {"team": "platform"}, "clientToken": str(uuid.uuid4()),
    })["imageRecipeArn"]
    return {"imageRecipeArn": recipe, "infrastructureConfigurationArn": infra, "distributionConfigurationArn": dist}


def create_images_bulk(kiln, fixtures: dict, n: int, chunk: int = 1000) -> list[str]:
    """n × CreateImage through the service layer's own handler, `chunk` builds per
    transaction (no HTTP, no per-call commit): the real create path, fast. With
    immediate timing every build is AVAILABLE when its transaction commits."""
    from kiln.service import Context, HANDLERS

    create = HANDLERS["CreateImage"]
    arns: list[str] = []
    for start in range(0, n, chunk):
        def run(tx, count=min(chunk, n - start)):
            now = kiln.clock.now()
            out = []
            for _ in range(count):
                ctx = Context(tx, ACCOUNT, REGION, str(uuid.uuid4()), now, 0.0, kiln.store.secret)
                params = {**fixtures, "clientToken": str(uuid.uuid4()), "tags": {"team": "platform", "env": "bench"}}
                out.append(create(ctx, params)["imageBuildVersionArn"])
            return out

        arns.extend(kiln.store.run(run, ACCOUNT, REGION, write=True))
    return arns


# --------------------------------------------------------------------- wrk
def have_wrk() -> bool:
    """wrk is used when installed, unless BENCH_PYLOAD=1 asks for bench/pyload.py."""
    return shutil.which("wrk") is not None and not os.environ.get("BENCH_PYLOAD")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(port: int, paths_file: str, seconds: int = 10, connections: int = 32, core: int | None = 1) -> dict:
    """wrk -t1 -cN -dS --latency, rotating through the request paths in paths_file
    (one per line), with boto3-like headers. Returns req/s, p50, p99 (ms) and errors."""
    script = os.path.join(HERE, "rotate.lua")
    env = dict(os.environ, BENCH_PATHS=paths_file, BENCH_AUTH=AUTH)
    cmd = pinned(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
                  f"http://127.0.0.1:{port}"], core)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = _ms(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*", out)
    result["non2xx"] = int(bad.group(1)) if bad else 0
    result["socket_errors"] = errs.group(0) if errs else ""
    result["raw"] = out
    return result


def pyload(port: int, paths: list[str], seconds: int = 10, connections: int = 32, core: int | None = 1) -> dict:
    """Fallback when wrk is not installed: bench/pyload.py (asyncio, raw keep-alive sockets)."""
    fd, tmp = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(paths))
    cmd = pinned([sys.executable, os.path.join(HERE, "pyload.py"), "--port", str(port), "--paths", tmp,
                  "--seconds", str(seconds), "--connections", str(connections)], core)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(tmp)
    return orjson.loads(out)


# --------------------------------------------------------------------- misc
def median(xs):
    return statistics.median(xs) if xs else float("nan")


def timed(fn, n: int, warmup: int = 3) -> float:
    """Median wall time of fn() over n calls, milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    return statistics.median(samples)


@contextmanager
def tempdir(prefix: str, keep: str | None = None):
    if keep:
        os.makedirs(keep, exist_ok=True)
        yield keep
        return
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"
