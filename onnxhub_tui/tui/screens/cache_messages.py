"""What the cache screen's workers report: one dataclass message each."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from ...core import cache
from ...core.cache import CacheReport, VerifyResult
from .. import cachewatch


@dataclass
class Scanned(Message):
    report: CacheReport
    generation: int
    seconds: float
    folders: list[Path] = field(default_factory=list)  # what the watch stats (cachewatch)
    signature: cachewatch.Signature = field(default_factory=dict)


@dataclass
class FoldersChanged(Message):
    """The watch saw a folder of the cache change (another process, or a download of this one)."""

    generation: int


@dataclass
class VerifyProgress(Message):
    """File ``done`` of ``total`` starts (result None) or ends; the bar follows bytes, so one big file
    among small ones does not look stuck at the last percent."""

    done: int
    total: int
    name: str
    size: int
    done_bytes: int
    total_bytes: int
    result: VerifyResult | None

    def can_replace(self, message: Message) -> bool:
        # A progress tick is dropped when a newer one waits behind it; a finished file's result never is.
        return self.result is None and isinstance(message, VerifyProgress)


@dataclass
class VerifyDone(Message):
    results: list[VerifyResult]
    cancelled: bool


@dataclass
class Deleted(Message):
    result: cache.DeleteResult
