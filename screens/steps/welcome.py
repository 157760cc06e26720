"""Welcome: what the installer does, what it found on this machine, where it keeps its state."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from installer.flow import STEP_TITLES, Step
from installer.plan import InstallPlan
from screens.deps import Facts
from screens.messages import FactsFound, InstallsFound
from screens.steps.base import StepScreen

INTRO = """\
[b]fabrix installs the AI Fabrix platform.[/b] It will:
  1. ask which deployment model you want (Compose here, or Azure);
  2. ask where it goes and which options you need;
  3. check this machine (and Azure) for what the install needs;
  4. show every file it will generate, for you to review, save or export;
  5. launch it with live progress (Compose) — and roll back if it fails."""


class WelcomeScreen(StepScreen):
    STEP = Step.welcome
    HELP = (
        "The first screen. It tells you what fabrix will do and what it found on this machine."
        " If you left a wizard unfinished, **Resume** takes you back to the step you were on with"
        " every answer kept; **Start over** forgets it. **Installs on this machine** lists every"
        " install with its state (running, failed, unfinished, stopped): open one to see its"
        " services, URLs and log, stop, remove or roll it back, or plan an update. Press **Enter**"
        " (or **Ctrl+N**) to begin."
    )
    BINDINGS = [
        Binding("ctrl+r", "resume", "Resume", id="resume", tooltip="Continue the unfinished wizard"),
        Binding("ctrl+o", "start_over", "Start over", id="start_over", tooltip="Forget the unfinished wizard"),
    ]

    DEFAULT_FOCUS = ("#resume", "#nav-next", "#body")
    unfinished_launch = False

    def compose_body(self) -> ComposeResult:
        # What needs a decision comes first — an unfinished launch, an unfinished wizard — so it is
        # in view at 80×24 without scrolling (issue 11); the introduction follows.
        launch_note = Static("", id="launch-note", classes="notice")
        launch_note.display = False  # shown when the engine finds an unfinished launch
        yield launch_note
        saved = self.wizard.saved
        if saved is not None and saved.step is not Step.welcome:
            yield Static(
                f"An unfinished wizard for [b]{saved.plan.name}[/b] stopped at"
                f" [b]{STEP_TITLES[saved.step]}[/b].",
                id="resume-note",
                classes="section",
            )
            with Horizontal(id="resume-row"):
                yield Button(f"Resume at {STEP_TITLES[saved.step]}", id="resume", variant="primary", compact=True)
                yield Button("Start over", id="start-over", compact=True)
        yield Static(INTRO, id="intro")
        yield Static("Found on this machine:", classes="section")
        yield Static("  looking…", id="facts")
        installs = Static("Installs on this machine", id="installs-title", classes="section")
        installs.display = False  # shown once the survey finds any
        yield installs

    def on_mount(self) -> None:
        self.gather_facts()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("resume", "start_over"):
            return self.wizard.saved is not None and self.wizard.saved.step is not Step.welcome
        return super().check_action(action, parameters)

    @work(thread=True, exclusive=True, group="facts", exit_on_error=False)
    def gather_facts(self) -> None:
        facts = self.wizard.deps.facts()
        self.post_message(FactsFound(facts))
        try:
            self.post_message(InstallsFound(self.wizard.deps.installs()))
        except Exception as exc:  # the list is a convenience: never let it stop the wizard
            self.post_message(InstallsFound([]))
            self.app.notify(f"Could not list the installs here: {type(exc).__name__}: {exc}", severity="warning")
        unfinished = self.wizard.deps.unfinished_run(self.plan.name)
        if unfinished:
            self.app.call_from_thread(self._show_unfinished_launch, unfinished)

    async def _show_unfinished_launch(self, unfinished: object) -> None:
        describe = getattr(unfinished, "describe", None)
        what = describe() if callable(describe) else str(unfinished)
        note = self.query_one("#launch-note", Static)
        note.update(
            f"An unfinished launch was found: {what}. Resume it here (its journal says where it"
            f" stopped), or undo it with `fabrix rollback --name {self.plan.name}`."
        )
        note.display = True
        self.unfinished_launch = True
        await self.query_one("#body").mount(
            Button("Resume the unfinished launch", id="resume-launch", variant="warning", compact=True),
            after=note,
        )
        self.query_one("#body").scroll_home(animate=False)
        self.refresh_bindings()

    async def on_installs_found(self, message: InstallsFound) -> None:
        self.wizard.known_installs = {info.name: info for info in message.installs}
        if not message.installs:
            return
        self.query_one("#installs-title").display = True
        body = self.query_one("#body")
        await body.mount_all([
            Button(info.describe(), id=f"install-{info.name}", compact=True, classes="install-row")
            for info in message.installs
        ])

    @on(Button.Pressed, ".install-row")
    def _open_install(self, event: Button.Pressed) -> None:
        self.open_install((event.button.id or "").removeprefix("install-"))

    def open_install(self, name: str) -> None:
        """Show one install (status, addresses, log, its actions); the palette calls it too."""
        from screens.install_view import InstallScreen

        info = self.wizard.known_installs.get(name)
        if info is not None:
            self.wizard.show(InstallScreen(info))

    @on(Button.Pressed, "#resume-launch")
    def _resume_launch(self) -> None:
        # The Launch screen asks the engine for the unfinished run and resumes it from the journal.
        self.wizard.goto(Step.launch)

    def on_facts_found(self, message: FactsFound) -> None:
        facts: Facts = message.facts
        self.query_one("#facts", Static).update(
            f"  Docker:   {facts.docker}\n"
            f"  Compose:  {facts.compose}\n"
            f"  Azure:    {facts.azure_cli}\n"
            f"  State:    {facts.state_dir}  (answers, secrets 0600, blueprints, journal, log)"
        )

    @on(Button.Pressed, "#resume")
    def action_resume(self) -> None:
        saved = self.wizard.saved
        if saved is not None:
            self.wizard.set_plan(saved.plan)
            self.wizard.saved = None
            self.wizard.drafts.clear()
            self.wizard.goto(saved.step)

    @on(Button.Pressed, "#start-over")
    def action_start_over(self) -> None:
        self.wizard.forget_progress()
        self.wizard.saved = None
        self.wizard.drafts.clear()
        self.wizard.set_plan(InstallPlan(name=self.plan.name))
        self.wizard.goto(Step.welcome)
        self.notify("Started over: the unfinished wizard was forgotten.")
