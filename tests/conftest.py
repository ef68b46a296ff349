"""Fixtures: every service test runs three times: in-process (kiln.mock_imagebuilder),
against one real `kiln serve` shared by the session, and in-process on PostgreSQL
(skipped, with the reason, when no PostgreSQL answers); every response is checked
against the model (tests/support/shapes.py)."""
from __future__ import annotations

import os
import sys

import pytest

# `tests.support` is imported as a package from the repository root, however pytest was started.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import kiln  # noqa: E402
from tests.support.backend import Backend  # noqa: E402
from tests.support.postgres import postgres_database  # noqa: E402
from tests.support.server import KilnServer  # noqa: E402

MODES = ("inprocess", "server", "postgres")


@pytest.fixture(scope="session")
def shared_server():
    """One `kiln serve --in-memory --build-timing immediate` for the whole run, started on first use.
    (Not named kiln_server: that is the kiln pytest plugin's in-process fixture, which this would shadow.)"""
    server = KilnServer("--in-memory", "--build-timing", "immediate").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url():
    """One PostgreSQL database for the run (created here, dropped at the end)."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=MODES)
def backend(request):
    """A fresh kiln: a new in-process mock (on SQLite in memory, or on PostgreSQL),
    or the shared server after POST /_kiln/reset."""
    if request.param in ("inprocess", "postgres"):
        url = request.getfixturevalue("postgres_url") if request.param == "postgres" else "sqlite://"
        with kiln.mock_imagebuilder(database_url=url) as core:
            core.store.reset()
            b = Backend("inprocess", kiln=core)
            yield b
    else:
        server = request.getfixturevalue("shared_server")
        server.reset()
        b = Backend("server", server=server)
        yield b
    assert not b.violations, "responses that break the model:\n" + "\n".join(b.violations)


@pytest.fixture
def ib(backend):
    """A boto3 imagebuilder client (account 123456789012, us-east-1) on the backend."""
    return backend.client()


@pytest.fixture
def raw(backend):
    """Raw HTTP to the backend (tests/support/raw.py)."""
    return backend.raw
