"""What the Hugging Face environment says: endpoint, token, offline. ``core/settings`` reads these
rules into ``Settings.hf_*`` (its ``load`` calls ``discover_token`` and ``hf_offline``); ``hf_env`` is
the same answer, read through ``settings.load``, in the shape ``core/hf_repo`` takes.

Rules follow huggingface_hub (``constants.py``, ``utils/_auth.py``):
- endpoint: ``HF_ENDPOINT``, default ``https://huggingface.co``, trailing ``/`` dropped;
- token: ``HF_TOKEN``, else ``HUGGING_FACE_HUB_TOKEN``, else the file ``huggingface-cli login`` writes:
  ``HF_TOKEN_PATH``, else ``$HF_HOME/token``, ``HF_HOME`` defaulting to ``$XDG_CACHE_HOME/huggingface``
  then ``~/.cache/huggingface``. Newlines and surrounding spaces are stripped; an empty token is none;
- offline: ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) in 1/ON/YES/TRUE, any case.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

HF_DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = {"1", "ON", "YES", "TRUE"}


@dataclass(frozen=True)
class HfEnv:
    endpoint: str  # no trailing "/"; may still carry user:password@ (sources splits it out)
    token: str | None = field(repr=False)  # never printed
    token_origin: str | None  # "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN" or the token file's path: for messages
    offline: bool


def _clean(token: str | None) -> str | None:
    if token is None:
        return None
    return token.replace("\r", "").replace("\n", "").strip() or None


def hf_home(environ: Mapping[str, str]) -> Path:
    if environ.get("HF_HOME"):
        return Path(os.path.expandvars(environ["HF_HOME"])).expanduser()
    xdg = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "huggingface"


def token_path(environ: Mapping[str, str]) -> Path:
    if environ.get("HF_TOKEN_PATH"):
        return Path(os.path.expandvars(environ["HF_TOKEN_PATH"])).expanduser()
    return hf_home(environ) / "token"


def discover_token(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(token, where it came from); (None, None) when there is none. An unreadable file is no token."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        token = _clean(environ.get(name))
        if token:
            return token, name
    path = token_path(environ)
    try:
        token = _clean(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None, None
    return (token, str(path)) if token else (None, None)


def hf_offline(environ: Mapping[str, str]) -> bool:
    """huggingface_hub's rule: anything but 1/ON/YES/TRUE (any case) is "not offline", never an error."""
    return any((environ.get(n) or "").strip().upper() in _TRUE for n in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hf_env(environ: Mapping[str, str] | None = None) -> HfEnv:
    """The environment's Hugging Face settings (``settings.load``: a bad HF_ENDPOINT is a SettingsError)."""
    from . import settings  # settings imports this module's rules

    s = settings.load(environ)
    return HfEnv(endpoint=s.hf_endpoint, token=s.hf_token, token_origin=s.hf_token_origin, offline=s.hf_offline)
