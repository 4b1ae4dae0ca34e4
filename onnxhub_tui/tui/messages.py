"""Messages shared between TUI screens.

Why a module of its own: the cache screen (built separately) and the models screen must agree on
these classes without importing each other.
"""

from __future__ import annotations

from textual.message import Message


class CacheChanged(Message):
    """The cache on disk changed (download finished, files deleted).

    Post it on the app (``self.app.post_message(CacheChanged())``); the app refreshes the models
    table's cached column and the details panel.
    """
