"""The details panel: every manifest field of the highlighted entry, its cache state, and (when the
file is cached) what the file itself holds, read by ``core.inspect`` on a worker thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from ...core.inspect import ModelSummary
from ...core.manifest import ModelInfo, Port
from ...core.remote_inspect import RemoteSummary
from ...core.zoo import facts
from ..fmt import clean, human_size, show_path
from ..pathtext import PathText


@dataclass
class CacheInfo:
    """What the panel says about the local copy."""

    state: str | None  # "complete" | "partial" | "damaged" | "queued" | None
    path: Path | None
    data_path: Path | None = None
    data_state: str | None = None


def _field_table() -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _ports_table(title: str, ports: list[Port]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", expand=False, show_edge=False,
                  pad_edge=False, header_style="italic", box=None, padding=(0, 1))
    table.add_column("name", overflow="fold")
    table.add_column("shape", overflow="fold")
    table.add_column("type", overflow="fold")
    for port in ports:
        shape = "[" + ", ".join(clean(d) for d in port.shape) + "]"
        table.add_row(Text(clean(port.name)), Text(shape), Text(clean(port.type)))
    return table


def _cache_line(state: str | None) -> Text:
    if state == "complete":
        return Text("✓ cached", style="green")
    if state == "partial":
        return Text("◐ partial (resumable)", style="yellow")
    if state == "damaged":
        return Text("✗ damaged: not the manifest's size (d fetches it again)", style="red")
    if state == "queued":
        return Text("↓ in the download queue (2 shows it)", style="cyan")
    return Text("not cached", style="dim")


# the label column is as wide as its longest label: at 80 columns every cell counts
_SHORT_LABELS = {"unknown until downloaded": "unknown", "top operators": "top ops", "source script": "script",
                 "archive only": "archive"}


def _hf_files(entry: ModelInfo) -> list[str]:
    """The files a Hugging Face entry is made of (its model and the data files it may need)."""
    hf = entry.metadata.get("hf")
    if not isinstance(hf, dict):
        return []
    files = [entry.model_path] + [str(f) for f in hf.get("data_candidates") or [] if isinstance(f, str)]
    return list(dict.fromkeys(clean(f) for f in files))


def _summary_rows(info: Table, summary: ModelSummary | RemoteSummary) -> None:
    producer = " ".join(p for p in (clean(summary.producer), clean(summary.producer_version)) if p)
    info.add_row("producer", Text(producer or "?"))
    info.add_row("IR version", Text(str(summary.ir_version)))
    info.add_row("opsets", Text(", ".join(f"{clean(d)} {v}" for d, v in sorted(summary.opset_imports.items()))))
    info.add_row("nodes", Text(f"{summary.node_count:,}"))
    ops = ", ".join(f"{clean(op)} {n}" for op, n in summary.top_ops(8))
    info.add_row("top ops", Text(ops or "none"))
    weights = f"{summary.initializer_count:,} ({human_size(summary.initializer_bytes)})"
    if summary.external_data:
        weights += ", external data"
    info.add_row("initializers", Text(weights))


def details_renderable(entry: ModelInfo | None, cache: CacheInfo | None = None,
                       summary: ModelSummary | str | None = None,
                       remote: RemoteSummary | str | None = None) -> RenderableType:
    """Everything about ``entry``; manifest text is always literal (``Text``, never markup).

    ``summary`` is the inspected file, a message (loading, an error), or None when not cached;
    ``remote`` the header read before download (for an entry without ports), or a message about it."""
    if entry is None:
        return Text("No model highlighted.", style="dim")
    parts: list[RenderableType] = [Text(clean(entry.model), style="bold")]
    fields = _field_table()
    fields.add_row("path", Text(clean(entry.model_path)))
    # one row for both versions: at 80x24 the panel has a dozen lines
    fields.add_row("opset", Text(f"{entry.opset_text}  (onnx {clean(entry.onnx_version) or '?'})"))
    for label, text in facts(entry):  # the zoo's tier and the facts its index knows
        fields.add_row(_SHORT_LABELS.get(label, label), Text(clean(text)))
    exact = f" ({entry.model_bytes:,} B)" if entry.model_bytes and entry.model_bytes >= 1000 else ""
    fields.add_row("size", Text(human_size(entry.model_bytes) + exact))
    fields.add_row("sha256", Text(clean(entry.model_sha or "none (the download cannot be verified)")))
    fields.add_row("tags", Text(clean(", ".join(entry.tag_list)) or "none"))
    if entry.has_test_data:
        data = f"{clean(entry.model_with_data_path)} ({human_size(entry.model_with_data_bytes)})"
        fields.add_row("with data", Text(data))
    else:
        fields.add_row("with data", Text("no test-data archive", style="dim"))
    if cache is not None:
        fields.add_row("cache", _cache_line(cache.state))
        # absolute and whole, wrapped after a "/"; y copies the one the screen's copy key takes
        has_data = cache.data_path is not None and bool(cache.data_state)
        if cache.path is not None and (cache.state == "complete" or not has_data):
            note = "  (y copies)" if cache.state == "complete" else "  (when downloaded)"
            fields.add_row("local", PathText(show_path(cache.path), suffix=note))
        if has_data and cache.data_path is not None:
            note = "; y copies" if cache.state != "complete" else ""
            fields.add_row("data", PathText(show_path(cache.data_path), suffix=f" ({cache.data_state}{note})"))
    hf_files = _hf_files(entry)
    if hf_files:
        fields.add_row("files", Text("\n".join(hf_files)))
    parts.append(fields)

    if isinstance(remote, RemoteSummary):  # the header knows more than the manifest's ports
        how = "kept from an earlier look" if remote.cached else (
            f"{remote.requests} requests, {human_size(remote.bytes_read)} of {human_size(remote.file_size)}")
        parts.append(Text(f"\nread from the header before download ({how})", style="italic"))
        parts.append(_ports_table("inputs", list(remote.inputs)) if remote.inputs else Text("inputs: none"))
        parts.append(_ports_table("outputs", list(remote.outputs)) if remote.outputs else Text("outputs: none"))
        info = _field_table()
        _summary_rows(info, remote)
        parts.append(info)
    elif entry.io_ports is None:
        parts.append(Text("\nNo io_ports in the manifest for this entry: inputs and outputs are unknown "
                          "until the file is downloaded.", style="italic"))
        if isinstance(remote, str):
            parts.append(Text(clean(remote), style="italic"))
    else:
        parts.append(Text(""))
        parts.append(_ports_table("inputs", entry.inputs) if entry.inputs else Text("inputs: none listed"))
        parts.append(_ports_table("outputs", entry.outputs) if entry.outputs else Text("outputs: none listed"))
    for group, ports in entry.extra_ports.items():
        parts.append(_ports_table(f"extra_ports: {clean(group)}", ports))

    if isinstance(summary, ModelSummary):
        parts.append(Text("\nthe file", style="bold"))
        info = _field_table()
        _summary_rows(info, summary)
        parts.append(info)
    elif isinstance(summary, str):
        parts.append(Text("\n" + clean(summary), style="italic"))
    return Group(*parts)


class _Body(Static):
    """The panel's text."""


