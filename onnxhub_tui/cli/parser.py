"""The command line's grammar: options accepted before or after the subcommand, and every subcommand."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .. import __version__
from .output import PROG


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _common(repo: bool = True) -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand. SUPPRESS keeps a subcommand from resetting a value
    given before it (``onnxhub-tui --repo R list`` and ``onnxhub-tui list --repo R`` mean the same)."""
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    if repo:
        parent.add_argument("--repo", metavar="SPEC", help="repo spec: owner/repo[:ref], hf:owner/repo[:rev], URL or folder")
        parent.add_argument("--demo", action="store_true", help="use the embedded demo hub (no network needed)")
        parent.add_argument("--offline", action="store_true", help="no network: use the cached manifest and files")
    parent.add_argument("--cache-dir", metavar="DIR", help="cache folder (default: onnx.hub's, see `cache dir`)")
    parent.add_argument("--debug", action="store_true", help="log details and show tracebacks")
    return parent


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole grammar; given ``argv``, only the subcommand it names gets its arguments (the others keep
    their names and help, so errors and ``--help`` read the same): building all of them cost 3 ms of
    every command's start."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Browse, inspect and download ONNX Model Hub models. Without a command: the terminal UI.",
        epilog="Try it with no network: onnxhub-tui --demo   (or: onnxhub-tui --demo list)",
    )
    parser.add_argument("--repo", metavar="SPEC", default=None,
                        help="repo spec: owner/repo[:ref], hf:owner/repo[:rev], a URL or a folder (default onnx/models:main)")
    parser.add_argument("--cache-dir", metavar="DIR", default=None, help="cache folder (default: onnx.hub's)")
    parser.add_argument("--offline", action="store_true", default=False, help="no network: cached manifest and files only")
    parser.add_argument("--jobs", type=_positive, default=3, metavar="N", help="parallel downloads (default 3)")
    parser.add_argument("--trust", action="store_true", default=False, help="trust the repo: no confirmation before downloads")
    parser.add_argument("--no-mouse", action="store_true", default=False, help="TUI: leave the mouse to the terminal")
    parser.add_argument("--demo", action="store_true", default=False, help="the embedded demo hub, served on 127.0.0.1")
    parser.add_argument("--debug", action="store_true", default=False, help="log details and show tracebacks")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = command_of(argv) if argv is not None else None
    for name, (summary, add_arguments) in _COMMANDS.items():
        if wanted in (None, name):
            add_arguments(commands, summary)
        else:
            commands.add_parser(name, help=summary, add_help=False)  # never parsed: its name and help
    return parser


def _list(commands: argparse._SubParsersAction, summary: str) -> None:
    p = commands.add_parser("list", parents=[_common()], help=summary,
                            description="List the hub's models. QUERY uses the TUI's search language: "
                                        "words, tag:vision, name:res, path:text/, opset:>=12, size:<50MB, -negated, \"quoted words\".")
    p.add_argument("query", nargs="*", metavar="QUERY")
    p.add_argument("--json", action="store_true", help="machine-readable output (see the README)")


def _info(commands: argparse._SubParsersAction, summary: str) -> None:
    p = commands.add_parser("info", parents=[_common()], help=summary)
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--opset", type=int, default=None, metavar="N", help="this opset (default: the highest)")
    p.add_argument("--json", action="store_true", help="machine-readable output (see the README)")
    header = p.add_mutually_exclusive_group()
    header.add_argument("--remote", dest="remote", action="store_const", const=True, default=None,
                        help="read the model's header (ports, opsets, operators) even when the manifest lists its ports")
    header.add_argument("--no-remote", dest="remote", action="store_const", const=False,
                        help="never read the header over the network (by default it is, when the manifest lacks ports)")


def _download(commands: argparse._SubParsersAction, summary: str) -> None:
    p = commands.add_parser("download", parents=[_common()], help=summary)
    p.add_argument("models", nargs="+", metavar="MODEL")
    p.add_argument("--opset", type=int, default=None, metavar="N", help="this opset (default: the highest)")
    p.add_argument("--with-data", action="store_true", help="the model-with-data archive, extracted; prints the folder with the model and its test_data_set_*")
    p.add_argument("--force", action="store_true", help="download again even when cached")
    p.add_argument("--jobs", type=_positive, default=argparse.SUPPRESS, metavar="N", help="parallel downloads (default 3)")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before downloading from an untrusted repo")
    p.add_argument("--trust", action="store_true", default=argparse.SUPPRESS, help="same as --yes")


