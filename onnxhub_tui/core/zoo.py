"""The whole ONNX Model Zoo: the models its hub manifest does not name, from an index shipped with the
package, merged with the manifest for ``onnx/models`` (at ``main`` and at its last commit, b1eeaa1).

The manifest lists 184 models; the zoo's final tree (b1eeaa1, 2025-06-27) holds 2,325 ``.onnx`` files
and 52 models that exist only as a ``.tar.gz`` (a model with external data). Every one is a Git LFS
pointer, so the index knows each file's SHA-256 and size; the 2024 additions also carry the facts of
their ``turnkey_stats.yaml``. ``scripts/build_zoo_index.py`` makes the index from that tree
(reproducibly); it is read on first use only.

Tiers (``metadata["tier"]``; :data:`TIERS` gives each one's meaning):

- ``validated``: the manifest's entries (and the few files of the zoo's ``validated/`` folder that the
  manifest leaves out), checked by the zoo against reference outputs;
- ``exports``: the 2024 exports from timm, transformers, torch_hub, torchvision and graph convolutions,
  not validated;
- ``skipped``: exports the zoo moved to a ``skip/`` folder as failing its checks (onnx/models#651).

Names users can type (``model``), unique per (name, opset) under case-insensitive matching and never
equal to a manifest name, so ``get_model_info("AlexNet")`` still means the manifest's AlexNet:

- a 2024 export is named by its folder, ``<model>_Opset<N>_<author>``: ``adv_inception_v3_Opset16_timm``,
  ``alexnet_Opset16_torch_hub`` (the same model exported by two libraries gets two names);
- any other file by its file name without ``.onnx``: ``age_googlenet``;
- should a name still clash (with a manifest name, or with another zoo name at the same opset), it gets
  ``_zoo`` appended, then ``_zoo2``, ... in path order. The zoo is archived, so the names are stable.

Where it is used: ``Hub(zoo=True)`` (the default; the CLI and the TUI) passes its manifest through
:func:`whole_zoo`; ``hub.py`` passes ``zoo=False`` unless the repo spec ends with ``+zoo``
(:func:`api_repo`). An ``archive_only`` entry's file is its ``.tar.gz``: download it with data, then
:func:`archive_model_path` names the model to load. :func:`facts` gives a details panel its rows.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import ManifestError
from .manifest import Manifest, ModelInfo, _gc_paused
from .sources import Source

ZOO_REPO = ("onnx", "models")
ZOO_COMMIT = "b1eeaa1a"  # the zoo's last commit (2025-06-27), as far as its data README gives it
INDEX_NAME = "zoo-b1eeaa1.json.gz"
INDEX_FORMAT = 4  # 4: compact rows, then the full entries in blocks; 3: in one member; 2: one object per entry
# The API opt-in: onnx.hub's functions see the manifest's 184 unless the repo spec ends with this.
ZOO_SUFFIX = "+zoo"

TIERS: dict[str, str] = {
    "validated": "in the zoo's validated set (the hub manifest): checked against reference outputs",
    "exports": "a 2024 export (timm, transformers, torch_hub, torchvision, graph convolutions): not validated",
    "skipped": "moved by the zoo to skip/ as failing its checks (onnx/models#651): may not load or run",
}
_HEX = re.compile(r"^[0-9a-f]{7,40}$")


def tier_for_path(model_path: str) -> str:
    """A zoo file's tier from where the zoo keeps it."""
    parts = model_path.split("/")
    if "skip" in parts[:-1]:
        return "skipped"
    return "validated" if parts[0] == "validated" else "exports"


def tier_of(entry: ModelInfo) -> str | None:
    """The entry's tier, or None for an entry of a hub other than the zoo."""
    if isinstance(entry, ZooEntry):  # from its row: the table asks for every entry's tier at a first paint
        return entry.zoo_tier
    tier = entry.metadata.get("tier")
    return tier if isinstance(tier, str) else None


_DATA = Path(__file__).resolve().parent.parent / "data"


def index_path() -> Path:
    """The shipped index, beside the package's modules. Not ``importlib.resources``: the index is read as
    a file anyway, and that import (with zipfile, which it brings) cost 3-8 ms of a first paint."""
    return _DATA / INDEX_NAME


