"""The wizard's Azure Review (what-if), Launch (per-resource rows), Done and Failed screens, driven
by pilot against the HTTPS fake ARM with the real azure-mgmt clients and the real engine.

The wizard starts on Prerequisites with the session a Target-step sign-in would have left
(``app.azure_session``, signed in through the stub ``az``): the real Azure checks run with it,
Review asks ARM for the what-if in a worker, Ctrl+L launches in a worker, and the fake deploys
the submitted template resource by resource in simulated time."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input

from installer.azure import SignInOptions, sign_in
from installer.checks.azure import azure_checks
from installer.flow import Step
from installer.plan import DeploymentModel, InstallPlan
from installer.render.workload import azure_names
from screens.app import FabrixApp
from screens.deps import default_launch
from screens.dialogs.choice import ChoiceDialog
from screens.steps.launch import LaunchScreen, resource_label
from screens.steps.result import DoneScreen, FailedScreen
from screens.steps.review import ReviewScreen
from screens.widgets.progress_row import ProgressRow
from tests.azure import scenarios
from tests.ui.helpers import UiThreadCalls, next_step, settle

MakeApp = Callable[..., FabrixApp]
RG = "rg-fx-uitest"
SPEED = 4000.0  # simulated seconds per real second (a ~7-minute ACA foundation in a fraction of a second)


@pytest.fixture
def azure_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FABRIX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PUBLIC_DOMAIN", "ai.contoso.test")
    monkeypatch.setenv("FABRIX_ARM_POLL_SECONDS", "0.02")
    monkeypatch.setenv("FABRIX_SMOKE_BUDGET", "0")
    return tmp_path / "home"


def plan_for(arm: Any, name: str = "uiaz", **over: Any) -> InstallPlan:
    data: dict[str, Any] = {
        "name": name, "model": DeploymentModel.container, "target": "aca",
        "azure": {"cloud": "custom", "arm_endpoint": arm.url, "subscription_id": scenarios.SUBSCRIPTION,
                  "tenant_id": scenarios.TENANT, "location": scenarios.LOCATION, "resource_group": RG},
    }
    data.update(over)
    return InstallPlan(**data)


def signed_in_app(make_app: MakeApp, plan: InstallPlan, **deps: Any) -> FabrixApp:
    """The wizard as the Target step leaves it: signed in, on to Prerequisites (real Azure checks)."""
    app = make_app(plan, checks=azure_checks, azure_device_code=False, **deps)
    app.azure_session = sign_in(SignInOptions.from_plan(plan))
    app.start_step = Step.prerequisites
    return app


def group_ids(arm: Any) -> set[str]:
    return {r.id.lower() for r in arm.deploy.group_resources(RG)}


def live_stacks(arm: Any) -> list[Any]:
    return [s for s in arm.deploy.stacks.values() if s.delete_done_at is None]


def text_of(app: FabrixApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def to_review(pilot: Any, app: FabrixApp) -> ReviewScreen:
    await settle(pilot)
    assert app.check_results and all(r.status.value != "fail" for r in app.check_results.values()), app.check_results
    await next_step(pilot)
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


async def wait_for(pilot: Any, done: Callable[[], bool], rounds: int = 3000) -> None:
    for _ in range(rounds):  # bounded; no timing asserted
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError("the wizard never got there")


class HeldLaunch:
    """The real launch, then held until the test has read the Launch screen (it is replaced by
    Done/Failed as soon as the worker returns)."""

    def __init__(self) -> None:
        self.returned = threading.Event()
        self.release = threading.Event()
        self.kwargs: dict[str, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        try:
            return default_launch(*args, **kwargs)
        finally:
            self.returned.set()
            self.release.wait(60)


def rows(screen: LaunchScreen) -> dict[str, str]:
    """Resource row id → its label and words as drawn."""
    return {str(row.id): f"{row.label} {row.words}" for row in screen.query("#launch-services ProgressRow").results(ProgressRow)}


async def test_aca_launch_from_review_shows_every_resource_then_done(make_app: MakeApp, fake_arm, azure_env) -> None:  # noqa: ANN001
    arm = fake_arm(page_size=0)
    arm.deploy.clock.set_speed(SPEED)
    held = HeldLaunch()
    plan = plan_for(arm)
    app = signed_in_app(make_app, plan, launch=held)
    # No ARM request (a socket connect) from the UI thread, from here on.
    with UiThreadCalls() as ui_thread:
        async with app.run_test(size=(100, 40)) as pilot:
            review = await to_review(pilot, app)
            preview = text_of(app, "#azure-preview")
            assert "to create" in preview and "0 to delete" in preview, preview
            assert app.azure_preview is not None and app.azure_preview.counts["create"] > 20
            assert not review.query_one("#foreign-confirm", Input).display  # nothing foreign: nothing to confirm
            assert "Launch: ready" in text_of(app, "#launch-note")
            await pilot.press("ctrl+l")
            launch = app.screen
            assert isinstance(launch, LaunchScreen)
            await wait_for(pilot, held.returned.is_set)
            await wait_for(pilot, lambda: not launch._events)
            await pilot.pause()
            # The wizard handed the engine its own sign-in and no permission for foreign changes.
            assert held.kwargs["session"] is app.azure_session and held.kwargs["allow_foreign"] is False
            shown = rows(launch)
            ops = {op.resource.id.lower() for op in live_stacks(arm)[0].deployment.ops}
            deployed = [row for row in shown if row.startswith("svc--subscriptions-")]
            assert len(deployed) == len(ops), sorted(shown)  # one row per deployment operation
            vault = next(v for v in shown.values() if v.startswith("vaults/" + azure_names(plan).key_vault))
            assert re.search(r" succeeded \d+s$", vault), vault  # ARM's word and the duration
            steps = {row.label: row.words for row in launch.query("#launch-steps ProgressRow").results(ProgressRow)}
            assert {"signin", "group", "preview", "deploy", "postdeploy", "probe"} <= set(steps), steps
            assert not [v for v in shown.values() if " failed" in v]
            held.release.set()
            await settle(pilot)
            assert ui_thread.calls == [], ui_thread.calls  # Review's what-if and the launch ran in workers
            assert isinstance(app.screen, DoneScreen)
            done = text_of(app, "#done-text")
            assert "is deployed to Azure" in done
        assert "https://ai.contoso.test/" in done  # the Front Door URL for the plan's domain
        assert f"Key Vault: {azure_names(plan).key_vault}" in done
        assert "keycloak-admin-password" in done  # the first sign-in
        assert f"down --name {plan.name}" in done
    assert len(live_stacks(arm)) == 1


async def test_a_failing_resource_ends_on_failed_with_arms_error_and_the_group_as_before(
    make_app: MakeApp, fake_arm, azure_env  # noqa: ANN001
) -> None:
    arm = fake_arm(page_size=0)
    arm.deploy.clock.set_speed(SPEED)
    arm.deploy.add_group(RG)
    theirs = arm.deploy.add_resource(RG, "Microsoft.Storage/storageAccounts", "theirdata", tags={"owner": "finance"})
    before = group_ids(arm)
    arm.deploy.fail("Microsoft.DBforPostgreSQL/flexibleServers", "QuotaExceeded")
    held = HeldLaunch()
    app = signed_in_app(make_app, plan_for(arm), launch=held)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_review(pilot, app)
        await pilot.press("ctrl+l")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_for(pilot, held.returned.is_set)
        await wait_for(pilot, lambda: not launch._events)
        await pilot.pause()
        failed_rows = [v for v in rows(launch).values() if " failed" in v]
        assert [v for v in failed_rows if v.startswith("flexibleServers/") and "QuotaExceeded" in v], rows(launch)
        held.release.set()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FailedScreen)
        text = text_of(app, "#failed-text")
        assert "The launch failed" in text
        assert "QuotaExceeded" in text and "quota" in text.lower()  # ARM's code and its message
        assert "Rolled back" in text and f"{RG} was not created by this run" in text
        assert f"rollback --name {plan_for(arm).name}" not in text  # nothing left to roll back: not offered
        offered = {str(b.label) for b in screen.query(Button) if b.display and not b.disabled}
        assert offered == {"◀ Fix the plan", "Retry", "Quit"}
        assert screen.check_action("roll_back", ()) is False
    assert group_ids(arm) == before and theirs.id.lower() in group_ids(arm)
    assert not live_stacks(arm)


async def test_a_failing_database_job_shows_its_status_and_exit_code(make_app: MakeApp, fake_arm, azure_env) -> None:  # noqa: ANN001
    from tests.azure.fake_arm_ops import JobScript

    arm = fake_arm(page_size=0)
    arm.deploy.clock.set_speed(SPEED)
    plan = plan_for(arm)
    job = f"fx-db-{plan.name}"
    arm.deploy.jobs.script(job, JobScript(duration=20, exit_code=3, logs="psql: FATAL: password authentication failed"))
    app = signed_in_app(make_app, plan)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_review(pilot, app)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen | FailedScreen))
        await settle(pilot)
        assert isinstance(app.screen, FailedScreen)
        text = text_of(app, "#failed-text")
        assert "database step ended Failed" in text, text
        assert "ARM says" in text and f"job: {job}" in text and "exit 3" in text, text
        assert "Rolled back" in text and "resource group" in text
    assert not live_stacks(arm)


async def test_cancel_mid_deployment_asks_then_cancels_arm_and_rolls_back(make_app: MakeApp, fake_arm, azure_env) -> None:  # noqa: ANN001
    arm = fake_arm(page_size=0)
    arm.deploy.clock.set_speed(40.0)  # slow enough to press Escape while resources deploy
    app = signed_in_app(make_app, plan_for(arm))
    async with app.run_test(size=(100, 40)) as pilot:
        await to_review(pilot, app)
        arm.deploy.clock.set_speed(40.0)
        await pilot.press("ctrl+l")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_for(pilot, lambda: any("running" in v for v in rows(launch).values()) or not launch.running)
        assert launch.running, "the launch ended before it could be cancelled"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)  # it asks first
        assert "ARM deployment" in str(app.screen.query_one(".dialog-body").render())
        await pilot.click("#choice-rollback")
        arm.deploy.clock.set_speed(SPEED)  # the rollback's deletes need not take simulated minutes
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen | FailedScreen))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FailedScreen)
        text = text_of(app, "#failed-text")
        assert "cancelled" in text and "nothing failed" in text
        assert "Rolled back" in text and "resource group" in text
        assert screen.check_action("roll_back", ()) is False
    assert not live_stacks(arm)
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}


async def test_cancel_and_keep_leaves_it_in_azure_then_roll_back_from_failed(make_app: MakeApp, fake_arm, azure_env) -> None:  # noqa: ANN001
    arm = fake_arm(page_size=0)
    arm.deploy.clock.set_speed(SPEED)
    plan = plan_for(arm)
    app = signed_in_app(make_app, plan)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_review(pilot, app)
        arm.deploy.clock.set_speed(40.0)
        await pilot.press("ctrl+l")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_for(pilot, lambda: any("running" in v for v in rows(launch).values()) or not launch.running)
        assert launch.running, "the launch ended before it could be cancelled"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.click("#choice-keep")
        arm.deploy.clock.set_speed(SPEED)
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen | FailedScreen))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FailedScreen)
        text = text_of(app, "#failed-text")
        assert "kept in Azure for debugging" in text and RG in text
        assert f"rollback --name {plan.name}" in text and "--resume" in text
        assert str(azure_env / "installs" / plan.name / "answers.yaml") in text  # the real answers path
        assert live_stacks(arm)  # still there, as asked
        offered = {str(b.label) for b in screen.query(Button) if b.display and not b.disabled}
        assert "Roll back" in offered
        await pilot.press("b")
        await settle(pilot)
        text = text_of(app, "#failed-text")
        assert "Rolled back" in text and "Nothing this run deployed is left" in text, text
        assert screen.check_action("roll_back", ()) is False
    assert not live_stacks(arm)
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}


async def test_a_foreign_change_blocks_launch_until_the_group_name_is_typed(make_app: MakeApp, fake_arm, azure_env) -> None:  # noqa: ANN001
    arm = fake_arm(page_size=0)
    arm.deploy.clock.set_speed(SPEED)
    arm.deploy.add_group(RG)
    plan = plan_for(arm)
    # Someone else's vault already holds the name the template deploys: what-if says Modify.
    arm.deploy.add_resource(RG, "Microsoft.KeyVault/vaults", azure_names(plan).key_vault, tags={"owner": "security"},
                            properties={"tenantId": scenarios.TENANT})
    held = HeldLaunch()
    app = signed_in_app(make_app, plan, launch=held)
    async with app.run_test(size=(100, 40)) as pilot:
        review = await to_review(pilot, app)
        preview = text_of(app, "#azure-preview")
        assert "NOT owned by this install" in preview and azure_names(plan).key_vault in preview, preview
        assert "1 to modify" in preview
        assert "does not own" in text_of(app, "#launch-note")
        confirm = review.query_one("#foreign-confirm", Input)
        assert confirm.display
        # Neither Ctrl+L, nor Enter, nor Next passes it.
        for key in ("ctrl+l", "enter", "ctrl+n"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is review, key
        confirm.focus()
        await pilot.press(*"rg-wrong", "enter")
        await settle(pilot)
        assert app.screen is review and not app.allow_foreign_changes
        confirm.value = ""
        await pilot.press(*RG)
        await settle(pilot)
        assert app.allow_foreign_changes
        assert "Launch: ready" in text_of(app, "#launch-note")
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, LaunchScreen)
        await wait_for(pilot, held.returned.is_set)
        assert held.kwargs["allow_foreign"] is True
        held.release.set()
        await settle(pilot)
        assert isinstance(app.screen, DoneScreen), text_of(app, "#failed-text") if isinstance(app.screen, FailedScreen) else app.screen


async def test_without_the_confirmation_the_engine_refuses_and_failed_says_nothing_was_deployed(
    make_app: MakeApp, fake_arm, azure_env  # noqa: ANN001
) -> None:
    """Review's gate is not the only one: a launch that skipped it (no preview could run) is
    refused by the engine's own what-if, and the Failed screen says why and that the group is kept."""
    arm = fake_arm(page_size=0)
    arm.deploy.clock.set_speed(SPEED)
    arm.deploy.add_group(RG)
    plan = plan_for(arm)
    arm.deploy.add_resource(RG, "Microsoft.KeyVault/vaults", azure_names(plan).key_vault, tags={"owner": "security"},
                            properties={"tenantId": scenarios.TENANT})
    before = group_ids(arm)

    def no_preview(_plan: InstallPlan, _session: Any) -> Any:
        raise OSError("ARM did not answer")

    app = signed_in_app(make_app, plan, preview=no_preview)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_review(pilot, app)
        assert "did not run" in text_of(app, "#azure-preview")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen | FailedScreen))
        await settle(pilot)
        assert isinstance(app.screen, FailedScreen)
        text = text_of(app, "#failed-text")
        assert "does not own" in text and "Nothing was deployed" in text
        assert f"{RG} was not created by this run" in text
    assert not arm.deploy.stacks and group_ids(arm) == before


