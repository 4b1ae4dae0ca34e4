"""Command palette (ctrl+p): screens by name, and models by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from .fmt import clean
from .messages import ModelRequested

if TYPE_CHECKING:
    from .app import HubApp

SCREENS = (("Models", "models", "Browse and search the manifest (1)"),
           ("Downloads", "downloads", "The download queue (2)"),
           ("Cache", "cache", "What is on disk, and deleting it (3)"))
MAX_MODEL_HITS = 40


class HubCommands(Provider):
    @property
    def hub_app(self) -> HubApp:
        return cast("HubApp", self.app)

    async def discover(self) -> Hits:
        for title, mode, help_text in SCREENS:
            yield DiscoveryHit(f"Screen: {title}", partial(self.hub_app.switch_mode, mode), help=help_text)
        # help is the system command "Keys" (HubApp.get_system_commands): one entry, not two

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.hub_app
        for title, mode, help_text in SCREENS:
            text = f"Screen: {title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(escape(text)), partial(app.switch_mode, mode), help=help_text)
        lowered = query.lower().strip()
        hits = 0
        for entry in app.session.entries:
            # a cheap substring pre-filter keeps the fuzzy matcher off tens of thousands of names
            if lowered and lowered[0] not in entry.model.lower():
                continue
            text = clean(entry.label)
            score = matcher.match(text)
            if score > 0:
                # the palette parses both strings as markup: escape manifest text so it shows literally
                yield Hit(score, matcher.highlight(escape(text)), partial(app.post_message, ModelRequested(entry)),
                          text=text, help=escape(clean(entry.model_path)))
                hits += 1
                if hits >= MAX_MODEL_HITS:
                    return
