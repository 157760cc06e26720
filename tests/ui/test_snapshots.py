"""SVG snapshots of every screen at 80×24 and 120×40.

Frozen: cursor blink, animations, the clock (elapsed 0:00), Docker versions and check results
(pinned facts), and paths (a fixed FABRIX_HOME and working folder). Update after a deliberate
change with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from installer.flow import Step
from installer.launch.model import Diagnostics, LaunchResult, Outcome, RollbackResult, Summary
from installer.plan import InstallPlan, Target
from installer.progress import ProgressEvent, Reporter, State
from screens.app import FabrixApp
from screens.steps.result import DoneScreen, FailedScreen
from screens.widgets.field import Field
from tests.ui.helpers import next_step, settle

SIZES = [(80, 24), (120, 40)]
HOME = Path("/tmp/fabrix-ui-snapshots")


@pytest.fixture(autouse=True)
def fixed_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Screens show state paths: a fixed home keeps them the same on every machine."""
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    monkeypatch.setenv("FABRIX_HOME", str(HOME / "state"))
    # As after the README's quick start: this installation's `fabrix` is on PATH, so the
    # commands the screens print read `fabrix …` on every machine.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    monkeypatch.chdir(HOME)
    yield HOME
    shutil.rmtree(HOME, ignore_errors=True)


@pytest.fixture
def snap_app(make_app: Callable[..., FabrixApp]) -> Callable[..., FabrixApp]:
    def make(plan: InstallPlan | None = None, **kwargs: Any) -> FabrixApp:
        app = make_app(plan or InstallPlan(name="demo"), **kwargs)
        app.deps.workdir = HOME
        return app

    return make


def _steps(count: int) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for _ in range(count):
            await next_step(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("screen", "steps"),
    [("welcome", 0), ("model", 1), ("target", 2), ("options", 3), ("prerequisites", 4), ("review", 5)],
)
def test_step_screens(snap_compare: Any, snap_app: Callable[..., FabrixApp], screen: str, steps: int,
                      size: tuple[int, int]) -> None:
    assert snap_compare(snap_app(fail=screen == "prerequisites"), run_before=_steps(steps), terminal_size=size)


