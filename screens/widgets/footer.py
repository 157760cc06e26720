"""The footer every screen shows: Textual's Footer, rebuilt only when what it shows changes."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's Footer rebuilds all its keys on every bindings update: focus moving, a step's
    ``valid`` flipping, ``refresh_bindings``. Opening a step fired 4–6 of those, each a recompose
    (about a fifth of a step change's time, issue 11). This one rebuilds at most once per refresh,
    and not at all when the keys it would show are the ones it shows.
    """

    def __init__(self) -> None:
        super().__init__(compact=True)  # every key and Quit fit at 80 columns (tests/ui/test_small_terminal.py)
        self._pending = False
        self._shown: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen or self._pending:
            return
        self._pending = True
        self.call_after_refresh(self._rebuild_if_changed)

    def _keys(self) -> tuple[object, ...]:
        return tuple(
            (key, binding.action, binding.description, binding.show, binding.group, enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
        )

    async def _rebuild_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:  # its screen was closed before this refresh
            return
        keys = self._keys()
        if keys != self._shown:
            self._shown = keys
            await self.recompose()