async def test_a_value_the_deployment_needs_blocks_launch_on_review(
    make_app: MakeApp, fake_arm, azure_env, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    """The preview renders the deployment's parameters: a missing one (the public domain comes from
    PUBLIC_DOMAIN) is named with its fix on Review, and Launch waits for it instead of failing later."""
    monkeypatch.delenv("PUBLIC_DOMAIN")
    arm = fake_arm(page_size=0)
    app = signed_in_app(make_app, plan_for(arm))
    async with app.run_test(size=(100, 40)) as pilot:
        review = await to_review(pilot, app)
        assert "PUBLIC_DOMAIN" in text_of(app, "#azure-preview")
        note = text_of(app, "#launch-note")
        assert "not yet" in note and "PUBLIC_DOMAIN" in note, note
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.screen is review
    assert not arm.deploy.groups.get(RG.lower())  # nothing was created


async def test_manual_review_points_at_the_runbook(make_app: MakeApp, azure_env) -> None:  # noqa: ANN001
    app = make_app(InstallPlan(name="uiman", model=DeploymentModel.manual))
    app.check_results = {}
    app.start_step = Step.review
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        note = text_of(app, "#launch-note")
        assert "runbook" in note and "RUNBOOK.md" in note
        assert app.screen.check_action("launch", ()) is None


def test_resource_labels_drop_the_provider_namespace() -> None:
    assert resource_label("Microsoft.KeyVault/vaults/fxkv-abc12") == "vaults/fxkv-abc12"
    assert resource_label("Microsoft.Cdn/profiles/afdEndpoints/routes/afd/fde/chat") == "routes/chat"
    assert resource_label("fx-db-demo") == "fx-db-demo"
    vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-x"
    assert resource_label("Microsoft.Insights/diagnosticSettings/to-log-analytics",
                          f"{vault}/providers/Microsoft.Insights/diagnosticSettings/to-log-analytics") == "diagnosticSettings@kv-x"


async def test_an_azure_install_on_welcome_is_not_offered_dockers_stop_and_remove(make_app: MakeApp, azure_env) -> None:  # noqa: ANN001
    """An Azure install has nothing in Docker: the installs list says where it lives and which
    command asks ARM, and its screen offers no Stop/Remove that would only look at Docker."""
    from installer.answers import save_answers
    from installer.installs import InstallState, describe_install
    from installer.plan import Target
    from installer.state import install_dir
    from screens.install_view import InstallScreen

    plan = InstallPlan(name="uiazdone", target=Target.aca, azure={"subscription_id": scenarios.SUBSCRIPTION,
                                                                   "location": scenarios.LOCATION, "resource_group": RG})
    folder = install_dir(plan.name).create()
    save_answers(plan, folder.answers)
    never = describe_install(plan.name)
    assert never.azure and never.state is InstallState.stopped and "never launched" in never.detail
    folder.journal.write_text("")  # a launch happened (and ended)
    info = describe_install(plan.name)
    assert info.azure and info.state is InstallState.azure and RG in info.detail and "fabrix status" in info.detail
    app = make_app(InstallPlan(name="other"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.push_screen(InstallScreen(info))
        await settle(pilot)
        text = text_of(app, "#install-text")
        assert f"fabrix down --name {plan.name}" in text
        shown = {str(b.label) for b in app.screen.query(Button) if b.display}
        assert "Stop" not in shown and "Remove" not in shown and "Roll back" not in shown


def whatif_with_a_foreign_delete(plan: InstallPlan) -> Any:
    """ARM's what-if answer (the shape of ``WhatIfOperationResult``) with a delete of someone else's
    resource. The fake's what-if runs in Incremental mode, as the launch does, and never reports a
    Delete; a Complete-mode or stack what-if does, so the screen must handle one."""
    from installer.launch.azure.preview import preview_from_whatif

    group = f"/subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{RG}/providers"
    ours = {"tags": {"fabrix-install": plan.name}}
    body = {"status": "Succeeded", "properties": {"changes": [
        {"resourceId": f"{group}/Microsoft.KeyVault/vaults/kv-new", "changeType": "Create"},
        {"resourceId": f"{group}/Microsoft.App/managedEnvironments/cae-x", "changeType": "Modify", "before": ours,
         "delta": [{"path": "properties.workloadProfiles", "propertyChangeType": "Modify"}]},
        {"resourceId": f"{group}/Microsoft.Storage/storageAccounts/financedata", "changeType": "Delete",
         "before": {"tags": {"owner": "finance"}}},
        {"resourceId": f"{group}/Microsoft.Network/virtualNetworks/vnet-x", "changeType": "NoChange", "before": ours},
    ]}}
    return preview_from_whatif(body, plan.name)


async def test_a_foreign_delete_in_the_preview_blocks_launch_until_confirmed(make_app: MakeApp, azure_env) -> None:  # noqa: ANN001
    plan = InstallPlan(name="uiazdel", target="aca", azure={"subscription_id": scenarios.SUBSCRIPTION,
                                                             "location": scenarios.LOCATION, "resource_group": RG})
    launched: list[dict[str, Any]] = []

    def launch(*_args: Any, **kwargs: Any) -> None:
        launched.append(kwargs)
        return None  # the engine is not what this test is about: Failed says it did not run

    app = make_app(plan, preview=lambda p, _s: whatif_with_a_foreign_delete(p), launch=launch)
    app.check_results = {}
    app.start_step = Step.review
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        preview = text_of(app, "#azure-preview")
        assert "1 to create, 1 to modify, 1 to delete, 1 unchanged" in preview, preview
        assert "delete Microsoft.Storage/storageAccounts/financedata — NOT owned" in preview
        assert "modify Microsoft.App/managedEnvironments/cae-x (properties.workloadProfiles)" in preview
        for key in ("ctrl+l", "enter", "ctrl+n"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is review and not launched, key
        review.query_one("#foreign-confirm", Input).focus()
        await pilot.press(*RG)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert launched and launched[0]["allow_foreign"] is True
