"""What every step shares: the step bar, Back/Next with the footer bindings, F1 help, validity."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Static

from installer.flow import STEP_TITLES, Step, next_step, position, previous_step
from installer.plan import InstallPlan
from screens.dialogs.help import HelpDialog
from screens.widgets.footer import KeyFooter
from screens.widgets.step_bar import StepBar

if TYPE_CHECKING:
    from screens.app import FabrixApp


class StepScreen(Screen[None]):
    """A wizard step. Subclasses yield their body from ``compose_body`` and store edits in ``commit``."""

    STEP: ClassVar[Step]
    HELP: ClassVar[str] = ""
    # What has focus when the step opens: the first of these that can take it. By default the
    # primary action, so Enter moves forward; steps with fields start on their first field
    # (Enter in a field also moves forward). The scrolling body is the fallback, so the keyboard
    # can always scroll.
    AUTO_FOCUS = ""
    DEFAULT_FOCUS: ClassVar[tuple[str, ...]] = ("#nav-next", "#body")
    BINDINGS = [
        Binding("ctrl+b", "back", "Back", id="back", tooltip="Previous step; nothing typed is lost"),
        Binding("ctrl+n", "next", "Next", id="next", tooltip="Next step (when this one is valid)"),
        Binding("f1", "help", "Help", id="help", tooltip="What this screen is for"),
        # Enter reaches the screen only when the focused widget does not use it (the scrolling
        # body, a disabled row): then it means "go on", as in every installer.
        Binding("enter", "next", "Next", id="enter_next", show=False),
    ]

    valid: reactive[bool] = reactive(True, bindings=True, init=False)
    problem: reactive[str] = reactive("", init=False)

    @property
    def wizard(self) -> FabrixApp:
        return cast("FabrixApp", self.app)

    @property
    def plan(self) -> InstallPlan:
        return self.wizard.plan

    def _stepbar_text(self) -> str:
        number, total = position(self.plan, self.STEP)
        return f"fabrix · step {number} of {total} · {STEP_TITLES[self.STEP]}  [dim]({self.plan.name})[/]"

    def announce_opening(self, step: Step) -> None:
        """Say at once that the next step is on its way (it is built after this frame)."""
        number, total = position(self.plan, step)
        self.query_one("#stepbar", StepBar).text = (
            f"fabrix · opening step {number} of {total} · {STEP_TITLES[step]}…  [dim]({self.plan.name})[/]")

    def refresh_stepbar(self) -> None:
        """The number of steps depends on the plan (Azure paths end at Review)."""
        self.query_one("#stepbar", StepBar).text = self._stepbar_text()

    def compose(self) -> ComposeResult:
        yield StepBar(self._stepbar_text(), id="stepbar")
        with VerticalScroll(id="body"):
            yield from self.compose_body()
        with Horizontal(id="nav"):
            yield Button("◀ Back", id="nav-back", compact=True, disabled=previous_step(self.plan, self.STEP) is None)
            yield Static("", id="problem")
            yield Button("Next ▶", id="nav-next", variant="primary", compact=True,
                         disabled=next_step(self.plan, self.STEP) is None)
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        if self.focused is not None:
            return
        for selector in self.DEFAULT_FOCUS:
            for widget in self.query(selector):
                if widget.focusable:
                    self.set_focus(widget)
                    return

    # ---- navigation ----

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            return None if not self.valid or next_step(self.plan, self.STEP) is None else True
        if action == "back":
            return None if previous_step(self.plan, self.STEP) is None else True
        return True

    def watch_valid(self, valid: bool) -> None:
        self.query_one("#nav-next", Button).disabled = not valid or next_step(self.plan, self.STEP) is None

    def watch_problem(self, problem: str) -> None:
        self.query_one("#problem", Static).update(problem)

    def commit(self) -> bool:
        """Store this step's edits in the app's plan; False keeps the person here."""
        return True

    def action_next(self) -> None:
        if self.valid and self.commit():
            target = next_step(self.plan, self.STEP)
            if target is not None:
                self.wizard.goto(target)

    def action_back(self) -> None:
        # Back stores what is valid; form steps also keep what is not (see FormStep.action_back).
        if self.valid:
            self.commit()
        target = self._previous()
        if target is not None:
            self.wizard.goto(target)

    def _previous(self) -> Step | None:
        return previous_step(self.plan, self.STEP)

    def action_help(self) -> None:
        keys = [(self.app.get_key_display(b), b.description) for b in self._help_bindings()]
        self.app.push_screen(HelpDialog(STEP_TITLES[self.STEP], self.HELP, keys))

    def _help_bindings(self) -> list[Binding]:
        return [active.binding for active in self.active_bindings.values() if active.binding.description]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "nav-next":
            event.stop()
            self.action_next()
        elif event.button.id == "nav-back":
            event.stop()
            self.action_back()
