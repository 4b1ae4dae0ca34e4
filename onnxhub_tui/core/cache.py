"""The onnx.hub-compatible cache: scan / verify / delete plans, hub-scoped prune, cached states.

Only this module deletes files from the cache. Where files live and the cheap per-entry answer
(``local_copy``) are in ``core/layout``; their names are re-exported here, so ``cache.X`` keeps working.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UnsafePathError
from .diskio import NOT_REGULAR, is_special
from .hashing import sha256_file
from .layout import (  # noqa: F401 - re-exported: the cache's public names, as before the split
    _PLAIN_PATH,
    _PRIVATE_PART,
    _SHA_PREFIX,
    PART,
    TAR_SUFFIX,
    TOOL_DIR,
    LocalCopy,
    _extracted_name,
    _rel_key,
    cached_path,
    cached_rel,
    cached_states,
    data_archive,
    data_folder,
    default_cache_dir,
    extracted_dir,
    file_state,
    local_copy,
    lock_path,
    model_file,
    named_by_cached_manifests,
    part_files,
    part_owner_alive,
    private_part,
    same_sha,
)
from .manifest import ModelInfo
from .paths import is_within

# -- scan --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One file of a multi-file item (a Hugging Face model and its external data): what it must be."""

    path: Path
    size: int | None
    sha256: str | None
    git_sha1: str | None = None  # a file outside LFS has only its git blob id


@dataclass
class CachedFile:
    path: Path
    rel: str  # posix path relative to the cache root
    size: int
    # "complete" | "partial" | "damaged" (wrong size) | "orphan" | "extracted" | "unknown" | "special" (a FIFO,
    # socket or device: listed, never opened)
    state: str
    entry: ModelInfo | None = None
    kind: str = "model"  # "model" | "data" (archive or its extracted folder)
    in_use: bool = False
    is_link: bool = False
    # A Hugging Face model is one item: its .onnx (``path``) and the data files it names; ``size`` is
    # theirs together, and verify and delete take every member (core/hf_hub builds these).
    members: tuple[Member, ...] = ()

    @property
    def group(self) -> str:
        # rel is a normalised posix path (built by scan), so a string split is enough; PurePosixPath
        # here cost ~30 us a file, a third of a second for the cache screen at 10,000 files.
        return self.rel.rpartition("/")[0]

    @property
    def expected_sha(self) -> str | None:
        if self.entry is not None:
            sha = self.entry.model_with_data_sha if self.kind == "data" else self.entry.model_sha
            return sha.lower() if sha else None
        match = _SHA_PREFIX.match(self.path.name)
        return match[1].lower() if match else None


@dataclass
class CacheGroup:
    name: str
    files: list[CachedFile] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass
class CacheReport:
    """A scan. A hub-scoped one (``scoped_report``, ``Hub.cache_report``) also carries ``folders``, the
    hub's own cache folders, and ``named``, the cache paths named by any manifest cached in this cache:
    ``prunable`` calls a file an orphan only inside ``folders`` and only when nothing names it, because
    every hub a user visits shares this cache. ``folders`` None: a bare ``scan``, not scoped."""

    root: Path
    files: list[CachedFile]
    warnings: list[str] = field(default_factory=list)
    folders: frozenset[str] | None = None
    named: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def groups(self) -> list[CacheGroup]:
        groups: dict[str, CacheGroup] = {}
        for f in self.files:
            name = f.group
            group = groups.get(name)
            if group is None:
                group = groups[name] = CacheGroup(name)
            group.files.append(f)
        return [groups[name] for name in sorted(groups)]


def _index(entries: Iterable[ModelInfo]) -> dict[str, tuple[ModelInfo, str]]:
    """rel path in the cache -> (entry, kind) for every file the manifest names."""
    index: dict[str, tuple[ModelInfo, str]] = {}
    for entry in entries:
        try:
            index[_rel_key(entry.model_path, entry.model_sha)] = (entry, "model")
            if entry.model_with_data_path:
                archive = _rel_key(entry.model_with_data_path, entry.model_with_data_sha)
                index[archive] = (entry, "data")
                name = archive.rpartition("/")[2]
                folder = _extracted_name(name)  # as extracted_dir
                index[archive[: len(archive) - len(name)] + folder] = (entry, "data")
        except UnsafePathError:
            continue
    return index


