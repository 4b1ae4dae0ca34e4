"""Typed errors with messages a user can act on.

Every error subclasses ``AssertionError`` too, because onnx.hub raised ``AssertionError`` and code
written against it catches that.
"""

from __future__ import annotations


class HubError(AssertionError):
    """Base class: something the user can act on. ``str(error)`` is the whole message."""


class RepoSpecError(HubError, ValueError):
    """A repo spec that cannot be understood."""


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


class InspectError(HubError):
    """A local file that is not a readable ONNX model."""
