"""A step made of ``Field``s: every keystroke re-validates the plan with the model's own messages."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.widgets import Input

from installer.plan import InstallPlan
from screens.steps.base import StepScreen
from screens.validation import error_for, try_update
from screens.widgets.field import Field


class FormStep(StepScreen):
    """Subclasses turn their widgets into plan updates in ``updates``; the rest is shared."""

    def updates(self) -> dict[str, Any]:
        raise NotImplementedError

    def candidate(self) -> tuple[InstallPlan | None, dict[str, str]]:
        return try_update(self.plan, self.updates())

    def on_mount(self) -> None:
        self.revalidate()

    @on(Input.Changed)
    def _input_changed(self, _event: Input.Changed) -> None:
        self.revalidate()

    def revalidate(self) -> None:
        plan, errors = self.candidate()
        shown: set[str] = set()
        for field in self.query(Field):
            message = error_for(errors, field.path)
            field.show_error(message)
            if message:
                shown.add(message)
        others = [m for m in errors.values() if m not in shown]
        self.valid = plan is not None
        self.problem = ("✗ " + others[0]) if others else ("✗ fix the marked field" if errors else "")

    def commit(self) -> bool:
        plan, _errors = self.candidate()
        if plan is None:
            return False
        self.wizard.set_plan(plan)
        return True
