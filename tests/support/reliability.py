"""Helpers for the reliability tests: big blobs in a hub tree, cache listings, and a guard proving that
nothing was written outside the cache."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from tests.support.hubtree import HubTree

MB = 1024 * 1024


def pattern_bytes(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-enough bytes (fast even for tens of MB)."""
    block = hashlib.sha512(f"seed-{seed}".encode()).digest() * 1024  # 64 KiB
    reps, rest = divmod(size, len(block))
    out = bytearray()
    for i in range(reps):
        out += hashlib.sha256(i.to_bytes(8, "little") + block[:32]).digest() + block[32:]
    out += block[:rest]
    return bytes(out)


def add_blob(tree: HubTree, name: str, size: int, seed: int = 0, with_size: bool = True,
             with_sha: bool = True, data: bytes | None = None) -> dict:
    """Add a model entry whose file is ``size`` bytes of pattern data (downloads never parse it)."""
    data = pattern_bytes(size, seed) if data is None else data
    path = f"blobs/{name.lower()}/{name.lower()}.onnx"
    (tree.repo_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (tree.repo_dir / path).write_bytes(data)
    tree.files[path] = data
    metadata: dict = {"tags": ["blob"]}
    if with_sha:
        metadata["model_sha"] = hashlib.sha256(data).hexdigest()
    if with_size:
        metadata["model_bytes"] = len(data)
    entry = {"model": name, "model_path": path, "onnx_version": "1.20", "opset_version": 13, "metadata": metadata}
    tree.manifest.append(entry)
    tree.write_manifest(tree.manifest)
    return entry


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MB):
            h.update(chunk)
    return h.hexdigest()


def cache_files(cache_dir: Path, include_tool: bool = False) -> list[Path]:
    """Every file under the cache (our own .onnxhub-tui folder of manifests and locks left out)."""
    if not cache_dir.exists():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(cache_dir):
        if not include_tool:
            dirnames[:] = [d for d in dirnames if d != ".onnxhub-tui"]
        out += [Path(dirpath) / n for n in filenames]
    return sorted(out)


def part_files(cache_dir: Path) -> list[Path]:
    return [p for p in cache_files(cache_dir) if ".part" in p.name]


@dataclass
class OutsideGuard:
    """Snapshots a folder tree (minus the cache) so a test can prove nothing outside the cache changed."""

    root: Path
    cache_dir: Path

    def _listing(self) -> dict[str, tuple[int, int]]:
        seen = {}
        cache = os.path.realpath(self.cache_dir)
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if os.path.realpath(os.path.join(dirpath, d)) != cache]
            for name in filenames + [d for d in dirnames]:
                p = os.path.join(dirpath, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                seen[os.path.relpath(p, self.root)] = (st.st_size, st.st_mtime_ns if not os.path.isdir(p) else 0)
        return seen

    def __enter__(self) -> OutsideGuard:
        self.before = self._listing()
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def changes(self) -> list[str]:
        after = self._listing()
        added = sorted(set(after) - set(self.before))
        removed = sorted(set(self.before) - set(after))
        changed = sorted(k for k in set(after) & set(self.before) if after[k] != self.before[k])
        return [f"+{k}" for k in added] + [f"-{k}" for k in removed] + [f"~{k}" for k in changed]


# -- real subprocesses ------------------------------------------------------------------------------

_FALLBACK = (
    "import sys\n"
    "from onnxhub_tui.core.client import Hub\n"
    "with Hub(sys.argv[1], sys.argv[2]) as h:\n"
    "    print(h.download(h.manifest().find(sys.argv[3])))\n"
)


def cli_has(command: str) -> bool:
    """Whether the CLI (written in parallel with these tests) has this subcommand yet."""
    try:
        from onnxhub_tui import cli
    except Exception:  # noqa: BLE001 - a half-written CLI is simply not there yet
        return False
    build = getattr(cli, "build_parser", None)
    if build is None:
        return False
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            build().parse_args([command, "--help"])
    except SystemExit as exit_:
        return exit_.code == 0
    except Exception:  # noqa: BLE001
        return False
    return False


def cli_command() -> list[str]:
    import sys

    script = Path(sys.executable).parent / "onnxhub-tui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "onnxhub_tui.cli"]


def download_command(repo: str, cache_dir: Path, model: str) -> list[str]:
    """``onnxhub-tui download MODEL`` when the CLI has it, else the same through the core in ``python -c``."""
    import sys

    if cli_has("download"):
        return cli_command() + ["download", model, "--repo", repo, "--cache-dir", str(cache_dir), "--yes"]
    return [sys.executable, "-c", _FALLBACK, repo, str(cache_dir), model]
