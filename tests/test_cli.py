"""The `kiln` command: operations, serve (its options, bad settings, state kept across restarts), reset."""
from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from kiln.cli import main
from kiln.store.schema_version import HEAD
from tests.support.backend import Backend
from tests.support.errors import raises
from tests.support.server import KilnServer, free_port
from tests.support.shapes import model


def _kiln(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "kiln.cli", *args], capture_output=True, text=True,
                          env=clean, timeout=timeout)


def test_operations_lists_implemented_and_not_implemented():
    result = CliRunner().invoke(main, ["operations"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    implemented = [line.split()[-1] for line in lines if line.startswith("implemented ")]
    missing = [line.split()[-1] for line in lines if line.startswith("not implemented ")]
    assert len(lines) == len(implemented) + len(missing)
    assert sorted(implemented + missing) == sorted(model().operation_names)
    for op in ("CreateComponent", "GetWorkflow", "ListInfrastructureConfigurations", "TagResource",
               "UpdateDistributionConfiguration"):
        assert op in implemented
    assert f"{len(implemented)} of 77 operations implemented" in result.stderr


def test_operations_missing_lists_only_the_not_implemented():
    everything = CliRunner().invoke(main, ["operations"]).stdout.splitlines()
    result = CliRunner().invoke(main, ["operations", "--missing"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [line for line in everything if line.startswith("not implemented ")]


def test_serve_help_shows_the_options():
    result = _kiln("serve", "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--data-dir", "--in-memory", "--database-url", "--build-timing", "--workers",
                   "--cache-mb"):
        assert option in result.stdout
    assert "immediate | manual | SECONDS per build state" in result.stdout


@pytest.mark.parametrize("value, message", [
    ("bogus", "build timing must be 'immediate', 'manual' or a number of seconds, not 'bogus'"),
    ("-1", "build timing seconds must be zero or more"),
])
def test_serve_bad_build_timing_exits_with_a_message(value, message):
    result = _kiln("serve", "--in-memory", "--build-timing", value)
    assert result.returncode == 2
    assert f"Error: Invalid value for '--build-timing': {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_bad_build_timing_from_the_environment_exits_with_a_message():
    result = _kiln("serve", "--in-memory", env={"KILN_BUILD_TIMING": "soon"})
    assert result.returncode == 2
    assert ("Error: Invalid KILN_* environment setting: build timing must be 'immediate', 'manual' or a number of "
            "seconds, not 'soon'") in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_negative_cache_size_exits_with_a_message():
    result = _kiln("serve", "--in-memory", "--cache-mb", "-1")
    assert result.returncode == 2
    assert "Error: Invalid value for '--cache-mb': -1 is not in the range x>=0." in result.stderr


def test_serve_bad_cache_size_from_the_environment_exits_with_a_message():
    result = _kiln("serve", "--in-memory", env={"KILN_CACHE_MB": "lots"})
    assert result.returncode == 2
    assert "Error: Invalid KILN_* environment setting: invalid literal for int() with base 10: 'lots'" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_in_memory_with_workers_is_refused():
    result = _kiln("serve", "--in-memory", "--workers", "2")
    assert result.returncode == 2
    assert "Error: --in-memory keeps state inside one process; it cannot be shared by --workers." in result.stderr


def test_serve_restart_on_the_same_data_dir_keeps_state(tmp_path):
    data_dir = str(tmp_path / "state")
    server = KilnServer("--data-dir", data_dir, "--build-timing", "immediate").start()
    try:
        backend = Backend("server", server=server)
        arn = backend.client().create_infrastructure_configuration(
            name="Survivor", instanceProfileName="p", tags={"kept": "yes"})["infrastructureConfigurationArn"]
    finally:
        server.stop()
    assert os.path.exists(os.path.join(data_dir, "kiln.db"))

    server = KilnServer("--data-dir", data_dir, "--build-timing", "immediate").start()
    try:
        backend = Backend("server", server=server)
        got = backend.client().get_infrastructure_configuration(infrastructureConfigurationArn=arn)
        assert (got["infrastructureConfiguration"]["name"], got["infrastructureConfiguration"]["tags"]) == \
            ("Survivor", {"kept": "yes"})
        assert not backend.violations
    finally:
        server.stop()


def test_reset_deletes_the_state_of_a_data_dir(tmp_path):
    data_dir = str(tmp_path / "state")
    server = KilnServer("--data-dir", data_dir).start()
    try:
        arn = Backend("server", server=server).client().create_infrastructure_configuration(
            name="doomed", instanceProfileName="p")["infrastructureConfigurationArn"]
    finally:
        server.stop()

    result = _kiln("reset", "--data-dir", data_dir, "--yes")
    assert result.returncode == 0, result.stderr
    assert "kiln state deleted" in result.stdout

    server = KilnServer("--data-dir", data_dir).start()
    try:
        with raises("ResourceNotFoundException",
                    f"The following resource 'InfrastructureConfiguration' cannot be found: '{arn}'."):
            Backend("server", server=server).client().get_infrastructure_configuration(infrastructureConfigurationArn=arn)
    finally:
        server.stop()


def test_version_option():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert "0.1.0" in result.output


# ---------------------------------------------------------------------------
# The first hour: python -m kiln, the banner, the request log, clear failures at start, SIGTERM
# ---------------------------------------------------------------------------

class _Serve:
    """`python -m kiln serve ...` with stderr read line by line as it comes."""

    def __init__(self, *args: str, env: dict | None = None, prefix: tuple[str, ...] = ("-m", "kiln")):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
        clean.update(env or {})
        self.host = "127.0.0.1"
        self.port = free_port()
        self.url = f"http://{self.host}:{self.port}"
        self.proc = subprocess.Popen([sys.executable, *prefix, "serve", "--port", str(self.port), *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout: float = 30) -> str | None:
        line = self.lines.get(timeout=timeout)
        if line is not None:
            self.seen.append(line)
        return line

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            while self.next_line() is not None:
                pass

    def get(self, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


def test_python_dash_m_kiln_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "kiln", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "kiln, version 0.1.0\n"


def test_serve_banner_comes_once_the_port_is_bound_and_says_where_state_lives(tmp_path):
    data_dir = str(tmp_path / "state")
    server = _Serve("--data-dir", data_dir, "--build-timing", "immediate", "--log-level", "warning")
    try:
        banner = server.next_line()
        # The port answers as soon as the banner is out: it is printed once the server listens.
        assert server.get("/_kiln/health") == 200
        assert banner == (f"kiln 0.1.0 serving Image Builder on http://127.0.0.1:{server.port}; "
                          f"state: {os.path.join(data_dir, 'kiln.db')}; build timing: builds finish at once")
    finally:
        assert server.stop() == 0
    assert server.seen == [banner]  # --log-level warning: no request lines


@pytest.mark.parametrize("args, where, timing", [
    (("--in-memory", "--build-timing", "manual"), "in memory (nothing is kept after exit)",
     "builds wait for POST /_kiln/builds/advance"),
    (("--in-memory", "--build-timing", "2.5"), "in memory (nothing is kept after exit)", "2.5s per build state"),
])
def test_serve_banner_says_the_build_timing(args, where, timing):
    server = _Serve(*args)
    try:
        assert server.next_line() == (f"kiln 0.1.0 serving Image Builder on http://127.0.0.1:{server.port}; "
                                      f"state: {where}; build timing: {timing}")
    finally:
        server.stop()


_LOG_LINE = re.compile(r"\S+ \S+ INFO kiln\.requests: (\S+) (\d{3}) (\S+) \d+\.\dms account=(\S+) requestId=(\S+)")


@pytest.mark.parametrize("env", [{}, {"KILN_LOG_LEVEL": "INFO"}])
def test_serve_logs_one_line_per_request_at_info(env):
    server = _Serve("--in-memory", "--build-timing", "immediate", env=env)
    try:
        server.next_line()  # the banner
        client = Backend("server", server=server).client()
        created = client.create_infrastructure_configuration(name="logged", instanceProfileName="p")
        with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
            client.create_infrastructure_configuration(name="logged", instanceProfileName="p")
        assert server.get("/_kiln/health") == 200
        lines = [server.next_line() for _ in range(3)]
    finally:
        assert server.stop() == 0
    found = [_LOG_LINE.fullmatch(line) for line in lines]
    assert all(found), lines
    assert [m.groups()[:4] for m in found] == [
        ("CreateInfrastructureConfiguration", "200", "-", "123456789012"),
        ("CreateInfrastructureConfiguration", "400", "ResourceAlreadyExistsException", "123456789012"),
        ("/_kiln/health", "200", "-", "-"),
    ]
    assert found[0].group(5) == created["ResponseMetadata"]["RequestId"]


def test_serve_bad_log_level_is_refused():
    result = _kiln("serve", "--in-memory", env={"KILN_LOG_LEVEL": "loud"})
    assert result.returncode == 2
    assert ("Error: Invalid KILN_* environment setting: log level must be one of debug, info, warning, error, "
            "critical, not 'loud'") in result.stderr


def _cannot_start(*args: str, prefix: tuple[str, ...] = ("-m", "kiln")) -> str:
    server = _Serve(*args, prefix=prefix)
    code = server.proc.wait(60)
    server.stop()
    assert code == 2, server.seen
    assert len(server.seen) == 1, server.seen  # one line, no traceback
    return server.seen[0]


def test_serve_with_a_data_dir_that_cannot_be_made_says_so(tmp_path):
    (tmp_path / "a-file").write_text("")
    data_dir = str(tmp_path / "a-file" / "state")
    assert _cannot_start("--data-dir", data_dir) == (
        f"Error: cannot use {data_dir} as the data directory: Not a directory; pass a writable directory with "
        "--data-dir (KILN_DATA_DIR), or run with --in-memory.")


def test_serve_with_a_data_dir_whose_database_cannot_be_opened_says_so(tmp_path):
    (tmp_path / "kiln.db").mkdir()  # a directory where the SQLite file should be
    assert _cannot_start("--data-dir", str(tmp_path)) == (
        f"Error: cannot open the SQLite file in {tmp_path}: unable to open database file; pass a writable "
        "directory with --data-dir (KILN_DATA_DIR), or run with --in-memory.")


def test_serve_with_a_dead_database_says_so():
    assert _cannot_start("--database-url", "postgresql://postgres:secret@127.0.0.1:1/x") == (
        'Error: cannot open the database postgresql://postgres:***@127.0.0.1:1/x: connection failed: connection to '
        'server at "127.0.0.1", port 1 failed: Connection refused; check --database-url (KILN_DATABASE_URL) and '
        "that the database server is running.")


@pytest.mark.parametrize("url, message", [
    ("postgresq://postgres@127.0.0.1/x",
     "Error: unknown database URL scheme 'postgresq' in postgresq://postgres@127.0.0.1/x: use "
     "postgresql://user@host/db (or sqlite:///path/kiln.db); check --database-url (KILN_DATABASE_URL)."),
    ("127.0.0.1/kiln",
     "Error: cannot read the database URL '127.0.0.1/kiln': use postgresql://user@host/db (or "
     "sqlite:///path/kiln.db); check --database-url (KILN_DATABASE_URL)."),
])
def test_serve_with_a_misspelt_database_url_says_so(url, message):
    assert _cannot_start("--database-url", url) == message


def test_serve_without_the_postgresql_driver_says_which_extra_to_install():
    # The same `kiln serve`, in a Python where psycopg cannot be imported.
    no_driver = ("-c", "import sys; sys.modules['psycopg'] = None; sys.argv[0] = 'kiln'; "
                       "from kiln.cli import main; main()")
    assert _cannot_start("--database-url", "postgresql://postgres@127.0.0.1/kiln", prefix=no_driver) == (
        "Error: the PostgreSQL driver is not installed: pip install 'kiln[postgres]' (psycopg), or use the "
        "default SQLite store.")


def test_serve_on_a_port_in_use_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert _cannot_start("--in-memory", "--port", str(port)) == (
            f"Error: port {port} on 127.0.0.1 is already in use (another kiln?): stop that program, or choose "
            "another port with --port (KILN_PORT).")


def test_sigterm_closes_the_store_and_exits_0(tmp_path):
    data_dir = str(tmp_path / "state")
    server = _Serve("--data-dir", data_dir, "--log-level", "warning")
    try:
        server.next_line()
        client = Backend("server", server=server).client()
        client.create_infrastructure_configuration(name="kept", instanceProfileName="p")
        assert os.path.exists(os.path.join(data_dir, "kiln.db-wal"))
    finally:
        code = server.stop()
    assert code == 0, server.seen
    # SQLite folds the write-ahead log into the database and removes it when the last connection closes.
    assert sorted(os.listdir(data_dir)) == ["kiln.db"]
    assert len(server.seen) == 1, server.seen


def _store_from_a_newer_kiln(data_dir) -> None:
    import sqlite3

    from kiln.store import Store
    from kiln.store.schema_version import VERSION_TABLE

    Store(f"sqlite:///{data_dir}/kiln.db").close()
    conn = sqlite3.connect(f"{data_dir}/kiln.db")
    conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '9999'")
    conn.commit()
    conn.close()


def test_serve_on_a_store_written_by_a_newer_kiln_says_so(tmp_path):
    _store_from_a_newer_kiln(tmp_path)
    assert _cannot_start("--data-dir", str(tmp_path)) == (
        f"Error: the store sqlite:///{tmp_path}/kiln.db was written by a newer kiln (schema revision 9999; "
        f"this kiln knows revisions up to {HEAD}): upgrade kiln (pip install -U kiln) to open it.")


def test_reset_of_a_store_written_by_a_newer_kiln_says_so_and_keeps_it(tmp_path):
    _store_from_a_newer_kiln(tmp_path)
    result = _kiln("reset", "--data-dir", str(tmp_path), "--yes")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Error: the store sqlite:///{tmp_path}/kiln.db was written by a newer kiln (schema revision 9999; "
        f"this kiln knows revisions up to {HEAD}): upgrade kiln (pip install -U kiln) to open it."]


def _post(port: int, path: str, headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=b"{}", headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_serve_beyond_loopback_prints_an_admin_token_that_reset_needs():
    server = _Serve("--host", "0.0.0.0", "--in-memory", "--log-level", "warning")
    try:
        banner = server.next_line()
        match = re.search(r"; admin token \(POST /_kiln/ routes: Authorization: Bearer <token>\): (\S+)$", banner)
        assert match, banner
        assert banner.startswith(f"kiln 0.1.0 serving Image Builder on http://0.0.0.0:{server.port}; ")
        assert server.get("/_kiln/health") == 200  # reads stay open
        assert _post(server.port, "/_kiln/reset") == 401
        assert _post(server.port, "/_kiln/reset", {"authorization": "Bearer not-it"}) == 403
        assert _post(server.port, "/_kiln/reset", {"authorization": f"Bearer {match.group(1)}"}) == 200
    finally:
        assert server.stop() == 0


def test_serve_admin_token_from_the_environment_holds_on_loopback_too():
    server = _Serve("--in-memory", "--log-level", "warning", env={"KILN_ADMIN_TOKEN": "team-secret"})
    try:
        assert server.next_line().endswith("; admin token (POST /_kiln/ routes: Authorization: Bearer <token>): "
                                           "team-secret")
        assert _post(server.port, "/_kiln/reset") == 401
        assert _post(server.port, "/_kiln/reset", {"x-kiln-admin-token": "team-secret"}) == 200
        # The pytest plugin's control sends KILN_ADMIN_TOKEN (or the token it is given).
        from kiln.pytest_plugin import KilnControl

        assert KilnControl(url=server.url, token="team-secret").advance_clock(0) > 0
        with pytest.raises(RuntimeError, match="answered 401"):
            KilnControl(url=server.url).advance_clock(0)
    finally:
        assert server.stop() == 0


def test_serve_on_loopback_needs_no_token():
    server = _Serve("--in-memory", "--log-level", "warning")
    try:
        assert "admin token" not in server.next_line()
        assert _post(server.port, "/_kiln/reset") == 200
    finally:
        assert server.stop() == 0
