"""The integrations' settings: kiln serve's options and KILN_* variables."""
from __future__ import annotations

from click.testing import CliRunner

from kiln.cli import banner, main
from kiln.config import Config, config_from_env
from kiln.integrations import Settings


def test_a_url_that_is_not_http_is_a_usage_error():
    result = CliRunner().invoke(main, ["serve", "--webhook", "ftp://example.com/hook"])
    assert result.exit_code == 2
    assert "--webhook must be an http:// or https:// URL with a host, not 'ftp://example.com/hook'" in result.output
    result = CliRunner().invoke(main, ["serve"], env={"KILN_S3_ENDPOINT_URL": "localhost:9000"})
    assert result.exit_code == 2
    assert "KILN_S3_ENDPOINT_URL must be an http:// or https:// URL with a host, not 'localhost:9000'" in result.output


def test_the_environment_names_the_endpoints_and_webhooks(monkeypatch):
    monkeypatch.setenv("KILN_EC2_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("KILN_WEBHOOKS", "http://127.0.0.1:8080/a, http://127.0.0.1:8080/b")
    config = config_from_env()
    assert (config.ec2_endpoint_url, config.s3_endpoint_url) == ("http://127.0.0.1:5000", None)
    assert config.webhooks == ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b")
    settings = Settings.from_env()
    assert settings.endpoints["ec2"] == "http://127.0.0.1:5000" and settings.configured()
    env = config.to_env()  # what --workers processes are given
    assert env["KILN_EC2_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["KILN_WEBHOOKS"] == "http://127.0.0.1:8080/a http://127.0.0.1:8080/b"
    assert "KILN_S3_ENDPOINT_URL" not in env


def test_the_banner_names_the_peers_only_when_there_are_some():
    alone = Config(in_memory=True)
    assert "integrations" not in banner(alone)
    assert "; integrations: EC2 http://m:5000, SNS http://m:5000, webhook http://h/x" in banner(
        Config(in_memory=True, ec2_endpoint_url="http://m:5000", sns_endpoint_url="http://m:5000",
               webhooks=("http://h/x",)))
