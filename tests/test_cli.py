"""The `kiln` command: operations, serve (its options, bad settings, state kept across restarts), reset."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kiln.cli import main
from tests.support.backend import Backend
from tests.support.errors import raises
from tests.support.server import KilnServer
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
