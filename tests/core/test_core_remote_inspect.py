"""core/remote_inspect: a model's header from a few Range requests (or reads of a local-folder source),
against a real loopback server that counts requests and bytes; results kept by SHA-256 in the cache."""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections import Counter
from pathlib import Path

import onnx
import pytest

from onnxhub_tui.core import byteranges, remote_inspect, remote_store
from onnxhub_tui.core.build import read_header
from onnxhub_tui.core.byteranges import AHEAD, Budget
from onnxhub_tui.core.cache import cached_path
from onnxhub_tui.core.download import CancelToken
from onnxhub_tui.core.errors import CancelledError, HubError, InspectError, OfflineError
from onnxhub_tui.core.http import make_client
from onnxhub_tui.core.manifest import FileRef
from onnxhub_tui.core.remote_inspect import RemoteSummary, cached_summary, inspect_remote
from onnxhub_tui.core.sources import Location, Source, http_source, local_source
from tests.support import onnxmodels
from tests.support.hubserver import Fault, RunningServer, start_server

MB = 1024 * 1024
LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder served as a hub: models/<name>.onnx, external-data files beside theirs."""
    root = tmp_path_factory.mktemp("remote-hub")
    folder = root / "models"
    folder.mkdir()
    made = {
        "big": onnxmodels.weights_model(16, 4 * MB),  # 64 MB, 16 initializers
        "hundred": onnxmodels.weights_model(100, 64 * 1024),  # each one bigger than a read window
        "mixed": onnxmodels.mixed_weights_model([64 * 1024, 64 * 1024, 96 * 1024, 64 * 1024, 64 * 1024, 64 * 1024,
                                                 20 * 1024, 64 * 1024, 64 * 1024, 64 * 1024, 64 * 1024, 200]),
        "ports": onnxmodels.ports_model(),
        "branches": onnxmodels.subgraph_model(),
        "deep": onnxmodels.many_nodes_model(3000),
    }
    for name, model in made.items():
        (folder / f"{name}.onnx").write_bytes(model.SerializeToString())
    (folder / "ext").mkdir()
    onnxmodels.save_with_external_data(onnxmodels.subgraph_model(), folder / "ext" / "branches.onnx")
    for name in ("squeezenet", "resnet50", "inception_v2"):
        (folder / f"{name}.onnx").write_bytes((LIGHT / f"light_{name}.onnx").read_bytes())
    return root


@pytest.fixture
def server(models: Path):
    running = start_server(models)
    yield running
    running.stop()


def ref(root: Path, name: str, *, sha: bool = True) -> FileRef:
    data = (root / "models" / name).read_bytes()
    return FileRef("model", name, hashlib.sha256(data).hexdigest() if sha else None, len(data))


def over_http(server: RunningServer) -> Source:
    return http_source(server.url + "/models/")


def cache_files(cache_dir: Path) -> list[str]:
    return sorted(p.relative_to(cache_dir).as_posix() for p in cache_dir.rglob("*") if p.is_file())


# -- what it reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["big.onnx", "mixed.onnx", "ports.onnx", "branches.onnx", "deep.onnx",
                                  "squeezenet.onnx", "resnet50.onnx", "inception_v2.onnx", "ext/branches.onnx"])
def test_the_header_is_what_onnx_reads(models, client, tmp_path, name):
    path = models / "models" / name
    got = inspect_remote(client=client, source=local_source(models / "models"), file=ref(models, name),
                         cache_dir=tmp_path)
    model = onnx.load(str(path), load_external_data=False)
    header = read_header(path)  # core/build: ports decoded by onnx itself
    assert got.ir_version == model.ir_version
    assert (got.producer, got.producer_version) == (model.producer_name, model.producer_version)
    assert got.opset_imports == {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
    assert got.node_count == len(model.graph.node)
    assert got.op_counts == dict(Counter(
        f"{n.domain}.{n.op_type}" if n.domain and n.domain != "ai.onnx" else n.op_type for n in model.graph.node))
    assert got.initializer_count == len(model.graph.initializer) + len(model.graph.sparse_initializer)
    assert got.io_ports() == {
        "inputs": [{**p, "shape": p["shape"] or []} for p in header.inputs],
        "outputs": [{**p, "shape": p["shape"] or []} for p in header.outputs],
    }
    assert got.file_size == path.stat().st_size
    assert not got.cached


def test_ports_keep_symbolic_dims_types_and_leave_out_initializers(models, client, tmp_path):
    got = inspect_remote(client=client, source=local_source(models / "models"), file=ref(models, "ports.onnx"),
                         cache_dir=tmp_path)
    inputs = {p.name: (p.type, p.shape) for p in got.inputs}
    assert inputs["images"] == ("tensor(float)", ("batch", 3, "height", "width"))
    assert inputs["ids"] == ("tensor(int64)", ("batch", 256))
    assert inputs["u"] == ("tensor(uint8)", (None, 3))
    assert inputs["seq"][0] == "seq(tensor(float))"
    assert "W" not in inputs  # an initializer listed as a graph input (old IR) is not something to feed
    assert [p.type for p in got.outputs] == ["tensor(float)", "map(int64,tensor(float))", "optional(tensor(bfloat16))"]
    assert got.opset_imports == {"ai.onnx": 15, "ai.onnx.ml": 3}


def test_external_data_locations_come_from_initializers_attributes_and_subgraphs(models, client, tmp_path):
    path = models / "models" / "ext" / "branches.onnx"
    expected = onnxmodels.save_with_external_data(onnxmodels.subgraph_model(), tmp_path / "again.onnx")
    got = inspect_remote(client=client, source=local_source(models / "models"), file=ref(models, "ext/branches.onnx"),
                         cache_dir=tmp_path / "cache")
    assert sorted(got.external_data) == sorted(expected)
    assert {"top_k", "then_const", "then_w", "else_w", "big_w"} <= set(got.external_data)  # attribute, branches
    assert path.stat().st_size < 40_000 and got.initializer_bytes == 4 + 128 * 128 * 4 + 16 + 32


def test_type_names_are_onnx_own(models):
    for code in onnx.TensorProto.DataType.values():
        assert remote_inspect._elem_name(code) == onnx.TensorProto.DataType.Name(code).lower()  # noqa: SLF001


# -- what it costs ------------------------------------------------------------------------------------


def test_a_64_mb_model_of_16_initializers_costs_under_2_percent_and_writes_nothing_under_its_name(
        models, server, client, tmp_path):
    file = ref(models, "big.onnx")
    got = inspect_remote(client=client, source=over_http(server), file=file, cache_dir=tmp_path)
    deadline = time.monotonic() + 2  # the server thread counts a piece just after the client has it
    while server.bytes_for("/models/big.onnx") < got.bytes_read and time.monotonic() < deadline:
        time.sleep(0.01)
    sent = server.bytes_for("/models/big.onnx")
    assert file.size > 64 * MB and sent < 0.02 * file.size
    assert got.requests == len(server.hits_for("/models/big.onnx")) <= 17 + AHEAD  # a few guesses may miss
    assert got.bytes_read == sent
    assert (got.initializer_count, got.initializer_bytes, got.node_count) == (16, 64 * MB, 16)
    assert [(p.name, p.shape, p.type) for p in got.inputs] == [("x", ("batch", MB), "tensor(float)")]
    assert not cached_path(tmp_path, file.path, file.sha).exists()
    assert cache_files(tmp_path) == [f".onnxhub-tui/inspect/{file.sha}.json"]


def test_http_and_local_folder_give_the_same_summary(models, server, client, tmp_path):
    for name in ("big.onnx", "hundred.onnx", "mixed.onnx", "branches.onnx", "deep.onnx"):
        file = ref(models, name, sha=False)
        remote = inspect_remote(client=client, source=over_http(server), file=file, cache_dir=tmp_path).to_json()
        local = inspect_remote(client=client, source=local_source(models / "models"), file=file,
                               cache_dir=tmp_path).to_json()
        assert local.pop("requests") <= remote.pop("requests")  # reads ahead happen over HTTP only
        local.pop("bytes_read"), remote.pop("bytes_read")
        assert remote == local


def test_a_100_initializer_header_over_a_20_ms_link_reads_in_under_3_s(models, server, client, tmp_path):
    server.server.latency = 0.02
    started = time.perf_counter()
    got = inspect_remote(client=client, source=over_http(server), file=ref(models, "hundred.onnx"), cache_dir=tmp_path)
    elapsed = time.perf_counter() - started
    assert got.initializer_count == 100 and got.requests >= 100  # each weight is skipped, one read per header
    assert elapsed < 3.0, f"{elapsed:.2f} s for {got.requests} requests"


def test_a_second_look_is_free_and_works_offline(models, server, client, tmp_path):
    file = ref(models, "big.onnx")
    first = inspect_remote(client=client, source=over_http(server), file=file, cache_dir=tmp_path)
    hits = len(server.hits)
    with make_client(offline=True) as offline:
        again = inspect_remote(client=offline, source=over_http(server), file=file, cache_dir=tmp_path)
        assert cached_summary(tmp_path, file) == again
        with pytest.raises(OfflineError):  # not kept: it would need the network
            inspect_remote(client=offline, source=over_http(server), file=ref(models, "deep.onnx"), cache_dir=tmp_path)
    assert len(server.hits) == hits
    assert again.cached and not first.cached
    assert cached_summary(tmp_path, FileRef("model", file.path, file.sha, file.size + 1)) is None  # not that file
    assert again.to_json() == first.to_json()


def test_a_damaged_record_is_read_again_and_replaced(models, server, client, tmp_path):
    file = ref(models, "ports.onnx")
    record = remote_store.record_path(tmp_path, file.sha)
    record.parent.mkdir(parents=True)
    record.write_text('{"version": 1, "summary": {"ir_version": "x"}}')
    got = inspect_remote(client=client, source=over_http(server), file=file, cache_dir=tmp_path)
    assert not got.cached and got.requests == 1
    assert cached_summary(tmp_path, file) == RemoteSummary.from_json(got.to_json(), cached=True)
    assert [p.name for p in record.parent.iterdir()] == [record.name]  # no temporary file left behind


def test_a_file_without_a_sha_is_read_but_not_kept(models, server, client, tmp_path):
    inspect_remote(client=client, source=over_http(server), file=ref(models, "ports.onnx", sha=False),
                   cache_dir=tmp_path)
    assert cache_files(tmp_path) == []


def test_progress_reports_each_request_and_cancel_stops_it(models, server, client, tmp_path):
    seen: list[tuple[int, int]] = []
    inspect_remote(client=client, source=over_http(server), file=ref(models, "big.onnx", sha=False),
                   cache_dir=tmp_path, progress=lambda r, b: seen.append((r, b)))
    assert seen and seen == sorted(seen) and seen[-1][0] == len(server.hits)
    token = CancelToken()
    with pytest.raises(CancelledError):
        inspect_remote(client=client, source=over_http(server), file=ref(models, "big.onnx", sha=False),
                       cache_dir=tmp_path, cancel=token, progress=lambda r, b: token.cancel())


# -- when it cannot --------------------------------------------------------------------------------


def test_a_server_that_ignores_range_stops_at_once_without_a_download(models, server, client, tmp_path):
    server.add_fault("/models/big.onnx", Fault("ignore_range", times=-1))
    file = ref(models, "big.onnx")
    with pytest.raises(InspectError, match="(?i)cannot inspect remotely") as caught:
        inspect_remote(client=client, source=over_http(server), file=file, cache_dir=tmp_path)
    assert "ignored the Range request" in str(caught.value)
    assert len(server.hits) == 1 and server.bytes_for("big.onnx") < file.size / 2
    assert cache_files(tmp_path) == []


def test_a_small_file_sent_whole_by_a_server_that_ignores_range_is_read(models, server, client, tmp_path):
    server.add_fault("/models/ports.onnx", Fault("ignore_range", times=-1))
    got = inspect_remote(client=client, source=over_http(server), file=ref(models, "ports.onnx"), cache_dir=tmp_path)
    assert got.requests == 1 and len(got.inputs) == 7


def test_locations_are_tried_in_order_and_each_failure_is_named(models, server, client, tmp_path):
    base = server.url + "/models/"
    source = Source(spec="test", kind="http", manifest_url=base + "M.json", locations=(
        Location(server.url + "/gone/", "first"), Location(base, "second")))
    file = ref(models, "ports.onnx")
    assert len(inspect_remote(client=client, source=source, file=file, cache_dir=tmp_path).inputs) == 7
    server.add_fault("/models/ports.onnx", Fault("lfs_pointer", times=-1))
    with pytest.raises(InspectError) as caught:
        inspect_remote(client=client, source=source, file=file, cache_dir=tmp_path, refresh=True)
    message = str(caught.value)
    assert "tried 2 location(s)" in message and "404" in message and "Git LFS pointer" in message


def test_transient_errors_and_redirects_are_followed(models, server, client, tmp_path):
    server.add_fault("/models/deep.onnx", Fault("status", status=503, times=1))
    server.add_fault("/models/moved.onnx", Fault("redirect", location="/models/deep.onnx", times=-1))
    got = inspect_remote(client=client, source=over_http(server), file=ref(models, "deep.onnx", sha=False),
                         cache_dir=tmp_path)
    assert got.node_count == 3000
    moved = FileRef("model", "moved.onnx", None, None)
    got = inspect_remote(client=client, source=over_http(server), file=moved, cache_dir=tmp_path)
    assert got.node_count == 3000 and got.requests >= 2
    assert len(server.hits_for("moved.onnx")) == 1  # later requests go straight to where the redirect led


def test_a_redirect_target_that_stops_working_sends_the_walk_back_to_the_location(models, server, client, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(byteranges, "AHEAD", 0)  # one request at a time: which one meets the 403 is known
    (models / "models" / "target.onnx").write_bytes((models / "models" / "big.onnx").read_bytes())
    server.add_fault("/models/entry.onnx", Fault("redirect", location="/models/target.onnx", times=-1))
    file = FileRef("model", "entry.onnx", None, None)

    def expire(requests: int, _bytes: int) -> None:
        if requests == 3:  # from the third request on, the signed URL is refused once
            server.add_fault("/models/target.onnx", Fault("status", status=403, times=1))

    got = inspect_remote(client=client, source=over_http(server), file=file, cache_dir=tmp_path, progress=expire)
    assert got.initializer_count == 16
    asked = [h.status for h in server.hits if "entry.onnx" in h.path or "target.onnx" in h.path]
    assert 403 in asked and asked.count(302) >= 2  # the first request, and again after the 403
    assert asked.count(302) < got.requests // 2  # the others went straight to the target


def test_failed_reads_ahead_do_not_break_the_walk(models, server, client, tmp_path):
    file = ref(models, "hundred.onnx", sha=False)
    expected = inspect_remote(client=client, source=local_source(models / "models"), file=file, cache_dir=tmp_path)
    armed = []

    def fail_some(requests: int, _bytes: int) -> None:
        if requests >= 30 and not armed:  # reads ahead are in flight by now: the next 4 requests, guesses or not, fail
            armed.append(requests)
            server.add_fault("/models/hundred.onnx", Fault("status", status=503, times=4))

    got = inspect_remote(client=client, source=over_http(server), file=file, cache_dir=tmp_path, progress=fail_some)
    assert (got.initializer_count, got.inputs, got.outputs) == (100, expected.inputs, expected.outputs)
    statuses = [h.status for h in server.hits_for("hundred.onnx")]
    assert statuses.count(503) == 4 and len(statuses) == got.requests  # fewer than a read's 5 attempts


def test_a_file_of_another_size_than_the_manifest_says_is_refused(models, server, client, tmp_path):
    file = ref(models, "ports.onnx")
    wrong = FileRef("model", file.path, file.sha, file.size + 1)
    with pytest.raises(InspectError, match="the manifest says"):
        inspect_remote(client=client, source=over_http(server), file=wrong, cache_dir=tmp_path)
    assert cache_files(tmp_path) == []


@pytest.mark.parametrize("budget, words", [(Budget(requests=5), "more than 5 requests \\(the budget\\)"),
                                           (Budget(bytes=128 * 1024), "more than 128 KB \\(the budget\\)")])
def test_a_budget_stops_the_walk(models, server, client, tmp_path, budget, words):
    with pytest.raises(InspectError, match=words):
        inspect_remote(client=client, source=over_http(server), file=ref(models, "big.onnx"), cache_dir=tmp_path,
                       budget=budget)
    assert len(server.hits) <= budget.requests
    assert server.server.bytes_sent <= budget.bytes
    assert cache_files(tmp_path) == []


def test_a_truncated_model_is_a_clear_error(models, server, client, tmp_path):
    data = (models / "models" / "big.onnx").read_bytes()
    (models / "models" / "cut.onnx").write_bytes(data[: 10 * MB])
    cut = FileRef("model", "cut.onnx", None, None)
    for source in (over_http(server), local_source(models / "models")):
        with pytest.raises(InspectError, match="(?i)cannot inspect remotely: cut.onnx: .*runs past the end"):
            inspect_remote(client=client, source=source, file=cut, cache_dir=tmp_path)
    assert server.bytes_for("cut.onnx") < MB


@pytest.mark.parametrize("body", [b"", b"<html><body>Sign in</body></html>", b"\x08\x07" + b"\xff" * 20,
                                  b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n"])
def test_what_is_not_a_model_is_a_clear_error(models, server, client, tmp_path, body):
    (models / "models" / "junk.onnx").write_bytes(body)
    junk = FileRef("model", "junk.onnx", None, None)
    for source in (over_http(server), local_source(models / "models")):
        with pytest.raises(InspectError, match="(?i)cannot inspect remotely"):
            inspect_remote(client=client, source=source, file=junk, cache_dir=tmp_path)


def test_damaged_models_never_raise_anything_but_a_hub_error(models, client, tmp_path):
    rng = random.Random(13)
    sources = [(models / "models" / n).read_bytes() for n in ("ports.onnx", "branches.onnx", "squeezenet.onnx")]
    folder = tmp_path / "fuzz"
    folder.mkdir()
    for i in range(int(os.environ.get("ONNXHUB_FUZZ_CASES", "300"))):
        data = bytearray(rng.choice(sources))
        op = rng.randrange(3)
        if op == 0:
            data = data[: rng.randrange(len(data))]
        elif op == 1:
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randrange(1, 10))
        (folder / "m.onnx").write_bytes(data)
        try:
            inspect_remote(client=client, source=local_source(folder), file=FileRef("model", "m.onnx", None, None),
                           cache_dir=tmp_path, budget=Budget(requests=50, bytes=4 * MB))
        except HubError:
            pass
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"mutation {i} raised {type(exc).__name__}: {exc}")


def test_a_model_with_data_archive_is_refused(models, client, tmp_path):
    with pytest.raises(InspectError, match="archive"):
        inspect_remote(client=client, source=local_source(models / "models"),
                       file=FileRef("data", "m.tar.gz", None, None), cache_dir=tmp_path)


def test_the_sources_own_auth_goes_with_each_range_request(models, server, client, tmp_path, monkeypatch):
    from onnxhub_tui.core.sources import hf_source

    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    hf_dir = models / "acme" / "private" / "main"  # the server maps /acme/private/resolve/main/<path> here
    hf_dir.mkdir(parents=True, exist_ok=True)
    (hf_dir / "big.onnx").write_bytes((models / "models" / "big.onnx").read_bytes())
    got = inspect_remote(client=client, source=hf_source("acme", "private"), file=ref(models, "big.onnx"),
                         cache_dir=tmp_path)
    hits = server.hits_for("/acme/private/resolve/main/big.onnx")
    assert len(hits) == got.requests > 1
    assert all(h.headers.get("authorization") == "Bearer hf_secret" for h in hits)
    assert all(h.headers.get("range", "").startswith("bytes=") for h in hits)


def test_the_reader_loads_no_onnx_textual_or_rich():
    import subprocess
    import sys

    code = ("import sys; import onnxhub_tui.core.remote_inspect; "
            "print(sorted(m for m in ('onnx', 'textual', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # a worker in the TUI must not pay onnx's import (~0.5 s)
