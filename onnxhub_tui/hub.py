"""A drop-in for the removed ``onnx.hub``: ``from onnxhub_tui import hub``.

Same functions, defaults, name matching and cache layout as onnx 1.20's ``onnx.hub``, with verified,
resumable downloads underneath. Errors subclass ``AssertionError`` as onnx.hub's did.
Like onnx.hub, ``onnx/models`` means its manifest's 184 models; ``repo="onnx/models:main+zoo"`` gives
these functions the whole zoo (2,377 models, see ``core/zoo.py``). An archive-only zoo model (a ``.tar.gz``
of the model and its external data) downloads with its data and extracts; ``load`` reads the model inside.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from . import prefetch
from .core.errors import Hint, HubError, UntrustedRepoError

# Importing this module stays light: the core (httpx and the cache, ~0.1 s) is imported by the first
# function that needs it, and a script's first load() may never need it in its own process (prefetch).
if TYPE_CHECKING:
    import onnx

    from .core.client import Hub
    from .core.manifest import ModelInfo
    from .core.sources import Source

__all__ = [
    "ModelInfo",
    "download_model_with_test_data",
    "get_dir",
    "get_model_info",
    "list_models",
    "load",
    "load_composite_model",
    "set_dir",
]

log = logging.getLogger("onnxhub_tui.hub")
_hub_dir: str | None = None


def __getattr__(name: str) -> object:
    if name == "ModelInfo":  # in __all__, as onnx.hub's: imported when asked for
        from .core.manifest import ModelInfo  # noqa: PLC0415

        return ModelInfo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ``repo="demo"``: the embedded demo hub (what the CLI's --demo serves), trusted, served on loopback
# from a daemon thread started at first use and kept for the process. A folder named "demo": "./demo".
DEMO_REPO = "demo"
_demo_lock = threading.Lock()
_demo_source: Source | None = None


def set_dir(new_dir: str) -> None:
    """Sets the current ONNX hub cache location."""
    global _hub_dir  # noqa: PLW0603 - onnx.hub's API is module state
    _hub_dir = os.fspath(new_dir)


def get_dir() -> str:
    """Gets the current ONNX hub cache location."""
    if _hub_dir is not None:
        return _hub_dir
    from .core.layout import default_cache_dir  # noqa: PLC0415 - see the imports

    return str(default_cache_dir())


def _demo() -> Source:
    global _demo_source  # noqa: PLW0603 - one loopback server per process
    with _demo_lock:
        if _demo_source is None:
            from . import demo  # noqa: PLC0415 - only when asked for

            folder = demo.ensure_demo_hub()
            demo.bypass_proxies_for_loopback()
            _demo_source = demo.DemoServer(folder).source()
        return _demo_source


def _hub(repo: str) -> Hub:
    from .core.client import Hub  # noqa: PLC0415 - see the imports
    from .core.zoo import api_repo  # noqa: PLC0415

    if repo == DEMO_REPO:
        return Hub(_demo(), get_dir(), offline=False)  # loopback only: allowed even with ONNXHUB_OFFLINE
    # The manifest's models only, as onnx.hub; "onnx/models:main+zoo" opts in to the whole zoo.
    spec, whole_zoo = api_repo(repo)
    return Hub(spec, get_dir(), zoo=whole_zoo)


def list_models(
    repo: str = "onnx/models:main", model: str | None = None, tags: list[str] | None = None
) -> list[ModelInfo]:
    """Model infos matching a name (case-insensitive) and any of the tags."""
    with _hub(repo) as hub:
        entries = hub.manifest().entries
    if model is not None:
        entries = [m for m in entries if m.model.lower() == model.lower()]
    if tags is None:
        return entries
    wanted = {t.lower() for t in tags}
    return [m for m in entries if wanted & {t.lower() for t in m.tags}]


def get_model_info(model: str, repo: str = "onnx/models:main", opset: int | None = None) -> ModelInfo:
    """The entry with this name and opset; the highest opset when none is given."""
    with _hub(repo) as hub:
        return hub.manifest().find(model, opset)


def _confirm_trust(hub: Hub, repo: str, silent: bool) -> bool:
    if hub.source.trusted or silent:
        return True
    message = (
        f"The model repo specification {repo} is not trusted and may contain security vulnerabilities. "
        "Only continue if you trust this repo."
    )
    if not (sys.stdin and sys.stdin.isatty()):
        raise UntrustedRepoError(f"{message} No terminal to ask on: pass silent=True to trust it.")
    print(message, file=sys.stderr)
    print("Continue?[y/n] ", end="", file=sys.stderr, flush=True)
    return input().strip().lower() == "y"


def _cached(hub: Hub, info: ModelInfo, with_data: bool) -> bool:
    copy = hub.local_copy(info)
    state = copy.data_state if with_data else copy.state
    if state == "damaged":
        log.warning("The cached copy of %s is damaged (not the manifest's size); downloading it again", info.label)
    return state == "complete"


def _fetch(
    hub: Hub, info: ModelInfo, repo: str, with_data: bool, force: bool, silent: bool
) -> Path | None:
    target = hub.local_path(info, with_data)
    if not force and _cached(hub, info, with_data):
        log.info("Using cached %s model from %s", info.model, target)
        return hub.download(info, with_data=with_data)  # extracts the archive if needed
    if not _confirm_trust(hub, repo, silent):
        return None
    log.info("Downloading %s to local path %s", info.model, target)
    return _download_with_bars(hub, info, with_data, force)


def _download_with_bars(hub: Hub, info: ModelInfo, with_data: bool, force: bool) -> Path:
    from .progress import bar_callback, progress_bars  # noqa: PLC0415 - see the imports

    with progress_bars() as bars:
        return hub.download(info, with_data, force, progress=bar_callback(bars, info.model))


def load(
    model: str,
    repo: str = "onnx/models:main",
    opset: int | None = None,
    force_reload: bool = False,
    silent: bool = False,
) -> onnx.ModelProto | None:
    """Download (or take from the cache) a model by name and return it as a ModelProto."""
    if repo != DEMO_REPO and prefetch.worthwhile():
        # A script's first load: a helper process finds, downloads or verifies the model while this one
        # imports onnx; only if it could not (an error, a trust prompt due) does this process do it itself.
        path = prefetch.verified_while_importing_onnx(repo, _hub_dir, model, opset, force_reload, silent)
        if path is not None:
            from .core.modelio import load_model  # noqa: PLC0415

            log.info("%s is %s: its verified file came from a helper process, while onnx was imported", model, path)
            return load_model(path, digest=False)[0]
    from .core.hashing import sha256_hex  # noqa: PLC0415 - see the imports
    from .core.layout import same_sha  # noqa: PLC0415
    from .core.modelio import load_model  # noqa: PLC0415 - imports onnx

    with _hub(repo) as hub:
        info = hub.manifest().find(model, opset)
        fetched_now = force_reload or hub.local_copy(info).state != "complete"
        path = _fetch(hub, info, repo, False, force_reload, silent)
        if path is None:
            return None
        # An archive-only zoo entry's path is the model inside its extracted archive, and its SHA-256 is the
        # archive's: a cached archive is hashed instead of the model.
        archive = hub.local_path(info) if info.metadata.get("archive_only") else None
    # A file downloaded now was verified as it was written: it is parsed without hashing it again; a cached
    # one is hashed in the parsing pass.
    proto, digest = load_model(path, digest=not fetched_now and archive is None)
    if archive is not None:
        digest = None if fetched_now else sha256_hex(archive)  # one fetched now was verified as it arrived
    if digest is not None and info.model_sha is not None and not same_sha(digest, info.model_sha):
        raise HubError(
            f"The cached model {info.model} has SHA256 {digest} while checksum should be {info.model_sha}. "
            "The model in the hub may have been updated, or the cached copy damaged.",
            hints=(Hint.FORCE,),
        )
    return proto


def verified_path(model: str, repo: str, opset: int | None, force: bool, silent: bool) -> Path | None:
    """The helper's half of ``load`` (prefetch): the model's file, downloaded now (verified as it was
    written) or cached and hashed now; None when this cannot decide alone (a trust prompt is due)."""
    from .core.hashing import sha256_hex  # noqa: PLC0415 - see the imports
    from .core.layout import same_sha  # noqa: PLC0415

    with _hub(repo) as hub:
        info = hub.manifest().find(model, opset)
        if not force and _cached(hub, info, False):
            path = hub.download(info)  # the cached file (an archive-only entry's: extracted if needed)
            hashed = hub.local_path(info) if info.metadata.get("archive_only") else path
            if info.model_sha is not None and not same_sha(sha256_hex(hashed), info.model_sha):
                return None  # the caller reads it again and says so, as without a helper
            return path
        if not (hub.source.trusted or silent):
            return None
        return _download_with_bars(hub, info, False, force)


def download_model_with_test_data(
    model: str,
    repo: str = "onnx/models:main",
    opset: int | None = None,
    force_reload: bool = False,
    silent: bool = False,
) -> str | None:
    """Download and safely extract a model with its test data; returns the extracted model folder."""
    with _hub(repo) as hub:
        info = hub.manifest().find(model, opset)
        folder = _fetch(hub, info, repo, with_data=True, force=force_reload, silent=silent)
        if folder is None:
            return None
        return str(hub.local_copy(info).data_dir or folder)  # the one answer, as the CLI and the TUI give


def load_composite_model(
    network_model: str,
    preprocessing_model: str,
    network_repo: str = "onnx/models:main",
    preprocessing_repo: str = "onnx/models:main",
    opset: int | None = None,
    force_reload: bool = False,
    silent: bool = False,
) -> onnx.ModelProto | None:
    """A preprocessing model and a network merged into one, as onnx.hub did."""
    preprocessing = load(preprocessing_model, preprocessing_repo, opset, force_reload, silent)
    if preprocessing is None:
        raise RuntimeError(f"Could not load the preprocessing model: {preprocessing_model}")
    network = load(network_model, network_repo, opset, force_reload, silent)
    if network is None:
        raise RuntimeError(f"Could not load the network model: {network_model}")
    return merge_with_preprocessing(preprocessing, network, preprocessing_model, network_model)


def _opsets(model: onnx.ModelProto) -> dict[str, int]:
    return {(entry.domain or "ai.onnx"): entry.version for entry in model.opset_import}


def merge_with_preprocessing(
    preprocessing: onnx.ModelProto, network: onnx.ModelProto, preprocessing_name: str, network_name: str
) -> onnx.ModelProto:
    import onnx  # noqa: PLC0415 - see the import at the top

    pre, net = _opsets(preprocessing), _opsets(network)
    for domain in set(pre) & set(net) - {"ai.onnx"}:
        if pre[domain] != net[domain]:
            raise ValueError(
                f"Can not merge {preprocessing_name} and {network_name} because they contain different opset "
                f"versions for domain {domain} ({pre[domain]} and {net[domain]}). Only the default domain can "
                "be automatically converted to the highest version of the two."
            )
    pre_default, net_default = pre.get("ai.onnx", -1), net.get("ai.onnx", -1)
    if pre_default > net_default:
        network = onnx.version_converter.convert_version(network, pre_default)
        network.ir_version = preprocessing.ir_version
        onnx.checker.check_model(network)
    elif net_default > pre_default:
        preprocessing = onnx.version_converter.convert_version(preprocessing, net_default)
        preprocessing.ir_version = network.ir_version
        onnx.checker.check_model(preprocessing)
    io_map = [(out.name, inp.name) for out, inp in zip(preprocessing.graph.output, network.graph.input)]
    return onnx.compose.merge_models(preprocessing, network, io_map=io_map)
