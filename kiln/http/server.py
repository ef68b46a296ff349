"""Run the ASGI app under uvicorn."""
from __future__ import annotations

import os

import uvicorn

from kiln.config import Config


def build_app_from_env():
    """Factory for uvicorn workers (--workers N re-imports the app in each process)."""
    from kiln.cli import config_from_env

    return create_app(config_from_env())


def create_app(config: Config):
    from kiln.core import Kiln
    from kiln.http.app import make_app
    from kiln.store import Store

    kiln = Kiln(Store(config.store_url(), config.cache_mb << 20), config.seconds_per_state, config.account)
    return make_app(kiln)


def serve(config: Config) -> None:
    kwargs = dict(host=config.host, port=config.port, log_level="warning", access_log=False,
                  http="httptools", lifespan="on")
    try:
        import uvloop  # noqa: F401
        kwargs["loop"] = "uvloop"
    except ImportError:
        pass
    if config.workers > 1:
        # Each worker process builds its own app from the same settings, passed by environment.
        os.environ.update(config.to_env())
        uvicorn.run("kiln.http.server:build_app_from_env", factory=True, workers=config.workers, **kwargs)
    else:
        uvicorn.run(create_app(config), **kwargs)
