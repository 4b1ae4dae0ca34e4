"""Typed errors with messages a user can act on, and hints each front end words in its own terms.

Every error subclasses ``AssertionError`` too, because onnx.hub raised ``AssertionError`` and code
written against it catches that.

A core message never names a CLI flag (``hub.load`` users have none): it carries ``hints`` instead, and
``render(exc, terms)`` words them as the front end's flag, key or argument. ``str(exc)`` renders them in
the Python API's terms (``API_TERMS``); ``exc.message`` is the message without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum


class Hint(str, Enum):
    """Something the user can do next. The value is only an identifier; see ``PHRASES`` and terms."""

    OFFLINE = "offline"  # work from the cached manifest, without the network
    ONLINE = "online"  # turn offline mode off
    CACHE_DIR = "cache_dir"  # use another cache folder
    REPO = "repo"  # point at another hub, e.g. a local folder
    DEMO = "demo"  # the embedded demo hub
    TOKEN = "token"  # a token for a private hub
    HF_TOKEN = "hf_token"  # a Hugging Face token: gated, private or refused (core/hf_api)
    TRUST = "trust"  # say the hub is trusted
    FORCE = "force"  # fetch again although a copy is cached
    PRUNE = "prune"  # free space in the cache
    DEMO_DIR = "demo_dir"  # build the demo hub in another folder


# How each hint reads; "{term}" is the front end's word for it (a flag, a key, an argument).
PHRASES: dict[Hint, str] = {
    Hint.OFFLINE: "work offline from the cached manifest with {term}",
    Hint.ONLINE: "turn offline mode off: {term}",
    Hint.CACHE_DIR: "use another cache folder with {term}",
    Hint.REPO: "point {term} at another hub or a local folder",
    Hint.DEMO: "try the demo hub with {term}",
    Hint.TOKEN: "set {term} if the hub is private",
    Hint.HF_TOKEN: "set {term} to a token of an account that can read the repo",
    Hint.TRUST: "trust the hub with {term}",
    Hint.FORCE: "fetch it again with {term}",
    Hint.PRUNE: "free space in the cache with {term}",
    Hint.DEMO_DIR: "build the demo elsewhere with {term}",
}

# The Python API's words (``onnxhub_tui.hub``); ``str(exc)`` uses these.
API_TERMS: dict[Hint, str] = {
    Hint.OFFLINE: "ONNXHUB_OFFLINE=1",
    Hint.ONLINE: "unset ONNXHUB_OFFLINE",
    Hint.CACHE_DIR: "set_dir() (or ONNX_HOME)",
    Hint.REPO: "repo=",
    Hint.DEMO: 'repo="demo"',
    Hint.TOKEN: "GITHUB_TOKEN or HF_TOKEN",
    Hint.HF_TOKEN: "HF_TOKEN",
    Hint.TRUST: "silent=True",
    Hint.FORCE: "force_reload=True",
    Hint.PRUNE: "onnxhub-tui cache prune",
    Hint.DEMO_DIR: "ONNXHUB_DEMO_DIR",
}


def render(exc: BaseException, terms: Mapping[Hint, str]) -> str:
    """The message with its hints in ``terms``: "<message> Or: <hint>; or <hint>." A hint the front end
    has no term for is left out (a TUI without a key for it should not invent one), and so is one whose
    term the message already names (the Hub's "set HF_TOKEN to ..." says more than the hint would)."""
    if not isinstance(exc, HubError):
        return str(exc)
    phrases = [PHRASES[h].format(term=terms[h]) for h in exc.hints if h in terms and terms[h] not in exc.message]
    if not phrases:
        return exc.message
    text = "; or ".join(phrases)
    return f"{exc.message.rstrip()} You can {text}."


class HubError(AssertionError):
    """Base class: something the user can act on. ``message`` is the bare message, ``hints`` what to do
    next, ``str(error)`` both in the Python API's words. ``usage`` errors (the input as written cannot
    work) are exit status 2 in the CLI."""

    usage: bool = False

    def __init__(self, message: str = "", *, hints: Iterable[Hint] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hints: tuple[Hint, ...] = tuple(dict.fromkeys(hints))

    def __str__(self) -> str:
        return render(self, API_TERMS)


class SettingsError(HubError, ValueError):
    """An environment variable with a value that cannot work; ``variables`` names them."""

    usage = True

    def __init__(self, message: str = "", *, hints: Iterable[Hint] = (), variables: tuple[str, ...] = ()) -> None:
        super().__init__(message, hints=hints)
        self.variables = variables


class RepoSpecError(HubError, ValueError):
    """A repo spec that cannot be understood."""

    usage = True


class ManifestError(HubError):
    """The manifest could not be fetched or is not a manifest at all."""


class ModelNotFoundError(HubError, LookupError):
    """No manifest entry has the requested name (or opset)."""


class UnsafePathError(HubError):
    """A manifest path or archive member that would land outside the cache."""


class NetworkError(HubError):
    """The network failed after all retries."""


class OfflineError(HubError):
    """A network request was needed but offline mode is on."""


class DownloadError(HubError):
    """A file could not be downloaded from any location."""


class HashMismatchError(DownloadError):
    """Bytes arrived but their SHA-256 is not the manifest's."""


class LfsPointerError(DownloadError):
    """A server answered with a Git LFS pointer instead of the model bytes."""


class DiskSpaceError(DownloadError):
    """Not enough free space for the file."""


class ArchiveError(HubError):
    """A model-with-data archive that cannot be read or would extract unsafely."""


class CancelledError(HubError):
    """The download was cancelled; its ``.part`` file is kept for a resume."""


class UntrustedRepoError(HubError):
    """A download from a repo the user has not said they trust."""


class QueryError(HubError, ValueError):
    """A search query token that cannot be understood."""

    usage = True


class InspectError(HubError):
    """A local file that is not a readable ONNX model."""
