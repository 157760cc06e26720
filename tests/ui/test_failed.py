"""Pilot tests: the Failed screen tells each outcome as it is and offers only what applies —
rolled back (after a failure or a cancel), kept for debugging, or the engine not running at all;
Back and Escape return to Review to fix the plan. (The same against a real Compose run, including
rolling back a kept run from this screen, is in test_launch_docker.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button

from installer.flow import Step
from installer.launch.model import Diagnostics, LaunchResult, Outcome, RollbackResult
from installer.plan import InstallPlan
from installer.state import install_dir
from screens.app import FabrixApp
from screens.steps.result import FailedScreen
from screens.steps.review import ReviewScreen
from tests.ui.helpers import settle

MakeApp = Callable[..., FabrixApp]
SICK = Diagnostics(reason="dependency failed to start: container fabrix-demo-redis-1 is unhealthy",
                   service="redis", state="running (unhealthy)", health_output="PONG missing")
ROLLED = RollbackResult(name="demo", run_id="run-1", removed="3 containers, 1 network",
                        message="Rolled back: removed 3 containers, 1 network.")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FABRIX_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


async def _show(app: FabrixApp, pilot, result: LaunchResult | None, **kwargs: object) -> FailedScreen:  # noqa: ANN001
    await settle(pilot)
    app.step = Step.launch
    app.show(FailedScreen(result, **kwargs))  # type: ignore[arg-type]
    await settle(pilot)
    assert isinstance(app.screen, FailedScreen)
    return app.screen


def _text(screen: FailedScreen) -> str:
    return str(screen.query_one("#failed-text").render())


def _offered(screen: FailedScreen) -> set[str]:
    return {str(b.label) for b in screen.query(Button) if b.display and not b.disabled}


async def test_after_an_automatic_rollback_only_retry_back_and_quit(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="demo"))
    result = LaunchResult(Outcome.failed, "demo", "run-1", "redis failed", diagnostics=SICK, rollback=ROLLED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _show(app, pilot, result)
        assert _offered(screen) == {"◀ Fix the plan", "Retry", "Quit"}
        assert screen.check_action("roll_back", ()) is False
        text = _text(screen)
        assert "The launch failed" in text and "redis" in text and "Rolled back" in text
        assert "kept" not in text.replace("data volumes", "")


async def test_a_cancel_is_reported_as_a_cancel_without_blame(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="demo"))
    result = LaunchResult(Outcome.cancelled, "demo", "run-1",
                          "The launch of demo was cancelled (cancelled by the user). The service to look at is redis",
                          diagnostics=SICK, rollback=ROLLED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _show(app, pilot, result, cancelled=True)
        text = _text(screen)
        assert "cancelled" in text and "nothing failed" in text
        assert "failed" not in text.replace("nothing failed", "")
        assert "to look at" not in text and "Diagnostics" not in text
        assert str(app.screen.query_one("#stepbar").render()).endswith("launch cancelled")


async def test_kept_run_offers_roll_back_and_prints_the_real_answers_path(make_app: MakeApp, home: Path) -> None:
    app = make_app(InstallPlan(name="demo"))
    result = LaunchResult(Outcome.cancelled, "demo", "run-1",
                          "Everything was kept for debugging; ... `fabrix up --answers FILE --resume`.",
                          diagnostics=Diagnostics(reason="cancelled"), rollback=None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _show(app, pilot, result, cancelled=True)
        assert _offered(screen) == {"◀ Fix the plan", "Retry", "Roll back", "Quit, keep it"}
        text = _text(screen).replace("\n", " ")
        assert "kept for debugging" in text
        assert f"up --answers {install_dir('demo').answers} --resume" in text
        assert "FILE" not in text
        assert str(install_dir("demo").answers).startswith(str(home))


@pytest.mark.parametrize("key", ["escape", "ctrl+b"])
async def test_back_and_escape_return_to_review(make_app: MakeApp, key: str) -> None:
    app = make_app(InstallPlan(name="demo"))
    result = LaunchResult(Outcome.failed, "demo", "run-1", "port 5432 is taken",
                          diagnostics=Diagnostics(reason="Bind for 127.0.0.1:5432 failed: port is already allocated"),
                          rollback=ROLLED)
    async with app.run_test(size=(80, 24)) as pilot:
        await _show(app, pilot, result)
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.step is Step.review
        await pilot.press("ctrl+b")  # and from Review on to the step that holds the port
        await settle(pilot)
        assert app.step is Step.prerequisites


async def test_engine_that_never_ran_still_offers_roll_back(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _show(app, pilot, None, problem="internal error: RuntimeError: boom")
        assert "boom" in _text(screen)
        assert "Roll back" in _offered(screen)


def test_printed_commands_work_as_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`fabrix` when this installation's script is on PATH (after `. .venv/bin/activate`),
    else its full path — never a bare `fabrix` the shell would not find."""
    import os
    import sys

    from screens.steps.result import fabrix_command

    here = Path(sys.executable).parent / "fabrix"
    assert here.exists()
    monkeypatch.setenv("PATH", f"{here.parent}:{os.environ.get('PATH', '')}")
    assert fabrix_command() == "fabrix"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert fabrix_command() == str(here)


async def test_done_lists_front_door_urls_first(make_app: MakeApp) -> None:
    from installer.launch.model import Summary
    from screens.steps.result import DoneScreen

    summary = Summary(name="demo", project="fabrix-demo", urls={"flowise": "http://127.0.0.1:3002/"},
                      admin_user="admin", admin_email="admin@example.com", secrets_file="s", bundle_dir="b",
                      services=["flowise"], front_door_urls={"flowise": "http://flowise.localhost:8080/"})
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.show(DoneScreen(LaunchResult(Outcome.ok, "demo", "run-1", "ok", summary=summary)))
        await settle(pilot)
        text = str(app.screen.query_one("#done-text").render())
        assert text.index("http://flowise.localhost:8080/") < text.index("http://127.0.0.1:3002/")
        assert "front door" in text
