"""Where things live in the cache (onnx.hub's layout), part files and their owners, the cheap answer
to "is this entry cached?" (``local_copy``: stat calls only, no hashing, no scan; ``cached_states``
for a whole table), and which cache paths the manifests cached here name.

Nothing here deletes; ``core/cache`` (which re-exports these names) does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING


from . import settings as _settings
from .diskio import read_regular
from .errors import UnsafePathError
from .manifest import ModelInfo, _gc_paused
from .paths import TOOL_DIR, check_relative_path, is_within

if TYPE_CHECKING:
    from .cache import CacheReport

PART = ".part"
_SHA_PREFIX = re.compile(r"^([0-9a-fA-F]{64})_(.+)$")  # a manifest may give upper-case hex
_PRIVATE_PART = re.compile(r"^(?P<final>.+)\.part\.(?P<host>[^.]+)-(?P<pid>\d+)-(?P<rand>[0-9a-f]+)$")
TAR_SUFFIX = ".tar.gz"


# -- location and layout -----------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """onnx.hub's own choice, so existing caches are shared."""
    settings = _settings.load()
    if settings.onnx_home is not None:
        return settings.onnx_home / "hub"
    if settings.xdg_cache_home is not None:
        return settings.xdg_cache_home / "onnx" / "hub"
    import platformdirs  # noqa: PLC0415 - 5 ms of imports, only when neither variable nor folder is given

    return platformdirs.user_cache_path("onnx", appauthor=False) / "hub"


def cached_rel(model_path: str, sha: str | None) -> PurePosixPath:
    """onnx.hub's layout: ``<dirs of model_path>/<sha>_<file name>``, relative to the cache."""
    try:
        rel = check_relative_path(model_path)
    except ValueError as exc:
        raise UnsafePathError(f"Refusing manifest path: {exc}.") from None
    return rel.with_name(f"{sha}_{rel.name}" if sha else rel.name)


def cached_path(cache_dir: Path, model_path: str, sha: str | None) -> Path:
    """The file's place in the cache; refuses anything that would land outside it."""
    target = Path(cache_dir).joinpath(*cached_rel(model_path, sha).parts)
    if not is_within(target, cache_dir):
        raise UnsafePathError(f"Refusing manifest path {model_path!r}: it resolves outside the cache {cache_dir}.")
    return target


def model_file(cache_dir: Path, entry: ModelInfo) -> Path:
    return cached_path(cache_dir, entry.model_path, entry.model_sha)


def data_archive(cache_dir: Path, entry: ModelInfo) -> Path | None:
    if not entry.model_with_data_path:
        return None
    return cached_path(cache_dir, entry.model_with_data_path, entry.model_with_data_sha)


def extracted_dir(archive: Path) -> Path:
    """onnx.hub's folder for an archive: the same name without ``.tar.gz``."""
    return archive.with_name(_extracted_name(archive.name))


def _extracted_name(name: str) -> str:
    # Without a SHA prefix, ".tar.gz", "..tar.gz" or "...tar.gz" would leave "", "." or "..": a ValueError
    # from Path.with_name, or the parent folder itself. Those archives extract to "<name>.d".
    stem = name[: -len(TAR_SUFFIX)] if name.endswith(TAR_SUFFIX) else ""
    return stem if stem not in ("", ".", "..") else name + ".d"


def lock_path(cache_dir: Path, target: Path) -> Path:
    # fsencode: a path that is not UTF-8 (``caf\xe9``) arrives surrogate-escaped; str.encode() raised on it
    digest = hashlib.sha256(os.fsencode(target)).hexdigest()[:32]
    return Path(cache_dir) / TOOL_DIR / "locks" / f"{digest}.lock"


def private_part(target: Path) -> Path:
    """A part file owned by this process; its name says who owns it."""
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
    return target.with_name(f"{target.name}{PART}.{host}-{os.getpid()}-{os.urandom(4).hex()}")


