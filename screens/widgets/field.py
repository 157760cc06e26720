"""A labelled input with its error line underneath, bound to one plan field path."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static


class Field(Vertical):
    """``path`` is the plan field this input edits (e.g. ``compose.ports.flowise``)."""

    DEFAULT_CSS = """
    Field { height: auto; margin: 0 0 1 0; }
    Field > Input { width: 1fr; }
    Field > .error { color: $text-error; height: auto; display: none; }
    Field.-invalid > .error { display: block; }
    Field > .hint { color: $text-muted; height: auto; }
    Field > .warning { color: $text-warning; height: auto; display: none; }
    Field.-warned > .warning { display: block; }
    Field.-invalid > .warning { display: none; }
    """

    def __init__(
        self,
        label: str,
        path: str,
        value: str = "",
        *,
        placeholder: str = "",
        hint: str = "",
        password: bool = False,
        field_id: str | None = None,
    ) -> None:
        super().__init__(id=field_id or "f-" + path.replace(".", "-").replace("_", "-"))
        self.path = path
        self._label = label
        self._value = value
        self._placeholder = placeholder
        self._hint = hint
        self._password = password

    def compose(self) -> ComposeResult:
        yield Label(self._label)
        yield Input(self._value, placeholder=self._placeholder, password=self._password, compact=True)
        if self._hint:
            yield Static(self._hint, classes="hint")
        yield Static("", classes="error")
        yield Static("", classes="warning")

    @property
    def value(self) -> str:
        return self.query_one(Input).value.strip()

    def show_error(self, message: str | None) -> None:
        self.set_class(message is not None, "-invalid")
        self.query_one(".error", Static).update(f"✗ {message}" if message else "")

    def show_warning(self, message: str | None) -> None:
        """A valid value that still deserves a word (0.0.0.0 exposes the stack); never blocks Next."""
        self.set_class(bool(message), "-warned")
        self.query_one(".warning", Static).update(Text(f"! {message}") if message else "")

    def set_placeholder(self, text: str) -> None:
        self.query_one(Input).placeholder = text