# The index is gzip members in one file: first the rows the table, the names and the search need (read at
# start-up), then every entry's full raw form, one JSON line each (its metadata: input shapes, operator
# counts, class, source script, what is unknown until downloaded) in blocks of FACTS_BLOCK entries, one
# member a block, read on the first use of an entry's ``metadata`` or ``raw_model_info`` (facts, info,
# details): one block inflated, one line parsed.
FACTS_BLOCK = 64
ROW_FIELDS = ("model", "model_path", "onnx_version", "opset_version", "model_sha", "model_bytes", "tags", "tier",
              "author", "task", "parameters", "archive_only", "model_with_data")


class _Facts:
    """The index's blocks of full entries, one line of JSON per entry, in row order. A block is inflated
    when one of its entries is first asked for, and only that entry's line parsed: the details panel asks
    for the highlighted row's at a first paint (inflating all 2,193 lines took 8-13 ms of it; a block of
    64 takes well under one)."""

    def __init__(self, path: Path, rest: bytes, count: int, sizes: list[int]) -> None:
        self._path, self._rest, self._count = path, rest, count
        self._starts = [0]
        for size in sizes:
            self._starts.append(self._starts[-1] + size)
        self._blocks: dict[int, list[bytes]] = {}
        self._parsed: dict[int, dict[str, Any]] = {}

    def _broken(self, why: object) -> ManifestError:
        return ManifestError(f"The zoo index {self._path} cannot be read ({why}): reinstall onnxhub-tui.")

    def _line(self, i: int) -> bytes:
        b = i // FACTS_BLOCK
        lines = self._blocks.get(b)
        if lines is None:
            try:
                lines = zlib.decompress(self._rest[self._starts[b]:self._starts[b + 1]], 31).splitlines()
            except zlib.error as exc:
                raise self._broken(exc) from None
            wanted = min(FACTS_BLOCK, self._count - b * FACTS_BLOCK)
            if len(lines) != wanted:
                raise self._broken(f"block {b} holds {len(lines)} entries, not {wanted}")
            self._blocks[b] = lines
        return lines[i % FACTS_BLOCK]

    def raw(self, i: int) -> dict[str, Any]:
        raw = self._parsed.get(i)
        if raw is not None:
            return raw
        try:
            raw = json.loads(self._line(i))
        except (ValueError, RecursionError) as exc:
            raise self._broken(exc) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("metadata"), dict):
            raise self._broken(f"entry {i} is not an object with metadata")
        self._parsed[i] = raw
        return raw


