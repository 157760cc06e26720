"""F1: what this screen is for and which keys do what."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static


class HelpDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close help", id="close")]

    def __init__(self, title: str, markdown: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._markdown = markdown
        self._keys = keys

    def compose(self) -> ComposeResult:
        keys = "\n".join(f"- **{key}** {what}" for key, what in self._keys)
        with Vertical(classes="dialog help"):
            yield Static(f"Help: {self._title}", classes="dialog-title")
            with VerticalScroll():
                yield Markdown(f"{self._markdown}\n\n**Keys**\n\n{keys}")
            yield Static("Esc closes this help.", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
