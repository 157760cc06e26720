"""Ask for a file or folder path, with a proposed default."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class PathDialog(ModalScreen[Path | None]):
    """Returns the path typed (Enter or OK), or None on Escape / Cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, title: str, body: str, default: Path) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            yield Input(str(self._default), id="path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _accept(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        self.dismiss(Path(text).expanduser() if text else None)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._accept()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
