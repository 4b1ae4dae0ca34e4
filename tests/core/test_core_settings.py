"""core/settings: every environment variable read and checked in one place (issue 10 item 10)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from onnxhub_tui.core import settings
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.errors import HubError, SettingsError
from onnxhub_tui.core.http import RetryPolicy, make_client
from tests.conftest import REPO, subprocess_env


def test_defaults_without_any_variable():
    s = settings.load({})
    assert (s.connect_timeout, s.read_timeout, s.retries, s.backoff, s.max_wait) == (10.0, 30.0, 5, 0.5, 30.0)
    assert (s.offline, s.locks, s.onnx_home, s.xdg_cache_home, s.demo_dir, s.tui_keys) == (
        False, True, None, None, None, "")
    assert s.github_raw_url == settings.GITHUB_RAW and s.hf_endpoint == settings.HF_DEFAULT


def test_values_are_read_and_typed():
    s = settings.load({
        "ONNXHUB_CONNECT_TIMEOUT": "2.5", "ONNXHUB_READ_TIMEOUT": " 7 ", "ONNXHUB_RETRIES": "3",
        "ONNXHUB_BACKOFF": "0", "ONNXHUB_MAX_WAIT": "1", "ONNXHUB_OFFLINE": "Yes", "ONNXHUB_LOCKS": "off",
        "ONNXHUB_GITHUB_RAW_URL": "http://mirror:8080/raw/", "HF_ENDPOINT": "https://hf.example",
        "GITHUB_TOKEN": "ghp_x", "ONNX_HOME": "/o", "XDG_CACHE_HOME": "/x", "ONNXHUB_DEMO_DIR": "~/demo",
        "ONNXHUB_TUI_KEYS": "app.quit=x",
    })
    assert (s.connect_timeout, s.read_timeout, s.retries, s.attempts, s.backoff, s.max_wait) == (2.5, 7.0, 3, 3, 0.0, 1.0)
    assert s.offline is True and s.locks is False
    assert s.github_raw_url == "http://mirror:8080/raw" and s.hf_endpoint == "https://hf.example"
    assert s.onnx_home == Path("/o") and s.xdg_cache_home == Path("/x") and s.demo_dir == Path("~/demo").expanduser()
    assert s.tui_keys == "app.quit=x" and s.github_token == "ghp_x"
    assert "ghp_x" not in repr(s)  # a token never shows in a repr or a log line
    assert settings.load({"ONNXHUB_RETRIES": "0"}).attempts == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ONNXHUB_READ_TIMEOUT", "inf"),  # was OverflowError deep in ssl
        ("ONNXHUB_READ_TIMEOUT", "nan"),  # was ValueError
        ("ONNXHUB_READ_TIMEOUT", "-1"),
        ("ONNXHUB_READ_TIMEOUT", "1e12"),
        ("ONNXHUB_CONNECT_TIMEOUT", "0"),  # was five retries, then [Errno 115]
        ("ONNXHUB_CONNECT_TIMEOUT", "ten"),
        ("ONNXHUB_RETRIES", "abc"),  # was ignored
        ("ONNXHUB_RETRIES", "2.5"),
        ("ONNXHUB_RETRIES", "-1"),
        ("ONNXHUB_RETRIES", "1000"),
        ("ONNXHUB_BACKOFF", "not a number"),
        ("ONNXHUB_MAX_WAIT", "-inf"),
        ("ONNXHUB_OFFLINE", "maybe"),
        ("ONNXHUB_LOCKS", "sometimes"),
        ("ONNXHUB_GITHUB_RAW_URL", "ftp://host/raw"),
        ("ONNXHUB_GITHUB_LFS_URL", "http://["),
        ("HF_ENDPOINT", "http://host:port/"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_the_variable(name, value):
    with pytest.raises(SettingsError) as bad:
        settings.load({name: value})
    error = bad.value
    assert error.usage and isinstance(error, HubError) and isinstance(error, AssertionError)
    assert error.variables == (name,)
    assert str(error).startswith(f"Bad environment variable: {name}=") and "expected" in str(error)


def test_every_problem_is_reported_at_once_and_passwords_are_masked():
    with pytest.raises(SettingsError) as bad:
        settings.load({"ONNXHUB_RETRIES": "abc", "ONNXHUB_READ_TIMEOUT": "inf",
                       "HF_ENDPOINT": "http://svc:s3cret@[::1"})
    assert set(bad.value.variables) == {"ONNXHUB_RETRIES", "ONNXHUB_READ_TIMEOUT", "HF_ENDPOINT"}
    assert "s3cret" not in str(bad.value) and "Fix or unset them" in str(bad.value)


def test_core_modules_read_the_settings_at_call_time(monkeypatch, cache_dir):
    monkeypatch.setenv("ONNXHUB_READ_TIMEOUT", "inf")
    with pytest.raises(SettingsError, match="ONNXHUB_READ_TIMEOUT"):
        make_client()
    with pytest.raises(SettingsError, match="ONNXHUB_READ_TIMEOUT"):
        Hub(REPO, cache_dir)
    monkeypatch.setenv("ONNXHUB_READ_TIMEOUT", "4")
    monkeypatch.setenv("ONNXHUB_RETRIES", "2")
    with make_client() as client:
        assert client.timeout.read == 4.0
    assert RetryPolicy.from_env().attempts == 2


def test_a_zero_connect_timeout_is_refused_before_any_connection(server, cache_dir):
    env = subprocess_env(server, cache_dir, ONNXHUB_CONNECT_TIMEOUT="0")
    result = subprocess.run(["onnxhub-tui", "list", "--repo", REPO], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and server.hits == []
    assert "ONNXHUB_CONNECT_TIMEOUT='0'" in result.stderr and "Traceback" not in result.stderr
