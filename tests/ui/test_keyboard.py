"""Pilot tests: the wizard by keyboard alone — a sensible focus on every step, Enter moves on,
Prerequisites scroll at 80×24, and Back keeps every typed value (valid or not)."""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.widgets import Button, Input, OptionList

from installer.checks import Check, CheckResult, Status
from installer.flow import Step
from installer.plan import InstallPlan
from screens.app import FabrixApp
from screens.widgets.check_row import CheckRow
from screens.widgets.field import Field
from tests.ui.conftest import pinned_checks
from tests.ui.helpers import next_step, settle

MakeApp = Callable[..., FabrixApp]


def _field(app: FabrixApp, path: str) -> Field:
    return next(f for f in app.screen.query(Field) if f.path == path)


async def test_enter_walks_from_welcome_to_prerequisites(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, Button) and app.focused.id == "nav-next"
        await pilot.press("enter")
        await settle(pilot)
        assert app.step is Step.model
        assert isinstance(app.focused, OptionList)
        await pilot.press("enter")  # choose the highlighted model
        await settle(pilot)
        assert app.step is Step.target
        assert isinstance(app.focused, Input)
        assert app.focused.parent is _field(app, "name")  # the first field, not nothing
        await pilot.press("enter")  # Enter in a valid field moves on
        await settle(pilot)
        assert app.step is Step.options
        await pilot.press("enter")
        await settle(pilot)
        assert app.step is Step.prerequisites
        assert isinstance(app.focused, VerticalScroll)
        await pilot.press("enter")  # the body does not use Enter: on to Review
        await settle(pilot)
        assert app.step is Step.review


async def test_enter_in_an_invalid_field_stays_and_points_at_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)  # Target
        field = _field(app, "compose.ports.flowise")
        field.query_one(Input).value = "99999"
        await settle(pilot)
        _field(app, "name").query_one(Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.step is Step.target
        assert app.focused is field.query_one(Input)


async def test_resume_is_focused_when_there_is_something_to_resume(make_app: MakeApp) -> None:
    from installer.plan import InstallPlan
    from installer.wizard_state import WizardProgress

    app = make_app()
    app.saved = WizardProgress(InstallPlan(name="half-done"), Step.options)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, Button) and app.focused.id == "resume"
        await pilot.press("enter")
        await settle(pilot)
        assert app.step is Step.options and app.plan.name == "half-done"


def _many_checks(plan: InstallPlan) -> list[Check]:
    """The pinned checks plus the real set's other rows, so the failing one is last, below the fold."""
    extra = [
        Check(id=f"extra-{n}", title=title, run=lambda _ctx, n=n, title=title: CheckResult(
            id=f"extra-{n}", title=title, status=Status.passed, found="ok"))
        for n, title in enumerate(["Disk space", "CPU cores", "Docker data root", "Bind address",
                                   "Data folder", "Registry reachable"])
    ]
    pinned = pinned_checks(fail=True)(plan)
    return pinned[:-1] + extra + pinned[-1:]


async def test_prerequisites_scroll_by_keyboard_at_80x24(make_app: MakeApp) -> None:
    app = make_app(checks=_many_checks)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(4):
            await next_step(pilot)
        assert app.step is Step.prerequisites
        body = app.screen.query_one("#body", VerticalScroll)
        assert app.focused is body
        rows = list(app.screen.query(CheckRow))
        assert len(rows) == 10
        last = rows[-1]
        assert body.max_scroll_y > 0  # the failing row is below the fold…
        assert last.region.bottom > body.region.bottom
        await pilot.press("end")  # …and End brings it fully into view
        await settle(pilot)
        assert body.scroll_y == body.max_scroll_y
        assert body.region.contains_region(last.region)
        await pilot.press("home")
        await settle(pilot)
        assert body.scroll_y == 0
        await pilot.press("pagedown")
        await settle(pilot)
        assert body.scroll_y > 0
        await pilot.press("up")
        await settle(pilot)
        assert body.scroll_y < body.max_scroll_y


async def test_prerequisites_last_row_is_whole_at_120x40(make_app: MakeApp) -> None:
    app = make_app(checks=_many_checks)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(4):
            await next_step(pilot)
        body = app.screen.query_one("#body", VerticalScroll)
        await pilot.press("end")
        await settle(pilot)
        last = list(app.screen.query(CheckRow))[-1]
        assert body.region.contains_region(last.region)
        assert last.check_id == "ports" and last.has_class("-fail")


async def test_back_keeps_valid_and_invalid_edits(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)  # Target
        _field(app, "compose.ports.flowise").query_one(Input).value = "13002"  # valid
        await settle(pilot)
        _field(app, "compose.ports.keycloak").query_one(Input).value = "80a"  # not a port
        await settle(pilot)
        assert app.screen.valid is False
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert app.step is Step.model
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.step is Step.target
        assert _field(app, "compose.ports.flowise").value == "13002"
        assert _field(app, "compose.ports.keycloak").value == "80a"
        assert app.screen.valid is False  # the invalid value is shown again, still marked
        _field(app, "compose.ports.keycloak").query_one(Input).value = "18082"
        await settle(pilot)
        await next_step(pilot)
        assert app.step is Step.options
        assert app.plan.compose.ports == {"flowise": 13002, "keycloak": 18082}
        # once stored in the plan, no typed text is left over
        assert not [key for key in app.drafts if key.startswith("field:")]


async def test_back_keeps_an_azure_choice_next_to_an_invalid_field(make_app: MakeApp) -> None:
    from textual.widgets import Select

    from installer.plan import AzureCloud, DeploymentModel

    app = make_app(InstallPlan(name="ui-az", model=DeploymentModel.marketplace))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)  # Target (Azure)
        app.screen.query_one("#cloud", Select).value = AzureCloud.china
        _field(app, "azure.subscription_id").query_one(Input).value = "not-a-guid"
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        await next_step(pilot)
        assert app.screen.query_one("#cloud", Select).value == AzureCloud.china
        assert _field(app, "azure.subscription_id").value == "not-a-guid"
