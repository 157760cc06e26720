"""A launch step or a service in one line: name, progress bar, what it is doing right now.

One ``Static`` per row (drawing Rich's bar) rather than a Label + ProgressBar + Label group:
a launch updates these many times a second and the row must stay cheap to repaint.
"""

from __future__ import annotations

from rich.progress_bar import ProgressBar as RichBar
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from installer.progress import ProgressEvent, State

# How far along a step or service is in each state (the bar is a guide; the words are exact).
_FRACTION: dict[State, float] = {
    State.pending: 0.0, State.running: 0.1, State.pulling: 0.2, State.creating: 0.5,
    State.starting: 0.6, State.health_starting: 0.8, State.healthy: 1.0, State.done: 1.0,
    State.skipped: 1.0, State.warning: 1.0, State.unhealthy: 0.8, State.failed: 1.0,
    State.rolling_back: 0.5, State.rolled_back: 1.0,
}


def describe(event: ProgressEvent) -> str:
    state = event.state.value.replace("_", " ")
    if event.state is State.pulling and event.total:
        state += f" {100 * (event.current or 0) // event.total}%"
    streak = event.data.get("failing_streak") if event.data else None
    if event.state in (State.health_starting, State.unhealthy) and streak:
        state += f" (failing streak {streak})"
    # An Azure deployment operation: ARM's own word, how long it took, and its error code.
    data = event.data or {}
    if data.get("arm_state"):
        state = str(data["arm_state"]).lower()
        if data.get("duration") is not None and event.state in (State.done, State.failed):
            state += f" {float(data['duration']):.0f}s"
        if data.get("error_code"):
            state += f": {data['error_code']}"
    return state


def fraction(event: ProgressEvent) -> float:
    if event.service and event.state is State.running:
        return 0.7  # a service's container is running; health comes next
    if event.state is State.pulling and event.total:
        return 0.2 + 0.3 * (event.current or 0) / event.total
    return _FRACTION.get(event.state, 0.1)


class ProgressRow(Static):
    DEFAULT_CSS = """
    ProgressRow { height: 1; }
    ProgressRow.-failed, ProgressRow.-unhealthy { color: $text-error; }
    ProgressRow.-healthy, ProgressRow.-done { color: $text-success; }
    """

    def __init__(self, key: str, label: str, label_width: int = 18, bar_width: int = 20) -> None:
        super().__init__(id=key)
        self.label = label
        self.label_width = label_width  # Azure resource names are longer than Compose services
        self.bar_width = bar_width
        self.state = State.pending
        self._draw(0.0, "pending")

    def _draw(self, done: float, words: str) -> None:
        self.words = words  # what the row says now (tests and the log pane read the same words)
        row = Table.grid(padding=(0, 1))
        row.add_column(width=self.label_width, no_wrap=True)
        row.add_column(width=self.bar_width)
        row.add_column(no_wrap=True)
        row.add_row(Text(self.label, overflow="ellipsis"), RichBar(total=100, completed=100 * done, width=self.bar_width),
                    Text(words))
        self.update(row)

    def show(self, event: ProgressEvent) -> None:
        self.set_class(False, f"-{self.state.value}")
        self.state = event.state
        self.set_class(True, f"-{event.state.value}")
        self._draw(fraction(event), describe(event))