def test_light_theme(snap_compare: Any, snap_app: Callable[..., FabrixApp], monkeypatch: pytest.MonkeyPatch) -> None:
    """Colours come only from theme variables: the light theme must read as well as the dark."""
    monkeypatch.setenv("COLORFGBG", "0;15")
    assert snap_compare(snap_app(), run_before=_steps(3), terminal_size=(80, 24))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_target_azure(snap_compare: Any, snap_app: Callable[..., FabrixApp], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _steps(2)(pilot)
        field = next(f for f in pilot.app.screen.query(Field) if f.path == "azure.location")
        field.query_one(Input).value = "Sweden Central"  # shows the model's own format message
        await settle(pilot)

    plan = InstallPlan(name="demo", target=Target.aca)
    assert snap_compare(snap_app(plan), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_review_files_tab(snap_compare: Any, snap_app: Callable[..., FabrixApp], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await _steps(5)(pilot)
        pilot.app.screen.query_one("#review-tabs").active = "tab-files"
        await settle(pilot)

    assert snap_compare(snap_app(), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_dialog(snap_compare: Any, snap_app: Callable[..., FabrixApp], size: tuple[int, int]) -> None:
    assert snap_compare(snap_app(), run_before=_steps(3), press=["f1"], terminal_size=size)


def scripted_launch() -> Callable[..., Any]:
    """A fixed sequence of the engine's events, then a wait: the screen mid-launch, every run alike."""

    def launch(_plan: InstallPlan, reporter: Reporter, cancel: threading.Event, **_kw: Any) -> None:
        events = [
            ProgressEvent("checks", State.done, "8 passed"),
            ProgressEvent("render", State.done, "4 files"),
            ProgressEvent("validate", State.done, "docker compose config: ok"),
            ProgressEvent("pull", State.running, "2 images"),
            ProgressEvent("pull", State.pulling, "pgvector/pgvector:pg15", service="postgres", current=40, total=100),
            ProgressEvent("pull", State.done, "", service="redis"),
            ProgressEvent("up", State.running, "compose up --wait"),
            ProgressEvent("up", State.health_starting, "health: starting (failing streak 2)", service="keycloak",
                          data={"failing_streak": 2}),
            ProgressEvent("up", State.healthy, "healthy", service="redis"),
        ]
        for event in events:
            reporter(event)
        cancel.wait(30)  # leaving the app cancels the launch (LaunchScreen.on_unmount)

    return launch


async def settle_rows(pilot: Pilot[Any]) -> None:
    """Wait until every scripted event is on screen (the worker is still running, so no
    wait_for_complete here)."""
    from screens.widgets.progress_row import ProgressRow

    for _ in range(200):
        rows = list(pilot.app.screen.query(ProgressRow))
        if len(rows) == 7 and not pilot.app.screen._events:
            break
        await pilot.pause(0.01)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_launch_screen(snap_compare: Any, snap_app: Callable[..., FabrixApp], size: tuple[int, int]) -> None:
    app = snap_app(launch=scripted_launch())

    async def run(pilot: Pilot[Any]) -> None:
        await _steps(5)(pilot)
        await pilot.press("ctrl+l")
        await settle_rows(pilot)

    assert snap_compare(app, run_before=run, terminal_size=size)


RESULT_SUMMARY = Summary(
    name="demo", project="fabrix-demo",
    urls={"keycloak": "http://127.0.0.1:8082", "flowise": "http://127.0.0.1:3002",
          "openwebui": "http://127.0.0.1:3003"},
    admin_user="admin", admin_email="admin@example.com",
    secrets_file=str(HOME / "state/installs/demo/secrets.env"),
    bundle_dir=str(HOME / "state/installs/demo/bundle"),
    services=["postgres", "redis", "keycloak", "flowise", "openwebui"],
    front_door_urls={"keycloak": "http://auth.localhost:8080/", "flowise": "http://flowise.localhost:8080/",
                     "openwebui": "http://openwebui.localhost:8080/"},
)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_done_screen(snap_compare: Any, snap_app: Callable[..., FabrixApp], size: tuple[int, int],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    result = LaunchResult(Outcome.ok, "demo", "run-1", "demo is running", summary=RESULT_SUMMARY)

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.show(DoneScreen(result))
        await settle(pilot)

    assert snap_compare(snap_app(), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_failed_screen_kept(snap_compare: Any, snap_app: Callable[..., FabrixApp], size: tuple[int, int]) -> None:
    """A cancelled run kept for debugging: Roll back offered, the real answers path in the hint."""
    result = LaunchResult(Outcome.cancelled, "demo", "run-1", "The launch of demo was cancelled.",
                          diagnostics=Diagnostics(reason="cancelled", service="keycloak", state="starting"))

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.show(FailedScreen(result, cancelled=True))
        await settle(pilot)

    assert snap_compare(snap_app(), run_before=run, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_failed_screen(snap_compare: Any, snap_app: Callable[..., FabrixApp], size: tuple[int, int]) -> None:
    result = LaunchResult(
        Outcome.failed, "demo", "run-1",
        "redis did not become healthy within 30 s; everything this run created was removed.",
        diagnostics=Diagnostics(
            reason="dependency failed to start: container fabrix-demo-redis-1 is unhealthy",
            service="redis", state="running (unhealthy)",
            health_output="stand-in redis is sick: health check fails on purpose",
            log_lines=["stand-in redis up on ports 6379"],
        ),
        rollback=RollbackResult(name="demo", run_id="run-1", removed="3 containers, 1 network"),
    )

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.show(FailedScreen(result))
        await settle(pilot)

    assert snap_compare(snap_app(), run_before=run, terminal_size=size)


# ---- Azure (80×24: the size where widths bite) --------------------------------------------------

AZ_PLAN = InstallPlan(name="demo", target=Target.aca)
RG_ID = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-fx-demo/providers"


def _op(rtype: str, name: str, state: State, arm_state: str, duration: float | None = None,
        error: str = "", rid: str = "") -> ProgressEvent:
    data: dict[str, Any] = {"arm_state": arm_state, "duration": duration,
                            "resource_id": rid or f"{RG_ID}/{rtype}/{name}"}
    if error:
        data["error_code"] = error
    words = arm_state.lower() + (f" in {duration:.0f}s" if duration is not None else "")
    return ProgressEvent("deploy", state, words, service=f"{rtype}/{name}", data=data)


def scripted_azure_launch() -> Callable[..., Any]:
    """The Azure engine's events mid-deployment (one row per deployment operation), then a wait."""

    def launch(_plan: InstallPlan, reporter: Reporter, cancel: threading.Event, **_kw: Any) -> None:
        vault = f"{RG_ID}/Microsoft.KeyVault/vaults/kv-fx-demo-ab12c"
        events = [
            ProgressEvent("signin", State.done, "signed in as user consultant@contoso.example"),
            ProgressEvent("checks", State.done, "prerequisites met"),
            ProgressEvent("render", State.done, "wrote 41 file(s)"),
            ProgressEvent("group", State.done, "created the resource group rg-fx-demo in swedencentral"),
            ProgressEvent("preview", State.done, "58 to create, 0 to modify, 0 to delete, 0 unchanged"),
            ProgressEvent("deploy", State.running, "submitting the deployment stack fabrix-demo"),
            _op("Microsoft.ManagedIdentity/userAssignedIdentities", "id-fx-demo", State.done, "Succeeded", 4.2),
            _op("Microsoft.KeyVault/vaults", "kv-fx-demo-ab12c", State.done, "Succeeded", 21.4),
            _op("Microsoft.Insights/diagnosticSettings", "to-log-analytics", State.done, "Succeeded", 2.0,
                rid=f"{vault}/providers/Microsoft.Insights/diagnosticSettings/to-log-analytics"),
            _op("Microsoft.DBforPostgreSQL/flexibleServers", "psql-fx-demo-ab12c", State.running, "Running"),
            _op("Microsoft.App/managedEnvironments", "cae-fx-demo", State.pending, "Accepted"),
        ]
        for event in events:
            reporter(event)
        cancel.wait(30)  # leaving the app cancels the launch (LaunchScreen.on_unmount)

    return launch


def test_launch_screen_azure(snap_compare: Any, snap_app: Callable[..., FabrixApp]) -> None:
    from screens.widgets.progress_row import ProgressRow

    app = snap_app(AZ_PLAN, launch=scripted_azure_launch())
    app.check_results = {}
    app.start_step = Step.launch

    async def run(pilot: Pilot[Any]) -> None:
        for _ in range(1000):  # bounded; a loaded machine may take a while
            if len(list(pilot.app.screen.query(ProgressRow))) == 11 and not pilot.app.screen._events:
                break
            await pilot.pause(0.01)
        pilot.app.screen._tick()  # the head as the 1 s timer draws it, whenever the snapshot is taken
        await pilot.pause()

    assert snap_compare(app, run_before=run, terminal_size=(80, 24))


def test_failed_screen_azure(snap_compare: Any, snap_app: Callable[..., FabrixApp]) -> None:
    result = LaunchResult(
        Outcome.failed, "demo", "run-1", "The launch of demo failed.",
        diagnostics=Diagnostics(
            reason="Microsoft.DBforPostgreSQL/flexibleServers/psql-fx-demo-ab12c failed: QuotaExceeded: "
                   "Operation could not be completed as it results in exceeding approved Total Regional Cores quota.",
            service="Microsoft.DBforPostgreSQL/flexibleServers/psql-fx-demo-ab12c", state="Failed",
            log_lines=["Microsoft.DBforPostgreSQL/flexibleServers/psql-fx-demo-ab12c: QuotaExceeded: Operation could"
                       " not be completed as it results in exceeding approved Total Regional Cores quota."],
        ),
        rollback=RollbackResult(name="demo", run_id="run-1", removed="the stack fabrix-demo and 23 resource(s)",
                                message="Rolled back: removed the stack fabrix-demo and 23 resource(s). Resources"
                                        " that were in the group before were not touched."),
    )

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.show(FailedScreen(result))
        await settle(pilot)

    assert snap_compare(snap_app(AZ_PLAN), run_before=run, terminal_size=(80, 24))


def test_done_screen_azure(snap_compare: Any, snap_app: Callable[..., FabrixApp]) -> None:
    summary = Summary(
        name="demo", project="fabrix-demo", urls={"platform": "https://ai.contoso.example/"},
        admin_user="admin", admin_email="admin@example.com",
        secrets_file=str(HOME / "state/installs/demo/secrets.env"), bundle_dir=str(HOME / "state/installs/demo/bundle"),
        services=["platform"], front_door_urls={"platform": "https://ai.contoso.example/",
                                                "fde-fx-demo": "https://fde-fx-demo-abc.z01.azurefd.net/"},
        resource_group="rg-fx-demo", key_vault="kv-fx-demo-ab12c",
        first_sign_in="Keycloak's admin, password = Key Vault secret keycloak-admin-password",
    )
    result = LaunchResult(Outcome.ok, "demo", "run-1", "demo is deployed to Azure", summary=summary)

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.show(DoneScreen(result))
        await settle(pilot)

    assert snap_compare(snap_app(AZ_PLAN), run_before=run, terminal_size=(80, 24))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_prerequisites_azure_sign_in_failed(snap_compare: Any, snap_app: Callable[..., FabrixApp],
                                            monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    """No `az`, no service principal: one row with the cause and the fix, the checks that need ARM
    named once under it (the real Azure checks; no network is reached)."""
    from installer.checks.azure import azure_checks

    empty = HOME / "no-az"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for var in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
                "AZURE_USERNAME", "AZURE_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    plan = InstallPlan(name="demo", target=Target.aca,
                       azure={"subscription_id": "11111111-2222-3333-4444-555555555555", "location": "swedencentral"})
    assert snap_compare(snap_app(plan, checks=azure_checks, azure_device_code=True), run_before=_steps(4),
                        terminal_size=size)


def test_review_azure_foreign_change(snap_compare: Any, snap_app: Callable[..., FabrixApp],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Review with ARM's preview: a delete of someone else's resource waits for the typed group name."""
    import installer.validate.checkov as checkov
    from tests.ui.test_azure_launch_ui import RG, whatif_with_a_foreign_delete

    monkeypatch.setattr(checkov, "checkov_executable", lambda: None)  # the same note on every machine

    plan = InstallPlan(name="demo", target=Target.aca,
                       azure={"subscription_id": "11111111-2222-3333-4444-555555555555", "location": "swedencentral",
                              "resource_group": RG})
    app = snap_app(plan, preview=lambda p, _s: whatif_with_a_foreign_delete(p))
    app.check_results = {}
    app.start_step = Step.review

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#foreign-confirm").focus()  # scrolls the preview and the box into view
        await settle(pilot)

    assert snap_compare(app, run_before=run, terminal_size=(80, 24))
