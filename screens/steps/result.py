"""Done (URLs, first login, where things are, how to stop) and Failed (why, diagnostics, choices)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, cast

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from installer.catalog import load_catalog
from installer.errors import FabrixError
from installer.progress import ProgressEvent
from installer.secrets import env_name
from installer.state import install_dir
from screens.deps import NotBuilt
from screens.dialogs.help import HelpDialog
from screens.messages import RollbackFinished
from screens.widgets.footer import KeyFooter


def first_logins(services: list[str], admin_email: str) -> list[str]:
    """One line per service with a first login (catalog ``first_login``): who, and which secret."""
    catalog = load_catalog()
    lines: list[str] = []
    for name in services:
        login = catalog.components[name].first_login if name in catalog.components else None
        if login is None:
            continue
        user = login.user
        if isinstance(user, dict):
            user = admin_email if user.get("admin_email") else str(next(iter(user.values()), ""))
        parts = [f"user {user}" if user else ""]
        if login.password_secret:
            parts.append(f"password {env_name(login.password_secret)}")
        who = ", ".join(p for p in parts if p)
        lines.append(f"  {name:16} {who + '; ' if who else ''}{login.note}")
    return lines


def fabrix_command() -> str:
    """How to call this fabrix from a shell, so printed commands work as typed: ``fabrix`` when
    that is on PATH and is this installation, else the full path of this installation's script."""
    here = Path(sys.executable).parent / "fabrix"
    found = shutil.which("fabrix")
    if found and (not here.exists() or Path(found).resolve() == here.resolve()):
        return "fabrix"
    return str(here) if here.exists() else "fabrix"


def _app(screen: Screen[Any]) -> Any:
    return cast(Any, screen.app)


class DoneScreen(Screen[None]):
    BINDINGS = [
        Binding("q", "quit_app", "Quit", id="quit_done", show=False),
        Binding("f1", "help", "Help", id="help"),
    ]

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        summary = getattr(self.result, "summary", None)
        name = getattr(self.result, "name", "")
        lines = self._azure_lines(summary, name) if _app(self).plan.is_azure() else self._compose_lines(summary, name)
        yield Static("fabrix · done", id="stepbar")
        with VerticalScroll(id="body"):
            yield Static("\n".join(lines), id="done-text")
        yield KeyFooter()

    def _compose_lines(self, summary: Any, name: str) -> list[str]:
        folder = install_dir(name)
        fx = fabrix_command()
        lines = [f"[b]✓ {name} is running.[/b]", ""]
        if summary is not None:
            front_door = getattr(summary, "front_door_urls", {}) or {}
            if front_door:
                lines.append("[b]Open[/b] (through the front door, as the bundle README lists them)")
                lines += [f"  {component:16} {url}" for component, url in front_door.items()]
                lines += ["", "[b]Direct ports[/b]"]
            else:
                lines.append("[b]Open[/b]")
            lines += [f"  {component:16} {url}" for component, url in summary.urls.items()]
            lines += ["", "[b]First login[/b] (passwords are in the secret store, never shown here)"]
            lines += first_logins(summary.services, summary.admin_email)
            lines += ["", f"Secrets: {summary.secrets_file} (mode 0600)", f"Blueprints: {summary.bundle_dir}"]
        lines += [
            f"State, journal and log: {folder.root}",
            "",
            "[b]Stop or remove[/b]",
            f"  {fx} status --name {name}",
            f"  {fx} down --name {name}             (keeps the data volumes)",
            f"  {fx} down --name {name} --volumes   (also deletes the data)",
        ]
        return lines

    def _azure_lines(self, summary: Any, name: str) -> list[str]:
        """Azure: the Front Door URLs, the Key Vault, the first sign-in, how to remove it."""
        folder = install_dir(name)
        fx = fabrix_command()
        lines = [f"[b]✓ {name} is deployed to Azure.[/b]", ""]
        if summary is not None:
            urls = getattr(summary, "front_door_urls", {}) or summary.urls
            lines.append("[b]Open[/b] (Front Door; a new endpoint can take up to ~20 minutes to answer everywhere)")
            lines += [f"  {route:16} {url}" for route, url in urls.items()] or ["  (no public endpoint)"]
            lines += ["", f"Resource group: {summary.resource_group or '?'} · deployment stack {summary.project}"]
            lines.append(f"Key Vault: {summary.key_vault or '?'} holds the secrets (a copy is in"
                         f" {summary.secrets_file}, mode 0600; never shown here)")
            if summary.first_sign_in:
                lines += ["", "[b]First sign-in[/b]", f"  {summary.first_sign_in}"]
            lines += ["", f"Blueprints: {summary.bundle_dir}"]
        lines += [
            f"State, journal and log: {folder.root}",
            "",
            "[b]Status or remove[/b]",
            f"  {fx} status --name {name}",
            f"  {fx} down --name {name}   (deletes the stack and what it manages; the group if fabrix created it)",
        ]
        return lines

    def action_quit_app(self) -> None:
        self.app.exit(0)

    def action_help(self) -> None:
        self.app.push_screen(HelpDialog("Done", "The install is running. The URLs open the"
                                        " services; the commands stop or remove it.", [("q", "Quit")]))


