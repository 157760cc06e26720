"""The one-line bar at the top of a step: where the wizard is, or that the next step is opening."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class StepBar(Widget):
    """Rich-markup text on one line. A change repaints this line only: no layout of the screen
    under it (``Static.update`` lays the whole step out again, which on Options cost more than the
    "opening …" notice was meant to cover)."""

    text: reactive[str] = reactive("")

    def __init__(self, text: str, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.set_reactive(StepBar.text, text)

    def render(self) -> Content:
        return Content.from_markup(self.text)
