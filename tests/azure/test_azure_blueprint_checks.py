"""Checks derived from the blueprint itself: availability zones for its zone-redundant settings, and
the EncryptionAtHost feature for AKS — real clients against the HTTPS fake ARM."""

from __future__ import annotations

import pytest

from installer.azure.blueprint import blueprint_needs
from installer.checks.azure import azure_checks
from installer.checks.base import Status
from installer.plan import InstallPlan
from installer.render import RenderInput
from installer.render.foundation import foundation_model
from tests.azure import scenarios
from tests.azure.fake_arm import Fault
from tests.azure.test_azure_checks import run_azure  # noqa: F401 - fixture

ZONES, EAH = "azure.zones", "azure.feature.encryptionathost"


def test_needs_come_from_the_rendered_blueprint() -> None:
    """What the check looks for is what the renderer writes: change the blueprint, the check follows."""
    plan = InstallPlan(name="demo", model="container", target="aks", tier="prod", size="m")
    needs = blueprint_needs(plan)
    f = foundation_model(RenderInput(plan), "aks")
    storage = next(r for r in f.resources if r.type == "Microsoft.Storage/storageAccounts")
    assert f"SKU {storage.body['sku']['name']}" in [n.setting for n in needs.zone_needs]
    assert "Microsoft.ContainerService/managedClusters" in needs.encryption_at_host
    pool = next(r for r in f.resources if r.type == "Microsoft.ContainerService/managedClusters").body["properties"]["agentPoolProfiles"][0]
    assert needs.zones_required == tuple(pool["availabilityZones"])
    # Prod M has zone-redundant Postgres HA (a tier parameter); evaluation S does not.
    assert any("ZoneRedundant" in n.setting for n in needs.zone_needs)
    small = blueprint_needs(InstallPlan(name="demo", model="container", target="aca"))
    assert not any("ZoneRedundant" in n.setting for n in small.zone_needs)
    assert small.encryption_at_host == ()


def test_encryption_check_only_where_the_blueprint_enables_it() -> None:
    ids = lambda target: {c.id for c in azure_checks(InstallPlan(name="d", model="container", target=target))}  # noqa: E731
    assert EAH in ids("aks") and EAH not in ids("aca")
    assert ZONES in ids("aks") and ZONES in ids("aca")


@pytest.mark.parametrize("target", ["aca", "aks"])
def test_region_with_zones_passes(run_azure, target: str) -> None:  # noqa: F811
    results, _ = run_azure(target=target)
    zones = results[ZONES]
    assert zones.status is Status.passed, zones.found
    assert "Sweden Central (swedencentral) has zones 1, 2, 3" in zones.found
    assert "Standard_GZRS" in zones.found


def test_region_without_zones_fails_and_names_regions_with_zones(run_azure) -> None:  # noqa: F811
    results, _ = run_azure(scenarios.region_without_zones(), target="aks")
    zones = results[ZONES]
    assert zones.status is Status.fail
    assert "has no availability zones" in zones.found and "Standard_GZRS" in zones.found
    assert "choose a region with availability zones" in zones.remedy
    assert "westeurope" in zones.remedy and "swedencentral" not in zones.details["alternatives"]
    # The other checks are not disturbed by it.
    assert results["azure.region"].status is Status.passed


def test_logical_zones_are_compared_not_physical(run_azure) -> None:  # noqa: F811
    """Templates name logical zones ("1"); the subscription maps them to other physical zones."""
    sc = scenarios.healthy()
    sc["locations"][0]["availabilityZoneMappings"].reverse()  # order and physical names must not matter
    results, _ = run_azure(sc, target="aks")
    assert results[ZONES].status is Status.passed, results[ZONES].found
    assert results[ZONES].details["zones"] == ["1", "2", "3"]


def test_missing_explicit_zone_fails(run_azure) -> None:  # noqa: F811
    sc = scenarios.healthy()
    sc["locations"][0]["availabilityZoneMappings"] = sc["locations"][0]["availabilityZoneMappings"][:2]
    results, _ = run_azure(sc, target="aks")
    assert results[ZONES].status is Status.fail
    assert "lacks zone(s) 3 (has 1, 2)" in results[ZONES].found


def test_locations_error_makes_zones_unknown(run_azure) -> None:  # noqa: F811
    results, _ = run_azure(faults=[Fault(r"/locations$", status=500)])
    assert results[ZONES].status is Status.unknown
    assert "could not verify" in results[ZONES].found


def test_encryption_at_host_registered_passes(run_azure) -> None:  # noqa: F811
    results, arm = run_azure(target="aks")
    assert results[EAH].status is Status.passed
    assert "is Registered" in results[EAH].found
    call = arm.calls(r"/Microsoft\.Features/providers/Microsoft\.Compute/features/EncryptionAtHost$")
    assert len(call) == 1 and call[0].query["api-version"] == ["2021-07-01"]


def test_encryption_at_host_not_registered_fails_with_commands(run_azure) -> None:  # noqa: F811
    results, _ = run_azure(scenarios.encryption_at_host(None), target="aks")
    eah = results[EAH]
    assert eah.status is Status.fail
    assert "NotRegistered" in eah.found and "Microsoft.ContainerService/managedClusters" in eah.found
    assert "az feature register --namespace Microsoft.Compute --name EncryptionAtHost" in eah.remedy
    assert "az provider register -n Microsoft.Compute" in eah.remedy
    assert "you may run it" in eah.remedy  # the scenario's caller is Owner


def test_encryption_at_host_registering_warns_and_reader_is_told_who(run_azure) -> None:  # noqa: F811
    results, _ = run_azure(scenarios.encryption_at_host("Registering"), target="aks")
    assert results[EAH].status is Status.warn
    sc = scenarios.encryption_at_host("NotRegistered")
    sc["role_assignments"] = [{"scope": f"/subscriptions/{scenarios.SUBSCRIPTION}", "role": scenarios.READER, "principalId": scenarios.OID}]
    results, _ = run_azure(sc, target="aks")
    assert results[EAH].status is Status.fail
    assert "ask a subscription Contributor or Owner" in results[EAH].remedy


@pytest.mark.parametrize("status", [403, 500])
def test_features_api_error_is_unknown_never_pass(run_azure, status: int) -> None:  # noqa: F811
    results, _ = run_azure(target="aks", faults=[Fault(r"/features/EncryptionAtHost$", status=status)])
    assert results[EAH].status is Status.unknown
    assert "could not verify" in results[EAH].found
