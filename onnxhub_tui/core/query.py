"""The search language shared by the TUI's search box and ``onnxhub-tui list``.

Words combine with AND, case-insensitively: plain words match name, tags or path; ``tag:vision``,
``name:res``, ``path:text/``; ``opset:>=12``; ``size:<50MB``; a leading ``-`` negates a term;
``"two words"`` is one term. A mistake is a ``QueryError``, never a silent "0 shown": an unknown field
(``tags:`` names the known ones and suggests ``tag:``), an unclosed quote, a lone ``-``. For the whole zoo (core/zoo.py): ``tier:validated`` (or ``exports``,
``skipped``; a prefix will do), ``author:timm``, ``task:vision`` and ``params:>1M`` (k, M, B or G);
entries that do not know the fact (a manifest entry has no author) do not match.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import QueryError
from .manifest import ModelInfo
from .zoo import TIERS, tier_of, turnkey_of

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "!=": operator.ne, "==": operator.eq,
    ">": operator.gt, "<": operator.lt, "=": operator.eq,
}
_COMPARE = re.compile(r"^(>=|<=|!=|==|>|<|=)?\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)$")
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_PARAM_UNITS = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9}
FIELDS = ("tag", "name", "path", "opset", "size", "tier", "author", "task", "params")

Predicate = Callable[[ModelInfo], bool]


# A quoted part may follow a field or a dash: tag:"machine comprehension", -"two words". The zoo has
# 13 tags with spaces; before, tag:"..." split into tag:"machine and comprehension" and matched nothing.
_TERM = re.compile(r'(-?(?:[A-Za-z]+:)?)"([^"]*)("?)|(\S+)')
_FIELD = re.compile(r"^-?([A-Za-z_]+):")
_BARE_NUMBER = re.compile(r"^-?(size|params):(>=|<=|!=|==|>|<|=)?[0-9]*\.?[0-9]+$", re.IGNORECASE)


def _split(text: str) -> list[tuple[str, bool]]:
    """(term, literal) pairs, split at whitespace; double quotes group words, and a quoted word is
    literal (``"a:b"`` is a word, not a field). Raises QueryError for an unclosed quote."""
    terms: list[tuple[str, bool]] = []
    for prefix, quoted, closed, bare in _TERM.findall(text):
        if bare:
            terms.append((bare, False))
            continue
        if not closed:
            raise QueryError(f'unclosed quote in {prefix}"{quoted}: end it with " (e.g. "two words")')
        if prefix + quoted:
            terms.append((prefix + quoted, ":" not in prefix))
    # "size:<50 MB": a unit typed after a space belongs to the number before it
    joined: list[tuple[str, bool]] = []
    for term, literal in terms:
        if joined and _BARE_NUMBER.match(joined[-1][0]) and term.lower() in _UNITS.keys() | _PARAM_UNITS.keys():
            joined[-1] = (joined[-1][0] + term, False)
        else:
            joined.append((term, literal))
    return joined


def _unknown_field(key: str) -> QueryError:
    close = difflib.get_close_matches(key, FIELDS, n=1, cutoff=0.6)
    if not close and key.endswith("s") and key[:-1] in FIELDS:
        close = [key[:-1]]
    hint = f" (did you mean {close[0]}:?)" if close else ""
    known = ", ".join(f"{f}:" for f in FIELDS)
    return QueryError(f"unknown field {key}:{hint}; the fields are {known}; put a word with a colon in quotes")


def _compare(field: str, value: str) -> tuple[Callable[[float, float], bool], float]:
    match = _COMPARE.match(value.strip())
    if not match:
        raise QueryError(f"{field}:{value} needs a number, e.g. {field}:>=12" + (" or size:<50MB" if field == "size" else ""))
    op, number, unit = match.groups()
    unit = unit.lower()
    if field == "params":
        if unit not in _PARAM_UNITS:
            raise QueryError(f"params:{value}: unknown unit {unit!r}; use k, M or B (e.g. params:>1M)")
        return _OPS[op or "="], float(number) * _PARAM_UNITS[unit]
    if field == "opset" and unit:
        raise QueryError(f"opset:{value} takes a plain number, e.g. opset:>=12")
    if unit not in _UNITS:
        raise QueryError(f"size:{value}: unknown unit {unit!r}; use B, KB, MB, GB (or KiB, MiB, GiB)")
    return _OPS[op or "="], float(number) * _UNITS[unit]


def _turnkey(entry: ModelInfo) -> dict:
    return turnkey_of(entry)  # a zoo row's search facts, without reading the index's full entries


def _compare_params(entry: ModelInfo, op: Callable[[float, float], bool], number: float) -> bool:
    count = _turnkey(entry).get("parameters")
    return isinstance(count, int) and op(count, number)


def _term(term: str, *, quoted: bool = False) -> Predicate:
    if term == "-":
        raise QueryError("a lone - negates nothing: write it before a word, e.g. -int8 or -tag:text")
    negate = term.startswith("-") and len(term) > 1
    if negate:
        term = term[1:]
    key, sep, value = term.partition(":")
    key = key.lower()
    predicate: Predicate
    if sep and key not in FIELDS and not quoted and _FIELD.match(term):
        raise _unknown_field(key)
    if sep and key in FIELDS:
        if not value:
            raise QueryError(f"{key}: needs a value, e.g. tag:vision, opset:>=12, size:<50MB")
        lowered = value.lower()
        if key == "tag":
            predicate = lambda m: any(lowered in t for t in m.tags_lower)  # noqa: E731
        elif key == "name":
            predicate = lambda m: lowered in m.model.lower()  # noqa: E731
        elif key == "path":
            predicate = lambda m: lowered in m.model_path.lower()  # noqa: E731
        elif key == "tier":
            tiers = [t for t in TIERS if t.startswith(lowered)]
            if not tiers:
                raise QueryError(f"tier:{value}: the tiers are {', '.join(TIERS)}")
            predicate = lambda m: tier_of(m) in tiers  # noqa: E731
        elif key in ("author", "task"):
            predicate = lambda m: lowered in str(_turnkey(m).get(key) or "").lower()  # noqa: E731
        elif key == "params":
            op, number = _compare(key, value)
            predicate = lambda m: _compare_params(m, op, number)  # noqa: E731
        elif key == "opset":
            op, number = _compare(key, value)
            predicate = lambda m: op(m.opset, number)  # noqa: E731
        else:
            op, number = _compare(key, value)
            predicate = lambda m: m.model_bytes is not None and op(m.model_bytes, number)  # noqa: E731
    else:
        lowered = term.lower()
        predicate = lambda m: lowered in m.search_text  # noqa: E731
    return (lambda m: not predicate(m)) if negate else predicate


@dataclass(frozen=True)
class Query:
    text: str
    predicates: tuple[Predicate, ...]

    def matches(self, entry: ModelInfo) -> bool:
        return all(p(entry) for p in self.predicates)

    def filter(self, entries: Iterable[ModelInfo]) -> list[ModelInfo]:
        if not self.predicates:
            return list(entries)
        return [e for e in entries if all(p(e) for p in self.predicates)]


def parse_query(text: str | Iterable[str]) -> Query:
    """Parse a query (a string, or words as given on a command line); raises QueryError."""
    if not isinstance(text, str):
        text = " ".join(f'"{w}"' if " " in w else w for w in text)
    return Query(text, tuple(_term(t, quoted=q) for t, q in _split(text)))


def narrows(old: str | None, new: str) -> bool:
    """True when every entry matching ``new`` also matches ``old``: words were only lengthened or added.

    Lengthening a plain word or a ``tag:``/``name:``/``path:``/``author:``/``task:`` value narrows a substring match; a
    negated term, a comparison (``opset:``, ``size:``) or a quote can widen it, so those filter afresh."""
    if old is None or '"' in old or '"' in new:
        return False
    before, after = old.split(), new.split()
    if len(after) < len(before) or (before and after[: len(before) - 1] != before[:-1]):
        return False
    changed = after[len(before) - 1:] if before else after
    if before:
        last_old, last_new = before[-1], after[len(before) - 1]
        if not last_new.startswith(last_old) or (":" in last_old) != (":" in last_new):
            return False  # "tag" -> "tag:vision" turns a word into a field
    for term in changed:
        key, sep, _ = term.partition(":")
        if term.startswith("-") or (sep and key.lower() not in ("tag", "name", "path", "author", "task")):
            return False
    return True
