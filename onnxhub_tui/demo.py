"""The embedded demo hub: real models shipped inside the installed onnx package, served from this process.

``onnxhub-tui --demo`` must work on a fresh machine with no network and no hub of one's own, and it
must exercise the real HTTP download path. So the first run copies onnx's backend test models into a
folder under the user's cache, packs the operator models' ``test_data_set_*`` into model-with-data
archives, writes the manifest with ``core.build`` (exactly what ``manifest build`` does), and every run
serves that folder on 127.0.0.1 from a daemon thread.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import tarfile
import threading
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import platformdirs

from .core.build import build_manifest, write_manifest
from .core import settings as _settings
from .core.errors import HubError, Hint
from .core.paths import is_within
from .core.sources import MANIFEST_NAME, Source, http_source

DEMO_FORMAT = 2  # bump when the demo's layout changes, so old demo folders are rebuilt
STAMP = ".demo-stamp"
DEMO_SPEC = "onnxhub-demo"
ROOT = "demo"  # every demo path starts here, so `cache rm demo` removes the demo's downloads

# onnx/backend/test/data/light: real architectures with light weights (a few KB to 200 KB each).
LIGHT_MODELS = (
    "bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
    "shufflenet", "squeezenet", "vgg19", "zfnet512",
)
# Converted operator models that ship inputs and expected outputs: these get model-with-data archives.
OPERATOR_MODELS: dict[str, tuple[tuple[str, str], ...]] = {
    "conv": (("pytorch-converted", "Conv2d"), ("pytorch-converted", "Conv1d"),
             ("pytorch-converted", "ConvTranspose2d")),
    "pooling": (("pytorch-converted", "MaxPool2d"), ("pytorch-converted", "AvgPool2d")),
    "normalization": (("pytorch-converted", "BatchNorm2d_eval"),),
    "activation": (("pytorch-converted", "ReLU"), ("pytorch-converted", "LeakyReLU"),
                   ("pytorch-converted", "Softmax"), ("pytorch-converted", "Sigmoid"),
                   ("pytorch-converted", "Tanh")),
    "linear": (("pytorch-converted", "Linear"), ("pytorch-converted", "Embedding"),
               ("pytorch-operator", "operator_mm"), ("pytorch-operator", "operator_addmm")),
    "math": (("pytorch-operator", "operator_pow"), ("pytorch-operator", "operator_exp"),
             ("pytorch-operator", "operator_sqrt")),
}


def _stem(name: str) -> str:
    """The model's name in the demo hub (``manifest build`` takes names from file names)."""
    return name.removeprefix("operator_")


def onnx_test_data() -> Path:
    import onnx

    return Path(onnx.__file__).parent / "backend" / "test" / "data"


def demo_dir() -> Path:
    """Where the demo hub is built: ``$ONNXHUB_DEMO_DIR``, else ``<user cache>/onnxhub-tui/demo-hub``."""
    configured = _settings.load().demo_dir
    if configured is not None:
        return configured
    return platformdirs.user_cache_path("onnxhub-tui", appauthor=False) / "demo-hub"


def _stamp() -> dict[str, object]:
    # The package metadata, not ``import onnx``: checking the stamp on every run should cost nothing.
    try:
        version = importlib.metadata.version("onnx")
    except importlib.metadata.PackageNotFoundError:
        import onnx

        version = onnx.__version__
    return {"onnx": version, "format": DEMO_FORMAT}


def is_current(folder: Path) -> bool:
    try:
        return json.loads((folder / STAMP).read_text()) == _stamp() and (folder / MANIFEST_NAME).is_file()
    except (OSError, ValueError):
        return False