class DetailsPanel(VerticalScroll, can_focus=True):
    """A scrollable, focusable panel; ``show`` replaces its content."""

    SETTLE = 0.12  # seconds without a new ``show(defer=True)`` before the held content is painted

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._timer: Timer | None = None
        self._entry: ModelInfo | None = None
        self._pending: tuple[ModelInfo | None, CacheInfo | None, ModelSummary | str | None,
                             RemoteSummary | str | None] | None = None

    def compose(self):  # noqa: ANN201 - Textual's signature
        yield _Body(Text("Loading…", style="dim"), id="details-body")

    def show(self, entry: ModelInfo | None, cache: CacheInfo | None = None,
             summary: ModelSummary | str | None = None, remote: RemoteSummary | str | None = None, *,
             defer: bool = False) -> None:
        """Show ``entry``; with ``defer`` the content is set now but painted once the cursor settles.
        Another entry starts at the top (a panel scrolled for one model must not hide the next one's name)."""
        body = self.query_one("#details-body", _Body)
        if entry is not self._entry:
            self._entry = entry
            self.scroll_home(animate=False)
        self._stop_timer()
        if not defer:
            self._pending = None
            body.update(details_renderable(entry, cache, summary, remote))
            return
        # Built when the cursor settles, not now: an entry's details may read more than its row holds
        # (a zoo entry's metadata is parsed on first use), which a first paint or a passing cursor skips.
        self._pending = (entry, cache, summary, remote)
        self._timer = self.set_timer(self.SETTLE, self.flush)

    def flush(self) -> None:
        """Paint pending content now."""
        self._stop_timer()
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.query_one("#details-body", _Body).update(details_renderable(*pending))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_focus(self) -> None:
        self.flush()

    def on_blur(self) -> None:
        self.scroll_home(animate=False)  # leaving a scrolled panel: the next look starts at the name

    def show_message(self, text: str) -> None:
        self._stop_timer()
        self._pending = None
        self.query_one("#details-body", _Body).update(Text(clean(text)))
