"""Property tests: whatever the input, the manifest parser, the repo-spec parser and the search query parser
give a result or a clear HubError, never another exception."""

from __future__ import annotations

import json
import os
import string
from urllib.parse import urlsplit

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from onnxhub_tui.core.errors import HubError, ManifestError, QueryError, RepoSpecError
from onnxhub_tui.core.manifest import ModelInfo, parse_entries, parse_manifest
from onnxhub_tui.core.query import parse_query
from onnxhub_tui.core.sources import parse_repo_spec

# Modest by default so the suite stays fast; ONNXHUB_HYPOTHESIS_EXAMPLES=5000 for a long hunt.
FAST = settings(max_examples=int(os.environ.get("ONNXHUB_HYPOTHESIS_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)

_paths = st.sampled_from(["a/b.onnx", "../x.onnx", "/abs.onnx", "a//b.onnx", "./a.onnx", "a\\b", "", ".",
                          "a/", "C:/x", "ok/[b]x[/b].onnx", "x\x1b.onnx"]) | st.text(max_size=12)
_shas = st.sampled_from(["a" * 64, "A" * 64, "g" * 64, "a" * 63]) | json_scalars
_counts = st.integers(-3, 10**12) | json_scalars
# Entries that look almost right: every field present but any of them may be wrong.
near_entries = st.fixed_dictionaries(
    {"model": st.text(max_size=12) | json_scalars, "model_path": _paths | json_scalars,
     "opset_version": st.integers(-2, 30) | json_scalars,
     "metadata": st.fixed_dictionaries({}, optional={
         "model_sha": _shas, "model_bytes": _counts, "tags": st.lists(st.text(max_size=6) | json_scalars, max_size=3)
         | json_scalars, "io_ports": json_values, "extra_ports": json_values,
         "model_with_data_path": _paths | json_scalars, "model_with_data_sha": _shas,
         "model_with_data_bytes": _counts}) | json_values},
    optional={"onnx_version": json_scalars | json_values},
)


def _use(entry: ModelInfo) -> None:
    """Everything a front end reads from an entry must work on whatever was accepted."""
    str(entry)
    entry.inputs, entry.outputs, entry.extra_ports, entry.has_test_data, entry.key, entry.search_text


@FAST
@given(st.lists(near_entries | json_values, max_size=6))
def test_parse_entries_never_raises(items):
    parsed = parse_entries(items)
    assert len(parsed.entries) + len(parsed.skipped) == len(items)
    for entry in parsed.entries:
        _use(entry)
    for skipped in parsed.skipped:
        assert len(str(skipped)) < 400


@FAST
@given(st.lists(near_entries, max_size=4) | json_values)
def test_parse_manifest_of_any_json_gives_entries_or_one_manifest_error(value):
    body = json.dumps(value).encode()
    try:
        parsed = parse_manifest(body, "http://hub.example/m.json", 200)
    except ManifestError as exc:
        assert not isinstance(value, list)
        assert "http://hub.example/m.json (HTTP 200)" in str(exc)
        return
    assert isinstance(value, list)
    for entry in parsed.entries:
        _use(entry)


@FAST
@given(st.binary(max_size=200))
def test_parse_manifest_of_any_bytes_never_raises_anything_else(body):
    try:
        parse_manifest(body, "u")
    except ManifestError:
        pass


spec_text = st.text(max_size=40) | st.builds(
    "".join, st.lists(st.sampled_from(["hf:", "http://", "https://", "file://", "/", "..", ":", "a", "B-1", ".",
                                       "@", "[", "]", "%", "~", " ", "\x00", "onnx/models", "x" * 50, "?", "#"]),
                      max_size=8))


@FAST
@given(spec_text)
@example("http://[")  # found by this test: urlsplit's ValueError escaped
@example("https://host:port/")  # a bad port: httpx would only fail later, with its own exception
@example("~0")  # found by this test: expanduser's RuntimeError escaped
@example("/\udc80latin1")  # a folder name that is not UTF-8 (surrogate-escaped)
@example("file:///\ud800")
@example("FILE://[")  # found by this test with 3000 examples
def test_parse_repo_spec_gives_a_source_or_a_repo_spec_error(spec):
    try:
        source = parse_repo_spec(spec)
    except RepoSpecError as exc:
        assert isinstance(exc, HubError) and str(exc)
        return
    assert source.kind in {"github", "hf", "http", "local"}
    # a signed URL keeps its query after the path (issue 10 item 6)
    assert urlsplit(source.manifest_url).path.endswith("ONNX_HUB_MANIFEST.json")
    assert source.locations
    source.slug, source.file_urls("a/b.onnx"), source.headers_for(source.manifest_url)


query_text = st.text(max_size=30) | st.builds(
    " ".join, st.lists(st.sampled_from(["tag:", "opset:", "size:", "name:", "path:", ">=", "<", "=", "!=", "-",
                                        '"', "12", "1.5", "MB", "GiB", "kb", "x", "tag:vision", "opset:>=12",
                                        "size:<50MB", "-tag:text", "opset:abc", "size:3furlongs", "\x1b[31m",
                                        "[b]"]), max_size=6))


def _entries():
    raw = [{"model": "ResNet50", "model_path": "v/resnet50.onnx", "opset_version": 12,
            "metadata": {"model_bytes": 100_000_000, "tags": ["vision", "classification"]}},
           {"model": "Texty", "model_path": "t/texty.onnx", "opset_version": 7, "metadata": {}}]
    return parse_entries(raw).entries


ENTRIES = _entries()


@FAST
@given(query_text)
def test_parse_query_gives_a_query_or_a_query_error(text):
    try:
        query = parse_query(text)
    except QueryError as exc:
        assert isinstance(exc, HubError) and str(exc)
        return
    found = query.filter(ENTRIES)
    assert all(e in ENTRIES for e in found)


@FAST
@given(st.lists(st.text(alphabet=string.printable, max_size=10), max_size=5))
def test_parse_query_of_argv_words(words):
    try:
        parse_query(words).filter(ENTRIES)
    except QueryError:
        pass


# -- downloads under random faults -----------------------------------------------------------------

from hypothesis import HealthCheck as _HC  # noqa: E402

from onnxhub_tui.core.client import Hub  # noqa: E402
from tests.support.hubserver import Fault  # noqa: E402
from tests.support.reliability import MB, add_blob, part_files, sha256  # noqa: E402

_SIZE = MB + 12345
_fault = st.one_of(
    st.builds(Fault, kind=st.just("status"), status=st.sampled_from([403, 404, 429, 500, 503])),
    st.builds(Fault, kind=st.sampled_from(["reset", "short"]), after_bytes=st.integers(0, _SIZE)),
    st.builds(Fault, kind=st.sampled_from(["ignore_range", "bad_range", "wrong_bytes", "lfs_pointer", "close",
                                           "html", "redirect_loop", "redirect_chain"])),
)
_part = st.one_of(st.none(), st.integers(1, _SIZE + 100).map(lambda n: ("prefix", n)),
                  st.integers(1, _SIZE + 100).map(lambda n: ("garbage", n)))


@settings(max_examples=int(os.environ.get("ONNXHUB_HYPOTHESIS_EXAMPLES", "150")) // 6, deadline=None,
          suppress_health_check=[_HC.function_scoped_fixture, _HC.too_slow])
@given(faults=st.lists(_fault, max_size=5), part=_part)
def test_any_fault_sequence_ends_verified_or_in_a_clear_error(server, hub_tree, tmp_path, monkeypatch, faults, part):
    """Whatever the server does, in any order: a verified file, or a HubError and no file. Never a corrupt
    file, a stray private part, or another exception."""
    import uuid

    from onnxhub_tui.core.errors import HubError

    monkeypatch.setenv("ONNXHUB_RETRIES", "3")
    if not any(e["model"] == "Fuzz" for e in hub_tree.manifest):
        add_blob(hub_tree, "Fuzz", _SIZE, seed=42)
    data = hub_tree.files["blobs/fuzz/fuzz.onnx"]
    server.clear_faults()
    for fault in faults:
        server.add_fault("blobs/fuzz/fuzz.onnx", fault)
    cache_dir = tmp_path / f"c-{uuid.uuid4().hex[:8]}"
    with Hub("acme/models:main", cache_dir) as hub:
        info = hub.manifest().find("Fuzz")
        target = hub.local_path(info)
        if part is not None:
            kind, n = part
            target.parent.mkdir(parents=True, exist_ok=True)
            content = data[:n] if kind == "prefix" else bytes([7]) * n
            target.with_name(target.name + ".part").write_bytes(content)
        try:
            hub.download(info)
        except HubError:
            assert not target.exists()
        else:
            assert sha256(target) == info.model_sha
    leftovers = part_files(cache_dir)
    assert all(p.name.endswith(".part") for p in leftovers), leftovers  # no private part left behind
    assert all(p.stat().st_size <= _SIZE for p in leftovers)
    if target.exists():
        assert leftovers == []


# -- the cache index agrees with the layout ---------------------------------------------------------

from pathlib import Path as _Path  # noqa: E402

from onnxhub_tui.core import cache as _cache  # noqa: E402
from onnxhub_tui.core.errors import UnsafePathError as _Unsafe  # noqa: E402

_segment = st.text(alphabet=st.sampled_from(list("ab.-_+ 1~é[")), min_size=1, max_size=5)
_model_paths = st.lists(_segment | st.just("") | st.just(".") | st.just(".."), min_size=1, max_size=4).map("/".join)


@FAST
@given(_model_paths, st.sampled_from([None, "a" * 64]), st.booleans())
def test_the_scan_index_names_exactly_the_files_the_layout_writes(model_path, sha, archive):
    """cache._index builds its keys with string operations (for speed); they must equal the paths
    cached_path / extracted_dir give, or cached files would be reported as orphans."""
    path = model_path + (".tar.gz" if archive else ".onnx")
    raw = {"model": "M", "model_path": "m.onnx", "opset_version": 1, "metadata": {}}
    if archive:
        raw["metadata"].update(model_with_data_path=path, model_with_data_sha=sha)
    else:
        raw.update(model_path=path)
        raw["metadata"]["model_sha"] = sha
    entries = parse_entries([raw]).entries
    if not entries:
        return  # refused by the manifest parser: never in the cache
    try:
        expected = str(_cache.cached_rel(path, sha))
    except _Unsafe:
        assert path not in {e.model_path for e in entries}
        return
    index = _cache._index(entries)  # noqa: SLF001
    assert expected in index
    if archive:
        assert str(_cache.extracted_dir(_Path(expected))) in index
