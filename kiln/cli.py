"""The `kiln` command: serve, reset, operations."""
from __future__ import annotations

import os
import sys

import click

from kiln import __version__
from kiln.config import (AUTH_MODES, DEFAULT_PORT, LOG_LEVELS, Config, config_from_env, default_data_dir, is_loopback,
                         parse_build_timing)


def _config() -> Config:
    """Settings from the environment; a bad KILN_* value is a usage error, not a traceback."""
    try:
        return config_from_env()
    except ValueError as e:
        raise click.UsageError(f"Invalid KILN_* environment setting: {e}") from None


def _url(ctx, param, value):
    if value is None:
        return None
    from kiln.integrations import check_url

    try:
        if isinstance(value, tuple):
            return tuple(check_url(v, param.opts[0]) for v in value) or None
        return check_url(value, param.opts[0])
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _timing(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_build_timing(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@click.group()
@click.version_option(package_name="kiln")
def main():
    """kiln: EC2 Image Builder on your own machine."""


@main.command()
@click.option("--host", help="Address to listen on [KILN_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help=f"Port [KILN_PORT, default {DEFAULT_PORT}].")
@click.option("--data-dir", type=click.Path(file_okay=False), help=f"Where the SQLite state lives [KILN_DATA_DIR, default {default_data_dir()}].")
@click.option("--in-memory", is_flag=True, default=None, help="Keep state in memory only [KILN_IN_MEMORY].")
@click.option("--database-url", help="SQLAlchemy URL, e.g. postgresql://user@host/db [KILN_DATABASE_URL].")
@click.option("--build-timing", callback=_timing, help="immediate | manual | SECONDS per build state [KILN_BUILD_TIMING, default 1].")
@click.option("--workers", type=int, help="Server processes sharing the store [KILN_WORKERS, default 1].")
@click.option("--cache-mb", type=click.IntRange(min=0),
              help="MiB of read documents each process keeps until the next commit; SQLite files only, 0 turns it off [KILN_CACHE_MB, default 64].")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              help="info logs one line per request (logger kiln.requests); warning and above only problems [KILN_LOG_LEVEL, default info].")
@click.option("--admin-token",
              help="The token the /_kiln/ routes that change state need (Authorization: Bearer <token>); "
                   "generated and printed at start when --host is not loopback [KILN_ADMIN_TOKEN].")
@click.option("--auth", type=click.Choice(AUTH_MODES, case_sensitive=False),
              help="sigv4: check every request's AWS Signature Version 4 against --credentials; "
                   "none: any credentials work [KILN_AUTH, default none].")
@click.option("--credentials", type=click.Path(dir_okay=False),
              help='JSON file of access keys for --auth sigv4: {"AKID": {"secretAccessKey": "...", '
                   '"accountId": "111122223333"}} [KILN_CREDENTIALS].')
@click.option("--request-timeout", type=click.FloatRange(min=0, max=3600, min_open=True, max_open=True),
              help="Seconds a started request may take to arrive (headers, then body) before kiln "
                   "drops it [KILN_REQUEST_TIMEOUT, default 10].")
@click.option("--faults", "faults_file", type=click.Path(dir_okay=False),
              help="JSON or YAML file of failure rules in force from the start: errors, throttles and latency "
                   "on request (docs/faults.md) [KILN_FAULTS].")
@click.option("--ec2-endpoint-url", callback=_url,
              help="EC2 (e.g. a moto_server) where the AMIs builds make are registered and parent AMIs are "
                   "looked up [KILN_EC2_ENDPOINT_URL].")
@click.option("--s3-endpoint-url", callback=_url,
              help="S3 (moto_server, MinIO, ...) that s3:// component, workflow and Dockerfile documents are read "
                   "from [KILN_S3_ENDPOINT_URL].")
@click.option("--sns-endpoint-url", callback=_url,
              help="SNS that infrastructure configurations' snsTopicArn messages go to [KILN_SNS_ENDPOINT_URL].")
@click.option("--events-endpoint-url", callback=_url,
              help="EventBridge that Image Builder's events go to (PutEvents) [KILN_EVENTS_ENDPOINT_URL].")
@click.option("--ssm-endpoint-url", callback=_url,
              help="SSM where ssm: parent images are looked up [KILN_SSM_ENDPOINT_URL].")
@click.option("--webhook", "webhooks", multiple=True, callback=_url,
              help="URL each EventBridge event is POSTed to as JSON, retried with backoff; repeatable "
                   "[KILN_WEBHOOKS, space-separated].")
@click.option("--seed", "seed_file", type=click.Path(dir_okay=False),
              help="A file written by kiln export, imported at start if the store is empty (docs/portable.md) "
                   "[KILN_SEED].")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="A web origin whose pages may call the API (scheme://host[:port], port * for any; * for any "
                   "page; none for no page); repeatable [KILN_CORS_ORIGINS, space-separated; default: "
                   "http://localhost:* and http://127.0.0.1:* on a loopback --host, none elsewhere].")
def serve(host, port, data_dir, in_memory, database_url, build_timing, workers, cache_mb, log_level, admin_token,
          auth, credentials, request_timeout, faults_file, ec2_endpoint_url, s3_endpoint_url, sns_endpoint_url,
          events_endpoint_url, ssm_endpoint_url, webhooks, seed_file, cors_origins):
    """Serve the Image Builder API."""
    config = _config()
    for name, value in (("host", host), ("port", port), ("data_dir", data_dir), ("in_memory", in_memory),
                        ("database_url", database_url), ("build_timing", build_timing), ("workers", workers),
                        ("cache_mb", cache_mb), ("log_level", log_level and log_level.lower()),
                        ("admin_token", admin_token), ("auth", auth and auth.lower()), ("credentials", credentials),
                        ("request_timeout", request_timeout)):
        if value is not None:
            setattr(config, name, value)
    for name, value in (("ec2_endpoint_url", ec2_endpoint_url), ("s3_endpoint_url", s3_endpoint_url),
                        ("sns_endpoint_url", sns_endpoint_url), ("events_endpoint_url", events_endpoint_url),
                        ("ssm_endpoint_url", ssm_endpoint_url), ("webhooks", webhooks)):
        if value is not None:
            setattr(config, name, value)
    from os import environ

    environ.update(config.integration_env())  # where the server's kiln (each worker's too) reads them
    if config.admin_token is None and not is_loopback(config.host):
        # Others can reach this server: its reset, clock and build controls need a token.
        import secrets

        config.admin_token = secrets.token_urlsafe(24)
    if config.in_memory and config.workers > 1:
        raise click.UsageError("--in-memory keeps state inside one process; it cannot be shared by --workers.")
    faults_file = faults_file or os.environ.get("KILN_FAULTS") or None
    rules = _fault_rules(faults_file) if faults_file else None
    _seed_file(seed_file or os.environ.get("KILN_SEED") or None)
    _cors_origins(cors_origins, config.host)
    from kiln import request_log
    from kiln.http.server import StartupError, serve as run

    request_log.configure(config.log_level)
    try:
        run(config, on_started=lambda: click.echo(banner(config, rules), err=True))
    except StartupError as e:
        raise CannotStart(str(e)) from None


def _fault_rules(path: str) -> list:
    """The rules of the --faults file, checked now; each process that serves (this one, or
    each --workers process) loads them from the file, named to it by KILN_FAULTS."""
    from kiln import api_faults

    try:
        rules = api_faults.load_file(path)
    except api_faults.RuleError as e:
        raise CannotStart(f"cannot use the failure rules: {str(e).rstrip('.')}; "
                          "fix the file given with --faults (KILN_FAULTS).") from None
    os.environ["KILN_FAULTS"] = os.path.abspath(path)
    return rules


def _seed_file(path: str | None) -> None:
    """The --seed file, checked whole now; each process that serves imports it from there (named
    by KILN_SEED) if the store is empty when it starts (kiln/http/app.py)."""
    if not path:
        return
    from kiln import portable

    try:
        portable.load(path)
    except portable.PortableError as e:
        raise CannotStart(f"cannot seed the store: {e}; fix the file given with --seed (KILN_SEED).") from None
    os.environ["KILN_SEED"] = os.path.abspath(path)


def _cors_origins(given: tuple, host: str) -> None:
    """The web origins that may call the API: --cors-origin, else KILN_CORS_ORIGINS, else the
    loopback default on a loopback --host (none elsewhere); checked now and handed to the
    serving processes as KILN_CORS_ORIGINS."""
    from kiln.http.app import CORS_VARIABLE, default_cors_origins, parse_cors_origins

    configured = os.environ.get(CORS_VARIABLE, "").strip()
    try:
        origins = (parse_cors_origins(list(given) or configured) if (given or configured)
                   else default_cors_origins(host))
    except ValueError as e:
        if given:
            raise click.BadParameter(str(e), param_hint="'--cors-origin'") from None
        raise click.UsageError(f"Invalid KILN_* environment setting: {CORS_VARIABLE}: {e}") from None
    os.environ[CORS_VARIABLE] = " ".join(origins)


class CannotStart(click.ClickException):
    """`Error: <what, and how to fix it>` on one line, exit status 2 (as for a bad option)."""

    exit_code = 2


def banner(config: Config, fault_rules: list | None = None) -> str:
    from kiln.http.server import where

    timing = {"immediate": "builds finish at once", "manual": "builds wait for POST /_kiln/builds/advance"}.get(
        config.build_timing, f"{config.build_timing}s per build state")
    workers = f", {config.workers} workers" if config.workers > 1 else ""
    token = (f"; admin token (POST /_kiln/ routes: Authorization: Bearer <token>): {config.admin_token}"
             if config.admin_token else "")
    signed = "; requests must be signed (SigV4)" if config.auth == "sigv4" else ""
    peers = [f"{service} {url}" for service, url in (
        ("EC2", config.ec2_endpoint_url), ("S3", config.s3_endpoint_url), ("SNS", config.sns_endpoint_url),
        ("EventBridge", config.events_endpoint_url), ("SSM", config.ssm_endpoint_url)) if url]
    peers += [f"webhook {url}" for url in config.webhooks]
    signed += f"; integrations: {', '.join(peers)}" if peers else ""
    faults = (f"; failure rules: {len(fault_rules)} from {os.environ.get('KILN_FAULTS')}"
              if fault_rules is not None else "")
    return (f"kiln {__version__} serving Image Builder on http://{config.host}:{config.port}{workers}; "
            f"state: {where(config)}; build timing: {timing}{signed}{faults}{token}")


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False))
@click.option("--database-url")
@click.confirmation_option(prompt="Delete all kiln state?")
def reset(data_dir, database_url):
    """Delete every resource in the store."""
    from kiln.http.server import StartupError, open_store

    config = _config()
    config.data_dir = data_dir or config.data_dir
    config.database_url = database_url or config.database_url
    try:
        store = open_store(config)  # the same one-line answers as `kiln serve` when it cannot be opened
    except StartupError as e:
        raise CannotStart(str(e)) from None
    store.reset()
    store.close()
    click.echo("kiln state deleted")