def _tree_size(path: Path) -> int:
    """Bytes under ``path``, links not followed; a stack, not recursion: a 1,500-level folder is fine."""
    total = 0
    stack = [str(path)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        else:
                            total += e.stat(follow_symlinks=False).st_size
                    except OSError:
                        pass
        except OSError:
            pass
    return total


def scan(cache_dir: Path, entries: Iterable[ModelInfo] | None = None) -> CacheReport:
    """Every cached file with its size, its manifest entry when known, and its state.

    Order: each folder's SHA-named extracted folders, then its files (and links), sorted; then its
    subfolders, depth first in sorted order. os.scandir and plain strings keep this near ``find``'s
    speed (10,000 files: ~0.1 s here, against ~3 s with os.walk, Path objects and two lstat calls a file)."""
    root = Path(cache_dir)
    report = CacheReport(root=root, files=[])
    if not root.is_dir():
        return report
    index = _index(entries) if entries is not None else None
    # Depth first with a stack of folders, not recursion (a 1,500-level folder raised RecursionError);
    # pushing each folder's subfolders in reverse keeps the recursive order exactly.
    stack = [(str(root), "")]
    while stack:
        top, rel_dir = stack.pop()
        stack.extend(reversed(_scan_dir(top, rel_dir, index, report.files, report.warnings)))
    return report


def _scan_dir(
    top: str, rel_dir: str, index: dict[str, tuple[ModelInfo, str]] | None, out: list[CachedFile], warnings: list[str]
) -> list[tuple[str, str]]:
    """List one folder's files into ``out``; return its subfolders to scan, in order."""
    try:
        with os.scandir(top) as it:
            items = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if rel_dir:  # an unreadable subfolder is said so, not skipped in silence (a missing root is no cache)
            warnings.append(f"cannot read {top}: {exc.strerror or exc}; its files are not listed")
        return []
    prefix = f"{rel_dir}/" if rel_dir else ""
    here = Path(top)  # here / name is cheaper than parsing each full path again
    descend: list[os.DirEntry[str]] = []
    files: list[tuple[os.DirEntry[str], bool]] = []  # (entry, listed as a folder)
    for e in items:
        try:
            is_dir = e.is_dir()  # follows links, as os.walk did
        except OSError:
            is_dir = False
        if not is_dir:
            files.append((e, False))
        elif not rel_dir and e.name == TOOL_DIR:
            continue
        elif e.is_symlink():
            files.append((e, False))  # listed as a link, never entered
        elif _SHA_PREFIX.match(e.name):
            out.append(_classify(here / e.name, prefix + e.name, index, True, e))
        else:
            descend.append(e)
    for e, _ in files:
        out.append(_classify(here / e.name, prefix + e.name, index, False, e, warnings))
    return [(e.path, prefix + e.name) for e in descend]


def _classify(
    path: Path,
    rel: str,
    index: dict[str, tuple[ModelInfo, str]] | None,
    is_dir: bool,
    entry: os.DirEntry[str] | None = None,
    warnings: list[str] | None = None,
) -> CachedFile:
    try:
        st = entry.stat(follow_symlinks=False) if entry is not None else os.lstat(path)
    except OSError as exc:
        if warnings is not None and not isinstance(exc, FileNotFoundError):  # gone meanwhile: nothing to say
            warnings.append(f"cannot read {path}: {exc.strerror or exc}; listed without its size")
        return CachedFile(path, rel, 0, "orphan")
    is_link = stat.S_ISLNK(st.st_mode)
    size = _tree_size(path) if is_dir else st.st_size
    name = entry.name if entry is not None else path.name
    final_rel = rel
    state = "complete"
    in_use = False
    private = _PRIVATE_PART.match(name) if PART in name else None
    if name.endswith(PART) or private:
        state = "partial"
        final_name = name[: -len(PART)] if name.endswith(PART) else private["final"]  # type: ignore[index]
        head = rel.rpartition("/")[0]
        final_rel = f"{head}/{final_name}" if head else final_name
        in_use = private is not None and part_owner_alive(path)
    elif is_dir:
        state = "extracted"
    hit = index.get(final_rel) if index is not None else None
    entry_, kind = hit if hit else (None, "data" if name.endswith(TAR_SUFFIX) or is_dir else "model")
    if hit and state == "complete" and not is_link:
        expected = entry_.model_with_data_bytes if kind == "data" else entry_.model_bytes
        if not stat.S_ISREG(st.st_mode) or (expected is not None and size != expected):
            state = "damaged"  # as layout.file_state: a truncated copy is not a cached model
    if is_link:
        state = "orphan"
    elif is_special(st.st_mode):
        state = "special"  # whatever its name: never "complete", never hashed, never pruned by itself
    elif index is not None and hit is None and state != "partial":
        state = "orphan"
    elif index is None and state == "complete" and not _SHA_PREFIX.match(name):
        state = "unknown"
    return CachedFile(path, rel, size, state, entry_, kind, in_use, is_link)


# -- selection, verify, delete ----------------------------------------------------------------------


def select(report: CacheReport, target: str) -> list[CachedFile]:
    """Files a user means by ``target``: a path (absolute or relative to the cache), a group, or a model name."""
    target = target.strip()
    root = os.path.realpath(report.root)
    candidate = target
    if os.path.isabs(target):
        real = os.path.realpath(os.path.dirname(target))
        candidate = os.path.relpath(os.path.join(real, os.path.basename(target)), root)
    candidate = candidate.strip("/")
    exact = [f for f in report.files if f.rel == candidate]
    if exact:
        return exact
    in_group = [f for f in report.files if f.group == candidate or f.group.startswith(candidate + "/")]
    if in_group and candidate:
        return in_group
    lowered = target.lower()
    return [f for f in report.files if f.entry is not None and f.entry.model.lower() == lowered]


@dataclass
class VerifyResult:
    file: CachedFile
    ok: bool | None  # None: nothing to compare against
    actual: str | None = None
    message: str = ""


def verify(file: CachedFile, progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Re-hash ``file`` against the manifest's SHA-256 (or the one in its name).

    ``progress(bytes_done)`` is called every few MB; an exception it raises (e.g. to cancel) propagates."""
    if file.members:  # an hf: model and its data files, each against the listing
        from .hf_hub import verify_members  # it builds on this module's names

        return verify_members(file, progress)
    expected = file.expected_sha
    if file.state == "special":  # opening a FIFO blocks until a writer comes: never open one
        return VerifyResult(file, None if expected is None else False, message=NOT_REGULAR)
    if file.state in ("partial", "extracted") or file.is_link or expected is None:
        return VerifyResult(file, None, message="nothing to verify against")
    try:
        actual = sha256_file(file.path, progress=progress).hexdigest()
    except OSError as exc:
        return VerifyResult(file, False, message=f"cannot read: {exc.strerror or exc}")
    if actual == expected.lower():
        return VerifyResult(file, True, actual, "ok")
    return VerifyResult(file, False, actual, f"SHA-256 {actual} but expected {expected}")


@dataclass
class DeletePlan:
    root: Path
    items: list[CachedFile]
    skipped: list[tuple[CachedFile, str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.items)


def plan_delete(report: CacheReport, files: Iterable[CachedFile]) -> DeletePlan:
    plan = DeletePlan(report.root, [])
    seen: set[str] = set()
    for f in files:
        if f.rel in seen:
            continue
        seen.add(f.rel)
        if f.in_use:
            plan.skipped.append((f, "a running download owns it"))
        else:
            plan.items.append(f)
    return plan


@dataclass
class DeleteResult:
    deleted: list[CachedFile] = field(default_factory=list)
    freed: int = 0
    errors: list[tuple[CachedFile, str]] = field(default_factory=list)


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink()  # a link is removed itself; its target is never touched
    else:
        shutil.rmtree(path)  # rmtree does not follow links inside the tree


def execute(plan: DeletePlan) -> DeleteResult:
    """Delete what the plan lists, re-checking each path at the moment of deletion."""
    result = DeleteResult()
    root = Path(os.path.realpath(plan.root))
    for f in plan.items:
        if f.members:
            _execute_members(f, root, result)
            continue
        parent = Path(os.path.realpath(f.path.parent))
        if not (parent == root or is_within(parent, root)) or f.path.name in ("", ".", ".."):
            result.errors.append((f, "outside the cache; not deleted"))
            continue
        if _PRIVATE_PART.match(f.path.name) and part_owner_alive(f.path):
            result.errors.append((f, "a running download owns it; not deleted"))
            continue
        try:
            _remove(parent / f.path.name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            result.errors.append((f, exc.strerror or str(exc)))
            continue
        result.deleted.append(f)
        result.freed += f.size
        _prune_empty_dirs(parent, root)
    return result


def _execute_members(f: CachedFile, root: Path, result: DeleteResult) -> None:
    """Every file of a multi-file item; the item counts as deleted once all of them are gone."""
    failed = ""
    for m in f.members:
        parent = Path(os.path.realpath(m.path.parent))
        if not is_within(parent, root) or m.path.name in ("", ".", ".."):
            failed = failed or f"{m.path.name} is outside the cache; not deleted"
            continue
        try:
            (parent / m.path.name).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            failed = failed or f"{m.path.name}: {exc.strerror or exc}"
            continue
        _prune_empty_dirs(parent, root)
    if failed:
        result.errors.append((f, failed))
        return
    result.deleted.append(f)
    result.freed += f.size


def _prune_empty_dirs(directory: Path, root: Path) -> None:
    while directory != root and is_within(directory, root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def manifest_folders(entries: Iterable[ModelInfo]) -> set[str]:
    """The cache folders (``CachedFile.group``) a manifest's files live in."""
    # A cached file keeps its model_path's folder (only the name changes): plain paths need no index and
    # no PurePosixPath (~1 s at 10,000 entries); the others go through _rel_key's checks.
    folders: set[str] = set()
    for entry in entries:
        for path, sha in ((entry.model_path, entry.model_sha), (entry.model_with_data_path, entry.model_with_data_sha)):
            if not path:
                continue
            try:
                rel = path if _PLAIN_PATH.match(path) else _rel_key(path, sha)
            except UnsafePathError:
                continue
            folders.add(rel.rpartition("/")[0])
    # hf/ is the Hugging Face repos' (core/hf_hub): a manifest's own paths never make it this hub's
    return {f for f in folders if f != "hf" and not f.startswith("hf/")}


def prunable(report: CacheReport, folders: Iterable[str] | None = None) -> list[CachedFile]:
    """Partial downloads no process owns, and orphans: files in the hub's folders that no manifest cached
    in this cache names (a hub-scoped report knows both; see ``CacheReport``). ``folders``: the old way to
    scope a bare scan, kept until the front ends use ``Hub.cache_report``."""
    within = set(folders) if folders is not None else report.folders
    return [
        f for f in report.files
        if (f.state == "partial" and not f.in_use)
        or (f.state == "orphan" and (within is None or f.group in within) and f.rel not in report.named)
    ]


# -- the hub-scoped report ---------------------------------------------------------------------------


def scoped_report(cache_dir: Path, entries: list[ModelInfo], *, verdicts: bool = True) -> CacheReport:
    """A scan for one hub. An orphan outside the hub's folders, or named by a manifest another hub
    cached here, is not this hub's to judge: it gets the verdict of a scan without a manifest
    (``verdicts=False`` leaves its label "orphan"; ``prunable`` leaves it alone either way)."""
    report = scan(cache_dir, entries)
    report.folders = frozenset(manifest_folders(entries))
    suspects = [i for i, f in enumerate(report.files) if f.state == "orphan" and not f.is_link]
    if not suspects:
        return report  # the common case pays for no other manifest
    report.named = named_by_cached_manifests(cache_dir, report.warnings)
    for i in suspects if verdicts else ():
        f = report.files[i]
        if f.group not in report.folders or f.rel in report.named:
            # os.path.isdir: False on any OSError (Path.is_dir raised ENAMETOOLONG past PATH_MAX)
            report.files[i] = _classify(f.path, f.rel, None, os.path.isdir(f.path))
    return report


def unscoped_report(cache_dir: Path) -> CacheReport:
    """A scan without any manifest: no orphan verdicts, so a prune takes only abandoned partials."""
    report = scan(cache_dir, None)
    report.folders = frozenset()
    return report
