"""A path shown whole, wrapped after a ``/`` (Rich wraps only at spaces, so a path folded mid-name).

``PathText(path)`` is a Rich renderable for any panel or table cell (the details, the downloads and the
cache screens); ``wrap_path`` is the line breaking it uses, plain and testable.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style, StyleType

from ..core.text import cell_width
from .fmt import clean


def wrap_path(path: str, width: int) -> list[str]:
    """``path`` in lines of at most ``width`` cells, each ending after a ``/`` where one falls; a part
    longer than a line (a hash-prefixed file name) is cut by cells."""
    width = max(1, width)
    pieces = [p + "/" for p in path.split("/")[:-1]] + [path.split("/")[-1]]
    pieces = [p for p in pieces if p]
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and cell_width(line) + cell_width(piece) > width:
            lines.append(line)
            line = ""
        while cell_width(piece) > width:  # a part too long for any line: cut it by cells
            room = width - cell_width(line)
            head, piece = _split_cells(piece, room)
            lines.append(line + head)
            line = ""
        line += piece
    if line or not lines:
        lines.append(line)
    return lines


def _split_cells(text: str, cells: int) -> tuple[str, str]:
    used = 0
    for i, ch in enumerate(text):
        w = cell_width(ch)
        if used + w > cells:
            return text[:i] or text[:1], text[i:] if i else text[1:]
        used += w
    return text, ""


class PathText:
    """A literal path (control characters removed) that wraps after ``/``."""

    def __init__(self, path: str, style: StyleType = "", suffix: str = "") -> None:
        self.path = clean(path)
        self.style = style
        self.suffix = clean(suffix)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        text = self.path + self.suffix
        longest = max((cell_width(p) + 1 for p in self.path.split("/")), default=1)
        return Measurement(min(longest, cell_width(text)), cell_width(text))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        style = console.get_style(self.style) if self.style else Style()
        lines = wrap_path(self.path, options.max_width)
        if self.suffix:
            if cell_width(lines[-1]) + cell_width(self.suffix) <= options.max_width:
                lines[-1] += self.suffix
            else:
                lines.append(self.suffix.strip())
        for line in lines:
            yield Segment(line, style)
            yield Segment.line()
