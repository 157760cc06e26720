"""Launch: live progress per step and per service, elapsed time, a log pane; Cancel asks about rollback."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from installer.errors import FabrixError
from installer.flow import Step
from installer.progress import ProgressEvent, State
from screens.deps import NotBuilt
from screens.dialogs.choice import ChoiceDialog
from screens.messages import LaunchFinished, LaunchProgress
from screens.steps.base import StepScreen
from screens.widgets.progress_row import ProgressRow


class LaunchScreen(StepScreen):
    STEP = Step.launch
    HELP = (
        "The install is running. Each step and each service shows what it is doing: pulling,"
        " creating, starting, health starting (with its failing streak), healthy. The log pane"
        " shows every event.\n\n"
        "**Escape** cancels: it asks first, then stops Compose and rolls back what this run"
        " created. The journal records each step, so a killed installer can resume or roll back."
    )
    BINDINGS = [
        Binding("escape", "cancel_launch", "Cancel", id="cancel_launch", tooltip="Stop and roll back (asks first)"),
        # Quitting mid-launch would orphan the run: it asks the same question instead.
        Binding("ctrl+q", "cancel_launch", "Cancel", show=False),
    ]

    def __init__(self, resume: bool = False) -> None:
        super().__init__()
        self.resume = resume
        self.cancel_event = threading.Event()
        self.keep_event = threading.Event()  # set with cancel: stop, but leave everything for debugging
        self.running = False
        self._started = 0.0
        self._events: deque[ProgressEvent] = deque()

    def compose_body(self) -> ComposeResult:
        yield Static("Starting…", id="launch-head")
        yield Vertical(id="launch-steps")
        yield Static("Services", classes="section")
        yield Vertical(id="launch-services")
        # Long events wrap inside the box: a line cut at the edge lost its end, and the
        # horizontal scrollbar it brought showed as a stray glyph at 80×24 (issue 11).
        yield RichLog(id="launch-log", max_lines=5000, auto_scroll=True, wrap=True, markup=False, highlight=False,
                      min_width=20)  # RichLog renders at least 78 wide by default: wider than the box at 80×24

    def on_mount(self) -> None:
        self._started = self.wizard.deps.clock()
        self.set_interval(1.0, self._tick)
        self.running = True
        self.run_launch()

    def on_unmount(self) -> None:
        # The app is closing (or the screen is replaced after the end): never leave a launch
        # running without a UI; the engine stops Compose and rolls back.
        if self.running:
            self.cancel_event.set()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_launch":
            return True if self.running and not self.cancel_event.is_set() else None
        if action in ("next", "back"):
            return None  # the launch decides where this goes next (Done / Failed)
        return super().check_action(action, parameters)

    def _tick(self) -> None:
        elapsed = int(self.wizard.deps.clock() - self._started)
        state = "cancelling…" if self.cancel_event.is_set() and self.running else (
            "running" if self.running else "finished")
        self.query_one("#launch-head", Static).update(
            f"Launching [b]{self.plan.name}[/b] — {state} — elapsed {elapsed // 60}:{elapsed % 60:02d}"
        )

    @work(thread=True, exclusive=True, group="launch", exit_on_error=False)
    def run_launch(self) -> None:
        def reporter(event: ProgressEvent) -> None:
            # deque.append is thread-safe; the UI drains the queue on its own thread.
            self._events.append(event)
            self.post_message(LaunchProgress())

        try:
            resume = self.resume or bool(self.wizard.deps.unfinished_run(self.plan.name))
            if resume:
                reporter(ProgressEvent("resume", State.log, "resuming the unfinished run from its journal"))
            result = self.wizard.deps.launch(self.plan, reporter, self.cancel_event, resume=resume,
                                            timeout=self.wizard.deps.launch_timeout, keep=self.keep_event)
        except (NotBuilt, FabrixError) as exc:
            self.post_message(LaunchFinished(None, problem=str(exc)))
            return
        except Exception as exc:  # a bug in the engine must still end on the Failed screen
            self.post_message(LaunchFinished(None, problem=f"internal error: {type(exc).__name__}: {exc}"))
            return
        self.post_message(LaunchFinished(result))

    async def on_launch_progress(self, _message: LaunchProgress) -> None:
        while self._events:
            await self._show(self._events.popleft())

    async def _show(self, event: ProgressEvent) -> None:
        text = f"[{event.elapsed:6.1f}s] {event.step}"
        if event.service:
            text += f" {event.service}"
        text += f": {event.state.value}" + (f" — {event.message}" if event.message else "")
        self.query_one("#launch-log", RichLog).write(text)
        if event.state is State.log:
            return
        if event.service:
            await self._row("launch-services", f"svc-{event.service}", event.service).show_later(event)
        else:
            await self._row("launch-steps", f"step-{event.step}", event.step).show_later(event)

    def _row(self, box_id: str, key: str, label: str) -> _RowHandle:
        return _RowHandle(self, box_id, key, label)

    def action_cancel_launch(self) -> None:
        def chosen(answer: str | None) -> None:
            if answer not in ("rollback", "keep"):
                return
            if answer == "keep":
                self.keep_event.set()  # before cancel: the engine reads it when it stops
            self.cancel_event.set()
            self.query_one("#launch-log", RichLog).write(
                "Cancel requested: stopping Compose, then rolling back what this run created."
                if answer == "rollback"
                else "Cancel requested: stopping Compose and keeping everything for debugging."
            )
            self.refresh_bindings()

        self.app.push_screen(
            ChoiceDialog(
                "Cancel the launch?",
                "Stopping rolls back what this run created (containers, networks, new volumes);"
                " data volumes of an earlier successful install are kept. The diagnostics are"
                " collected first and shown on the next screen. Or stop and keep everything"
                " as it is, to debug it; roll it back later from the next screen or with"
                " `fabrix rollback`.",
                [("rollback", "Stop and roll back"), ("keep", "Stop and keep for debugging"),
                 ("continue", "Keep going")],
            ),
            chosen,
        )

    async def on_launch_finished(self, message: LaunchFinished) -> None:
        from screens.steps.result import DoneScreen, FailedScreen

        await self.on_launch_progress(LaunchProgress())  # events posted just before the end

        self.running = False
        self._tick()
        result: Any = message.result
        if result is not None and getattr(result, "ok", False):
            self.wizard.forget_progress()
            self.wizard.show(DoneScreen(result))
            return
        self.wizard.show(FailedScreen(result, problem=message.problem,
                                      cancelled=self.cancel_event.is_set()))


class _RowHandle:
    """Find-or-create a progress row, then show an event on it (mounting is async)."""

    def __init__(self, screen: LaunchScreen, box_id: str, key: str, label: str) -> None:
        self.screen, self.box_id, self.key, self.label = screen, box_id, key, label

    async def show_later(self, event: ProgressEvent) -> None:
        box = self.screen.query_one(f"#{self.box_id}", Vertical)
        found = box.query(f"#{_safe(self.key)}")
        if found:
            row = found.first(ProgressRow)
        else:
            row = ProgressRow(_safe(self.key), self.label)
            await box.mount(row)
        row.show(event)


def _safe(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)
