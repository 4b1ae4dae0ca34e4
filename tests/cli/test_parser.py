"""The grammar built for one command line (only the subcommand it names gets its arguments) parses every
command line exactly as the whole grammar does: the same namespace, or the same exit and message."""

from __future__ import annotations

import contextlib
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from onnxhub_tui.cli.parser import build_parser, negated_terms_last

WORDS = ["list", "info", "download", "cache", "manifest", "ls", "verify", "rm", "prune", "dir", "build", "check",
         "--repo", "--repo=r", "--rep", "r", "--cache-dir", "--cache", "d", "--jobs", "2", "--json", "--yes", "-y",
         "--debug", "--offline", "--demo", "--trust", "-h", "--version", "x", "-tag:y", "--", "--opset", "13",
         "--with-data", "--force", "--dry-run", "--files", "-o", "--remote", "--no-mouse", "bogus"]


def outcome(argv: list[str], grammar_for: list[str] | None) -> tuple[str, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            result = repr(sorted(vars(build_parser(grammar_for).parse_args(argv)).items()))
        except SystemExit as exc:
            result = f"exit {exc.code}"
    return result, out.getvalue()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=6))
def test_the_grammar_for_a_command_line_parses_it_as_the_whole_grammar(argv):
    argv = negated_terms_last(argv)
    assert outcome(argv, argv) == outcome(argv, None)


def test_the_cases_that_matter_most():
    for argv in (["download", "m", "--repo", "r", "--yes"], ["--repo", "r", "download", "m"], ["--rep", "download", "list"],
                 ["cache", "rm", "x", "--dry-run"], ["list", "-tag:text"], ["--help"], ["info", "--help"]):
        assert outcome(argv, argv) == outcome(argv, None), argv