def _store_for(data_dir, database_url, must_exist: bool):
    """The store --data-dir / --database-url (or KILN_*) name, as `kiln reset` opens it."""
    from kiln.http.server import StartupError, open_store, where

    config = _config()
    config.data_dir = data_dir or config.data_dir
    config.database_url = database_url or config.database_url
    config.in_memory = False
    if must_exist and not config.database_url:
        path = os.path.join(config.data_dir or default_data_dir(), "kiln.db")
        if not os.path.exists(path):
            raise CannotStart(f"there is no kiln store at {path}: name the one to export with --data-dir "
                              "(KILN_DATA_DIR) or --database-url (KILN_DATABASE_URL).")
    try:
        return open_store(config), where(config)
    except StartupError as e:
        raise CannotStart(str(e)) from None


def _accounts_and_regions(accounts, regions):
    from kiln.identity import REGION

    for account in accounts:
        if not (account == "aws" or (len(account) == 12 and account.isdigit())):
            raise click.BadParameter(f"{account!r} is not an account: 12 digits, or aws (AWS-managed releases).",
                                     param_hint="'--account'")
    for region in regions:
        if REGION.fullmatch(region) is None:
            raise click.BadParameter(f"{region!r} is not a Region (e.g. us-east-1).", param_hint="'--region'")
    return (sorted(set(accounts)) or None), (sorted(set(regions)) or None)


