"""Help (``?``): every binding of every screen, with the id that remaps it, and the search language."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .base import focus_now


def _bindings(owner: type) -> list[Binding]:
    found: list[Binding] = []
    for item in getattr(owner, "BINDINGS", []) or []:
        found.extend(Binding.make_bindings([item]) if not isinstance(item, Binding) else [item])
    return found


def _key_text(keys: str) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "pageup": "pgup", "pagedown": "pgdn"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


# Keys a widget handles without a binding of its own, told where they act.
EXTRA_KEYS: dict[str, list[tuple[str, str]]] = {
    "Download queue": [("enter", "Show the job's model (as m)")],
}

# Examples that work on the demo hub (onnxhub-tui --demo); a test runs each one.
SEARCH_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("conv", "a word: in the name, the tags or the path (any case)"),
    ("conv -transpose", "words combine (AND); - leaves out"),
    ("tag:vision", "a field: tag:, name:, path:"),
    ("path:operators/math", "part of the manifest path"),
    ("opset:>=9", "compare: opset:, size: (=, !=, <, <=, >, >=)"),
    ("size:<300B", "size units B, KB, MB, GB (or KiB, MiB, GiB)"),
    ('"batchnorm"', '"quotes" make one term (tag:"object detection")'),
)
# Tokens of the whole zoo (--repo onnx/models): they match no entry of another hub.
ZOO_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("tier:validated", "validated (the manifest), exports (2024, not validated), skipped"),
    ("author:timm", "who exported it: timm, transformers, torch_hub, torchvision"),
    ("task:vision", "the task its turnkey_stats.yaml names"),
    ("params:>10M", "parameter count (k, M, B)"),
)


def search_help() -> Group:
    """The search language, with examples (a mistake is shown in red under the box)."""
    def table(title: str, rows: tuple[tuple[str, str], ...]) -> Table:
        t = Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 1),
                  show_header=False)
        t.add_column(style="bold green", no_wrap=True)
        t.add_column()
        for example, meaning in rows:
            t.add_row(Text(example), Text(meaning))
        return t

    return Group(
        table("Search (/ then type; the rows follow each key)", SEARCH_EXAMPLES),
        table("Whole zoo only (--repo onnx/models)", ZOO_EXAMPLES),
        Text("A mistake (an unknown field such as tags:, an unclosed quote, a lone -) is said in red "
             "under the box; enter or esc goes back to the table, keeping the search.", style="dim"),
        Text(""),
    )


def help_sections(app_class: type) -> list[tuple[str, type]]:
    """What ``?`` lists, screen by screen (``app_class`` is the app's, for its own keys)."""
    from ..widgets.cache_list import CacheList
    from ..widgets.jobs_table import JobsTable
    from ..widgets.model_table import ModelTable
    from ..widgets.search_input import SearchInput
    from .cache import CacheScreen
    from .downloads import DownloadsScreen
    from .modals import ConfirmScreen
    from .models import ModelsScreen

    return [
        ("Everywhere", app_class), ("Models screen", ModelsScreen), ("Models table", ModelTable),
        ("Search box", SearchInput), ("Downloads screen", DownloadsScreen), ("Download queue", JobsTable),
        ("Cache screen", CacheScreen), ("Cache list", CacheList),
        ("Confirmations", ConfirmScreen), ("This help", HelpScreen), ("Built in (Textual)", TextualKeys),
    ]


class TextualKeys:
    """Textual's own keys, for the help screen, described as this app uses them (the palette's key is
    not in App.BINDINGS; ctrl+c does not quit, it copies in the search box)."""

    BINDINGS = [
        Binding("ctrl+p", "command_palette", "Command palette: models and screens by name"),
        Binding("ctrl+q", "quit", "Quit (as q)"),
        Binding("ctrl+c", "help_quit", "Copy in the search box; elsewhere it says how to quit"),
    ]


def bindings_table(sections: list[tuple[str, type]]) -> Group:
    parts = []
    for title, owner in sections:
        rows = _bindings(owner)
        extra = EXTRA_KEYS.get(title, [])
        if not rows and not extra:
            continue
        table = Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 1),
                      show_header=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        for binding in rows:
            table.add_row(Text(_key_text(binding.key)), Text(binding.description or binding.action.replace("_", " ")),
                          Text(binding.id or ""))
        for keys, description in extra:
            table.add_row(Text(keys), Text(description), Text(""))
        parts.append(table)
        parts.append(Text(""))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
        Binding("up,k", "scroll(-1)", "Scroll up", id="help.up"),
        Binding("down,j", "scroll(1)", "Scroll down", id="help.down"),
        Binding("pageup", "scroll(-10)", "Page up", show=False, id="help.page_up"),
        Binding("pagedown,space", "scroll(10)", "Page down", show=False, id="help.page_down"),
    ]
    CSS_PATH = "help.tcss"

    def __init__(self, sections: list[tuple[str, type]]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys  (esc closes; remap by id: ONNXHUB_TUI_KEYS=\"models.download=w\")", id="help-title",
                         markup=False)
            with VerticalScroll():
                yield Static(Group(search_help(), bindings_table(self._sections)), id="help-body")

    def on_mount(self) -> None:
        focus_now(self.query_one(VerticalScroll))

    def action_scroll(self, lines: int) -> None:
        """Scroll the keys (the screen's binding: it works whatever has the focus)."""
        body = self.query_one(VerticalScroll)
        body.scroll_to(y=body.scroll_y + lines, animate=False)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
