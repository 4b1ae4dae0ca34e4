"""Help (``?``): every binding of every screen, with the id that remaps it."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _bindings(owner: type) -> list[Binding]:
    found: list[Binding] = []
    for item in getattr(owner, "BINDINGS", []) or []:
        found.extend(Binding.make_bindings([item]) if not isinstance(item, Binding) else [item])
    return found


def _key_text(keys: str) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "pageup": "pgup", "pagedown": "pgdn"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def bindings_table(sections: list[tuple[str, type]]) -> Group:
    parts = []
    for title, owner in sections:
        rows = _bindings(owner)
        if not rows:
            continue
        table = Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 1),
                      show_header=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        for binding in rows:
            table.add_row(Text(_key_text(binding.key)), Text(binding.description or binding.action.replace("_", " ")),
                          Text(binding.id or ""))
        parts.append(table)
        parts.append(Text(""))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]
    CSS_PATH = "help.tcss"

    def __init__(self, sections: list[tuple[str, type]]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys  (esc closes; remap by id: ONNXHUB_TUI_KEYS=\"models.download=w\")", id="help-title",
                         markup=False)
            with VerticalScroll():
                yield Static(bindings_table(self._sections), id="help-body")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
