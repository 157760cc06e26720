"""UI test fixtures: an app whose machine-specific facts (versions, paths, clock) are pinned.

Only what would make a screenshot differ between machines is replaced; plans, validation,
rendering and (in the launch tests) Docker are the real engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installer.checks import Check, CheckContext, CheckResult, Status
from installer.plan import InstallPlan
from screens.app import FabrixApp
from screens.deps import Facts, WizardDeps
from tests.e2e.conftest import docker_ready  # noqa: F401 - re-exported fixture

FACTS = Facts(
    docker="Docker Engine 27.0.0",
    compose="Compose 2.40.3",
    azure_cli="Azure CLI not installed (optional: sign-in also works without it)",
    state_dir="~/.local/state/fabrix",
)


def _result(check_id: str, title: str, status: Status, found: str, remedy: str = "") -> Check:
    def run(_ctx: CheckContext) -> CheckResult:
        return CheckResult(id=check_id, title=title, status=status, found=found, remedy=remedy)

    return Check(id=check_id, title=title, run=run)


def pinned_checks(fail: bool = False) -> Callable[[InstallPlan], list[Check]]:
    """Checks with fixed answers: the real ones report this machine's versions and free memory."""

    def checks(_plan: InstallPlan) -> list[Check]:
        found = [
            _result("docker", "Docker Engine", Status.passed, "27.0.0 (API 1.46)"),
            _result("compose", "Docker Compose v2", Status.passed, "2.40.3"),
            _result("memory", "Memory for size S", Status.warn, "6.0 GiB; 8 GiB recommended",
                    "close other workloads or give Docker Desktop more memory"),
        ]
        if fail:
            found.append(_result("ports", "Free host ports", Status.fail, "5432 is in use by another process",
                                 "stop the process on 5432 or set compose.ports.postgres"))
        return found

    return checks


def frozen_clock() -> float:
    return 1000.0


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., FabrixApp]:
    def make(plan: InstallPlan | None = None, *, fail: bool = False, **deps: object) -> FabrixApp:
        pinned = WizardDeps(
            facts=lambda: FACTS,
            checks=pinned_checks(fail),
            unfinished_run=lambda _name: None,
            installs=lambda: [],  # the machine's own installs would differ between runs
            clock=frozen_clock,
            workdir=tmp_path,
        )
        for key, value in deps.items():
            setattr(pinned, key, value)
        app = FabrixApp(plan, deps=pinned, progress_path=tmp_path / "wizard.yaml")
        app.animation_level = "none"  # screenshots must not catch an animation half-way
        return app

    return make


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Input cursors blink on a timer; a screenshot must not depend on when it was taken."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.delenv("COLORFGBG", raising=False)  # the dark theme, whatever terminal runs the tests


# The HTTPS fake ARM and the stub `az` of the Azure tests, for the Target screen's sign-in.
from tests.azure.conftest import arm_ca, az_stub, fake_arm  # noqa: E402,F401
