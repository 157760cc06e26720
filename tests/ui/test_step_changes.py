"""Pilot tests: a step change answers at once ("opening …" on the step bar, before the next step
is built), a key pressed meanwhile does not skip a step, and progress saved in a worker ends as
the last request said (bench/wizard_steps.py measures the times)."""

from __future__ import annotations

from collections.abc import Callable

from installer.flow import Step
from installer.plan import InstallPlan
from installer.wizard_state import load_progress
from screens.app import FabrixApp
from screens.steps.model import ModelScreen
from screens.steps.welcome import WelcomeScreen
from tests.ui.helpers import settle

MakeApp = Callable[..., FabrixApp]


def _bar(app: FabrixApp) -> str:
    return app.screen.query_one("#stepbar").text  # type: ignore[attr-defined,no-any-return]


async def test_next_says_opening_before_the_step_is_built_and_does_not_skip(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        welcome = app.screen
        welcome.action_next()  # type: ignore[attr-defined]
        assert app.screen is welcome  # not built yet: this frame answers first
        assert _bar(app).startswith("fabrix · opening step 2 of 7 · Deployment model…")
        welcome.action_next()  # type: ignore[attr-defined]  # pressed again while it opens
        await settle(pilot)
        assert isinstance(app.screen, ModelScreen)
        assert app.step is Step.model  # one step on, not two
        assert _bar(app).startswith("fabrix · step 2 of 7 · Deployment model")


async def test_progress_saved_in_a_worker_ends_as_last_asked(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        saved = load_progress(app.progress_path)
        assert saved is not None and saved.step is Step.target
        app.save_progress()
        app.forget_progress()  # forgotten after the save: the file must not come back
        await settle(pilot)
        assert app.progress_path is not None and not app.progress_path.exists()
        await pilot.press("ctrl+b")
        await settle(pilot)
        saved = load_progress(app.progress_path)
        assert saved is not None and saved.step is Step.model


async def test_back_to_welcome_from_model_answers_too(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        model = app.screen
        model.action_back()  # type: ignore[attr-defined]
        assert _bar(app).startswith("fabrix · opening step 1 of 7 · Welcome…")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)


async def test_a_screen_shown_while_a_step_opens_wins_and_the_wizard_still_moves(make_app: MakeApp) -> None:
    from textual.screen import Screen

    class Elsewhere(Screen[None]):
        pass

    app = make_app(InstallPlan(name="demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        welcome = app.screen
        welcome.action_next()  # type: ignore[attr-defined]
        app.show(Elsewhere())  # e.g. an install's view opened in the same instant
        await settle(pilot)
        assert isinstance(app.screen, Elsewhere)  # not replaced by the step that was opening
        app.goto(Step.welcome)  # the wizard is not stuck waiting for the lost step
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        app.screen.action_next()  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, ModelScreen)
