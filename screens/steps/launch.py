"""Launch: live progress per step and per service (Compose) or per resource (Azure: the deployment's
operations, the post-deploy job, the probes), elapsed time, a log pane; Cancel asks about rollback.
The engine runs in a thread worker; no Docker or Azure call happens on the UI thread."""

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
    AZURE_HELP = (
        "The install is deploying to Azure. Each step shows what it is doing (sign-in, checks and"
        " render, resource group, preview, deploy, post-deploy, probes); each resource shows its"
        " deployment operation as ARM reports it (accepted, running, succeeded, failed) with its"
        " duration. The log pane shows every event.\n\n"
        "**Escape** cancels: it asks first, then cancels the running ARM deployment and deletes what"
        " this run deployed (the resource group too, only if this run created it). The journal"
        " records each step, so a killed installer can resume (re-attaching to the same deployment)"
        " or roll back."
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
        self.azure = False

    def compose_body(self) -> ComposeResult:
        self.azure = self.plan.is_azure()
        if self.azure:
            self.HELP = self.AZURE_HELP
        yield Static("Starting…", id="launch-head")
        yield Vertical(id="launch-steps")
        yield Static("Resources" if self.azure else "Services", classes="section")
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
            # Azure: the sign-in of the Target step, and the confirmation typed on Review.
            azure = ({"allow_foreign": self.wizard.allow_foreign_changes, "session": self.wizard.session_for_plan()}
                     if self.azure else {})
            result = self.wizard.deps.launch(self.plan, reporter, self.cancel_event, resume=resume,
                                            timeout=self.wizard.deps.launch_timeout, keep=self.keep_event,
                                            **azure)
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
        if event.service and (not self.azure or event.step == "deploy"):
            # Azure: one row per resource id (two extension resources can share type and name).
            rid = str((event.data or {}).get("resource_id") or "") if self.azure else ""
            label = resource_label(event.service, rid) if self.azure else event.service
            await self._row("launch-services", f"svc-{rid or event.service}", label).show_later(event)
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
            stopping = "cancelling the ARM deployment" if self.azure else "stopping Compose"
            self.query_one("#launch-log", RichLog).write(
                f"Cancel requested: {stopping}, then rolling back what this run created."
                if answer == "rollback"
                else f"Cancel requested: {stopping} and keeping everything for debugging."
            )
            self.refresh_bindings()

        if self.azure:
            self.app.push_screen(ChoiceDialog("Cancel the launch?", AZURE_CANCEL, CANCEL_CHOICES), chosen)
            return
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


AZURE_CANCEL = (
    "Stopping cancels the running ARM deployment, then deletes what this run deployed (the stack"
    " and its resources; the resource group only if this run created it). Resources that were"
    " there before are never touched. The diagnostics (ARM's errors) come first and show on the"
    " next screen. Or stop and keep everything in Azure, to debug it; roll it back later from the"
    " next screen or with `fabrix rollback`."
)
CANCEL_CHOICES = [("rollback", "Stop and roll back"), ("keep", "Stop and keep for debugging"),
                  ("continue", "Keep going")]


def resource_label(service: str, resource_id: str = "") -> str:
    """A resource's row label: its type's last segment and its own last name segment, e.g.
    ``vaults/fxkv-abc12`` for ``Microsoft.KeyVault/vaults/fxkv-abc12`` and ``routes/chat`` for
    ``Microsoft.Cdn/profiles/afdEndpoints/routes/afd/fde/chat`` (an ARM type has as many segments
    after its namespace as the name has). An extension resource (a diagnostic setting or a role
    assignment *on* a vault) is named by its type and its parent: ``diagnosticSettings@kv-x``.
    The log pane keeps the full name."""
    scopes = resource_id.split("/providers/")
    if len(scopes) > 2:
        parent = scopes[-2].rstrip("/").rsplit("/", 1)[-1]
        own = scopes[-1].split("/")
        return f"{own[1] if len(own) > 1 else own[0]}@{parent}"
    parts = service.split("/")
    if len(parts) < 3 or "." not in parts[0] or (len(parts) - 1) % 2:
        return service
    depth = (len(parts) - 1) // 2
    return f"{parts[depth]}/{parts[-1]}"


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
            wide = self.screen.azure and self.box_id == "launch-services"
            row = ProgressRow(_safe(self.key), self.label, *((30, 10) if wide else ()))
            await box.mount(row)
        row.show(event)


def _safe(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)
