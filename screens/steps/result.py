"""Done (URLs, first login, where things are, how to stop) and Failed (why, diagnostics, choices)."""

from __future__ import annotations

from typing import Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from installer.catalog import load_catalog
from installer.errors import FabrixError
from installer.progress import ProgressEvent
from installer.secrets import env_name
from installer.state import install_dir
from screens.deps import NotBuilt
from screens.dialogs.help import HelpDialog
from screens.messages import RollbackFinished


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
        folder = install_dir(name)
        lines = [f"[b]✓ {name} is running.[/b]", ""]
        if summary is not None:
            lines.append("[b]Open[/b]")
            lines += [f"  {component:16} {url}" for component, url in summary.urls.items()]
            lines += ["", "[b]First login[/b] (passwords are in the secret store, never shown here)"]
            lines += first_logins(summary.services, summary.admin_email)
            lines += ["", f"Secrets: {summary.secrets_file} (mode 0600)", f"Blueprints: {summary.bundle_dir}"]
        lines += [
            f"State, journal and log: {folder.root}",
            "",
            "[b]Stop or remove[/b]",
            f"  fabrix status --name {name}",
            f"  fabrix down --name {name}             (keeps the data volumes)",
            f"  fabrix down --name {name} --volumes   (also deletes the data)",
        ]
        yield Static("fabrix · done", id="stepbar")
        with VerticalScroll(id="body"):
            yield Static("\n".join(lines), id="done-text")
        yield Footer()

    def action_quit_app(self) -> None:
        self.app.exit(0)

    def action_help(self) -> None:
        self.app.push_screen(HelpDialog("Done", "The install is running. The URLs open the"
                                        " services; the commands stop or remove it.", [("q", "Quit")]))


class FailedScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "retry", "Retry", id="retry", tooltip="Launch again, resuming the journal"),
        Binding("b", "roll_back", "Roll back", id="roll_back", tooltip="Remove what this run created"),
        Binding("k", "keep", "Keep & quit", id="keep", tooltip="Leave everything for debugging"),
        Binding("f1", "help", "Help", id="help"),
    ]

    def __init__(self, result: Any, *, problem: str | None = None, cancelled: bool = False) -> None:
        super().__init__()
        self.result = result
        self.problem = problem
        self.cancelled = cancelled
        self.rolled_back = getattr(getattr(result, "rollback", None), "ok", False)
        self.busy = False

    @property
    def name_(self) -> str:
        return str(getattr(self.result, "name", None) or _app(self).plan.name)

    def compose(self) -> ComposeResult:
        yield Static("fabrix · launch " + ("cancelled" if self.cancelled else "failed"), id="stepbar")
        with VerticalScroll(id="body"):
            yield Static(self._text(), id="failed-text")
            yield Static("", id="rollback-text")
        with Horizontal(id="nav"):
            yield Button("Retry", id="btn-retry", compact=True)
            yield Button("Roll back", id="btn-rollback", compact=True, variant="warning")
            yield Button("Keep for debugging", id="btn-keep", compact=True)
        yield Footer()

    def _text(self) -> str:
        result = self.result
        lines = ["[b]✗ The launch was cancelled.[/b]" if self.cancelled else "[b]✗ The launch failed.[/b]", ""]
        if result is None:
            lines.append(f"Why: {self.problem or 'unknown'}")
        else:
            lines.append(f"Why: {result.message}")
            diag = getattr(result, "diagnostics", None)
            if diag is not None:
                lines += ["", "[b]Diagnostics[/b]", f"  {diag.reason}"]
                if diag.service:
                    lines.append(f"  service {diag.service}: {diag.state or 'unknown state'}")
                if diag.health_output:
                    lines.append(f"  last health check: {diag.health_output.strip()[:300]}")
                lines += [f"  | {line}" for line in diag.log_lines[-12:]]
            rollback = getattr(result, "rollback", None)
            if rollback is not None:
                lines += ["", f"Rolled back: {rollback.removed or rollback.message or 'nothing had been created'}"]
                if rollback.leftovers:
                    lines.append(f"Still there: {rollback.leftovers}")
        folder = install_dir(self.name_)
        lines += ["", f"Journal: {folder.journal}", f"Log: {folder.log}"]
        return "\n".join(lines)

    def on_mount(self) -> None:
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        # After a rollback there is nothing to keep or remove: say so instead of offering it.
        self.query_one("#btn-rollback", Button).display = not self.rolled_back
        self.query_one("#btn-keep", Button).label = "Quit" if self.rolled_back else "Keep for debugging"
        for button in self.query(Button):
            button.disabled = self.busy

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("retry", "roll_back", "keep"):
            if self.busy or (action == "roll_back" and self.rolled_back):
                return None
        return True

    def action_retry(self) -> None:
        from screens.steps.launch import LaunchScreen

        _app(self).step = LaunchScreen.STEP
        self.app.switch_screen(LaunchScreen(resume=not self.rolled_back))

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
        text = self.query_one("#rollback-text", Static)
        if message.result is None:
            text.update(f"Roll back did not run: {message.problem}")
        else:
            self.rolled_back = bool(getattr(message.result, "ok", False))
            removed = getattr(message.result, "removed", "") or getattr(message.result, "message", "")
            leftovers = getattr(message.result, "leftovers", "")
            text.update(f"[b]Rolled back.[/b] {removed}" + (f"\nStill there: {leftovers}" if leftovers else ""))
        self.refresh_bindings()
        self._sync_buttons()

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
            "What failed and why is above, with the failing service's health output and last log"
            " lines. **Retry** launches again (resuming the journal); **Roll back** removes what"
            " this run created (data volumes of an earlier successful install are kept); **Keep**"
            " quits and leaves everything for debugging (`fabrix rollback --name NAME` later).",
            [("r", "Retry"), ("b", "Roll back"), ("k", "Keep and quit")],
        ))