class FailedScreen(Screen[None]):
    """How the launch ended when it did not succeed, with only the actions that apply.

    Three outcomes, each told as it is: the engine rolled the run back (after a failure or a
    cancel), the person chose to keep everything for debugging, or the engine could not run at
    all. Back (Ctrl+B / Escape) returns to Review, where the plan can be fixed.
    """

    BINDINGS = [
        Binding("r", "retry", "Retry", id="retry", tooltip="Launch again"),
        Binding("b", "roll_back", "Roll back", id="roll_back", tooltip="Remove what this run created"),
        Binding("ctrl+b", "back", "Fix the plan", id="back", tooltip="Back to Review to change the plan"),
        Binding("escape", "back", "Back", show=False),
        Binding("k", "keep", "Quit", id="keep", show=False),
        Binding("f1", "help", "Help", id="help"),
    ]

    def __init__(self, result: Any, *, problem: str | None = None, cancelled: bool = False) -> None:
        super().__init__()
        self.result = result
        self.problem = problem
        self.cancelled = bool(getattr(result, "cancelled", False)) or cancelled
        self.rollback: Any = getattr(result, "rollback", None)  # the engine's, or ours below
        self.rolled_back = bool(getattr(self.rollback, "ok", False))
        # The person chose "keep for debugging": the run's containers are still there.
        self.kept = result is not None and self.rollback is None
        self.busy = False
        self.azure = False  # set on mount from the plan (Azure wording and hints)

    @property
    def name_(self) -> str:
        return str(getattr(self.result, "name", None) or _app(self).plan.name)

    def compose(self) -> ComposeResult:
        self.azure = _app(self).plan.is_azure()
        yield Static("fabrix · launch " + ("cancelled" if self.cancelled else "failed"), id="stepbar")
        with VerticalScroll(id="body"):
            yield Static(self._text(), id="failed-text")
            yield Static("", id="rollback-text")
        with Horizontal(id="nav"):
            yield Button("◀ Fix the plan", id="btn-back", compact=True)
            yield Button("Retry", id="btn-retry", compact=True, variant="primary")
            yield Button("Roll back", id="btn-rollback", compact=True, variant="warning")
            yield Button("Quit", id="btn-keep", compact=True)
        yield KeyFooter()

    def _text(self) -> str:
        result = self.result
        folder = install_dir(self.name_)
        if self.cancelled:
            lines = ["[b]✗ The launch was cancelled.[/b] You stopped it; nothing failed."]
        else:
            lines = ["[b]✗ The launch failed.[/b]"]
        lines.append("")
        if result is None:
            lines.append(f"Why: {self.problem or 'unknown'}")
            lines.append("The engine stopped before it could say what it created; Roll back removes"
                         " whatever the journal lists.")
        else:
            diag = getattr(result, "diagnostics", None)
            if self.azure and not self.cancelled:
                lines += self._azure_why(result, diag)
            elif not self.cancelled:
                lines.append(f"Why: {diag.reason if diag is not None else result.message}")
                if diag is not None and diag.service:
                    lines += ["", "[b]Diagnostics[/b]", f"  service {diag.service}: {diag.state or 'unknown state'}"]
                    if diag.health_output:
                        lines.append(f"  last health check: {diag.health_output.strip()[:300]}")
                    lines += [f"  | {line}" for line in diag.log_lines[-12:]]
            elif diag is not None and diag.service:
                # Not a fault: where the launch was when it was stopped.
                what = "the resource" if self.azure else ""
                lines.append(f"When it stopped, {what + ' ' if what else ''}{escape(diag.service)} was"
                             f" {(diag.state or ('deploying' if self.azure else 'starting')).lower()}.")
        lines.append("")
        lines += self._state_lines(folder)
        lines += ["", f"Journal: {folder.journal}", f"Log: {folder.log}"]
        return "\n".join(lines)

    def _azure_why(self, result: Any, diag: Any) -> list[str]:
        """ARM's error code and message of every failed operation, and the post-deploy job's
        status and logs (the engine's diagnostics, collected before the rollback)."""
        reason = diag.reason if diag is not None else result.message
        lines = [f"Why: {escape(reason)}"]
        # The first failure is usually the reason itself ("<resource> failed: <code>: <message>"):
        # list only what the reason does not already say.
        more = [entry for entry in (diag.log_lines if diag is not None else [])
                if " failed: ".join(entry.split(": ", 1)) not in reason]
        if more:
            lines += ["", "[b]ARM says[/b] (failed operations; the post-deploy job's status and logs)"]
            for entry in more[-12:]:
                lines += [f"  | {escape(part)}" for part in entry.splitlines()[-8:]]
        return lines

    def _state_lines(self, folder: Any) -> list[str]:
        """What is on the machine (or in Azure) now, and what can be done about it."""
        if self.azure:
            return self._azure_state_lines(folder)
        rollback = self.rollback
        if rollback is not None:
            lines = [f"Rolled back: {rollback.removed or rollback.message or 'nothing had been created'}."]
            if rollback.leftovers:
                lines.append(f"Still there: {rollback.leftovers}. Roll back tries again.")
            else:
                lines.append("Nothing of this run is left. Retry launches afresh; Fix the plan goes"
                             " back to Review.")
            return lines
        if self.kept:
            fx = fabrix_command()
            return [
                "Everything this run created was kept for debugging (containers, networks, volumes).",
                f"Roll back removes it (or later: {fx} rollback --name {self.name_}); Retry resumes"
                f" the run (or later: {fx} up --answers {folder.answers} --resume).",
            ]
        return []

    def _azure_state_lines(self, folder: Any) -> list[str]:
        from installer.render.workload import azure_names

        fx = fabrix_command()
        group = azure_names(_app(self).plan).resource_group
        rollback = self.rollback
        if rollback is not None:
            lines = [escape(rollback.message or f"Rolled back: removed {rollback.removed}.")]
            touched = not (rollback.message or "").startswith("Nothing had been created")
            if touched and "resource group" not in (rollback.removed or ""):
                lines.append(f"The resource group {group} was not created by this run: it is kept, with"
                             " what was in it before.")
            if rollback.leftovers:
                lines.append(f"Still in Azure: {escape(rollback.leftovers)}. Roll back tries again"
                             f" (or later: {fx} rollback --name {self.name_}).")
            else:
                lines.append("Nothing this run deployed is left. Retry launches afresh; Fix the plan goes back"
                             " to Review.")
            return lines
        if self.kept:
            return [
                f"Everything this run deployed was kept in Azure for debugging (resource group {group},"
                f" deployment stack fabrix-{self.name_}).",
                f"Roll back deletes it (or later: {fx} rollback --name {self.name_}); Retry resumes the run and"
                f" re-attaches to the same deployment (or later: {fx} up --answers {folder.answers} --resume).",
                f"What ARM says now: {fx} status --name {self.name_}",
            ]
        return [f"What ARM says now: {fx} status --name {self.name_}"]

    def on_mount(self) -> None:
        self._sync_buttons()
        self.query_one("#btn-retry", Button).focus()

    def _can(self, action: str) -> bool:
        if self.busy:
            return False
        if action == "roll_back":
            return not self.rolled_back
        return True

    def _sync_buttons(self) -> None:
        # Offer only what applies: nothing to roll back once it is gone.
        self.query_one("#btn-rollback", Button).display = self._can("roll_back") or self.busy
        self.query_one("#btn-keep", Button).label = "Quit, keep it" if not self.rolled_back else "Quit"
        for button in self.query(Button):
            button.disabled = self.busy

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "roll_back" and self.rolled_back:
            return False  # nothing left to roll back: not offered at all
        if action in ("retry", "roll_back", "keep", "back"):
            return True if self._can(action) else None
        return True

    def action_retry(self) -> None:
        from screens.steps.launch import LaunchScreen

        _app(self).step = LaunchScreen.STEP
        self.app.switch_screen(LaunchScreen(resume=not self.rolled_back))

    def action_back(self) -> None:
        from installer.flow import Step

        _app(self).goto(Step.review)

    def action_keep(self) -> None:
        self.app.exit(1)

    @work(thread=True, exclusive=True, group="rollback", exit_on_error=False)
    def roll_back_worker(self, name: str) -> None:
        def reporter(event: ProgressEvent) -> None:
            pass  # the result says what was removed; per-step events are not shown here

        try:
            result = _app(self).deps.rollback(name, reporter)
        except (NotBuilt, FabrixError) as exc:
            self.post_message(RollbackFinished(None, problem=str(exc)))
            return
        except Exception as exc:
            self.post_message(RollbackFinished(None, problem=f"internal error: {type(exc).__name__}: {exc}"))
            return
        self.post_message(RollbackFinished(result))

    def action_roll_back(self) -> None:
        self.busy = True
        self.refresh_bindings()
        self._sync_buttons()
        self.query_one("#rollback-text", Static).update("Rolling back…")
        self.roll_back_worker(self.name_)

    def on_rollback_finished(self, message: RollbackFinished) -> None:
        self.busy = False
        note = self.query_one("#rollback-text", Static)
        if message.result is None:
            note.update(f"Roll back did not run: {message.problem}")
        else:
            # The account above changes with it: what was kept is now gone.
            self.rollback = message.result
            self.rolled_back = bool(getattr(message.result, "ok", False))
            self.kept = False
            note.update("")
            self.query_one("#failed-text", Static).update(self._text())
        self.refresh_bindings()
        self._sync_buttons()

    @on(Button.Pressed, "#btn-back")
    def _back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#btn-retry")
    def _retry(self) -> None:
        self.action_retry()

    @on(Button.Pressed, "#btn-rollback")
    def _rollback(self) -> None:
        if self.check_action("roll_back", ()):
            self.action_roll_back()

    @on(Button.Pressed, "#btn-keep")
    def _keep(self) -> None:
        self.action_keep()

    def action_help(self) -> None:
        self.app.push_screen(HelpDialog(
            "Launch failed",
            "What happened is above: why it failed (with the failing service's health output and"
            " last log lines), or that you cancelled it, and what is on this machine now.\n\n"
            "**Retry** launches again (resuming the journal when the run was kept). **Roll back**"
            " (only while something of the run is left) removes what this run created; data volumes"
            " of an earlier successful install are kept. **Fix the plan** (Ctrl+B or Escape) goes"
            " back to Review, and from there to any step. **Quit** leaves the wizard.",
            [("r", "Retry"), ("b", "Roll back"), ("ctrl+b / esc", "Fix the plan"), ("k", "Quit")],
        ))
