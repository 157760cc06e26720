"""One existing install: its state, services, URLs and last log lines; stop, remove, roll back
(each asks first) or plan an update of it. The engine's own status/down/rollback run in workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Static

from installer.errors import FabrixError
from installer.installs import InstallInfo, InstallState, install_addresses, log_tail
from installer.progress import null_reporter
from installer.state import install_dir
from screens.deps import NotBuilt
from screens.dialogs.choice import ChoiceDialog
from screens.widgets.footer import KeyFooter

# action → (question, what it does, answer label)
CONFIRM: dict[str, tuple[str, str, str]] = {
    "stop": ("Stop {name}?", "Removes its containers and networks; the data volumes are kept, so a"
             " later launch of the same answers finds its data again.", "Stop it"),
    "remove": ("Remove {name} and its data?", "Removes its containers, networks AND data volumes."
               " This cannot be undone.", "Remove everything"),
    "rollback": ("Roll back {name}'s unfinished launch?", "Removes what that launch created, as its"
                 " journal records it; data volumes of an earlier successful install are kept.", "Roll back"),
}


@dataclass
class InstallRefreshed(Message):
    info: InstallInfo
    log: list[str]


@dataclass
class InstallActionDone(Message):
    text: str


class InstallScreen(Screen[None]):
    """Opened from Welcome. Escape returns there."""

    BINDINGS = [
        Binding("escape", "close", "Back", id="close"),
        Binding("ctrl+r", "refresh", "Refresh", id="refresh"),
    ]

    def __init__(self, info: InstallInfo) -> None:
        super().__init__()
        self.info = info
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static(f"fabrix · install {self.info.name}", id="stepbar")
        with VerticalScroll(id="body"):
            yield Static("", id="install-text")
            yield Static("", id="install-note", classes="notice")
        with Horizontal(id="nav"):
            yield Button("◀ Back", id="btn-close", compact=True)
            yield Button("Plan an update", id="btn-replan", compact=True, variant="primary")
            yield Button("Stop", id="btn-stop", compact=True)
            yield Button("Remove", id="btn-remove", compact=True, variant="error")
            yield Button("Roll back", id="btn-rollback", compact=True, variant="warning")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show(self.info, log_tail(self.info.name))
        self.query_one("#btn-close", Button).focus()

    def _show(self, info: InstallInfo, log: list[str]) -> None:
        self.info = info
        lines = [f"[b]{info.name}[/b] — {info.state.value}: {info.detail}", ""]
        if info.services:
            addresses = install_addresses(info.name)  # files only (saved answers, catalog): no Docker
            lines.append("[b]Services[/b]")
            for svc in info.services:
                s: Any = svc
                health = f" ({s.health})" if s.health else ""
                ports = f"  {', '.join(s.ports)}" if s.ports else ""
                lines.append(f"  {s.component:14} {s.state}{health}{ports}")
            if addresses:
                lines += ["", "[b]Published at[/b]"] + [f"  {c:14} {a}" for c, a in addresses]
        folder = install_dir(info.name)
        lines += ["", f"State folder: {folder.root}", "", "[b]Last log lines[/b] (install.log)"]
        lines += [f"  {line}" for line in log] or ["  (no log yet)"]
        self.query_one("#install-text", Static).update("\n".join(lines))
        if info.azure:
            # Stop and Remove here are Docker's; an Azure install is removed by `fabrix down`,
            # which lists what the stack manages before it deletes anything.
            lines[1:1] = ["This install runs on Azure. What ARM says now: `fabrix status --name"
                          f" {info.name}`; remove it (it lists what it deletes, then asks): `fabrix down --name {info.name}`."]
            self.query_one("#install-text", Static).update("\n".join(lines))
        running = bool(info.services)
        self.query_one("#btn-stop", Button).display = running and not info.azure
        self.query_one("#btn-remove", Button).display = (running or folder.exists()) and not info.azure
        self.query_one("#btn-rollback", Button).display = info.state is InstallState.unfinished
        for button in self.query(Button):
            button.disabled = self.busy and button.id != "btn-close"

    # ---- actions (buttons and the command palette) ----

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An install action is offered only where its button is: Stop and Remove for an install
        that runs, Roll back for an unfinished launch, none while another action works."""
        button = {"stop": "#btn-stop", "remove": "#btn-remove", "rollback": "#btn-rollback",
                  "replan": "#btn-replan"}.get(action)
        if button is None:
            return super().check_action(action, parameters)
        widget = self.query_one(button, Button)
        return bool(widget.display) and not widget.disabled

    def action_stop(self) -> None:
        self._confirm("stop")

    def action_remove(self) -> None:
        self._confirm("remove")

    def action_rollback(self) -> None:
        self._confirm("rollback")

    def action_replan(self) -> None:
        self._replan()

    def action_close(self) -> None:
        from installer.flow import Step

        cast(Any, self.app).goto(Step.welcome)

    def action_refresh(self) -> None:
        self.refresh_worker(self.info.name)

    @work(thread=True, exclusive=True, group="install", exit_on_error=False)
    def refresh_worker(self, name: str) -> None:
        from installer.installs import describe_install

        self.post_message(InstallRefreshed(describe_install(name), log_tail(name)))

    def on_install_refreshed(self, message: InstallRefreshed) -> None:
        self._show(message.info, message.log)

    def _confirm(self, action: str) -> None:
        title, body, label = CONFIRM[action]

        def answered(choice: str | None) -> None:
            if choice == action:
                self.busy = True
                self.query_one("#install-note", Static).update(f"{label}: working…")
                self._show(self.info, log_tail(self.info.name))
                self.act(action, self.info.name)

        self.app.push_screen(ChoiceDialog(title.format(name=self.info.name), body,
                                          [("cancel", "Cancel"), (action, label)]), answered)

    @work(thread=True, exclusive=True, group="install-action", exit_on_error=False)
    def act(self, action: str, name: str) -> None:
        deps = cast(Any, self.app).deps
        try:
            if action == "rollback":
                result = deps.rollback(name, null_reporter)
                text = getattr(result, "message", "") or "Rolled back."
            else:
                deps.down(name, action == "remove", null_reporter)
                text = f"{name}: stopped (data volumes kept)." if action == "stop" else f"{name}: removed with its data."
        except (NotBuilt, FabrixError) as exc:
            text = f"✗ {exc}"
        self.post_message(InstallActionDone(text))
        from installer.installs import describe_install

        self.post_message(InstallRefreshed(describe_install(name), log_tail(name)))

    def on_install_action_done(self, message: InstallActionDone) -> None:
        self.busy = False
        self.query_one("#install-note", Static).update(message.text)

    @on(Button.Pressed, "#btn-close")
    def _close(self) -> None:
        self.action_close()

    @on(Button.Pressed, "#btn-stop")
    def _stop(self) -> None:
        self._confirm("stop")

    @on(Button.Pressed, "#btn-remove")
    def _remove(self) -> None:
        self._confirm("remove")

    @on(Button.Pressed, "#btn-rollback")
    def _rollback(self) -> None:
        self._confirm("rollback")

    @on(Button.Pressed, "#btn-replan")
    def _replan(self) -> None:
        """Load the install's answers into the wizard; Review will show what an update changes."""
        from installer.answers import load_answers
        from installer.flow import Step

        app = cast(Any, self.app)
        answers = install_dir(self.info.name).answers
        try:
            plan = load_answers(str(answers))
        except FabrixError as exc:
            self.query_one("#install-note", Static).update(f"✗ Cannot plan an update: {exc}")
            return
        app.set_plan(plan)
        app.drafts.clear()
        app.goto(Step.target)
