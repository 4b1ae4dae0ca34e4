"""``onnxhub-tui``: the terminal UI when run bare, headless subcommands for scripts and remote shells.

A thin front end over ``core``: every decision (names, opsets, cache paths, hashing, deletion) is the
core's. Output contract: results on stdout (tables, JSON, paths), progress and messages on stderr,
exit 0 on success, 1 on failure, 2 on a usage error, 130 on Ctrl-C. Textual is imported only to run the TUI.

Layout: ``parser`` (the grammar), ``output`` (stdout/stderr helpers, JSON version, tables), ``context``
(opening the hub, questions), one module per command group (``models``, ``download``, ``cache``,
``manifest``, ``tui``), ``progress`` (rich bars on stderr).
"""

from __future__ import annotations

from . import startup

startup.pause()  # resumed at the end of this module: importing the CLI leaves the GC as it was

import argparse  # noqa: E402
import contextlib
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable

from ..core.errors import HubError
from .context import UsageError
from .output import JSON_VERSION, PROG, describe, err
from .parser import build_parser, negated_terms_last

__all__ = ["JSON_VERSION", "PROG", "UsageError", "build_parser", "main"]
startup.resume()

Command = Callable[[argparse.Namespace], int]


def _command(args: argparse.Namespace) -> Command:
    """The function for the parsed command (its module imported only now: `--help` stays fast)."""
    if args.command is None:
        from .tui import cmd_tui
        return cmd_tui
    if args.command in ("list", "info"):
        from . import models
        return models.cmd_list if args.command == "list" else models.cmd_info
    if args.command == "download":
        from .download import cmd_download
        return cmd_download
    if args.command == "cache":
        from . import cache
        return getattr(cache, f"cmd_cache_{args.cache_command}")
    from . import manifest
    return getattr(manifest, f"cmd_manifest_{args.manifest_command}")


class _WarningLine(logging.StreamHandler):  # type: ignore[type-arg]
    """The core's warnings (a lock folder that refused, ...) as one stderr line each, in the CLI's voice."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(f"{PROG}: warning: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # the stderr of now (tests swap it), not of the first call
        super().emit(record)


def _say_warnings() -> None:
    core_log = logging.getLogger("onnxhub_tui")
    if not any(isinstance(h, _WarningLine) for h in core_log.handlers):  # main() may run more than once
        core_log.addHandler(_WarningLine())
    if core_log.level == logging.NOTSET:
        core_log.setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Run one command; ``argv`` None: this process's own command line (the ``onnxhub-tui`` script), which
    then also ends the process (see ``_exit_now``)."""
    startup.pause(owns_process=argv is None)
    try:
        code = _main(argv)
    finally:
        startup.resume()
    if argv is None:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End a finished subcommand's process without the interpreter's shutdown: tearing down the modules
    httpx and the core loaded took 30-60 ms of every run (measured on ``download``), after the work was done.
    Everything the command wrote is already closed and fsynced; only stdout and stderr are flushed here.
    Not when other non-daemon threads still run (their work is not ours to cut short), except after the
    TUI: Textual's input thread reads the terminal until its driver stops it, and when the terminal went
    away mid-exit (a dropped SSH, a closed tmux pane) it spins on end-of-file forever while the interpreter
    waits for it. The TUI has parked or abandoned its downloads by then, so after a short grace it ends."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if _ran_tui:
        deadline = time.monotonic() + _TUI_GRACE
        for thread in others:
            thread.join(max(0.0, deadline - time.monotonic()))
    elif others:
        return
    logging.shutdown()  # what the normal exit does for the handlers
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that left (`| head`), a closed stream: nothing to save
            pass
    os._exit(code)


_ran_tui = False
_TUI_GRACE = 1.0  # seconds the TUI's leftover threads get to end by themselves


def _main(argv: list[str] | None) -> int:
    global _ran_tui  # noqa: PLW0603 - read by _exit_now, set once per run
    words = negated_terms_last(list(sys.argv[1:] if argv is None else argv))
    args = build_parser(words).parse_args(words)  # exits 2 on misuse
    for name, default in (("repo", None), ("demo", False), ("offline", False), ("yes", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    for stream in (sys.stdout, sys.stderr):  # a model name the terminal's encoding lacks must not crash us
        with contextlib.suppress(AttributeError, ValueError):
            # backslashreplace, not replace: a name shown as caf\xe9 is honest, caf? is another name
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s")
    else:
        _say_warnings()
    try:
        from ..core import settings

        settings.load()  # a bad environment variable is a usage error before any work starts
        _ran_tui = args.command is None
        command = _command(args)
        if args.command not in ("list", "info", "download"):  # those resume once their manifest is loaded
            startup.resume()
        return command(args)
    except UsageError as exc:  # one line that names the problem (argparse's own errors show the usage)
        err(str(exc))
        return 2
    except KeyboardInterrupt:
        resumable = args.command == "download" or args.command is None
        err("interrupted" + ("; partial downloads are kept and the same command resumes them." if resumable else "."))
        return 130
    except BrokenPipeError:
        # `onnxhub-tui list | head`: the reader left; say nothing more.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except HubError as exc:  # SettingsError, RepoSpecError, QueryError are usage errors: exit 2
        if args.debug:
            traceback.print_exc()
        err(describe(exc))
        return 2 if exc.usage else 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, a traceback only with --debug
        if args.debug:
            traceback.print_exc()
        err(f"unexpected error: {type(exc).__name__}: {exc} (re-run with --debug for details)")
        return 1
