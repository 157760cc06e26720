"""Pilot tests at the smallest supported terminal (80×24): nothing a person needs is cut off or
below the fold — dialog answers, the footer's Quit, Review's image names, Welcome's notices, the
launch log. Each would fail on the truncated layout issue 11 (item 9) found."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.geometry import Region
from textual.widgets import Button

from installer.flow import Step
from installer.plan import InstallPlan, Target
from screens.app import FabrixApp
from screens.dialogs.choice import ChoiceDialog, answers_fit_in_a_row
from tests.ui.helpers import screen_lines, settle, widget_lines, within
from tests.ui.test_snapshots import scripted_launch

MakeApp = Callable[..., FabrixApp]
SMALL = (80, 24)


def _start_at(app: FabrixApp, step: Step) -> FabrixApp:
    app.start_step = app.step = step
    return app


async def test_the_cancel_dialog_shows_every_answer_whole(make_app: MakeApp) -> None:
    app = _start_at(make_app(InstallPlan(name="demo"), launch=scripted_launch()), Step.launch)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        box = dialog.query_one(".dialog").region
        buttons = list(dialog.query(Button))
        assert [b.id for b in buttons] == ["choice-rollback", "choice-keep", "choice-continue"]
        text = "\n".join(screen_lines(app))
        for button in buttons:
            assert within(button.region, box), f"{button.id} is cut off: {button.region} not in {box}"
            assert str(button.label) in text
        # Every answer is reachable by keyboard, one after another.
        assert app.focused is buttons[0]
        await pilot.press("down")
        assert app.focused is buttons[1]
        await pilot.press("down")
        assert app.focused is buttons[2]
        await pilot.press("enter")  # Keep going
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceDialog)
        assert not app.screen.cancel_event.is_set()  # type: ignore[attr-defined]


async def test_short_answers_stay_side_by_side(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.push_screen(ChoiceDialog("Replace the existing file?", "x exists.",
                                     [("keep", "Keep it"), ("replace", "Replace it")]))
        await pilot.pause()
        keep, replace = app.screen.query(Button)
        assert keep.region.y == replace.region.y
        assert within(replace.region, app.screen.query_one(".dialog").region)


def test_answers_fit_by_their_width() -> None:
    assert answers_fit_in_a_row(["Keep it", "Replace it"], 80)
    assert not answers_fit_in_a_row(["Stop and roll back", "Stop and keep for debugging", "Keep going"], 80)
    assert not answers_fit_in_a_row(["Keep it", "Replace it"], 30)


def _footer_keys_whole(app: FabrixApp) -> list[str]:
    """Descriptions of the footer's keys, asserting each lies wholly on screen and none hides
    another (the palette key is docked right, over whatever the row pushed under it)."""
    from textual.widgets._footer import FooterKey

    keys = list(app.screen.query(FooterKey))
    for index, key in enumerate(keys):
        assert within(key.region, app.screen.region), f"footer key {key.description!r} is cut: {key.region}"
        for other in keys[index + 1:]:
            assert not key.region.overlaps(other.region), f"{other.description!r} covers {key.description!r}"
    return [key.description for key in keys]


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 4, 5], ids=["welcome", "model", "target", "options",
                                                            "prerequisites", "review"])
@pytest.mark.parametrize("target", [Target.compose, Target.aca])
async def test_every_footer_key_is_on_screen_and_quit_is_there(make_app: MakeApp, steps: int,
                                                              target: Target) -> None:
    app = make_app(InstallPlan(name="demo", target=target))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for _ in range(steps):
            await pilot.press("ctrl+n")
            await settle(pilot)
        assert "Quit" in _footer_keys_whole(app)


async def test_the_result_screens_keep_their_keys_on_screen(make_app: MakeApp) -> None:
    from installer.launch.model import Diagnostics, LaunchResult, Outcome
    from screens.steps.result import DoneScreen, FailedScreen
    from tests.ui.test_snapshots import RESULT_SUMMARY

    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.show(DoneScreen(LaunchResult(Outcome.ok, "demo", "run-1", "demo is running", summary=RESULT_SUMMARY)))
        await settle(pilot)
        _footer_keys_whole(app)
        failed = LaunchResult(Outcome.cancelled, "demo", "run-1", "The launch of demo was cancelled.",
                              diagnostics=Diagnostics(reason="cancelled", service="keycloak", state="starting"))
        app.show(FailedScreen(failed, cancelled=True))
        await settle(pilot)
        assert {"Retry", "Roll back", "Fix the plan"} <= set(_footer_keys_whole(app))


async def test_review_shows_each_image_name_whole(make_app: MakeApp) -> None:
    from installer.plan import Images

    plan = InstallPlan(name="demo", components=["postgres", "redis", "keycloak", "miso-controller", "dataplane"],
                       images=Images(registry="registry.customer-example.azurecr.io", username="puller"))
    app = make_app(plan)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        for _ in range(5):
            await pilot.press("ctrl+n")
            await settle(pilot)
        summary = app.screen.query_one("#summary")
        lines = widget_lines(summary)
        for name in ["postgres", "redis", "keycloak", "miso-controller", "dataplane"]:
            image = app.plan.image_for(name)
            # Whole, on one row, indented under its component (not wrapped to the margin).
            assert any(line.startswith("      ") and line.strip() == image for line in lines), (
                f"{image} is cut or wrapped in:\n" + "\n".join(lines))
        assert "registry.customer-example.azurecr.io/aifabrix/miso-controller:latest" in app.plan.image_for(
            "miso-controller")


class _Unfinished:
    def describe(self) -> str:
        return "run run-7 of demo stopped during step 'up' (the installer was killed)"


async def test_welcome_shows_the_unfinished_launch_without_scrolling(make_app: MakeApp) -> None:
    from installer.installs import InstallInfo, InstallState
    from installer.wizard_state import WizardProgress

    installs = [InstallInfo(f"lab-{n}", InstallState.running, "6 service(s) up") for n in range(4)]
    app = make_app(InstallPlan(name="demo"), unfinished_run=lambda _name: _Unfinished(),
                   installs=lambda: installs)
    app.saved = WizardProgress(InstallPlan(name="demo"), Step.review)  # an unfinished wizard too
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        body = app.screen.query_one("#body")
        assert body.scroll_y == 0
        for selector in ("#launch-note", "#resume-launch", "#resume-note", "#resume", "#start-over"):
            widget = app.screen.query_one(selector)
            assert within(widget.region, body.region), f"{selector} is below the fold: {widget.region}"
        assert any("unfinished launch was found" in line for line in screen_lines(app))
        assert len(app.screen.query(".install-row")) == 4  # the installs are still listed (below)


async def test_the_launch_log_wraps_long_events_inside_its_box(make_app: MakeApp) -> None:
    from screens.widgets.progress_row import ProgressRow

    app = _start_at(make_app(InstallPlan(name="demo"), launch=scripted_launch()), Step.launch)
    async with app.run_test(size=SMALL) as pilot:
        for _ in range(200):  # the scripted events are all shown (the worker keeps running)
            if len(app.screen.query(ProgressRow)) == 7 and not app.screen._events:  # type: ignore[attr-defined]
                break
            await pilot.pause(0.01)
        await pilot.pause()
        log = app.screen.query_one("#launch-log")
        assert not log.show_horizontal_scrollbar, "a horizontal scrollbar in the log box (the stray glyph)"
        box = log.region
        rows = [line[box.x:box.right] for line in screen_lines(app)[box.y:box.bottom]]
        text = " ".join(row.strip("│ ") for row in rows)
        # The longest event reaches its end inside the box instead of being cut at the edge.
        assert "health: starting (failing streak 2)" in " ".join(text.split())
