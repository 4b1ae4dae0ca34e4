"""The environment for tests against the loopback Hugging Face Hub: no token, home or offline flag of
the machine's, HF_ENDPOINT at the fake Hub, and a token the fake Hub accepts (so one could leak to its CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hfhub import HubWithRepo, start_fake_hub

HF_VARS = ("HF_TOKEN", "HF_HOME", "HF_TOKEN_PATH", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
           "ONNXHUB_OFFLINE")
TOKEN = "secret-token"


def fake_hf_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, token: bool = True) -> Iterator[HubWithRepo]:
    """A fixture body: the fake Hub serving acme/onnx-models, checked at the end for a token on the CDN;
    ``token`` False: no HF_TOKEN set (a user who never logged in)."""
    for key in HF_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("ONNXHUB_BACKOFF", "0.01")
    running = start_fake_hub(tmp_path / "repo-src")
    running.hub.valid_tokens.add(TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", running.hub.url)
    if token:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
    yield running
    running.hub.stop()
    assert running.hub.cdn_violations == [], "an Authorization header reached the CDN"
