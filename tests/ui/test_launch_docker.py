"""The Compose path through a REAL launch (stand-in images, real Docker Engine + Compose v2):
Welcome → … → Launch → Done; a sick stand-in → Failed with diagnostics and rollback; and the
UI never blocks on Docker: no process is started and no socket connected on the UI thread, and
the event loop keeps ticking while the launch runs (how smoothly: bench/launch_smoothness.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from installer.answers import load_answers
from installer.checks import checks_for
from installer.launch import down, status
from installer.progress import null_reporter
from screens.app import FabrixApp
from screens.steps.launch import LaunchScreen
from screens.steps.result import DoneScreen, FailedScreen
from tests.support.standin import free_ports, write_answers
from tests.ui.helpers import UiThreadCalls, next_step, settle

pytestmark = [pytest.mark.docker, pytest.mark.slow]
COMPONENTS = ["postgres", "redis"]


class TickGaps:
    """Largest gap between ticks of a 20 ms timer on the app's event loop while a launch runs
    (from the Launch screen's start to the launch's end; switching screens is not the launch)."""

    def __init__(self, app: FabrixApp) -> None:
        self.app = app
        self.last: float | None = None
        self.max_gap = 0.0
        self.ticks = 0

    def tick(self) -> None:
        now = time.perf_counter()
        screen = self.app.screen
        if not (isinstance(screen, LaunchScreen) and screen.running):
            self.last = None
            return
        if self.last is not None:
            self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1


async def _launch_to_end(app: FabrixApp, pilot, gaps: TickGaps | None = None) -> None:  # noqa: ANN001
    await settle(pilot)
    for _ in range(5):  # model, target, options, prerequisites, review
        await next_step(pilot)
    assert app.check_results is not None and app.checks_block_launch() is None, app.check_results
    await pilot.press("ctrl+l")
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, LaunchScreen)
    timer = app.set_interval(0.02, gaps.tick) if gaps else None
    for _ in range(3000):  # bounded: the launch's own timeout ends it well before this
        if isinstance(app.screen, DoneScreen | FailedScreen):
            break
        await pilot.pause(0.1)
    if timer:
        timer.stop()
    await settle(pilot)


@pytest.fixture
def cleanup() -> list[str]:
    names: list[str] = []
    yield names
    for name in names:
        try:
            down(name, True, null_reporter)
        except Exception:  # noqa: BLE001 - best effort: the assertions already said what failed
            pass


async def test_compose_path_launches_for_real_to_done(
    docker_ready: object, make_app: Callable[..., FabrixApp], tmp_path: Path, cleanup: list[str]
) -> None:
    name = "ui-launch"
    cleanup.append(name)
    answers = write_answers(tmp_path / "a.yaml", name, COMPONENTS, ports=free_ports(COMPONENTS))
    app = make_app(load_answers(answers), checks=checks_for, clock=time.monotonic, launch_timeout=300)
    gaps = TickGaps(app)
    with UiThreadCalls() as on_ui_thread:
        async with app.run_test(size=(100, 32)) as pilot:
            await _launch_to_end(app, pilot, gaps)
            assert isinstance(app.screen, DoneScreen), app.screen.query_one("#body").render()
            text = str(app.screen.query_one("#done-text").render())
            assert f"{name} is running" in text
            assert f"fabrix down --name {name}" in text
    running = {s.component: s for s in status(name)}
    assert set(running) == set(COMPONENTS)
    assert all(s.health == "healthy" for s in running.values())
    # The non-blocking design, checked by what ran where: every Docker call (checks, render
    # validation, the launch, status) ran in a worker, none on the UI thread.
    assert on_ui_thread.calls == [], on_ui_thread.calls
    # And coarsely by its effect: the loop kept ticking during the launch. A Docker call on the UI
    # thread would freeze it for the whole `compose up` (seconds); scheduler noise on a loaded
    # 2-core machine reaches a few hundred ms. How smooth the loop is (stall percentiles) is
    # measured by bench/launch_smoothness.py, not asserted here.
    assert gaps.ticks > 20
    assert gaps.max_gap < 1.0, f"event loop stalled {gaps.max_gap * 1000:.0f} ms during the launch"


async def test_sick_service_ends_on_failed_with_diagnostics_and_rollback(
    docker_ready: object, make_app: Callable[..., FabrixApp], tmp_path: Path, cleanup: list[str]
) -> None:
    name = "ui-sick"
    cleanup.append(name)
    answers = write_answers(tmp_path / "a.yaml", name, COMPONENTS, sick=("redis",), ports=free_ports(COMPONENTS))
    app = make_app(load_answers(answers), checks=checks_for, clock=time.monotonic, launch_timeout=30)
    async with app.run_test(size=(100, 32)) as pilot:
        await _launch_to_end(app, pilot)
        assert isinstance(app.screen, FailedScreen)
        text = str(app.screen.query_one("#failed-text").render())
        assert "The launch failed" in text
        assert "redis" in text  # the failing service is named, with its diagnostics
        assert "Rolled back" in text
        assert app.screen.check_action("roll_back", ()) is False  # nothing left to roll back
    assert status(name) == []


async def _cancel_mid_launch(app: FabrixApp, pilot, choice: str) -> FailedScreen:  # noqa: ANN001
    """Launch, wait until Compose is creating services, press Escape, answer ``choice``; return
    the Failed screen the launch ends on."""
    from screens.dialogs.choice import ChoiceDialog

    await settle(pilot)
    for _ in range(5):
        await next_step(pilot)
    await pilot.press("ctrl+l")
    screen = app.screen
    assert isinstance(screen, LaunchScreen)
    for _ in range(600):  # until Compose is creating services (bounded; no timing asserted)
        if screen.query("#svc-postgres") or not screen.running:
            break
        await pilot.pause(0.05)
    assert screen.running, "the launch ended before it could be cancelled"
    await pilot.press("escape")
    await pilot.pause()
    assert isinstance(app.screen, ChoiceDialog)  # it asks first
    await pilot.click(f"#choice-{choice}")
    for _ in range(3000):
        if isinstance(app.screen, DoneScreen | FailedScreen):
            break
        await pilot.pause(0.1)
    await settle(pilot)
    failed = app.screen
    assert isinstance(failed, FailedScreen)
    return failed


async def test_cancel_asks_then_stops_and_rolls_back(
    docker_ready: object, make_app: Callable[..., FabrixApp], tmp_path: Path, cleanup: list[str]
) -> None:
    name = "ui-cancel"
    cleanup.append(name)
    answers = write_answers(tmp_path / "a.yaml", name, COMPONENTS, ports=free_ports(COMPONENTS))
    app = make_app(load_answers(answers), checks=checks_for, clock=time.monotonic, launch_timeout=300)
    async with app.run_test(size=(100, 32)) as pilot:
        failed = await _cancel_mid_launch(app, pilot, "rollback")  # "Stop and roll back"
        text = str(failed.query_one("#failed-text").render())
        assert "cancelled" in text
        assert "Rolled back" in text
    assert status(name) == []


async def test_cancel_can_keep_everything_then_roll_back_from_failed(
    docker_ready: object, make_app: Callable[..., FabrixApp], tmp_path: Path, cleanup: list[str]
) -> None:
    name = "ui-keep"
    cleanup.append(name)
    answers = write_answers(tmp_path / "a.yaml", name, COMPONENTS, ports=free_ports(COMPONENTS))
    app = make_app(load_answers(answers), checks=checks_for, clock=time.monotonic, launch_timeout=300)
    async with app.run_test(size=(100, 32)) as pilot:
        failed = await _cancel_mid_launch(app, pilot, "keep")  # "Stop and keep for debugging"
        text = str(failed.query_one("#failed-text").render())
        assert "cancelled" in text and "kept for debugging" in text
        assert "Rolled back" not in text
        assert status(name), "keeping means the containers are still there to debug"
        assert failed.check_action("roll_back", ()) is True
        await pilot.click("#btn-rollback")
        for _ in range(600):
            if failed.rolled_back:
                break
            await pilot.pause(0.1)
        assert failed.rolled_back
        await settle(pilot)
        text = str(failed.query_one("#failed-text").render())
        assert "Rolled back" in text and "kept for debugging" not in text  # the account follows
        assert not failed.query_one("#btn-rollback").display  # nothing left to roll back
    assert status(name) == []