def _archive(name: str, model: Path, data_sets: list[Path]) -> bytes:
    """The zoo's model-with-data layout: ``<name>/model.onnx`` and ``<name>/test_data_set_N/*.pb``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.add(model, arcname=f"{name}/model.onnx")
        for data_set in data_sets:
            for pb in sorted(data_set.glob("*.pb")):
                tar.add(pb, arcname=f"{name}/{data_set.name}/{pb.name}")
    return buffer.getvalue()


def _populate(folder: Path) -> int:
    data = onnx_test_data()
    count = 0
    for stem in LIGHT_MODELS:
        source = data / "light" / f"light_{stem}.onnx"
        if source.is_file():
            target = folder / ROOT / "vision" / "classification" / stem / f"{stem}.onnx"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            count += 1
    for family, models in OPERATOR_MODELS.items():
        for kind, name in models:
            source = data / kind / f"test_{name}"
            if not (source / "model.onnx").is_file():
                continue  # an onnx release without this test model: the demo is simply smaller
            stem = _stem(name)
            target = folder / ROOT / "operators" / family / f"{stem}.onnx"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / "model.onnx", target)
            data_sets = sorted(p for p in source.glob("test_data_set_*") if p.is_dir())
            if data_sets:
                target.with_name(f"{stem}.tar.gz").write_bytes(_archive(stem, source / "model.onnx", data_sets))
            count += 1
    return count


def ensure_demo_hub(folder: Path | None = None, say: Callable[[str], None] | None = None) -> Path:
    """Build the demo hub the first time (or after onnx changed); returns its folder."""
    folder = Path(folder) if folder is not None else demo_dir()
    if is_current(folder):
        return folder
    if say:
        say(f"Building the demo hub from the models inside onnx (first run only) in {folder}")
    try:
        _build(folder)
    except OSError as exc:
        raise HubError(
            f"Cannot build the demo hub in {folder}: {exc.strerror or exc}.", hints=(Hint.DEMO_DIR,)
        ) from None
    return folder


def _build(folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        if _populate(tmp) == 0:
            raise HubError(
                f"The installed onnx has no backend test models under {onnx_test_data()}, and the demo is "
                "built from them: reinstall onnx from its official wheel.", hints=(Hint.REPO,)
            )
        result = build_manifest(tmp)
        for entry in result.entries:  # every path starts with demo/: as a tag it would say nothing
            entry["metadata"]["tags"] = [t for t in entry["metadata"]["tags"] if t != ROOT]
        write_manifest(result.entries, tmp / MANIFEST_NAME)
        (tmp / STAMP).write_text(json.dumps(_stamp()))
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not is_current(folder):  # another process did not win the race either
                raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- serving on loopback ----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """GET/HEAD for files under the demo folder, with single byte ranges and ETags, like a static host."""

    server: _DemoHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep the terminal clean
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def _file(self) -> Path | None:
        parts = [p for p in unquote(urlsplit(self.path).path).split("/") if p]
        if any(p in (".", "..") or p.startswith(".") for p in parts):
            return None
        path = self.server.root.joinpath(*parts)
        return path if path.is_file() and is_within(path, self.server.root) else None

    def _reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        headers.setdefault("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _range(self, size: int) -> tuple[int, int] | None | bool:
        """(start, end) inclusive; None without a Range header; False when it cannot be satisfied."""
        header = self.headers.get("Range", "")
        if not header.startswith("bytes=") or "," in header:
            return None
        first, _, last = header[6:].strip().partition("-")
        try:
            if first:
                start, end = int(first), (int(last) if last else size - 1)
            else:
                start, end = max(size - int(last), 0), size - 1
        except ValueError:
            return None
        if start >= size or start > end:
            return False
        return start, min(end, size - 1)

    def _serve(self, head: bool) -> None:
        path = self._file()
        if path is None:
            self._reply(404, {"Content-Type": "text/plain"}, b"Not Found")
            return
        stat = path.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "Accept-Ranges": "bytes",
            "Content-Type": "application/json" if path.name.endswith(".json") else "application/octet-stream",
        }
        if self.headers.get("If-None-Match") == etag:
            self._reply(304, {"ETag": etag})
            return
        wanted = self._range(stat.st_size)
        if wanted is False:
            self._reply(416, {"Content-Range": f"bytes */{stat.st_size}"})
            return
        start, end, status = 0, stat.st_size - 1, 200
        if wanted:
            start, end = wanted
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{stat.st_size}"
        headers["Content-Length"] = str(max(end - start + 1, 0))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError), open(path, "rb") as f:
            f.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = f.read(min(256 * 1024, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.root = root


def _preferred_port(folder: Path) -> int:
    """The same port run after run (so the manifest's cached copy is one file, not one per run)."""
    digest = hashlib.sha256(os.fsencode(folder)).digest()  # a folder name need not be UTF-8
    return 20000 + int.from_bytes(digest[:4], "big") % 30000


class DemoServer:
    """The demo folder served on 127.0.0.1 (an OS-chosen port) from a daemon thread."""

    def __init__(self, folder: Path) -> None:
        folder = Path(folder).resolve()
        try:
            self._server = _DemoHTTPServer(folder, _preferred_port(folder))
        except OSError:  # taken (another demo is running, or anything else): any free port will do
            self._server = _DemoHTTPServer(folder)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="onnxhub-demo", daemon=True)
        self._thread.start()

    def source(self) -> Source:
        """A trusted source for the served folder, shown as ``onnxhub-demo``."""
        return replace(http_source(self.url), spec=DEMO_SPEC).as_trusted()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bypass_proxies_for_loopback() -> None:
    """httpx sends even 127.0.0.1 through HTTP_PROXY unless NO_PROXY names it; the demo never leaves the machine."""
    for key in ("NO_PROXY", "no_proxy"):
        current = [h.strip() for h in os.environ.get(key, "").split(",") if h.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in current:
                current.append(host)
        os.environ[key] = ",".join(current)
