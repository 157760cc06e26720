"""A question with a few labelled answers (e.g. "stop and roll back / stop and keep / keep going")."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ChoiceDialog(ModalScreen[str | None]):
    """Returns the id of the chosen answer, or None on Escape."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="close")]

    def __init__(self, title: str, body: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                for index, (answer, label) in enumerate(self._choices):
                    yield Button(label, id=f"choice-{answer}", variant="primary" if index == 0 else "default", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
