"""A question with a few labelled answers (e.g. "stop and roll back / stop and keep / keep going")."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

# The dialog's box (app.tcss ``.dialog``): 70 columns at most, 95% of a narrower screen, less its
# border (2) and padding (4). A compact button is its label plus one cell each side, at least 16
# (Textual's Button CSS), and 2 columns of margin after it.
_DIALOG_WIDTH, _DIALOG_SHARE, _DIALOG_FRAME = 70, 0.95, 6
_BUTTON_MIN, _BUTTON_PAD, _BUTTON_GAP = 16, 2, 2


def answers_fit_in_a_row(labels: list[str], screen_width: int) -> bool:
    """True when every answer's button fits side by side in the dialog at this screen width."""
    inner = min(_DIALOG_WIDTH, int(screen_width * _DIALOG_SHARE)) - _DIALOG_FRAME
    needed = sum(max(_BUTTON_MIN, cell_len(label) + _BUTTON_PAD) + _BUTTON_GAP for label in labels) - _BUTTON_GAP
    return needed <= inner


class ChoiceDialog(ModalScreen[str | None]):
    """Returns the id of the chosen answer, or None on Escape.

    The answers sit in a row when they fit and one under another when they do not (three long
    answers at 80 columns): a cut-off button is an answer the person cannot read.
    """

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="close"),
        Binding("up,left", "app.focus_previous", show=False),
        Binding("down,right", "app.focus_next", show=False),
    ]

    def __init__(self, title: str, body: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            with Container(classes="dialog-buttons"):
                for index, (answer, label) in enumerate(self._choices):
                    yield Button(label, id=f"choice-{answer}", variant="primary" if index == 0 else "default", compact=True)

    def on_mount(self) -> None:
        self._arrange(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._arrange(event.size.width)

    def _arrange(self, width: int) -> None:
        fits = answers_fit_in_a_row([label for _, label in self._choices], width)
        self.query_one(".dialog-buttons").set_class(not fits, "-stacked")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
