"""Deployment model: the six models with "best for", highlights and "when to choose"."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from installer.flow import Step, path_status
from installer.plan import MODEL_TARGETS, DeploymentModel, InstallPlan, Target
from screens.content import MODELS, TARGETS
from screens.steps.base import StepScreen


class ModelScreen(StepScreen):
    STEP = Step.model
    HELP = (
        "Choose how the platform is deployed. Move with the arrow keys; the right side explains"
        " the highlighted model. For **Container**, choose Docker Compose (this machine), Azure"
        " Container Apps or AKS with Tab and the arrow keys; for **Development**, ACA or AKS. A"
        " target chosen for one model never carries over to another. The line under the description says"
        " honestly what this build can do for that path: launch it, or render blueprints for you"
        " to review and export."
    )

    DEFAULT_FOCUS = ("#models", "#nav-next")

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="model-row"):
            yield OptionList(
                *[Option(info.title, id=model.value) for model, info in MODELS.items()],
                id="models",
            )
            with Vertical(id="model-detail"):
                yield Static("", id="model-text")
                with RadioSet(id="targets"):
                    for target, label in TARGETS.items():
                        yield RadioButton(label, value=self.plan.target is target, id=f"target-{target.value}")
                yield Static("", id="path-status")

    def on_mount(self) -> None:
        models = self.query_one("#models", OptionList)
        models.highlighted = list(MODELS).index(self.plan.model)
        models.focus()
        self._describe()

    def _describe(self) -> None:
        info = MODELS[self.plan.model]
        highlights = "\n".join(f"  • {h}" for h in info.highlights)
        self.query_one("#model-text", Static).update(
            f"[b]{info.title}[/b]\n[b]Best for:[/b] {info.best_for}\n{highlights}\n"
            f"[b]When to choose:[/b] {info.when}"
        )
        offered = MODEL_TARGETS.get(self.plan.model, ())
        self.query_one("#targets").display = bool(offered)
        for target in Target:
            button = self.query_one(f"#target-{target.value}", RadioButton)
            button.display = target in offered
            if target is self.plan.effective_target() and not button.value:
                button.value = True  # the RadioSet then stores it in the plan (_target_changed)
        status = path_status(self.plan)
        note = self.query_one("#path-status", Static)
        note.update(("✓ " if status.launches else "ⓘ ") + status.summary)
        note.set_class(not status.launches, "notice")
        self.refresh_stepbar()

    @on(OptionList.OptionHighlighted, "#models")
    def _model_changed(self, event: OptionList.OptionHighlighted) -> None:
        model = DeploymentModel(event.option.id or DeploymentModel.container.value)
        if model is not self.plan.model:
            self.wizard.set_plan(_with_model(self.plan, model, self.wizard.drafts))
            self.refresh_bindings()
            self.query_one("#nav-next").disabled = False
        self._describe()

    @on(RadioSet.Changed, "#targets")
    def _target_changed(self, event: RadioSet.Changed) -> None:
        target = Target((event.pressed.id or "target-compose").removeprefix("target-"))
        if target in MODEL_TARGETS.get(self.plan.model, ()):
            self.wizard.drafts[f"target:{self.plan.model.value}"] = target.value
            if target is not self.plan.target:
                self.wizard.set_plan(self.plan.model_copy(update={"target": target}))
        self._describe()

    @on(OptionList.OptionSelected, "#models")
    def _model_chosen(self, _event: OptionList.OptionSelected) -> None:
        self.action_next()


def _with_model(plan: InstallPlan, model: DeploymentModel, drafts: dict[str, object]) -> InstallPlan:
    """``plan`` for ``model``, with the target chosen for that model (or its default), never one
    chosen for another model: AKS picked for Container must not make Development render AKS."""
    if plan.target in MODEL_TARGETS.get(plan.model, ()):  # the leaving model keeps its own choice
        drafts[f"target:{plan.model.value}"] = plan.target.value
    offered = MODEL_TARGETS.get(model)
    if offered is None:
        target = Target.compose  # the default, left out of the answers
    else:
        remembered = drafts.get(f"target:{model.value}")
        target = Target(remembered) if remembered in {t.value for t in offered} else offered[0]
    return plan.model_copy(update={"model": model, "target": target})
