"""What the CLI writes: results on stdout (tables, JSON, paths), messages on stderr, one line each.

Tables are measured in terminal cells (``core.text.fit_cells``), so wide and combining characters line
up; they are fitted to the terminal only when there is one: into a pipe or a file every cell is whole.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from ..core.errors import Hint, render
from ..core.text import cell_width, fit_cells, printable

PROG = "onnxhub-tui"
JSON_VERSION = 1  # bump only on an incompatible change to any --json shape (documented in the README)
MIN_WIDTH = 60

# A core error's hints in the CLI's words (the API and the TUI word them their own way).
CLI_TERMS: dict[Hint, str] = {
    Hint.OFFLINE: "--offline",
    Hint.ONLINE: "drop --offline and unset ONNXHUB_OFFLINE",
    Hint.CACHE_DIR: "--cache-dir DIR",
    Hint.REPO: "--repo SPEC",
    Hint.DEMO: "--demo",
    Hint.TOKEN: "GITHUB_TOKEN (or HF_TOKEN for hf: repos)",
    Hint.HF_TOKEN: "HF_TOKEN",
    Hint.TRUST: "--yes (or --trust)",
    Hint.FORCE: "--force",
    Hint.PRUNE: "`onnxhub-tui cache prune`",
    Hint.DEMO_DIR: "ONNXHUB_DEMO_DIR=FOLDER",
}


def describe(exc: BaseException) -> str:
    """An error's message with its hints as CLI flags."""
    return render(exc, CLI_TERMS)


def _bytes_shown(text: str) -> str:
    """A name's bytes that are not UTF-8 (surrogate-escaped in a str) shown as ``\\xe9``, not ``\\udce9``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def err(message: str) -> None:
    """One line on stderr: multi-line core messages are joined, control characters removed."""
    lines = [_bytes_shown(printable(line).strip()) for line in str(message).splitlines()]
    print(f"{PROG}: " + "; ".join(line for line in lines if line), file=sys.stderr, flush=True)


def path_out(path: os.PathLike[str] | str, file: Any = None) -> None:
    """A result path on its own line, as the file system's bytes: a pipe (``model=$(onnxhub-tui download
    ...)``) gets the name that opens, whatever stdout's encoding (``PYTHONIOENCODING=ascii`` turned
    ``café`` into ``caf?`` with exit 0) and whether or not the name is UTF-8 at all."""
    stream = sys.stdout if file is None else file
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text-only stream (a test's StringIO): text is all it takes
        print(os.fspath(path), file=stream, flush=True)
        return
    stream.flush()
    buffer.write(os.fsencode(path) + b"\n")
    buffer.flush()


def note(message: str) -> None:
    print(_bytes_shown(printable(message)), file=sys.stderr, flush=True)


def json_out(document: dict[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


def table_width() -> int | None:
    """The width tables are fitted to: the terminal's when stdout is one, ``$COLUMNS`` when it is set
    (the user asked for it), else None: a pipe or a file gets every cell whole, never cut at 80."""
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        return max(shutil.get_terminal_size((80, 24)).columns, MIN_WIDTH)
    columns = os.environ.get("COLUMNS", "")
    return max(int(columns), MIN_WIDTH) if columns.isdigit() and int(columns) > 0 else None


def cells(text: object) -> int:
    return cell_width(printable(text))


def cell(text: object, width: int | None, *, right: bool = False, pad: bool = True) -> str:
    """``text`` made printable and fitted to ``width`` terminal cells (whole when ``width`` is None)."""
    clean = printable(text)
    if width is None:
        return clean
    return fit_cells(clean, width, right=right, pad=pad)


def column_width(values: Sequence[object], *, least: int = 0, most: int | None = None) -> int:
    """The cells a column needs for ``values``; capped at ``most`` only when a terminal width applies."""
    need = max([cells(v) for v in values] + [least])
    return need if most is None else min(need, most)
