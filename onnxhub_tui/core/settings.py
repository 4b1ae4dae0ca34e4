"""Every environment variable the project reads, read and validated in one place.

``load()`` reads the environment when it is called (not at import), so a value set before a ``Hub`` is
made, a download starts or a spec is parsed is the one used. A value that cannot work is a
``SettingsError`` naming the variable and what it accepts, never a silent default: ``inf`` as a
timeout overflowed deep inside httpx, ``0`` retried five times against a refused connection, ``abc``
as a retry count was ignored.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import SettingsError
from .hf_env import discover_token, hf_offline

GITHUB_RAW = "https://raw.githubusercontent.com"
GITHUB_LFS = "https://media.githubusercontent.com/media"
HF_DEFAULT = "https://huggingface.co"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
MAX_RETRIES = 100
MAX_SECONDS = 24 * 3600.0  # a day: anything longer is a typo, and httpx/ssl overflow near 2**31 s


@dataclass(frozen=True)
class Settings:
    """One field per environment variable (the variable's name is in each comment)."""

    connect_timeout: float = 10.0  # ONNXHUB_CONNECT_TIMEOUT, seconds, > 0
    read_timeout: float = 30.0  # ONNXHUB_READ_TIMEOUT, seconds, > 0
    retries: int = 5  # ONNXHUB_RETRIES: attempts per request (0 and 1 both mean: no retry)
    backoff: float = 0.5  # ONNXHUB_BACKOFF: first wait between attempts, seconds, >= 0
    max_wait: float = 30.0  # ONNXHUB_MAX_WAIT: longest wait between attempts, seconds, >= 0
    offline: bool = False  # ONNXHUB_OFFLINE
    locks: bool = True  # ONNXHUB_LOCKS
    github_raw_url: str = GITHUB_RAW  # ONNXHUB_GITHUB_RAW_URL (no trailing slash; may hold user:pass@)
    github_lfs_url: str = GITHUB_LFS  # ONNXHUB_GITHUB_LFS_URL
    hf_endpoint: str = HF_DEFAULT  # HF_ENDPOINT
    github_token: str | None = field(default=None, repr=False)  # GITHUB_TOKEN; never in a repr
    # HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the token file under HF_HOME (core/hf_env's rules)
    hf_token: str | None = field(default=None, repr=False)
    hf_token_origin: str | None = None  # which of those it came from (a variable's name or the file), for messages
    hf_offline: bool = False  # HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE): hf: hubs work from the cache
    onnx_home: Path | None = None  # ONNX_HOME: the cache is <ONNX_HOME>/hub, as onnx.hub's
    xdg_cache_home: Path | None = None  # XDG_CACHE_HOME: else <XDG_CACHE_HOME>/onnx/hub
    demo_dir: Path | None = None  # ONNXHUB_DEMO_DIR: where the demo hub is built (None: the default)
    tui_keys: str = ""  # ONNXHUB_TUI_KEYS: "binding.id=keys;..." (the TUI parses it)

    @property
    def attempts(self) -> int:
        return max(1, self.retries)


def _seconds(env: Mapping[str, str], name: str, default: float, *, zero_ok: bool, problems: list[str]) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    what = "a number of seconds " + ("(0 or more" if zero_ok else "(more than 0") + f", at most {MAX_SECONDS:g})"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok) or value > MAX_SECONDS:
        problems.append(f"{name}={text!r}: expected {what}")
        return default
    return value


def _count(env: Mapping[str, str], name: str, default: int, problems: list[str]) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_RETRIES:
        problems.append(f"{name}={text!r}: expected a whole number from 0 to {MAX_RETRIES}")
        return default
    return value


def _flag(env: Mapping[str, str], name: str, default: bool, problems: list[str]) -> bool:
    text = env.get(name)
    if text is None:
        return default
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False if lowered else default
    problems.append(f"{name}={text!r}: expected 1/true/yes/on or 0/false/no/off")
    return default


def _shown(url: str) -> str:
    """A URL for a message: any ``user:password@`` is masked."""
    head, sep, rest = url.partition("//")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{head}//***@{rest.split('@', 1)[1]}"
    return url


def _base_url(env: Mapping[str, str], name: str, default: str, problems: list[str]) -> str:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    value = text.rstrip("/")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[": urlsplit's "Invalid IPv6 URL"
        ok = False
    if not ok:
        problems.append(f"{name}={_shown(text)!r} is not a valid URL: expected http(s)://host[:port][/path]")
        return default
    return value


def _folder(env: Mapping[str, str], name: str, *, expand: bool = True) -> Path | None:
    text = env.get(name)
    if not text:
        return None
    return Path(text).expanduser() if expand else Path(text)


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every variable (``os.environ`` unless ``environ`` is given). All the problems
    found are reported together, in one ``SettingsError``."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    hf_token, hf_token_origin = discover_token(env)
    settings = Settings(
        connect_timeout=_seconds(env, "ONNXHUB_CONNECT_TIMEOUT", Settings.connect_timeout, zero_ok=False,
                                 problems=problems),
        read_timeout=_seconds(env, "ONNXHUB_READ_TIMEOUT", Settings.read_timeout, zero_ok=False, problems=problems),
        retries=_count(env, "ONNXHUB_RETRIES", Settings.retries, problems),
        backoff=_seconds(env, "ONNXHUB_BACKOFF", Settings.backoff, zero_ok=True, problems=problems),
        max_wait=_seconds(env, "ONNXHUB_MAX_WAIT", Settings.max_wait, zero_ok=True, problems=problems),
        offline=_flag(env, "ONNXHUB_OFFLINE", Settings.offline, problems),
        locks=_flag(env, "ONNXHUB_LOCKS", Settings.locks, problems),
        github_raw_url=_base_url(env, "ONNXHUB_GITHUB_RAW_URL", GITHUB_RAW, problems),
        github_lfs_url=_base_url(env, "ONNXHUB_GITHUB_LFS_URL", GITHUB_LFS, problems),
        hf_endpoint=_base_url(env, "HF_ENDPOINT", HF_DEFAULT, problems),
        github_token=env.get("GITHUB_TOKEN") or None,
        hf_token=hf_token,
        hf_token_origin=hf_token_origin,
        hf_offline=hf_offline(env),
        onnx_home=_folder(env, "ONNX_HOME", expand=False),  # as onnx.hub: taken as written
        xdg_cache_home=_folder(env, "XDG_CACHE_HOME", expand=False),
        demo_dir=_folder(env, "ONNXHUB_DEMO_DIR"),
        tui_keys=env.get("ONNXHUB_TUI_KEYS", ""),
    )
    if problems:
        many = len(problems) > 1
        raise SettingsError(
            f"Bad environment variable{'s' if many else ''}: {'; '.join(problems)}. Fix or unset {'them' if many else 'it'}.",
            variables=tuple(p.split("=", 1)[0] for p in problems),
        )
    return settings
