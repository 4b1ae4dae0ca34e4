"""A compact footer that keeps ``? Help`` and ``q Quit`` at every width.

Textual's footer cuts what does not fit at the right edge, and the right edge is where the app's own keys
sit: at 80 columns the cache screen lost ``? Help`` and ``q Quit``. This one leaves keys out instead,
least useful first: the key of the screen already shown, the palette hint, the other screens' keys, then
the screen's own keys from the last. Help (``?``) lists every key whatever the footer shows.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # noqa: PLC2701 - the footer's own item widget

from ...core.text import cell_width

KEEP = ("app.help", "app.quit")
MODES = ("app.models", "app.downloads", "app.cache")
PALETTE = "palette"


class FitFooter(Footer):
    def __init__(self, *, current: str | None = None, id: str | None = None) -> None:  # noqa: A002
        super().__init__(compact=True, id=id)
        self.current = current  # the binding id of the screen this footer is on (its key does nothing new)
        self._width = 0

    def _cost(self, binding: Binding) -> int:
        return cell_width(self.app.get_key_display(binding)) + cell_width(binding.description) + 2

    def fitting(self, width: int) -> tuple[list[tuple[Binding, bool, str]], bool]:
        """The bindings shown at ``width`` cells, and whether the palette hint is."""
        shown: list[tuple[Binding, bool, str]] = []
        actions: set[str] = set()
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                shown.append((binding, enabled, tooltip))
        active = self.screen.active_bindings
        palette = (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
                   and self.app.COMMAND_PALETTE_BINDING in active)
        palette_cost = 14 if palette else 0
        own = [b.id for b, _e, _t in shown if b.id not in KEEP and b.id not in MODES]
        order = [self.current, PALETTE, *reversed([m for m in MODES if m != self.current]), *reversed(own)]
        for victim in order:
            if sum(self._cost(b) for b, _e, _t in shown) + palette_cost <= width:
                break
            if victim == PALETTE:
                palette, palette_cost = False, 0
            else:
                shown = [item for item in shown if item[0].id != victim]
        return shown, bool(palette)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._width = width
        shown, palette = self.fitting(width)
        self.styles.grid_size_columns = len(shown)
        for binding, enabled, tooltip in shown:
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip).data_bind(compact=Footer.compact)
        if palette:
            _node, binding, enabled, tooltip = self.screen.active_bindings[self.app.COMMAND_PALETTE_BINDING]
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            classes="-command-palette", disabled=not enabled,
                            tooltip=binding.tooltip or binding.description)

    def on_resize(self) -> None:
        if self.size.width != self._width and self._bindings_ready:
            self.call_after_refresh(self.recompose)
