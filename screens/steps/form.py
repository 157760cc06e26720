"""A step made of ``Field``s: every keystroke re-validates the plan with the model's own messages.

What is typed is kept when the person leaves the step, valid or not: Next stores it in the plan,
Back (which cannot store an invalid value in the plan) keeps the raw text and choices in the
app's ``drafts`` and the step puts them back when it opens again.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.widgets import Input, RadioSet, Select, SelectionList

from installer.plan import InstallPlan
from screens.steps.base import StepScreen
from screens.validation import error_for, try_update
from screens.widgets.field import Field


class FormStep(StepScreen):
    """Subclasses turn their widgets into plan updates in ``updates``; the rest is shared."""

    DEFAULT_FOCUS = ("Field Input", "#nav-next", "#body")

    def updates(self) -> dict[str, Any]:
        raise NotImplementedError

    def candidate(self) -> tuple[InstallPlan | None, dict[str, str]]:
        return try_update(self.plan, self.updates())

    def on_mount(self) -> None:
        self.restore_drafts()
        self.revalidate()

    @on(Input.Changed)
    def _input_changed(self, _event: Input.Changed) -> None:
        self.revalidate()

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        # Enter in a field is the step's primary action: on to the next step, or to the field to fix.
        event.stop()
        if self.valid:
            self.action_next()
            return
        for field in self.query(Field):
            if field.has_class("-invalid"):
                field.query_one(Input).focus()
                return

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
        self._drop_drafts()
        return True

    def action_back(self) -> None:
        if not (self.valid and self.commit()):
            self.keep_drafts()
        target = self._previous()
        if target is not None:
            self.wizard.goto(target)

    # ---- drafts: what was typed but not (yet) valid ----

    def _draft_keys(self) -> dict[str, Any]:
        """Every input of this step by a stable key, with its current raw value."""
        found: dict[str, Any] = {f"field:{f.path}": f.query_one(Input).value for f in self.query(Field)}
        for select in self.query(Select):
            if select.id:
                found[f"select:{select.id}"] = select.value
        for radios in self.query(RadioSet):
            if radios.id and radios.pressed_button is not None:
                found[f"radio:{radios.id}"] = radios.pressed_button.id
        for chosen in self.query(SelectionList):
            if chosen.id:
                found[f"selection:{chosen.id}"] = list(chosen.selected)
        return found

    def keep_drafts(self) -> None:
        self.wizard.drafts.update(self._draft_keys())

    def _drop_drafts(self) -> None:
        for key in self._draft_keys():
            self.wizard.drafts.pop(key, None)

    def restore_drafts(self) -> None:
        drafts = self.wizard.drafts
        if not drafts:
            return
        for field in self.query(Field):
            text = drafts.get(f"field:{field.path}")
            if isinstance(text, str):
                field.query_one(Input).value = text
        for select in self.query(Select):
            value = drafts.get(f"select:{select.id}")
            if value is not None:
                select.value = value
        for radios in self.query(RadioSet):
            button_id = drafts.get(f"radio:{radios.id}")
            if isinstance(button_id, str):
                for button in radios.query(f"#{button_id}"):
                    button.value = True  # type: ignore[attr-defined]
        for chosen in self.query(SelectionList):
            values = drafts.get(f"selection:{chosen.id}")
            if isinstance(values, list):
                chosen.deselect_all()
                for value in values:
                    chosen.select(value)