@main.command("export")
@click.option("--data-dir", type=click.Path(file_okay=False), help="The SQLite store to export [KILN_DATA_DIR].")
@click.option("--database-url", help="The database to export, e.g. postgresql://user@host/db [KILN_DATABASE_URL].")
@click.option("--account", "accounts", multiple=True,
              help="Only this account's state (repeatable); aws: the AWS-managed releases published with "
                   "/_kiln/catalog/publish. Default: every account.")
@click.option("--region", "regions", multiple=True, help="Only this Region's state (repeatable). Default: every Region.")
@click.option("-o", "--output", default="-", show_default=True,
              help="The file to write (.gz: gzip-compressed); - writes to standard output.")
def export_state(data_dir, database_url, accounts, regions, output):
    """Write the store's state (or chosen accounts and Regions of it) to a portable file
    that `kiln import` and `kiln serve --seed` read (docs/portable.md)."""
    from kiln import portable

    accounts, regions = _accounts_and_regions(accounts, regions)
    store, where = _store_for(data_dir, database_url, must_exist=True)
    try:
        counts = portable.export_to_path(store, output, accounts, regions)
    except portable.PortableError as e:
        raise CannotStart(f"{e}.") from None
    finally:
        store.close()
    click.echo(f"exported {counts['resources']} resources ({sum(counts.values())} rows) from {where} to "
               f"{'standard output' if output == '-' else output}", err=True)


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--data-dir", type=click.Path(file_okay=False), help="The SQLite store to import into [KILN_DATA_DIR].")
@click.option("--database-url", help="The database to import into, e.g. postgresql://user@host/db [KILN_DATABASE_URL].")
@click.option("--replace", is_flag=True,
              help="Empty the accounts and Regions the file holds first, instead of refusing rows the store has already.")
