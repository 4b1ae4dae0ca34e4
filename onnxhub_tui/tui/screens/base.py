"""The base of the app's screens: a ``Session`` from the constructor, and its events as messages."""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget

from ..session import Session


def focus_now(widget: Widget) -> None:
    """Give ``widget`` the focus now. ``Widget.focus()`` queues the change behind the messages already
    waiting, so keys read in the same burst as the one that moved the focus still went to the old widget
    ("/conv": the table got "conv"; see ``ModelsScreen.check_action``)."""
    widget.screen.set_focus(widget)


class SessionScreen(Screen):
    """Subscribes to the session while mounted: every ``session.publish(event)`` arrives as a message."""

    def __init__(self, session: Session, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.session = session

    def _on_mount(self) -> None:
        self.session.subscribe(self._deliver)

    def _on_unmount(self) -> None:
        self.session.unsubscribe(self._deliver)

    def _deliver(self, event: object) -> None:
        if isinstance(event, Message):
            self.post_message(event)

    async def _on_message(self, message: Message) -> None:
        # A message can arrive while the app shuts down and prunes this screen's widgets: a clean exit
        # must not become a traceback (one guard here instead of one per handler).
        try:
            await super()._on_message(message)
        except NoMatches:
            if not self.app._exit:  # noqa: SLF001 - Textual's "exit was asked" flag; no public one
                raise
