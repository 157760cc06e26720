"""Pilot tests: Review's exports are named by install and model and never replace a file
without asking; Review says when the security scan (checkov) cannot run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installer.plan import DeploymentModel, InstallPlan, Target
from screens.app import FabrixApp
from screens.dialogs.choice import ChoiceDialog
from screens.steps.review import ReviewScreen
from tests.ui.helpers import next_step, settle

MakeApp = Callable[..., FabrixApp]


async def _to_review(app: FabrixApp, pilot) -> ReviewScreen:  # noqa: ANN001
    await settle(pilot)
    for _ in range(5):
        await next_step(pilot)
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


@pytest.mark.parametrize(("plan", "stem"), [
    (InstallPlan(name="ui-a"), "ui-a-container-compose"),
    (InstallPlan(name="ui-a", target=Target.aks), "ui-a-container-aks"),
    (InstallPlan(name="ui-b", model=DeploymentModel.marketplace), "ui-b-marketplace"),
    (InstallPlan(name="ui-b", model=DeploymentModel.development, target=Target.aks), "ui-b-development-aks"),
])
async def test_export_names_carry_install_and_model(make_app: MakeApp, plan: InstallPlan, stem: str) -> None:
    app = make_app(plan)
    async with app.run_test(size=(100, 32)) as pilot:
        review = await _to_review(app, pilot)
        assert review._export_stem() == stem
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert str(app.screen.query_one("#path").value).endswith(f"{stem}-answers.yaml")


async def test_saving_over_a_file_asks_first(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app(InstallPlan(name="ui-over"))
    target = tmp_path / "ui-over-container-compose-answers.yaml"
    target.write_text("mine\n")
    async with app.run_test(size=(100, 32)) as pilot:
        await _to_review(app, pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("enter")  # the proposed path, which exists
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)  # asked, not replaced
        await pilot.click("#choice-keep")
        await settle(pilot)
        assert target.read_text() == "mine\n"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#choice-replace")
        await settle(pilot)
    assert "name: ui-over" in target.read_text()


async def test_export_over_an_archive_asks_first(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app(InstallPlan(name="ui-zip"))
    archive = tmp_path / "ui-zip-container-compose-review.zip"
    archive.write_bytes(b"old")
    async with app.run_test(size=(100, 32)) as pilot:
        await _to_review(app, pilot)
        await pilot.press("ctrl+e")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("escape")  # closing the question keeps the file too
        await settle(pilot)
    assert archive.read_bytes() == b"old"


async def test_review_says_the_security_scan_does_not_run_without_checkov(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FABRIX_CHECKOV", "/nonexistent/checkov")
    app = make_app(InstallPlan(name="ui-scan", target=Target.aca))
    async with app.run_test(size=(100, 32)) as pilot:
        review = await _to_review(app, pilot)
        note = str(review.query_one("#scan-note").render())
        assert "not installed" in note and "does not run" in note


async def test_review_says_the_scan_runs_on_export_with_checkov(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "checkov"  # only its presence is read here; the export would run it
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("FABRIX_CHECKOV", str(fake))
    app = make_app(InstallPlan(name="ui-scan", target=Target.aca))
    async with app.run_test(size=(100, 32)) as pilot:
        review = await _to_review(app, pilot)
        assert "runs on export" in str(review.query_one("#scan-note").render())
