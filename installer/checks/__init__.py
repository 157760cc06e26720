"""Prerequisite checks: which apply to a plan, and how they run (see ``base``)."""

from __future__ import annotations

from installer.checks.base import Check, CheckContext, CheckResult, Status, exit_code_for, run_checks
from installer.plan import InstallPlan

__all__ = ["Check", "CheckContext", "CheckResult", "Status", "checks_for", "exit_code_for", "run_checks"]


def checks_for(plan: InstallPlan) -> list[Check]:
    """The checks that apply to ``plan``: local ones for Compose, Azure ones for Azure models."""
    checks: list[Check] = []
    if not plan.is_azure():
        from installer.checks.local import local_checks

        checks.extend(local_checks(plan))
    else:
        from installer.checks.azure import azure_checks

        checks.extend(azure_checks(plan))
    return checks
