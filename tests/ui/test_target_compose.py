"""Target for Compose: 0.0.0.0 warns that the stack becomes reachable from the network (and
does not block), the data folder's placeholder is the folder of the name being typed, and an
unusable data folder is named on Prerequisites with the fix for its own problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input

from installer.checks.local import local_checks
from installer.plan import InstallPlan
from installer.state import install_dir
from screens.app import FabrixApp
from screens.steps.prerequisites import PrerequisitesScreen
from screens.steps.target import TargetScreen
from screens.widgets.check_row import CheckRow
from screens.widgets.field import Field
from tests.ui.helpers import next_step, settle


def _field(app: FabrixApp, path: str) -> Field:
    return next(f for f in app.screen.query(Field) if f.path == path)


async def _type(pilot, app: FabrixApp, path: str, text: str) -> None:  # noqa: ANN001
    _field(app, path).query_one(Input).value = text
    await settle(pilot)


def _placement_checks(plan: InstallPlan) -> list:
    # The real data-folder and bind checks (the Docker ones would report this machine's engine).
    return [c for c in local_checks(plan) if c.id in ("host.datadir", "host.bind")]


async def test_all_interfaces_warns_but_does_not_block(make_app: Callable[..., FabrixApp]) -> None:
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        assert isinstance(app.screen, TargetScreen)
        bind = _field(app, "compose.bind_address")
        assert not bind.has_class("-warned")
        await _type(pilot, app, "compose.bind_address", "0.0.0.0")
        assert bind.has_class("-warned") and app.screen.valid
        text = str(bind.query_one(".warning").render())
        assert "reachable from the network" in text and "127.0.0.1" in text
        await _type(pilot, app, "compose.bind_address", "127.0.0.1")
        assert not bind.has_class("-warned")


async def test_data_folder_placeholder_follows_the_name_being_typed(make_app: Callable[..., FabrixApp]) -> None:
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        folder = _field(app, "compose.data_dir").query_one(Input)
        assert folder.placeholder == str(install_dir("demo").data)
        await _type(pilot, app, "name", "acme")
        assert folder.placeholder == str(install_dir("acme").data)


async def test_a_file_as_data_folder_is_named_with_its_fix_on_prerequisites(
    make_app: Callable[..., FabrixApp], tmp_path: Path
) -> None:
    in_the_way = tmp_path / "data"
    in_the_way.write_text("not a folder")
    app = make_app(InstallPlan(name="demo", compose={"data_dir": str(in_the_way), "bind_address": "0.0.0.0"}),
                   checks=_placement_checks)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        for _ in range(4):
            await next_step(pilot)
        assert isinstance(app.screen, PrerequisitesScreen)
        results = app.check_results or {}
        assert results["host.datadir"].status.value == "fail"
        assert "is a file, not a folder" in results["host.datadir"].found
        assert "free space" not in results["host.datadir"].remedy
        assert results["host.bind"].status.value == "warn"
        rows = {row.check_id: row for row in app.screen.query(CheckRow)}
        assert rows["host.datadir"].has_class("-fail") and rows["host.bind"].has_class("-warn")


async def test_an_unusable_data_folder_is_named_on_target_with_its_fix(
    make_app: Callable[..., FabrixApp], tmp_path: Path
) -> None:
    in_the_way = tmp_path / "file"
    in_the_way.write_text("x")
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        folder = _field(app, "compose.data_dir")
        await _type(pilot, app, "compose.data_dir", str(in_the_way / "data"))
        assert folder.has_class("-warned") and app.screen.valid
        text = str(folder.query_one(".warning").render())
        assert f"{in_the_way} is a file" in text and "fix:" in text
        await _type(pilot, app, "compose.data_dir", str(tmp_path / "data"))
        assert not folder.has_class("-warned")