class ZooEntry(ModelInfo):
    """A shipped index's entry: every ``ModelInfo`` attribute, made from one compact row (no dicts);
    ``metadata`` and ``raw_model_info`` come from the index's blocks of full entries on first use."""

    def __init__(self, row: Sequence[Any], facts: _Facts, i: int) -> None:  # noqa: D107 - no ModelInfo.__init__: no dict
        (self.model, self.model_path, onnx_version, self.opset, self.model_sha, self.model_bytes, tags,
         self.zoo_tier, *self._turnkey_row, self.zoo_archive_only, with_data) = row
        self.onnx_version = onnx_version or ""
        self.tag_list = tuple(tags)
        if with_data == 1:  # an archive-only model: its file is its model-with-data archive
            with_data = (self.model_path, self.model_sha, self.model_bytes)
        self.model_with_data_path, self.model_with_data_sha, self.model_with_data_bytes = with_data or (None, None, None)
        self._facts, self._i = facts, i

    # Made on first use: a set and a dict per entry were half the rows' load at a first paint.
    @functools.cached_property
    def tags(self) -> set[str]:  # type: ignore[override]
        return set(self.tag_list)

    @functools.cached_property
    def zoo_turnkey(self) -> dict[str, Any]:
        return dict(zip(("author", "task", "parameters"), self._turnkey_row))

    @property  # type: ignore[override]
    def raw_model_info(self) -> dict[str, Any]:
        return self._facts.raw(self._i)

    @property  # type: ignore[override]
    def metadata(self) -> dict[str, Any]:
        return self._facts.raw(self._i)["metadata"]

    @property
    def opset_known(self) -> bool:  # a zoo file's opset is in its row (ModelInfo asks its metadata for "hf")
        return True

    @functools.cached_property
    def tags_lower(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(t.lower() for t in self.tag_list)

    @functools.cached_property
    def search_text(self) -> str:  # type: ignore[override]
        return "\n".join((self.model, self.model_path, *self.tag_list)).lower()


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> tuple[dict[str, Any], tuple[ModelInfo, ...]]:
    # Read at a front end's first paint, when the app's own objects are alive: each cyclic GC run that
    # the new lists start walks them all again (as for a big manifest: _gc_paused).
    with _gc_paused():
        try:
            inflate = zlib.decompressobj(31)
            data = json.loads(inflate.decompress(path.read_bytes()))
            rest = inflate.unused_data
        except (OSError, ValueError, zlib.error, RecursionError) as exc:
            raise ManifestError(f"The zoo index {path} cannot be read ({exc}): reinstall onnxhub-tui.") from None
        sizes = data.get("facts_blocks") if isinstance(data, dict) else None
        if (not isinstance(data, dict) or data.get("format") != INDEX_FORMAT or not isinstance(data.get("rows"), list)
                or data.get("fields") != list(ROW_FIELDS) or not _block_sizes_fit(sizes, len(data["rows"]), len(rest))):
            raise ManifestError(f"The zoo index {path} is not an index of format {INDEX_FORMAT}: reinstall onnxhub-tui.")
        facts = _Facts(path, rest, len(data["rows"]), sizes)  # type: ignore[arg-type]
        return data, tuple(ZooEntry(row, facts, i) for i, row in enumerate(data["rows"]))


def _block_sizes_fit(sizes: object, count: int, rest: int) -> bool:
    """Whether ``sizes`` (the header's ``facts_blocks``) cut the ``rest`` bytes into the blocks ``count`` rows need."""
    return (isinstance(sizes, list) and len(sizes) == -(-count // FACTS_BLOCK) and sum(sizes) == rest
            and all(isinstance(n, int) and n > 0 for n in sizes))


def row_of(raw: dict[str, Any]) -> list[Any]:
    """An index entry's compact row (:data:`ROW_FIELDS`), as :class:`ZooEntry` reads it."""
    meta = raw["metadata"]
    turnkey = meta.get("turnkey") if isinstance(meta.get("turnkey"), dict) else {}
    with_data: Any = None
    if meta.get("model_with_data_path"):
        with_data = [meta["model_with_data_path"], meta.get("model_with_data_sha"), meta.get("model_with_data_bytes")]
        if with_data == [raw["model_path"], meta.get("model_sha"), meta.get("model_bytes")]:
            with_data = 1
    return [raw["model"], raw["model_path"], str(raw.get("onnx_version") or ""), raw["opset_version"],
            meta.get("model_sha"), meta.get("model_bytes"), list(meta.get("tags") or ()), meta["tier"],
            turnkey.get("author"), turnkey.get("task"), turnkey.get("parameters"), bool(meta.get("archive_only")),
            with_data]


def ops_text(ops: dict[str, int]) -> str:
    """Operator counts as the index keeps them, ``"Conv:94,Relu:94"`` in the counts' order: parsing
    2,193 small objects was a third of the index's load, at a front end's first paint."""
    return ",".join(f"{op}:{n}" for op, n in ops.items())


def turnkey_of(entry: ModelInfo) -> dict[str, Any]:
    """The entry's turnkey facts; for a shipped index's entry only those a search needs (author, task,
    parameters: from its row, its full metadata left unread). ``{}`` when there are none."""
    if isinstance(entry, ZooEntry):
        return entry.zoo_turnkey
    facts = entry.metadata.get("turnkey")
    return facts if isinstance(facts, dict) else {}


def op_counts(entry: ModelInfo) -> dict[str, int]:
    """The entry's operator counts from its turnkey facts (the index's string or a manifest's object)."""
    facts = entry.metadata.get("turnkey")
    ops = facts.get("ops") if isinstance(facts, dict) else None
    if isinstance(ops, dict):
        return {str(op): n for op, n in ops.items() if isinstance(n, int)}
    if not isinstance(ops, str) or not ops:
        return {}
    counts = {}
    for item in ops.split(","):
        op, _, n = item.rpartition(":")
        if op and n.isdigit():
            counts[op] = int(n)
    return counts


def index_header(path: Path | None = None) -> dict[str, Any]:
    """The index's own facts (commit, counts), without its entries."""
    data, _ = _load(path or index_path())
    return {k: v for k, v in data.items() if k not in ("fields", "facts_blocks", "rows")}


def zoo_entries(path: Path | None = None) -> list[ModelInfo]:
    """The zoo's models that its hub manifest does not name (2,141 ``.onnx`` files and 52 archive-only
    models), each with its tier and turnkey facts in ``metadata``. Loaded once, on first call."""
    return list(_load(path or index_path())[1])


def is_zoo_source(source: Source) -> bool:
    """``onnx/models`` on GitHub at ``main``, or at the zoo's last commit (a 7- to 40-digit prefix)."""
    if source.kind != "github":
        return False
    owner_repo, _, ref = source.spec.partition(":")
    if tuple(owner_repo.lower().split("/")) != ZOO_REPO:
        return False
    commit = ref.lower()  # a commit id is hex in any case; a branch name is exact
    return ref == "main" or bool(_HEX.match(commit) and (commit.startswith(ZOO_COMMIT) or ZOO_COMMIT.startswith(commit)))


def _with_tier(entry: ModelInfo, tier: str) -> ModelInfo:
    if entry.metadata.get("tier") == tier:
        return entry
    return ModelInfo({**entry.raw_model_info, "metadata": {**entry.metadata, "tier": tier}})


def _renamed(entry: ModelInfo, name: str) -> ModelInfo:
    return ModelInfo({**entry.raw_model_info, "model": name})


def unique_names(entries: Sequence[ModelInfo], taken: Iterable[str]) -> list[ModelInfo]:
    """``entries`` with a name that clashes (case-insensitively) with ``taken`` or with an earlier entry
    of the same opset given ``_zoo``, ``_zoo2``, ... (see the module's docstring)."""
    reserved = {name.lower() for name in taken}
    seen: set[tuple[str, int]] = set()
    out = []
    for entry in entries:
        name, n = entry.model, 1
        while name.lower() in reserved or (name.lower(), entry.opset) in seen:
            name = f"{entry.model}_zoo" + (str(n) if n > 1 else "")
            n += 1
        seen.add((name.lower(), entry.opset))
        out.append(entry if name == entry.model else _renamed(entry, name))
    return out


def with_zoo(manifest_entries: Sequence[ModelInfo], source: Source, *, zoo: Sequence[ModelInfo] | None = None,
             ) -> list[ModelInfo]:
    """For the zoo's repo: the manifest's entries (tier ``validated``) followed by the zoo's others. The
    manifest wins where both name a file; no zoo name equals a manifest name. Any other repo: unchanged.
    ``zoo`` replaces the shipped index (tests, or an index made from another tree)."""
    if not is_zoo_source(source):
        return list(manifest_entries)
    with _gc_paused():  # at a first paint, with the app's objects alive (see _load)
        named = {e.model_path for e in manifest_entries}
        others = [e for e in (zoo_entries() if zoo is None else zoo) if e.model_path not in named]
        merged = [_with_tier(e, "validated") for e in manifest_entries]
        taken = {e.model.lower() for e in manifest_entries}
        if zoo is None and not any(e.model.lower() in taken for e in others):
            # The shipped index's names are unique per (name, opset) by construction (zooindex):
            # only a clash with this manifest's names could need a rename.
            return merged + others
        return merged + unique_names(others, taken)


def whole_zoo(manifest: Manifest, *, zoo: Sequence[ModelInfo] | None = None) -> Manifest:
    """``manifest`` with :func:`with_zoo`'s entries (the same object for a repo that is not the zoo)."""
    if not is_zoo_source(manifest.source):
        return manifest
    return dataclasses.replace(manifest, entries=with_zoo(manifest.entries, manifest.source, zoo=zoo))


def split_zoo_suffix(repo: str | None) -> tuple[str | None, bool]:
    """``"onnx/models:main+zoo"`` -> (``"onnx/models:main"``, True); a spec without the suffix -> (it,
    False). The suffix is for the zoo's repo only (``onnx/models`` at ``main`` or at b1eeaa1): on any
    other spec it is a ``RepoSpecError`` saying so, not a git ref that does not exist."""
    if repo is None or not repo.strip().endswith(ZOO_SUFFIX):
        return repo, False
    spec = repo.strip()[: -len(ZOO_SUFFIX)] or None
    from .sources import parse_repo_spec  # noqa: PLC0415 - reads the environment, as every parse does

    if not is_zoo_source(parse_repo_spec(spec)):
        from .errors import RepoSpecError  # noqa: PLC0415

        raise RepoSpecError(f"Cannot read repo spec {repo!r}: {ZOO_SUFFIX} (the whole ONNX Model Zoo) is for "
                            f"onnx/models at main or at {ZOO_COMMIT} only, not {spec or 'the default repo'}.")
    return spec, True


def api_repo(repo: str | None) -> tuple[str | None, bool]:
    """The API's opt-in: ``"onnx/models:main+zoo"`` -> (``"onnx/models:main"``, True). Without the
    suffix onnx.hub's functions see the manifest alone (scripts written for onnx.hub must not start
    picking a 2024 export because it has a higher opset). The CLI and the TUI show the whole zoo for
    ``onnx/models`` anyway and accept the suffix as a no-op (``Hub``)."""
    return split_zoo_suffix(repo)


def _count(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}".replace(".0" + unit, unit)
    return str(n)


def facts(entry: ModelInfo, *, top_ops: int = 5) -> list[tuple[str, str]]:
    """(label, text) rows of what the index knows about a zoo entry, and what is unknown until it is
    downloaded, for a details panel or ``info`` (empty for entries of other hubs)."""
    rows: list[tuple[str, str]] = []
    tier = tier_of(entry)
    if tier is not None:
        rows.append(("tier", f"{tier}: {TIERS.get(tier, '?')}"))
    turnkey = entry.metadata.get("turnkey")
    if isinstance(turnkey, dict):
        for key, label in (("author", "author"), ("task", "task"), ("class", "class")):
            if turnkey.get(key):
                rows.append((label, str(turnkey[key])))
        if isinstance(turnkey.get("parameters"), int):
            rows.append(("parameters", f"{_count(turnkey['parameters'])} ({turnkey['parameters']:,})"))
        ops = op_counts(entry)
        if ops:
            shown = ", ".join(f"{op} {n}" for op, n in list(ops.items())[:top_ops])
            rows.append(("top operators", shown + (f" (+{len(ops) - top_ops} more kinds)" if len(ops) > top_ops else "")))
        if turnkey.get("script"):
            rows.append(("source script", str(turnkey["script"])))
    if entry.metadata.get("archive_only"):
        rows.append(("archive only", "the model and its external data come as one .tar.gz"))
    unknown = entry.metadata.get("unknown_until_download")
    if isinstance(unknown, list) and unknown:
        rows.append(("unknown until downloaded", ", ".join(str(u) for u in unknown)))
    return rows


def archive_model_path(folder: Path, entry: ModelInfo) -> Path:
    """The ``.onnx`` inside an archive-only model's extracted folder (``Hub.download(entry,
    with_data=True)``), for loading with its external data beside it. The one ``.onnx`` there, or the
    one named like the archive; a clear error when there is none or the choice is ambiguous."""
    from .errors import HubError

    models = sorted(p for p in Path(folder).rglob("*.onnx") if p.is_file() and not p.is_symlink())
    if len(models) == 1:
        return models[0]
    wanted = entry.model_path.rsplit("/", 1)[-1].removesuffix(".tar.gz") + ".onnx"
    named = [p for p in models if p.name == wanted]
    if len(named) == 1:
        return named[0]
    found = ", ".join(str(p.relative_to(folder)) for p in models[:5]) or "none"
    raise HubError(f"{entry.label}: cannot tell which model in {folder} to load (.onnx files: {found}).")