def part_owner_alive(part: Path) -> bool:
    """Whether a private part belongs to a process that is still running on this host."""
    match = _PRIVATE_PART.match(part.name)
    if not match:
        return False
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
    if match["host"] != host:
        return True  # another machine's: cannot know, so never touch it
    pid = int(match["pid"])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process nobody reaped (PID 1 in many containers never does) keeps its pid but writes
    nothing: its part is abandoned, to be resumed or pruned. Linux only (/proc); elsewhere: running."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]  # after "pid (comm)", comm may hold anything
    except (OSError, IndexError):
        return False
    return state in (b"Z", b"X")


def part_files(target: Path) -> list[Path]:
    """The resumable part and any private parts of ``target``."""
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    prefix = target.name + PART
    return [target.parent / n for n in names if n == prefix or n.startswith(prefix + ".")]


# Segments of plain characters, none starting with a dot: normal, relative and safe as they are.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]*(?:/[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]*)*\Z")


def _rel_key(model_path: str, sha: str | None) -> str:
    """``str(cached_rel(...))`` with string operations: PurePosixPath cost ~0.2 s per 10,000 entries.
    Paths that are not plain (``a//b``, ``./a``, ``.x``, spaces) take the PurePosixPath way, same result."""
    if not _PLAIN_PATH.match(model_path):
        return str(cached_rel(model_path, sha))
    head, _, name = model_path.rpartition("/")
    name = f"{sha}_{name}" if sha else name
    return f"{head}/{name}" if head else name


def same_sha(actual: str | None, expected: str | None) -> bool:
    """Hex digests compared as numbers, not text: a manifest may write its SHA-256 in upper case."""
    return actual is not None and expected is not None and actual.lower() == expected.lower()


# -- "is this entry cached?" --------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalCopy:
    """What the cache holds for one entry, from stat calls alone (no hashing: ``cache.verify`` hashes).

    States, for the model file (``state``) and the model-with-data archive (``data_state``):
    "complete" (a regular file of the manifest's size), "partial" (only part files: a download to
    resume), "damaged" (there, but of the wrong size or not a regular file: fetched again), None."""

    state: str | None
    path: Path | None  # the model file's place in the cache; None when its manifest path is unsafe
    data_archive: Path | None  # the archive's place; None when the entry has none (or it is unsafe)
    data_dir: Path | None  # the extracted folder holding the model and its test_data_set_*; None until extracted
    data_state: str | None

    def ready(self, with_data: bool = False) -> bool:
        """True when nothing needs fetching or extracting for this request."""
        if with_data:
            return self.data_state == "complete" and self.data_dir is not None
        return self.state == "complete"


def file_state(path: Path, size: int | None) -> str | None:
    """One cached file's state, as ``LocalCopy`` defines them."""
    try:
        st = os.stat(path)
    except OSError:
        return "partial" if part_files(path) else None
    if not stat.S_ISREG(st.st_mode) or (size is not None and st.st_size != size):
        return "damaged"  # a truncated copy, a FIFO or a folder under the model's name
    return "complete"


def data_folder(archive: Path) -> Path | None:
    """Where an extracted archive's model and test data are: its one top folder (the zoo's layout,
    ``<name>/model.onnx``, ``<name>/test_data_set_0``), else the extraction folder; None if not extracted."""
    folder = extracted_dir(archive)
    try:
        with os.scandir(folder) as it:
            tops = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
    except OSError:
        return None
    return folder / tops[0] if len(tops) == 1 else folder


def local_copy(cache_dir: Path, entry: ModelInfo) -> LocalCopy:
    """The one answer to "is this entry cached, and where?" for the CLI, the TUI and the API."""
    try:
        path: Path | None = model_file(cache_dir, entry)
    except UnsafePathError:
        path = None
    try:
        archive = data_archive(cache_dir, entry)
    except UnsafePathError:
        archive = None
    state = file_state(path, entry.model_bytes) if path is not None else None
    data_state = file_state(archive, entry.model_with_data_bytes) if archive is not None else None
    data_dir = data_folder(archive) if archive is not None and data_state == "complete" else None
    return LocalCopy(state, path, archive, data_dir, data_state)


