"""Run the ASGI app under uvicorn: open the store, bind the port, serve.

Everything that can fail at start is tried before serving, in this process, and a
failure is a StartupError whose message says what went wrong and how to fix it in
one line (kiln/cli.py prints it and exits 2): the store is opened first (data
directory, database URL, driver, reachable server), then the port is bound here
rather than by uvicorn, so "port in use" is ours to word. `on_started` runs once the
port is bound and the server accepts connections (the banner waits for it).
"""
from __future__ import annotations

import errno
import inspect
import os
import signal
import socket

import uvicorn

from kiln.config import Config, config_from_env, default_data_dir
from kiln.http.timeouts import HeaderTimeoutProtocol, set_request_timeout


class StartupError(Exception):
    """Why kiln cannot start: one line saying what and how to fix it."""


def build_app_from_env():
    """Factory for uvicorn workers (--workers N re-imports the app in each process)."""
    from kiln import request_log

    config = config_from_env()
    request_log.configure(config.log_level)
    set_request_timeout(config.request_timeout)
    return create_app(config)


def create_app(config: Config, store=None):
    from kiln.core import Kiln
    from kiln.http.app import make_app

    keys = load_keys(config)
    store = store if store is not None else open_store(config)
    kiln = Kiln(store, config.seconds_per_state, config.account)
    return make_app(kiln, on_shutdown=store.close, admin_token=config.admin_token, keys=keys)


def load_keys(config: Config):
    """The access keys --auth sigv4 checks signatures against (None when it is off)."""
    if config.auth != "sigv4":
        return None
    from kiln.http.sigv4 import CredentialsError, load_credentials

    if not config.credentials:
        raise StartupError("--auth sigv4 needs the access keys to check signatures against: pass a JSON file "
                           "with --credentials (KILN_CREDENTIALS).")
    try:
        return load_credentials(config.credentials)
    except CredentialsError as e:
        raise StartupError(f"{e}; check --credentials (KILN_CREDENTIALS).") from None


def where(config: Config) -> str:
    """Where the state lives, for people (a database URL without its password)."""
    if config.database_url:
        return _safe_url(config.database_url)
    if config.in_memory:
        return "in memory (nothing is kept after exit)"
    return os.path.join(config.data_dir or default_data_dir(), "kiln.db")


def _safe_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show it as given
        return url


def open_store(config: Config):
    """The store `config` names, or StartupError saying why it cannot be opened."""
    import sqlalchemy.exc

    from kiln.store import Store, StoreTooNew

    data_dir = None if (config.database_url or config.in_memory) else (config.data_dir or default_data_dir())
    fix_dir = "pass a writable directory with --data-dir (KILN_DATA_DIR), or run with --in-memory"
    fix_url = "check --database-url (KILN_DATABASE_URL)"
    try:
        url = config.store_url()  # creates the data directory
        return Store(url, config.cache_mb << 20)
    except StoreTooNew as e:
        raise StartupError(str(e)) from None
    except OSError as e:  # the data directory cannot be made
        raise StartupError(f"cannot use {data_dir or e.filename} as the data directory: {e.strerror}; {fix_dir}.") from None
    except ImportError as e:
        if e.name and e.name.startswith("psycopg"):
            raise StartupError("the PostgreSQL driver is not installed: pip install 'kiln[postgres]' "
                               "(psycopg), or use the default SQLite store.") from None
        raise StartupError(f"the database driver for {_safe_url(config.database_url or '')} is not installed "
                           f"(no module {e.name!r}); kiln supports sqlite:// and postgresql:// URLs.") from None
    except sqlalchemy.exc.NoSuchModuleError:
        scheme = (config.database_url or "").split("://", 1)[0]
        raise StartupError(f"unknown database URL scheme {scheme!r} in {_safe_url(config.database_url or '')}: "
                           f"use postgresql://user@host/db (or sqlite:///path/kiln.db); {fix_url}.") from None
    except sqlalchemy.exc.ArgumentError:
        raise StartupError(f"cannot read the database URL {config.database_url!r}: "
                           f"use postgresql://user@host/db (or sqlite:///path/kiln.db); {fix_url}.") from None
    except sqlalchemy.exc.DBAPIError as e:
        reason = str(getattr(e, "orig", e)).strip().splitlines()[0] if str(getattr(e, "orig", e)).strip() else type(e).__name__
        if data_dir is not None:
            raise StartupError(f"cannot open the SQLite file in {data_dir}: {reason}; {fix_dir}.") from None
        raise StartupError(f"cannot open the database {where(config)}: {reason}; "
                           f"{fix_url} and that the database server is running.") from None


def bind(config: Config) -> socket.socket:
    """A socket bound to the configured address, or StartupError (e.g. the port is in use)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise StartupError(f"cannot listen on {config.host}:{config.port}: {e.strerror}; "
                           "check --host (KILN_HOST).") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise StartupError(f"port {config.port} on {config.host} is already in use (another kiln?): stop that "
                               "program, or choose another port with --port (KILN_PORT).") from None
        raise StartupError(f"cannot listen on {config.host}:{config.port}: {e.strerror}; "
                           "check --host (KILN_HOST) and --port (KILN_PORT).") from None
    sock.set_inheritable(True)  # --workers: the worker processes accept on it
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, telling `on_started` once it listens."""

    def __init__(self, config: uvicorn.Config, on_started=None):
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_started is not None:
            self.on_started()


def serve(config: Config, on_started=None) -> None:
    """Serve until SIGTERM or SIGINT, then close the store and return (the exit is 0).
    StartupError if the store cannot be opened or the port bound."""
    quiet = config.log_level if config.log_level in ("error", "critical") else "warning"  # uvicorn's own logs
    # Idle keep-alive connections stay open a minute (uvicorn's default is 5 s): a client
    # whose request crosses the server's close of an idle connection sees it reset, and a
    # long clock advance makes such crossings likely.
    set_request_timeout(config.request_timeout)
    kwargs = dict(log_level=quiet, access_log=False, http=HeaderTimeoutProtocol, lifespan="on", timeout_keep_alive=60)
    try:
        import uvloop  # noqa: F401
        kwargs["loop"] = "uvloop"
    except ImportError:
        pass
    load_keys(config)  # a bad credentials file stops the start, before the port is taken
    store = open_store(config)
    try:
        sock = bind(config)
    except StartupError:
        store.close()
        raise
    # uvicorn re-raises the signal that stopped it once it has shut down; with the default
    # action that kills the process (exit -15). kiln exits 0 instead, as supervisors expect.
    signal.signal(signal.SIGTERM, lambda *_: None)
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        # Each worker process builds its own app and store from the same settings, passed by environment.
        store.close()
        os.environ.update(config.to_env())
        uconfig = uvicorn.Config("kiln.http.server:build_app_from_env", factory=True, workers=config.workers,
                                 **kwargs)
        if on_started is not None:
            on_started()
        if "target" in inspect.signature(Multiprocess).parameters:  # older uvicorn
            Multiprocess(uconfig, target=uvicorn.Server(uconfig).run, sockets=[sock]).run()
        else:
            Multiprocess(uconfig, sockets=[sock]).run()
        return
    server = _Server(uvicorn.Config(create_app(config, store), **kwargs), on_started)
    try:
        server.run(sockets=[sock])
    finally:
        store.close()  # closed already at the lifespan's shutdown, unless startup failed
        sock.close()
