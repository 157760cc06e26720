"""Which wizard steps apply to a plan, and how to move between them. Pure: no Textual, no I/O.

The TUI asks this module for the next and previous step instead of hard-coding an order, so a
plan whose path cannot launch from here (the manual model: a runbook for people) simply ends at
Review, where its blueprints are exported, and never shows a Launch step that would pretend otherwise.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import StrEnum

from installer.plan import DeploymentModel, InstallPlan
from installer.render import TARGET_RENDERERS, renderer_keys


class Step(StrEnum):
    welcome = "welcome"
    model = "model"
    target = "target"
    options = "options"
    prerequisites = "prerequisites"
    review = "review"
    launch = "launch"


STEP_TITLES: dict[Step, str] = {
    Step.welcome: "Welcome",
    Step.model: "Deployment model",
    Step.target: "Target",
    Step.options: "Options",
    Step.prerequisites: "Prerequisites",
    Step.review: "Review",
    Step.launch: "Launch",
}


def launchable(plan: InstallPlan) -> bool:
    """True when the wizard can launch this plan itself: every model ``fabrix up`` launches —
    Docker Compose on this machine, and on Azure container/aca, container/aks, marketplace,
    development, hybrid and multi-cloud (``installer.launch.dispatch``). Manual is a runbook."""
    return plan.model is not DeploymentModel.manual


def steps_for(plan: InstallPlan) -> list[Step]:
    """The steps of the wizard for ``plan``, in order."""
    steps = [Step.welcome, Step.model, Step.target, Step.options, Step.prerequisites, Step.review]
    if launchable(plan):
        steps.append(Step.launch)
    return steps


def next_step(plan: InstallPlan, current: Step) -> Step | None:
    """The step after ``current`` for ``plan``; None at the end."""
    steps = steps_for(plan)
    if current not in steps:
        return None
    index = steps.index(current)
    return steps[index + 1] if index + 1 < len(steps) else None


def previous_step(plan: InstallPlan, current: Step) -> Step | None:
    """The step before ``current``; None on Welcome. A step the plan dropped goes back to Review."""
    steps = steps_for(plan)
    if current not in steps:
        return Step.review
    index = steps.index(current)
    return steps[index - 1] if index > 0 else None


def position(plan: InstallPlan, current: Step) -> tuple[int, int]:
    """(1-based number of ``current``, number of steps) for a "step 3 of 7" indicator."""
    steps = steps_for(plan)
    return (steps.index(current) + 1 if current in steps else len(steps), len(steps))


@dataclass(frozen=True)
class PathStatus:
    """What this build can do for a plan: render its blueprints? launch it from the wizard?"""

    renders: bool
    launches: bool
    summary: str


def _renderer_present(key: str) -> bool:
    module = TARGET_RENDERERS[key].split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _launcher_present() -> bool:
    # A namespace package (folder without __init__) has no origin: the launcher is not built yet.
    try:
        spec = importlib.util.find_spec("installer.launch")
    except ModuleNotFoundError:
        return False
    return spec is not None and spec.origin is not None


def path_status(plan: InstallPlan) -> PathStatus:
    """An honest one-line account of what happens to ``plan`` in this build."""
    renders = all(_renderer_present(k) for k in renderer_keys(plan))
    launches = launchable(plan) and _launcher_present()
    azure = plan.is_azure()
    if launches and renders:
        summary = ("Built: the wizard checks the subscription, renders the Azure blueprint, previews"
                   " what ARM would change, deploys it and rolls back on failure." if azure else
                   "Built: the wizard checks this machine, renders Compose files and launches them.")
    elif launchable(plan) and renders:
        summary = "Renders the blueprints; the launcher is missing from this build, so export them."
    elif launches:
        summary = "Launch is built, but the renderer for this path is missing from this build."
    elif renders:
        summary = (
            "Runbook: the wizard checks, renders and exports the blueprints and RUNBOOK.md; your"
            " team follows it by hand (fabrix does not deploy the manual model)."
        )
    else:
        summary = (
            "Not built yet: this build has no renderer for this path; you can still save the"
            " answers file for a later version."
        )
    return PathStatus(renders=renders, launches=launches, summary=summary)