# -- what the manifests cached in this cache name -------------------------------------------------

_named_memo: dict[str, tuple[tuple[int, int], frozenset[str]]] = {}


def named_by_cached_manifests(cache_dir: Path, warnings: list[str] | None = None) -> frozenset[str]:
    """Every cache path (model, archive, extracted folder) a manifest cached in ``<cache>/.onnxhub-tui/
    manifests`` names. Remembered per file (size, mtime), so a rescan does not parse them again."""
    store = Path(cache_dir) / TOOL_DIR / "manifests"
    try:
        names = sorted(n for n in os.listdir(store) if n.endswith(".json"))
    except OSError:
        return frozenset()
    named: set[str] = set()
    for name in names:
        path = store / name
        try:
            st = path.stat()
            key = (st.st_size, st.st_mtime_ns)
            memo = _named_memo.get(str(path))
            if memo is None or memo[0] != key:
                memo = (key, _names_in(read_regular(path)))
                _named_memo[str(path)] = memo
        except (OSError, ValueError, RecursionError) as exc:
            if warnings is not None:
                warnings.append(f"cannot read the cached manifest {path}: {getattr(exc, 'strerror', None) or exc}")
            continue
        named |= memo[1]
    return frozenset(named)


def _names_in(body: bytes) -> frozenset[str]:
    with _gc_paused():  # a big manifest parses 3x faster without the cyclic GC
        data = json.loads(body)
    keys: set[str] = set()
    for raw in data if isinstance(data, list) else ():
        meta = raw.get("metadata") if isinstance(raw, dict) else None
        if not isinstance(meta, dict):
            continue
        for path, sha, archive in ((raw.get("model_path"), meta.get("model_sha"), False),
                                   (meta.get("model_with_data_path"), meta.get("model_with_data_sha"), True)):
            if not isinstance(path, str) or not (sha is None or isinstance(sha, str)):
                continue
            try:
                rel = _rel_key(path, sha)
            except UnsafePathError:
                continue
            keys.add(rel)
            if archive:
                head, _, name = rel.rpartition("/")
                keys.add(f"{head}/{_extracted_name(name)}" if head else _extracted_name(name))
    return frozenset(keys)


# -- cached states for a whole table -----------------------------------------------------------------

_PART_SUFFIX = re.compile(r"\.part(\.[^.]+-\d+-[0-9a-f]+)?$")


def cached_states(report: CacheReport, entries: list[ModelInfo]) -> dict[str, str]:
    """Entry key -> "complete" | "partial" | "damaged" for the model files of ``entries``, from a scan
    made *without* the manifest (``scan(cache_dir, None)``; a scoped one works too).

    Why not ``scan(cache_dir, entries)``: that indexes every entry's cache path first, about 5 s for
    50,000 entries; here each cached file names its entry (``<dirs>/<sha>_<name>``), so the cost
    follows the size of the cache, not of the manifest. Sizes are compared as in ``local_copy``."""
    by_path = {e.model_path: e for e in entries}
    states: dict[str, str] = {}
    for f in report.files:
        if f.state not in ("complete", "partial", "unknown", "damaged", "special") or f.is_link:
            continue
        rel = _PART_SUFFIX.sub("", f.rel) if f.state == "partial" else f.rel
        folder, _, name = rel.rpartition("/")
        match = _SHA_PREFIX.match(name)
        if match:
            entry = by_path.get(f"{folder}/{match[2]}" if folder else match[2])
            if entry is None or (entry.model_sha or "").lower() != match[1].lower():
                continue
        else:  # an entry without a SHA-256 is cached under its plain name
            entry = by_path.get(rel)
            if entry is None or entry.model_sha:
                continue
        if f.state == "partial":
            states.setdefault(entry.model_path, "partial")
        elif f.state in ("damaged", "special") or (entry.model_bytes is not None and f.size != entry.model_bytes):
            states[entry.model_path] = "damaged"
        else:
            states[entry.model_path] = "complete"
    return states
