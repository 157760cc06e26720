"""``launch``: the one entry point for every target — Compose, Azure, or (manual) a refusal."""

from __future__ import annotations

import threading
from typing import Any

from installer.errors import UsageError
from installer.launch.model import LaunchResult
from installer.plan import DeploymentModel, InstallPlan
from installer.progress import Reporter


def launch(plan: InstallPlan, reporter: Reporter, cancel: threading.Event | None = None, resume: bool = False,
           timeout: int = 600, keep: threading.Event | None = None, allow_foreign: bool = False,
           session: Any = None) -> LaunchResult:
    """Launch ``plan`` on its target. ``allow_foreign`` and ``session`` concern Azure only."""
    if plan.model is DeploymentModel.manual:
        raise manual_is_a_runbook(plan)
    if plan.is_azure():
        from installer.launch.azure import launch_azure

        return launch_azure(plan, reporter, cancel=cancel, resume=resume, keep=keep,
                            allow_foreign=allow_foreign, session=session)
    from installer.launch.compose_launch import launch as compose_launch

    return compose_launch(plan, reporter, cancel=cancel, resume=resume, timeout=timeout, keep=keep)


def manual_is_a_runbook(plan: InstallPlan) -> UsageError:
    """Manual installs are done by people, from the runbook: exit 2 (usage), nothing changed."""
    return UsageError(
        f"install {plan.name!r} uses the manual model: it is a runbook for your team, not something fabrix deploys",
        "render it (`fabrix render --answers FILE`) and follow RUNBOOK.md; or choose another model to let fabrix launch it",
    )
