"""The wizard App: holds the plan, moves between steps, saves progress; ``run_wizard`` starts it."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from installer.answers import load_answers
from installer.errors import UsageError
from installer.checks import CheckResult, Status
from installer.flow import Step, launchable
from installer.output import Output
from installer.plan import InstallPlan
from installer.wizard_state import WizardProgress, clear_progress, load_progress, save_progress
from screens.deps import WizardDeps

DEFAULT_NAME = "aifabrix"


def terminal_is_light() -> bool:
    """True when the terminal says its background is light (``COLORFGBG`` like ``0;15``).

    Terminals that say nothing get the dark theme; the command palette's "Change theme" switches.
    """
    parts = os.environ.get("COLORFGBG", "").split(";")
    return len(parts) >= 2 and parts[-1] in {"7", "15"}


class FabrixApp(App[int]):
    """The guided installer. Dependencies come in through the constructor (tests pin them)."""

    TITLE = "fabrix"
    SUB_TITLE = "AI Fabrix installer"
    CSS_PATH = "app.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Leave; progress is saved")]

    def __init__(
        self,
        plan: InstallPlan | None = None,
        *,
        deps: WizardDeps | None = None,
        saved: WizardProgress | None = None,
        progress_path: Path | None = None,
        start: Step = Step.welcome,
    ) -> None:
        super().__init__()
        self.plan: InstallPlan = plan or (saved.plan if saved else InstallPlan(name=DEFAULT_NAME))
        self.deps = deps or WizardDeps()
        self.saved = saved
        self.progress_path = progress_path
        self.start_step = start
        self.step = start
        # Results of the last prerequisite run for the current plan (None: not run yet).
        self.check_results: dict[str, CheckResult] | None = None
        # The Target step's Azure sign-in (installer.azure.AzureSession); the Prerequisites step's
        # Azure checks reuse it instead of signing in again. None: not signed in in this session.
        self.azure_session: Any = None
        # Review's ARM what-if for the current plan (installer.launch.azure.preview.Preview) and
        # whether the person typed the confirmation that lets the launch change resources this
        # install does not own (the wizard's `--allow-foreign-changes`). Both reset with the plan.
        self.azure_preview: Any = None
        self.allow_foreign_changes = False
        # What the Target step's last failed sign-in tried (installer.azure.signin_advice.Attempt).
        self.azure_signin_attempts: list[Any] = []
        # sha256 per path of the last bundle rendered in this session ("what changed").
        self.last_digests: dict[str, str] = {}
        self.registry_password: str = ""
        # What a form step held when the person went Back with a value the plan cannot take yet
        # (raw text and choices by widget); the step puts it back when it opens again.
        self.drafts: dict[str, object] = {}
        # The installs Welcome found (name → installer.installs.InstallInfo), and the running ones
        # the person agreed to re-plan (Target asks once before planning over a running install).
        self.known_installs: dict[str, Any] = {}
        self.replan_ok: set[str] = set()
        # The step screen that said "opening …", until the next step replaces it (goto). A screen
        # replaced otherwise meanwhile never runs its callback: the next goto then starts afresh.
        self._opening: Screen[Any] | None = None
        self._progress_lock = threading.Lock()
        self._progress_sequence = 0  # the last save/forget asked for
        self._progress_written = 0  # the last one done
        if terminal_is_light():
            self.theme = "textual-light"

    # ---- navigation ----

    def on_mount(self) -> None:
        self.push_screen(self._screen_for(self.start_step))

    def _screen_for(self, step: Step) -> Screen[Any]:
        from screens.steps import launch, model, options, prerequisites, review, target, welcome

        screens: dict[Step, type[Screen[Any]]] = {
            Step.welcome: welcome.WelcomeScreen,
            Step.model: model.ModelScreen,
            Step.target: target.TargetScreen,
            Step.options: options.OptionsScreen,
            Step.prerequisites: prerequisites.PrerequisitesScreen,
            Step.review: review.ReviewScreen,
            Step.launch: launch.LaunchScreen,
        }
        return screens[step]()

    def goto(self, step: Step) -> None:
        """Show ``step`` rebuilt from the plan (so Back never loses input) and save progress.

        The step in front says "opening …" first and the new step is built after that frame is
        drawn: building a step takes a tenth of a second on a quiet machine and over a second on
        a busy one, which without a word looked like a key that did nothing (issue 11). Keys
        pressed meanwhile do not move again.
        """
        current = self.screen
        if self._opening is current:
            return
        self.step = step
        self.save_progress()
        announce = getattr(current, "announce_opening", None)
        if not callable(announce) or not current.is_mounted:
            self.switch_screen(self._screen_for(step))
            return
        announce(step)
        self._opening = current
        current.call_after_refresh(self._open, step, current)

    def _open(self, step: Step, announcer: Screen[Any]) -> None:
        if self._opening is announcer:
            self._opening = None
        if self.screen is announcer:  # nothing else took its place meanwhile (an install's view)
            self.switch_screen(self._screen_for(step))

    def show(self, screen: Screen[Any]) -> None:
        """Show a screen that is not a wizard step (Done / Failed)."""
        self.switch_screen(screen)

    def set_plan(self, plan: InstallPlan) -> None:
        """Replace the plan; checks made for the old plan no longer count."""
        if plan != self.plan:
            self.check_results = None
            self.azure_preview = None
            self.allow_foreign_changes = False
        self.plan = plan

    def save_progress(self) -> None:
        """Save where the wizard is, in a worker: the write ends in an fsync, which on a busy disk
        held up the step change (the file is small; the wait is not)."""
        step = Step.review if self.step is Step.launch else self.step
        self._store_progress(WizardProgress(self.plan.model_copy(deep=True), step))

    def forget_progress(self) -> None:
        self._store_progress(None)

    def _store_progress(self, progress: WizardProgress | None) -> None:
        self._progress_sequence += 1
        self._write_progress(progress, self._progress_sequence)

    @work(thread=True, group="progress", exit_on_error=False)
    def _write_progress(self, progress: WizardProgress | None, sequence: int) -> None:
        # Workers may run out of order; the newest request wins and an older one never
        # overwrites it (or brings back a file that was forgotten).
        with self._progress_lock:
            if sequence < self._progress_written:
                return
            self._progress_written = sequence
            try:
                if progress is None:
                    clear_progress(self.progress_path)
                else:
                    save_progress(progress, self.progress_path)
            except OSError as exc:
                self.notify(f"Could not save the wizard's progress: {exc}", severity="warning")

    # ---- facts for the screens ----

    def session_for_plan(self) -> Any:
        """The wizard's Azure sign-in when it serves this plan's cloud and tenant, else None (the
        engine then signs in itself, from a worker)."""
        session = self.azure_session
        if session is None or not self.plan.is_azure() or not session.serves(self.plan):
            return None
        return session

    def checks_block_launch(self) -> str | None:
        """Why Launch is not possible now, or None."""
        if not launchable(self.plan):
            return ("the manual model is a runbook, not launched by fabrix: export the blueprints"
                    " (Ctrl+E) and follow RUNBOOK.md in them")
        if self.check_results is None:
            return "run the prerequisite checks first"
        failed = [r.title for r in self.check_results.values() if r.status is Status.fail]
        if failed:
            return "failing check(s): " + ", ".join(failed)
        return None

    # ---- command palette: the main actions of the screen in front ----

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        actions = [
            ("next", "Next step", "Go to the next step"),
            ("back", "Previous step", "Go back one step without losing input"),
            ("help", "Help for this screen", "What this screen is for and its keys"),
            ("recheck", "Re-run the prerequisite checks", "Run every check again"),
            ("save_answers", "Save the answers file", "A file `fabrix up --answers` replays"),
            ("export", "Export the blueprints", "Write the generated files for review"),
            ("launch", "Launch the install", "Start the install on this machine"),
            ("cancel_launch", "Cancel the launch", "Stop, then choose roll back or keep"),
            ("replan", "Plan an update of this install", "Its answers in the wizard; Review shows the diff"),
            ("stop", "Stop this install", "Stop its containers; data volumes are kept (asks first)"),
            ("remove", "Remove this install and its data", "Containers and volumes (asks first)"),
            ("rollback", "Roll back this install's unfinished launch", "Undo what the launch created (asks first)"),
        ]
        for action, title, help_text in actions:
            if hasattr(screen, f"action_{action}") and screen.check_action(action, ()):
                yield SystemCommand(title, help_text, lambda a=action: screen.run_action(a))
        opener = getattr(screen, "open_install", None)
        if callable(opener):
            for name, info in sorted(self.known_installs.items()):
                yield SystemCommand(f"Open install {name}", info.describe(), lambda n=name: opener(n))
        yield SystemCommand("Quit", "Leave the wizard; progress is saved", self.exit)
        yield from super().get_system_commands(screen)


def run_wizard(args: argparse.Namespace, out: Output) -> int:
    """``fabrix`` / ``fabrix wizard [--answers F]``: open the TUI, pre-filled from F if given."""
    answers = getattr(args, "answers", None)
    plan = load_answers(answers) if answers else None  # a bad file exits 2 before the UI opens
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Without a terminal Textual would draw into a pipe and wait for keys that never come.
        raise UsageError(
            "the wizard needs an interactive terminal (stdin and stdout are not both a TTY)",
            "run `fabrix` in a terminal, or use the headless commands: "
            "`fabrix check|render|up --answers FILE` (see `fabrix --help`)",
        )
    saved = None if plan else load_progress()
    app = FabrixApp(plan, saved=saved)
    result = app.run()
    # A crash inside the app (Textual printed its traceback) exits 1, not 0.
    leave_now(int(result or 0) or (app.return_code or 0))


def leave_now(code: int) -> NoReturn:
    """End the process as soon as the wizard has given the terminal back.

    A normal interpreter exit tears down ~100k objects and ~800 modules (Textual, Rich, pydantic,
    the engine): 0.5 s on a quiet machine, 1–1.6 s on a busy one, while the terminal sits blank
    after Ctrl+Q. Nothing needs that teardown: the wizard saved its progress at every step, the
    workers were joined before ``App.run`` returned, and the exit handlers (``atexit``) still run here.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    atexit._run_exitfuncs()  # e.g. the launcher's empty working folder is removed
    os._exit(code)