def _cache(commands: argparse._SubParsersAction, summary: str) -> None:
    hub_opts = _common()
    p = commands.add_parser("cache", help=summary)
    cache_commands = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    q = cache_commands.add_parser("ls", parents=[hub_opts], help="cached files, grouped by folder")
    q.add_argument("--json", action="store_true", help="machine-readable output (see the README)")
    q = cache_commands.add_parser("verify", parents=[hub_opts], help="re-hash cached files against their SHA-256")
    q.add_argument("targets", nargs="*", metavar="TARGET", help="a path, a folder in the cache or a model name (default: all)")
    q = cache_commands.add_parser("rm", parents=[hub_opts], help="delete cached files")
    q.add_argument("targets", nargs="+", metavar="TARGET", help="a path, a folder in the cache or a model name")
    q.add_argument("--dry-run", action="store_true", help="show what would be deleted, delete nothing")
    q.add_argument("-y", "--yes", action="store_true", help="do not ask")
    q = cache_commands.add_parser("prune", parents=[hub_opts],
                                  help="delete abandoned partial downloads (and, with --repo, files its manifest does not name)")
    q.add_argument("--dry-run", action="store_true", help="show what would be deleted, delete nothing")
    q.add_argument("-y", "--yes", action="store_true", help="do not ask")
    cache_commands.add_parser("dir", parents=[_common(repo=False)], help="print the cache folder")


def _manifest(commands: argparse._SubParsersAction, summary: str) -> None:
    p = commands.add_parser("manifest", help=summary)
    manifest_commands = p.add_subparsers(dest="manifest_command", metavar="ACTION", required=True)
    q = manifest_commands.add_parser("build", parents=[_common(repo=False)],
                                     help="a manifest for a folder of .onnx files (and their .tar.gz archives)")
    q.add_argument("folder", metavar="DIR")
    q.add_argument("-o", "--output", metavar="FILE", help="where to write it (default DIR/ONNX_HUB_MANIFEST.json; - for stdout)")
    q = manifest_commands.add_parser("check", parents=[_common(repo=False)],
                                     help="validate a manifest, and with --files its files' sizes and hashes")
    q.add_argument("manifest", metavar="FILE", help="the manifest (or the folder holding ONNX_HUB_MANIFEST.json)")
    q.add_argument("--files", metavar="DIR", help="the folder the manifest's paths are relative to")


_COMMANDS: dict[str, tuple[str, Callable[[argparse._SubParsersAction, str], None]]] = {
    "list": ("list models, filtered by a search query", _list),
    "info": ("every field of one model, io ports as a table", _info),
    "download": ("download models into the cache; prints their paths", _download),
    "cache": ("inspect, verify and trim the cache", _cache),
    "manifest": ("build or check an ONNX_HUB_MANIFEST.json", _manifest),
}


_TAKES_VALUE = {"--repo", "--cache-dir", "--jobs"}


def _command_at(argv: list[str]) -> int:
    """Where the subcommand's name is in ``argv``: after the options given before it."""
    at = 0
    while at < len(argv) and argv[at].startswith("-") and argv[at] != "--":
        at += 2 if argv[at] in _TAKES_VALUE else 1
    return at


_FLAGS = {"--offline", "--trust", "--no-mouse", "--demo", "--debug"}


def command_of(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names for sure, or None: no subcommand, a word that is not one, or an option
    before it this cannot be sure of (``--rep``, an abbreviation argparse accepts, may take the next word)."""
    at = 0
    while at < len(argv) and argv[at].startswith("-"):
        word = argv[at]
        if word in _TAKES_VALUE:
            at += 2
        elif word in _FLAGS or word.split("=", 1)[0] in _TAKES_VALUE:
            at += 1
        else:
            return None
    return argv[at] if at < len(argv) and argv[at] in _COMMANDS else None


def negated_terms_last(argv: list[str]) -> list[str]:
    """``list -tag:text`` is a negated query term, not an option: move such words after ``--``."""
    if "--" in argv:
        return argv
    at = _command_at(argv)
    if at >= len(argv) or argv[at] != "list":
        return argv
    at += 1
    terms = [a for a in argv[at:] if len(a) > 1 and a[0] == "-" and a[1] != "-" and a != "-h"]
    if not terms:
        return argv
    rest = [a for a in argv[at:] if a not in terms]
    return [*argv[:at], *rest, "--", *terms]
