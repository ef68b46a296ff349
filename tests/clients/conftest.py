"""Fixtures for the real-client tests: `kiln serve` subprocesses (one with immediate
builds, one taking 0.2 s per build state) shared by the session and emptied before
each test. Independent of tests/conftest.py."""
from __future__ import annotations

import pytest

from clients.support import KilnProcess, Server


@pytest.fixture(scope="session")
def _immediate_process():
    process = KilnProcess(build_timing="immediate").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def _timed_process():
    process = KilnProcess(build_timing="0.2").start()
    yield process
    process.stop()


@pytest.fixture
def server(_immediate_process) -> Server:
    """`kiln serve --in-memory --build-timing immediate`, emptied for this test."""
    return Server(_immediate_process).reset()


@pytest.fixture
def timed_server(_timed_process) -> Server:
    """`kiln serve --in-memory --build-timing 0.2`: builds take about a second."""
    return Server(_timed_process).reset()
