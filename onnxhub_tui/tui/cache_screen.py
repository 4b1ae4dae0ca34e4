"""Placeholder: the cache screen is built by another helper and will replace this file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class CacheScreen(Screen):
    """Cache browser (placeholder until the real one lands)."""

    def compose(self) -> ComposeResult:
        yield Static("Cache screen: not built yet.", markup=False)
        yield Footer()