def import_state(file, data_dir, database_url, replace):
    """Read a file written by `kiln export` into the store (a new one, or one with state:
    rows it holds already are refused unless --replace). Stop the server first, as for
    `kiln reset`."""
    from kiln import portable

    try:
        loaded = portable.load(file)  # checked whole before the store is touched
    except portable.PortableError as e:
        raise CannotStart(f"{e}; nothing was imported.") from None
    store, where = _store_for(data_dir, database_url, must_exist=False)
    try:
        done = portable.import_into(store, loaded, replace=replace)
    finally:
        store.close()
    if done.written is None:
        raise click.ClickException(
            f"{where} holds some of the file's state already ({portable.describe_conflicts(done.conflicts)}); "
            "nothing was imported. Import into another store, or add --replace to empty the file's accounts and "
            "Regions first.")
    click.echo(f"imported {done.written['resources']} resources ({sum(done.written.values())} rows) into {where}; "
               f"{done.clock}", err=True)


@main.command()
@click.option("--missing", is_flag=True, help="Only the operations not implemented yet.")
def operations(missing):
    """List the modeled operations and whether kiln implements them."""
    from kiln import admin
    from kiln.service import load_handlers

    load_handlers()
    status = admin.operation_status()
    if not missing:
        for op in status["implemented"]:
            click.echo(f"implemented      {op}")
    for op in status["notImplemented"]:
        click.echo(f"not implemented  {op}")
    click.echo(f"{len(status['implemented'])} of {len(status['implemented']) + len(status['notImplemented'])} operations implemented", err=True)


if __name__ == "__main__":
    sys.exit(main())
