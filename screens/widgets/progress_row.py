"""A launch step or a service: name, progress bar and what it is doing (pulling, health starting…)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from installer.progress import ProgressEvent, State

# How far along a service is in each state (the bar is a rough guide, the words are exact).
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
    return state


class ProgressRow(Horizontal):
    DEFAULT_CSS = """
    ProgressRow { height: 1; }
    ProgressRow > .name { width: 18; }
    ProgressRow > ProgressBar { width: 24; }
    ProgressRow > .state { width: 1fr; padding: 0 1; }
    ProgressRow.-failed > .state, ProgressRow.-unhealthy > .state { color: $text-error; }
    ProgressRow.-healthy > .state, ProgressRow.-done > .state { color: $text-success; }
    """

    def __init__(self, key: str, label: str) -> None:
        super().__init__(id=key)
        self._label = label

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="name")
        yield ProgressBar(total=100, show_eta=False, show_percentage=False)
        yield Label("pending", classes="state")

    def show(self, event: ProgressEvent) -> None:
        for state in State:
            self.set_class(event.state is state, f"-{state.value}")
        bar = self.query_one(ProgressBar)
        if event.state is State.pulling and event.total:
            bar.update(progress=20 + 30 * (event.current or 0) / event.total)
        else:
            bar.update(progress=100 * _FRACTION.get(event.state, 0.1))
        self.query_one(".state", Label).update(describe(event))
