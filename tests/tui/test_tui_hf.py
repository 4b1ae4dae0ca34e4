"""``--repo hf:owner/repo`` on a repo without a manifest browses like any hub: the listing's models in the
table, a download that brings the model's external data, the row marked cached (model and data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest

from onnxhub_tui.tui import jobs as J
from tests.support.hfenv import fake_hf_hub
from tests.support.hfhub import HubWithRepo
from tests.support.tui import loaded, make_app, request_download, table, table_lines, until

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubWithRepo]:
    yield from fake_hf_hub(tmp_path, monkeypatch)


async def test_an_hf_repo_browses_and_downloads_with_its_data(fake, tmp_path: Path, tui) -> None:
    app = make_app(tmp_path / "cache", "hf:acme/onnx-models", offline=False)
    async with tui(app, size=(120, 40)) as pilot:
        await loaded(pilot)
        assert {e.model for e in table(app).rows} == {"onnx/model", "onnx/model_quantized", "tiny",
                                                      "decoder/decoder_model"}
        entry = next(e for e in table(app).rows if e.model == "onnx/model")
        assert entry.label == "onnx/model (opset ?)"
        row = next(line for line in table_lines(app) if "onnx/model " in line)
        assert " ? " in row and " 0 " not in row  # the opset column: unknown, not 0
        request_download(app, entry)
        await until(pilot, lambda: app.session.queue.jobs and app.session.queue.jobs[0].state == J.DONE,
                    what="the download")
        job = app.session.queue.jobs[0]
        onnx.checker.check_model(onnx.load(job.path))
        files = app.hub.files_of(entry)
        assert len(files) == 3 and all(f.local for f in files)
        assert app.hub.cached_states() == {"onnx/model.onnx": "complete"}
        await until(pilot, lambda: app.session.states.get("onnx/model.onnx") == "complete", what="the cached row")
