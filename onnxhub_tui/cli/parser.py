"""The command line's grammar: options accepted before or after the subcommand, and every subcommand."""

from __future__ import annotations

import argparse

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


def build_parser() -> argparse.ArgumentParser:
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

    hub_opts = _common()
    p = commands.add_parser("list", parents=[hub_opts], help="list models, filtered by a search query",
                            description="List the hub's models. QUERY uses the TUI's search language: "
                                        "words, tag:vision, name:res, path:text/, opset:>=12, size:<50MB, -negated, \"quoted words\".")
    p.add_argument("query", nargs="*", metavar="QUERY")
    p.add_argument("--json", action="store_true", help="machine-readable output (see the README)")

    p = commands.add_parser("info", parents=[hub_opts], help="every field of one model, io ports as a table")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--opset", type=int, default=None, metavar="N", help="this opset (default: the highest)")
    p.add_argument("--json", action="store_true", help="machine-readable output (see the README)")
    header = p.add_mutually_exclusive_group()
    header.add_argument("--remote", dest="remote", action="store_const", const=True, default=None,
                        help="read the model's header (ports, opsets, operators) even when the manifest lists its ports")
    header.add_argument("--no-remote", dest="remote", action="store_const", const=False,
                        help="never read the header over the network (by default it is, when the manifest lacks ports)")

    p = commands.add_parser("download", parents=[hub_opts], help="download models into the cache; prints their paths")
    p.add_argument("models", nargs="+", metavar="MODEL")
    p.add_argument("--opset", type=int, default=None, metavar="N", help="this opset (default: the highest)")
    p.add_argument("--with-data", action="store_true", help="the model-with-data archive, extracted; prints the folder with the model and its test_data_set_*")
    p.add_argument("--force", action="store_true", help="download again even when cached")
    p.add_argument("--jobs", type=_positive, default=argparse.SUPPRESS, metavar="N", help="parallel downloads (default 3)")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before downloading from an untrusted repo")
    p.add_argument("--trust", action="store_true", default=argparse.SUPPRESS, help="same as --yes")

    p = commands.add_parser("cache", help="inspect, verify and trim the cache")
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

    p = commands.add_parser("manifest", help="build or check an ONNX_HUB_MANIFEST.json")
    manifest_commands = p.add_subparsers(dest="manifest_command", metavar="ACTION", required=True)
    q = manifest_commands.add_parser("build", parents=[_common(repo=False)],
                                     help="a manifest for a folder of .onnx files (and their .tar.gz archives)")
    q.add_argument("folder", metavar="DIR")
    q.add_argument("-o", "--output", metavar="FILE", help="where to write it (default DIR/ONNX_HUB_MANIFEST.json; - for stdout)")
    q = manifest_commands.add_parser("check", parents=[_common(repo=False)],
                                     help="validate a manifest, and with --files its files' sizes and hashes")
    q.add_argument("manifest", metavar="FILE", help="the manifest (or the folder holding ONNX_HUB_MANIFEST.json)")
    q.add_argument("--files", metavar="DIR", help="the folder the manifest's paths are relative to")
    return parser


_TAKES_VALUE = {"--repo", "--cache-dir", "--jobs"}


def negated_terms_last(argv: list[str]) -> list[str]:
    """``list -tag:text`` is a negated query term, not an option: move such words after ``--``."""
    if "--" in argv:
        return argv
    at = 0
    while at < len(argv) and argv[at].startswith("-"):  # skip the options before the command
        at += 2 if argv[at] in _TAKES_VALUE else 1
    if at >= len(argv) or argv[at] != "list":
        return argv
    at += 1
    terms = [a for a in argv[at:] if len(a) > 1 and a[0] == "-" and a[1] != "-" and a != "-h"]
    if not terms:
        return argv
    rest = [a for a in argv[at:] if a not in terms]
    return [*argv[:at], *rest, "--", *terms]
