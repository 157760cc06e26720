"""Target for an Azure model: sign in through the real credential chain (stub `az`) and the
real azure-mgmt clients against the HTTPS fake ARM, pick a subscription and a region."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Button, Select

from installer.plan import InstallPlan, Target
from screens.app import FabrixApp
from screens.steps.target import TargetScreen
from screens.widgets.field import Field
from tests.azure import scenarios
from tests.ui.helpers import next_step, settle


def _value(app: FabrixApp, path: str) -> str:
    return next(f for f in app.screen.query(Field) if f.path == path).value


async def test_sign_in_lists_subscriptions_and_regions(make_app: Callable[..., FabrixApp], fake_arm, az_stub) -> None:  # noqa: ANN001
    fake_arm()
    app = make_app(InstallPlan(name="ui-azure", target=Target.aca, azure={"cloud": "custom"}))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        assert isinstance(app.screen, TargetScreen)
        app.screen.query_one("#sign-in", Button).press()
        await settle(pilot)
        note = str(app.screen.query_one("#sign-in-note").render())
        assert "Signed in as user consultant@contoso.example" in note, note
        subs = app.screen.query_one("#subscription-pick", Select)
        assert subs.display
        options = [value for _label, value in subs._options if isinstance(value, str)]
        assert scenarios.SUBSCRIPTION in options
        subs.value = scenarios.SUBSCRIPTION
        await settle(pilot)
        assert _value(app, "azure.subscription_id") == scenarios.SUBSCRIPTION
        assert _value(app, "azure.tenant_id") == scenarios.TENANT
        regions = app.screen.query_one("#location-pick", Select)
        names = [value for _label, value in regions._options if isinstance(value, str)]
        assert "swedencentral" in names
        regions.value = "swedencentral"
        await settle(pilot)
        await next_step(pilot)
    assert app.plan.azure.subscription_id == scenarios.SUBSCRIPTION
    assert app.plan.azure.tenant_id == scenarios.TENANT
    assert app.plan.azure.location == "swedencentral"


async def test_sign_in_failure_says_how_to_fix_and_keeps_manual_entry(
    make_app: Callable[..., FabrixApp], fake_arm, az_stub  # noqa: ANN001
) -> None:
    fake_arm()
    az_stub.set({}, logged_in=False)
    app = make_app(InstallPlan(name="ui-azure-no", target=Target.aca, azure={"cloud": "custom"}),
                   azure_device_code=False)
    # No prompt for a device code in a test: sign-in must stop at "not signed in".
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        screen = app.screen
        assert isinstance(screen, TargetScreen)
        screen.query_one("#sign-in", Button).press()
        await settle(pilot)
        note = str(screen.query_one("#sign-in-note").render())
        assert "could not sign in to Azure" in note and "az login" in note
        assert screen.valid  # typing the IDs by hand still works


async def test_no_az_and_network_down_blames_the_network_not_device_code(
    make_app: Callable[..., FabrixApp], tmp_path, monkeypatch  # noqa: ANN001
) -> None:
    """The issue's case: no `az`, the network down, device code offered. The note must name the
    network, not advise "use device-code sign-in" right after the device code failed."""
    import socket

    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}:/usr/bin:/bin")
    for var in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as sock:  # a port nobody listens on: every HTTPS request fails to connect
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{sock.getsockname()[1]}")
    from installer.checks.azure import azure_checks

    app = make_app(InstallPlan(name="ui-azure-offline", target=Target.aca), azure_device_code=True, checks=azure_checks)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        screen = app.screen
        assert isinstance(screen, TargetScreen)
        screen.query_one("#sign-in", Button).press()
        for _ in range(100):  # the device-code request retries before it gives up
            await pilot.pause(0.1)
            note = str(screen.query_one("#sign-in-note").render())
            if "✗" in note:
                break
        assert "cannot reach the sign-in service login.microsoftonline.com" in note, note
        assert "device" not in note.lower() and "network" in note
        assert screen.valid
        # Prerequisites cannot show a device code; it must not send the person back to the one
        # that just failed: the cause stays the network, "could not verify".
        await next_step(pilot)
        await next_step(pilot)
        signin = (app.check_results or {})["azure.signin"]
        assert "cannot reach the sign-in service" in signin.found, signin.found
        assert "Back to Target" not in signin.remedy and signin.status.value == "unknown"


def _field(app: FabrixApp, path: str) -> Field:
    return next(f for f in app.screen.query(Field) if f.path == path)


async def _type(pilot, app: FabrixApp, path: str, text: str) -> None:  # noqa: ANN001
    from textual.widgets import Input

    _field(app, path).query_one(Input).value = text
    await settle(pilot)


async def test_a_typed_region_is_checked_against_the_subscriptions_regions(
    make_app: Callable[..., FabrixApp], fake_arm, az_stub  # noqa: ANN001
) -> None:
    """`marsnorth` has the format of a region; after sign-in it is checked against the regions
    ARM lists for the subscription (in a worker), and blocks Next with the closest names."""
    fake_arm()
    app = make_app(InstallPlan(name="ui-azure-region", target=Target.aca, azure={"cloud": "custom"}))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        screen = app.screen
        assert isinstance(screen, TargetScreen)
        await _type(pilot, app, "azure.location", "marsnorth")
        hint = str(_field(app, "azure.location").query_one(".hint").render())
        assert "after you sign in" in hint and screen.valid  # unknown until signed in: not failed
        screen.query_one("#sign-in", Button).press()
        await settle(pilot)
        await _type(pilot, app, "azure.subscription_id", scenarios.SUBSCRIPTION)  # typed, not picked
        region = _field(app, "azure.location")
        assert region.has_class("-invalid")
        error = str(region.query_one(".error").render())
        assert "marsnorth is not a region of this subscription" in error, error
        assert not screen.valid
        assert "checked against the" in str(region.query_one(".hint").render())
        await _type(pilot, app, "azure.location", "swedencntral")
        assert "did you mean swedencentral?" in str(_field(app, "azure.location").query_one(".error").render())
        await _type(pilot, app, "azure.location", "swedencentral")
        assert screen.valid and not _field(app, "azure.location").has_class("-invalid")


async def test_arm_endpoint_only_for_the_custom_cloud_and_placeholders_are_the_real_defaults(
    make_app: Callable[..., FabrixApp],
) -> None:
    app = make_app(InstallPlan(name="demo", target=Target.aca))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        endpoint = _field(app, "azure.arm_endpoint")
        assert not endpoint.display  # public: the endpoint is known
        from textual.widgets import Input

        prefix = _field(app, "azure.name_prefix").query_one(Input)
        group = _field(app, "azure.resource_group").query_one(Input)
        assert prefix.placeholder == "fx"
        assert group.placeholder == "rg-fx-demo"
        await _type(pilot, app, "name", "acme")
        assert group.placeholder == "rg-fx-acme"  # follows the name being typed
        await _type(pilot, app, "azure.name_prefix", "ab")
        assert group.placeholder == "rg-ab-acme"
        app.screen.query_one("#cloud", Select).value = "custom"
        await settle(pilot)
        assert endpoint.display
        await _type(pilot, app, "azure.arm_endpoint", "https://management.example.local")
        app.screen.query_one("#cloud", Select).value = "usgov"
        await settle(pilot)
        assert not endpoint.display
        await next_step(pilot)
    # A hidden field gives nothing: the US Gov cloud's own endpoint applies.
    assert app.plan.azure.cloud.value == "usgov" and app.plan.azure.arm_endpoint is None
    from installer.azure.naming import names_for

    assert names_for(app.plan).resource_group == "rg-ab-acme"


async def test_regions_that_cannot_be_listed_leave_the_region_unchecked_not_failed(
    make_app: Callable[..., FabrixApp], fake_arm, az_stub  # noqa: ANN001
) -> None:
    from tests.azure.fake_arm import Fault

    fake_arm(faults=[Fault(r"/locations", status=403, code="AuthorizationFailed")])
    app = make_app(InstallPlan(name="ui-azure-noloc", target=Target.aca, azure={"cloud": "custom"}))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        app.screen.query_one("#sign-in", Button).press()
        await settle(pilot)
        await _type(pilot, app, "azure.location", "marsnorth")
        await _type(pilot, app, "azure.subscription_id", scenarios.SUBSCRIPTION)
        region = _field(app, "azure.location")
        assert "could not be listed" in str(region.query_one(".hint").render())
        assert app.screen.valid and not region.has_class("-invalid")
