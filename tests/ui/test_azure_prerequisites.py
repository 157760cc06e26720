"""Prerequisites for an Azure model reuse the Target step's sign-in: the Azure checks run with the
same session (no second `az` call, no second prompt) against the HTTPS fake ARM, and show results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual.widgets import Button, Select

from installer.checks import Check, CheckContext, CheckResult, Status
from installer.checks.azure import azure_checks
from installer.plan import InstallPlan, Target
from screens.app import FabrixApp
from screens.steps.prerequisites import PrerequisitesScreen
from screens.steps.target import TargetScreen
from screens.widgets.check_row import CheckRow
from tests.azure import scenarios
from tests.ui.helpers import next_step, settle


def _token_calls(az_stub) -> int:  # noqa: ANN001
    return len([c for c in az_stub.calls() if "get-access-token" in c])


async def test_prerequisites_reuse_the_target_sign_in(make_app: Callable[..., FabrixApp], fake_arm, az_stub) -> None:  # noqa: ANN001
    fake_arm()
    seen: list[object] = []

    def recording(check: Check) -> Check:
        def run(ctx: CheckContext) -> CheckResult:
            seen.append(ctx.cache.get("azure.session"))
            return check.run(ctx)

        return replace(check, run=run)

    # The Azure checks only: the local ones would report this machine's Docker and memory.
    app = make_app(InstallPlan(name="ui-azure-pre", target=Target.aca, azure={"cloud": "custom"}),
                   checks=lambda plan: [recording(c) for c in azure_checks(plan)], azure_device_code=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        assert isinstance(app.screen, TargetScreen)
        app.screen.query_one("#sign-in", Button).press()
        await settle(pilot)
        assert app.azure_session is not None
        signed_in = _token_calls(az_stub)
        assert signed_in == 1
        app.screen.query_one("#subscription-pick", Select).value = scenarios.SUBSCRIPTION
        await settle(pilot)
        app.screen.query_one("#location-pick", Select).value = scenarios.LOCATION
        await settle(pilot)
        await next_step(pilot)  # options
        await next_step(pilot)  # prerequisites: the checks run in a thread worker
        assert isinstance(app.screen, PrerequisitesScreen)
        results = app.check_results or {}
        assert set(results) == {c.id for c in azure_checks(app.plan)}
        # Every check got the wizard's session object, and nobody signed in again.
        assert seen and all(s is app.azure_session for s in seen)
        assert _token_calls(az_stub) == signed_in
        failing = {k: f"{r.status.value}: {r.found}" for k, r in results.items() if r.status is not Status.passed}
        assert failing == {}
        assert "consultant@contoso.example" in results["azure.signin"].found
        rows = {row.check_id: row for row in app.screen.query(CheckRow)}
        assert "azure.zones" in rows and all(row.has_class("-pass") for row in rows.values())
        summary = str(app.screen.query_one("#checks-summary").render())
        assert f"{len(results)} passed" in summary, summary


async def test_a_sign_in_for_another_tenant_is_not_reused(make_app: Callable[..., FabrixApp], fake_arm, az_stub) -> None:  # noqa: ANN001
    fake_arm()
    other_tenant = "00000000-0000-0000-0000-0000000000aa"
    app = make_app(InstallPlan(name="ui-azure-pre2", target=Target.aca, azure={"cloud": "custom"}),
                   checks=azure_checks, azure_device_code=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        app.screen.query_one("#sign-in", Button).press()
        await settle(pilot)
        assert app.azure_session is not None
        assert app.azure_session.serves(app.plan)
        assert not app.azure_session.serves(app.plan.model_copy(update={"azure": app.plan.azure.model_copy(update={"tenant_id": other_tenant})}))


async def test_failed_sign_in_is_one_row_with_the_dependent_checks_under_it(
    make_app: Callable[..., FabrixApp], fake_arm, tmp_path, monkeypatch  # noqa: ANN001
) -> None:
    """No `az`, no service principal, nobody pressed "Sign in" on Target: one row says why and
    what to do (here: Back to Target for a device code), the checks that need ARM are named once
    under it, not as twelve rows repeating the same error."""
    fake_arm()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}:/usr/bin:/bin")
    app = make_app(InstallPlan(name="ui-azure-nosign", target=Target.aca,
                               azure={"cloud": "custom", "subscription_id": scenarios.SUBSCRIPTION,
                                      "location": scenarios.LOCATION}),
                   checks=azure_checks, azure_device_code=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        for _ in range(4):
            await next_step(pilot)
        assert isinstance(app.screen, PrerequisitesScreen)
        results = app.check_results or {}
        assert results["azure.signin"].status is Status.fail
        assert "go Back to Target" in results["azure.signin"].remedy
        rows = {row.check_id: row for row in app.screen.query(CheckRow)}
        shown = [cid for cid, row in rows.items() if row.display]
        assert shown == ["azure.signin"]
        row = rows["azure.signin"]
        text = " ".join("".join(seg.text for seg in line) for line in row.render_lines(row.region.reset_offset))
        text = " ".join(text.split())
        assert "nothing to sign in with" in text
        assert f"not verified until this is fixed ({len(results) - 1})" in text
        assert "Azure subscription state and offer" in text and "Key Vault name available" in text
        summary = str(app.screen.query_one("#checks-summary").render())
        assert "1 failed" in summary and f"{len(results) - 1} not verified" in summary
