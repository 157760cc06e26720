"""Sign-in and subscription data through the real AzureCliCredential and azure-mgmt clients."""

from __future__ import annotations

import pytest

from installer.azure import (
    AzureSignInError,
    SignInOptions,
    list_locations,
    list_subscriptions,
    list_tenants,
    sign_in,
)
from installer.azure.clouds import cloud_for
from installer.errors import UsageError
from tests.azure import scenarios
from tests.azure.stub_az import app_claims


def test_cli_sign_in_reads_principal_from_token(fake_arm, az_stub) -> None:
    arm = fake_arm()
    session = sign_in(SignInOptions(cloud="custom"))
    assert session.principal.kind == "user"
    assert session.principal.object_id == scenarios.OID
    assert session.principal.tenant_id == scenarios.TENANT
    assert session.principal.name == "consultant@contoso.example"
    assert session.principal.credential == "cli"
    # The custom cloud was described by its metadata document: audience and ARM URL.
    assert session.cloud.arm_endpoint == arm.url
    assert session.cloud.scope == "https://management.core.windows.net/.default"
    assert any("--resource https://management.core.windows.net" in c for c in az_stub.calls())


def test_service_principal_token_is_an_app(fake_arm, az_stub) -> None:
    fake_arm()
    az_stub.set(app_claims("12121212-3434-5656-7878-909090909090", scenarios.TENANT))
    session = sign_in(SignInOptions(cloud="custom"))
    assert session.principal.kind == "app"
    assert session.principal.name == "0f0f0f0f-1111-2222-3333-444444444444"


def test_not_logged_in_without_device_code_says_how_to_sign_in(fake_arm, az_stub) -> None:
    fake_arm()
    az_stub.set({}, logged_in=False)
    with pytest.raises(AzureSignInError) as err:
        sign_in(SignInOptions(cloud="custom"))
    # One cause (az is there, not signed in) and its fix; what each way said stays in attempts.
    assert err.value.message == "could not sign in to Azure: the Azure CLI is installed but not signed in"
    assert [a.way for a in err.value.attempts] == ["cli", "environment"]
    assert "az login" in (err.value.hint or "")


def test_wrong_tenant_is_refused(fake_arm, az_stub) -> None:
    fake_arm()
    with pytest.raises(AzureSignInError, match="not 00000000-0000-0000-0000-000000000001"):
        sign_in(SignInOptions(cloud="custom", tenant_id="00000000-0000-0000-0000-000000000001"))


def test_subscriptions_locations_tenants_follow_absolute_next_links(fake_arm) -> None:
    arm = fake_arm(page_size=2)
    session = sign_in(SignInOptions(cloud="custom"))
    subs = list_subscriptions(session)
    assert [s.display_name for s in subs] == ["Contoso Dev", "Contoso Production"]
    prod = subs[1]
    assert (prod.subscription_id, prod.state, prod.quota_id) == (
        scenarios.SUBSCRIPTION,
        "Enabled",
        "EnterpriseAgreement_2014-09-01",
    )
    locs = list_locations(session, scenarios.SUBSCRIPTION)
    assert len(locs) == len(scenarios.LOCATIONS)  # 6 locations over 3 pages
    assert [loc.name for loc in locs][:2] == ["eastus", "eastus2"]
    assert len(arm.calls(r"/locations$")) == 3
    assert all("$skiptoken" in r.query for r in arm.calls(r"/locations$")[1:])
    assert [t.tenant_id for t in list_tenants(session)] == [scenarios.TENANT]


def test_one_token_for_many_clients(fake_arm, az_stub) -> None:
    fake_arm()
    session = sign_in(SignInOptions(cloud="custom"))
    list_subscriptions(session)
    list_locations(session, scenarios.SUBSCRIPTION)
    session.clients.resources(scenarios.SUBSCRIPTION).providers.get("Microsoft.App")
    assert len([c for c in az_stub.calls() if "get-access-token" in c]) == 1


def test_custom_cloud_needs_https_endpoint(monkeypatch) -> None:
    monkeypatch.delenv("FABRIX_ARM_ENDPOINT", raising=False)
    with pytest.raises(UsageError, match="no ARM endpoint"):
        cloud_for("custom")
    with pytest.raises(UsageError, match="not https"):
        cloud_for("custom", "http://127.0.0.1:1/")


def test_known_clouds() -> None:
    assert cloud_for("usgov").arm_endpoint == "https://management.usgovcloudapi.net/"
    assert cloud_for("china").authority_host == "login.chinacloudapi.cn"
    assert cloud_for("public").scope == "https://management.azure.com/.default"


def test_failed_sign_in_writes_nothing_to_the_terminal(fake_arm, az_stub) -> None:
    # azure-identity logs a WARNING when a credential fails outside its own chain; without a
    # handler Python prints it to stderr — behind the TUI's back. A child process, because
    # pytest's log capture would hide exactly that.
    import subprocess
    import sys

    fake_arm()
    az_stub.set({}, logged_in=False)
    code = (
        "from installer.azure import sign_in, SignInOptions, AzureSignInError\n"
        "try:\n    sign_in(SignInOptions(cloud='custom'))\nexcept AzureSignInError:\n    pass\n"
    )
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=repo)
    assert proc.returncode == 0
    assert (proc.stdout, proc.stderr) == ("", "")


def test_device_code_needs_a_place_to_show_the_code(fake_arm) -> None:
    fake_arm()
    with pytest.raises(AzureSignInError, match="device-code"):
        sign_in(SignInOptions(cloud="custom", method="device_code"))


def test_device_code_is_last_and_only_with_a_callback() -> None:
    from installer.azure.credentials import _candidates

    cloud = cloud_for("public")
    assert [n for n, _ in _candidates(SignInOptions(), cloud, None)] == ["cli", "environment"]
    assert [n for n, _ in _candidates(SignInOptions(), cloud, lambda *a: None)] == ["cli", "environment", "device_code"]
    assert [n for n, _ in _candidates(SignInOptions(method="environment"), cloud, None)] == ["environment"]
