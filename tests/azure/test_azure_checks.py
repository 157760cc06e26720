"""The Azure checks, run concurrently with the real azure-mgmt clients against the HTTPS fake ARM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from installer.azure import SignInOptions, register_providers, sign_in
from installer.azure.clients import RetrySettings
from installer.checks.azure import azure_checks
from installer.checks.azure.run import CACHE_RETRY, CACHE_SESSION
from installer.checks.base import CheckContext, CheckResult, Status, exit_code_for, run_checks
from installer.plan import InstallPlan
from tests.azure import scenarios
from tests.azure.fake_arm import FakeArm, Fault

# Fast retries for tests: the policy still honours Retry-After up to 5 s.
FAST_RETRY = RetrySettings(total=2, backoff_factor=0.01, backoff_max=0.05, max_retry_after=5)


def make_plan(arm: FakeArm, target: str = "aca", model: str = "container", size: str | None = None, **azure: Any) -> InstallPlan:
    values = {
        "cloud": "custom",
        "arm_endpoint": arm.url,
        "subscription_id": scenarios.SUBSCRIPTION,
        "location": scenarios.LOCATION,
        "resource_group": scenarios.RG,
    }
    values.update(azure)
    extra = {"size": size} if size else {}
    return InstallPlan(name="demo", model=model, target=target, azure={k: v for k, v in values.items() if v is not None}, **extra)


Runner = Callable[..., tuple[dict[str, CheckResult], FakeArm]]


@pytest.fixture
def run_azure(fake_arm) -> Runner:
    def run(
        scenario: dict[str, Any] | None = None,
        target: str = "aca",
        faults: list[Fault] | None = None,
        cache: dict[str, Any] | None = None,
        timeout: float = 60,
        **azure: Any,
    ) -> tuple[dict[str, CheckResult], FakeArm]:
        arm = fake_arm(scenario or scenarios.healthy(), faults=faults, page_size=4)
        plan = make_plan(arm, target, **azure)
        ctx = CheckContext(plan=plan, cache={CACHE_RETRY: FAST_RETRY, **(cache or {})})
        checks = azure_checks(plan)
        results = {r.id: r for r in run_checks(checks, ctx, timeout=timeout)}
        assert set(results) == {c.id for c in checks}  # the report is always complete
        return results, arm

    return run


def not_passed(results: dict[str, CheckResult]) -> dict[str, str]:
    return {k: f"{r.status.value}: {r.found}" for k, r in results.items() if r.status is not Status.passed}


@pytest.mark.parametrize("target", ["aca", "aks"])
def test_healthy_subscription_passes_everything(run_azure, az_stub, target: str) -> None:
    results, arm = run_azure(target=target)
    assert not_passed(results) == {}
    assert exit_code_for(list(results.values())) == 0
    expected_quota = "azure.quota.compute" if target == "aks" else "azure.quota.containerapps"
    assert expected_quota in results
    # One sign-in and one providers listing serve every check of the run.
    assert len([c for c in az_stub.calls() if "get-access-token" in c]) == 1
    assert len([r for r in arm.calls(r"/providers$") if "$skiptoken" not in r.query]) == 1
    # Region names: the providers API lists "Sweden Central", the plan says swedencentral.
    assert "Sweden Central (swedencentral)" in results["azure.region"].found
    # Checks never change the subscription.
    assert arm.calls("/register$") == []
    assert {r.method for r in arm.requests} <= {"GET", "POST", "HEAD"}
    assert all(r.method != "POST" or "checkNameAvailability" in r.path or "checkPolicyRestrictions" in r.path for r in arm.requests)


def test_disabled_subscription_fails_with_remedy(run_azure) -> None:
    results, _ = run_azure(scenarios.disabled_subscription())
    sub = results["azure.subscription"]
    assert sub.status is Status.fail
    assert "state Disabled" in sub.found
    assert "Reactivate" in sub.remedy and "Account Administrator" in sub.remedy


@pytest.mark.parametrize(("state", "status"), [("Warned", Status.warn), ("PastDue", Status.warn), ("Disabled", Status.fail), ("Deleted", Status.fail)])
def test_subscription_states_of_the_real_enum(run_azure, state: str, status: Status) -> None:
    """The Microsoft.Resources 2022-12-01 SubscriptionState enum (GetSubscriptions.json body):
    Warned and PastDue still deploy but will be disabled; Disabled and Deleted cannot deploy."""
    results, _ = run_azure(scenarios.subscription_in_state(state))
    sub = results["azure.subscription"]
    assert sub.status is status
    assert f"state {state}" in sub.found


def test_free_trial_warns_about_small_quotas(run_azure) -> None:
    results, _ = run_azure(scenarios.free_trial())
    sub = results["azure.subscription"]
    assert sub.status is Status.warn
    assert "FreeTrial_2014-09-01" in sub.found and "spending limit on" in sub.found


def test_unregistered_providers_are_reported_not_registered(run_azure) -> None:
    results, arm = run_azure(scenarios.unregistered_providers("Microsoft.App", "Microsoft.DBforPostgreSQL"))
    prov = results["azure.providers"]
    assert prov.status is Status.fail
    assert prov.details["unregistered"] == ["Microsoft.App", "Microsoft.DBforPostgreSQL"]
    assert "az provider register --namespace Microsoft.App" in prov.remedy
    assert prov.details["can_register"] is True  # Owner may
    assert arm.calls("/register$") == []  # `check` only reports


def test_register_providers_after_confirmation(fake_arm) -> None:
    arm = fake_arm(scenarios.unregistered_providers("Microsoft.App"))
    session = sign_in(SignInOptions(cloud="custom"))
    seen: list[tuple[str, str]] = []
    states = register_providers(
        session, scenarios.SUBSCRIPTION, ["Microsoft.App"], poll_interval=0, on_state=lambda s: seen.append((s.namespace, s.state))
    )
    assert [(s.namespace, s.state) for s in states] == [("Microsoft.App", "Registered")]
    assert seen == [("Microsoft.App", "Registered")]
    assert len(arm.calls("/providers/Microsoft.App/register$", "POST")) == 1


def test_contributor_cannot_create_role_assignments(run_azure) -> None:
    results, _ = run_azure(scenarios.contributor_only())
    perm = results["azure.permissions"]
    assert perm.status is Status.fail
    assert "Microsoft.Authorization/roleAssignments/write" in perm.found
    assert "Microsoft.Resources/deployments/write" not in perm.found.split("lacks")[1].split(" on ")[0]
    assert "Role Based Access Control Administrator" in perm.remedy
    assert f"--assignee {scenarios.OID}" in perm.remedy
    assert "PIM" in perm.found
    assert perm.details["missing"] == ["Microsoft.Authorization/roleAssignments/write"]
    assert perm.details["roles"] == ["Contributor"]


@pytest.mark.parametrize("target", ["aca", "aks"])
def test_application_owners_plus_rbac_admin_fails_on_the_vnet(run_azure, target: str) -> None:
    """The landing-zone pairing passed the old check; the deployment then failed on the VNet.
    The role is Enterprise-Scale's own definition (bodies/role_application_owners.json): of its
    notActions only virtualNetworks/write touches what either rendered foundation deploys (neither
    template has a Microsoft.Network/publicIPAddresses resource)."""
    results, _ = run_azure(scenarios.application_owners_with_rbac_admin(), target=target)
    perm = results["azure.permissions"]
    assert perm.status is Status.fail
    assert perm.details["missing"] == ["Microsoft.Network/virtualNetworks/write"]
    assert "Microsoft.Network/virtualNetworks/write (for Microsoft.Network/virtualNetworks)" in perm.found
    # The built-in role that grants it, at the resource group.
    assert f'--role "Contributor" --scope /subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{scenarios.RG}' in perm.remedy


def test_custom_role_with_only_resources_and_role_assignments_fails(run_azure) -> None:
    results, _ = run_azure(scenarios.resources_only_custom_role(), target="aks")
    perm = results["azure.permissions"]
    assert perm.status is Status.fail
    missing = perm.details["missing"]
    assert "Microsoft.ContainerService/managedClusters/write" in missing
    assert "Microsoft.Network/virtualNetworks/write" in missing
    assert "Microsoft.Resources/deployments/write" not in missing  # Microsoft.Resources/* grants it
    assert "Microsoft.Authorization/roleAssignments/write" not in missing
    assert '--role "Contributor"' in perm.remedy


def test_deny_assignment_on_the_group_fails_even_for_owner(run_azure) -> None:
    results, arm = run_azure(scenarios.deny_assignment())
    perm = results["azure.permissions"]
    assert perm.status is Status.fail
    assert "deny assignments block" in perm.found and "platform-guardrails" in perm.found
    assert "Microsoft.Network/virtualNetworks/write" in perm.details["denied"]
    assert "Microsoft.Resources/deployments/read" not in perm.details["denied"]  # notActions */read
    # One list of the subscription's deny assignments (at, above and below it), no other call first.
    calls = arm.calls(r"^/subscriptions/[^/]+/providers/Microsoft\.Authorization/denyAssignments$")
    assert len([c for c in calls if "$skiptoken" not in c.query]) == 1


def test_deny_assignment_elsewhere_does_not_count(run_azure) -> None:
    other = f"/subscriptions/{scenarios.SUBSCRIPTION}/resourcegroups/other-rg"
    results, _ = run_azure(scenarios.deny_assignment(scope=other))
    assert results["azure.permissions"].status is Status.passed
    # A subscription-level deny that does not apply to child scopes does not cover the group.
    results, _ = run_azure(scenarios.deny_assignment(scope=f"/subscriptions/{scenarios.SUBSCRIPTION}", child_scopes=False))
    assert results["azure.permissions"].status is Status.passed
    results, _ = run_azure(scenarios.deny_assignment(scope=f"/subscriptions/{scenarios.SUBSCRIPTION}"))
    assert results["azure.permissions"].status is Status.fail


def test_reader_may_not_register_providers(run_azure) -> None:
    sc = scenarios.unregistered_providers("Microsoft.App")
    sc["role_assignments"] = [{"scope": f"/subscriptions/{scenarios.SUBSCRIPTION}", "role": scenarios.READER, "principalId": scenarios.OID}]
    results, _ = run_azure(sc)
    assert results["azure.providers"].details["can_register"] is False
    assert "ask a subscription Contributor or Owner" in results["azure.providers"].remedy
    assert results["azure.permissions"].status is Status.fail


def test_role_at_resource_group_scope_counts_only_there(run_azure) -> None:
    sc = scenarios.healthy()
    sc["role_assignments"] = [
        {"scope": f"/subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{scenarios.RG}", "role": scenarios.OWNER, "principalId": scenarios.OID}
    ]
    results, _ = run_azure(sc)
    assert results["azure.permissions"].status is Status.passed
    # A different (not yet existing) resource group needs resourceGroups/write on the subscription.
    results, _ = run_azure(sc, resource_group="rg-elsewhere")
    perm = results["azure.permissions"]
    assert perm.status is Status.fail
    assert "Microsoft.Resources/subscriptions/resourceGroups/write" in perm.found


def test_abac_condition_on_role_assignment_rights_warns(run_azure) -> None:
    sc = scenarios.contributor_only()
    sc["role_assignments"].append(
        {
            "scope": f"/subscriptions/{scenarios.SUBSCRIPTION}",
            "role": scenarios.RBAC_ADMIN,
            "principalId": scenarios.OID,
            "condition": "@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {4633458b-17de-408a-b874-0445c86b69e6}",
        }
    )
    results, _ = run_azure(sc)
    perm = results["azure.permissions"]
    assert perm.status is Status.warn
    assert "ABAC" in perm.found and "4633458b" in perm.found


def test_exhausted_vcpu_quota_fails_aks(run_azure) -> None:
    results, _ = run_azure(scenarios.exhausted_vcpu(), target="aks")
    quota = results["azure.quota.compute"]
    assert quota.status is Status.fail
    assert "Total Regional vCPUs: 2 free of 260, need 12" in quota.found
    assert "az quota update --resource-name standardDDSv5Family" in quota.remedy
    assert exit_code_for(list(results.values())) == 1


def test_policy_denying_the_region_fails(run_azure) -> None:
    results, arm = run_azure(scenarios.region_denied_by_policy())
    pol = results["azure.policy"]
    assert pol.status is Status.fail
    assert "'Allowed locations (EU data boundary)' allows only westeurope, northeurope" in pol.found
    assert "policy dry-run denies" in pol.found
    assert "choose an allowed region (northeurope, westeurope)" in pol.remedy
    assert "az policy exemption create" in pol.remedy
    # The dry-run asked Azure Policy about every regional resource type, in the chosen region.
    posts = arm.calls("checkPolicyRestrictions", "POST")
    assert len(posts) == 11
    assert all(p.body["pendingFields"] == [{"field": "location", "values": ["swedencentral"]}] for p in posts)


def test_do_not_enforce_assignment_does_not_deny(run_azure) -> None:
    sc = scenarios.region_denied_by_policy()
    sc["policy_assignments"][-1]["enforcementMode"] = "DoNotEnforce"
    results, _ = run_azure(sc)
    assert results["azure.policy"].status is Status.passed


def test_soft_deleted_key_vault_blocks_the_name(run_azure, fake_arm) -> None:
    plan_name = make_plan(fake_arm(), "aca")  # to learn the deterministic vault name
    from installer.azure.naming import names_for

    vault = names_for(plan_name).key_vault
    results, _ = run_azure(scenarios.soft_deleted_vault(vault))
    kv = results["azure.name.keyvault"]
    assert kv.status is Status.fail
    assert "soft-deleted" in kv.found
    assert f"az keyvault purge --name {vault} --location swedencentral" in kv.remedy
    results, _ = run_azure(scenarios.soft_deleted_vault(vault, purge_protection=True))
    kv = results["azure.name.keyvault"]
    assert kv.status is Status.fail and "purge protection" in kv.found
    assert "az keyvault recover" in kv.remedy


def test_taken_global_name_fails_and_own_resource_passes(run_azure, fake_arm) -> None:
    from installer.azure.naming import names_for

    names = names_for(make_plan(fake_arm(), "aca"))
    sc = scenarios.healthy()
    sc["taken_names"] = {"Microsoft.Storage/storageAccounts": [names.storage_account], "Microsoft.ContainerRegistry/registries": [names.container_registry]}
    sc["existing_resources"] = [
        f"/subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{scenarios.RG}/providers/Microsoft.ContainerRegistry/registries/{names.container_registry}"
    ]
    results, _ = run_azure(sc)
    st = results["azure.name.storage"]
    assert st.status is Status.fail
    assert names.storage_account in st.found and "azure.name_prefix" in st.remedy
    assert results["azure.name.registry"].status is Status.passed  # ours, from an earlier run
    assert "exists in" in results["azure.name.registry"].found


def test_taken_key_vault_and_postgres_names_fail_with_the_service_message(run_azure, fake_arm) -> None:
    """checkNameAvailability answers nameAvailable false, reason AlreadyExists (bodies/name_availability.json)."""
    from installer.azure.naming import names_for

    names = names_for(make_plan(fake_arm(), "aca"))
    sc = scenarios.healthy()
    sc["taken_names"] = {"Microsoft.KeyVault/vaults": [names.key_vault], "Microsoft.DBforPostgreSQL/flexibleServers": [names.postgres]}
    results, _ = run_azure(sc)
    kv, pg = results["azure.name.keyvault"], results["azure.name.postgres"]
    assert kv.status is Status.fail and f"The vault name '{names.key_vault}' is already in use" in kv.found
    assert kv.details["reason"] == "AlreadyExists"
    assert pg.status is Status.fail and f"Specified server name '{names.postgres}' is already used." in pg.found
    assert results["azure.name.storage"].status is Status.passed  # {"nameAvailable": true} and nothing else


def test_throttling_is_honoured_and_a_500_is_unknown_never_pass(run_azure) -> None:
    faults = [
        Fault(r"/Microsoft\.App/locations/[^/]+/usages$", status=429, retry_after=1, times=1),
        Fault(r"/Microsoft\.DBforPostgreSQL/locations/[^/]+/capabilities$", status=500),
    ]
    results, arm = run_azure(faults=faults)
    # 429 + Retry-After: retried once, then answered.
    assert results["azure.quota.containerapps"].status is Status.passed
    usage_calls = arm.calls(r"/Microsoft\.App/locations/[^/]+/usages$")
    assert [c.status for c in usage_calls] == [429, 200]
    # 500 on every attempt: reported as could-not-verify, the rest of the report is unaffected.
    pg = results["azure.quota.postgres"]
    assert pg.status is Status.unknown
    assert "could not verify" in pg.found and "500" in pg.found
    assert len(arm.calls(r"/capabilities$")) == 1 + FAST_RETRY.total
    others = {k: r for k, r in results.items() if k != "azure.quota.postgres"}
    assert not_passed(others) == {}


def test_retry_after_beyond_the_bound_is_not_slept_through(run_azure) -> None:
    faults = [Fault(r"/providers/Microsoft\.Authorization/policyAssignments$", status=429, retry_after=3600)]
    results, arm = run_azure(faults=faults)
    pol = results["azure.policy"]
    assert pol.status is Status.unknown
    assert "throttled" in pol.found and "Retry-After 3600" in pol.found
    assert len(arm.calls("policyAssignments$")) == 1


def test_not_signed_in_fails_signin_and_nothing_passes(run_azure, az_stub) -> None:
    az_stub.set({}, logged_in=False)
    results, arm = run_azure()
    assert results["azure.signin"].status is Status.fail
    assert "az login" in results["azure.signin"].remedy
    assert all(r.status is Status.unknown for k, r in results.items() if k != "azure.signin")
    assert not [r for r in arm.requests if not r.path.startswith("/metadata")]


def test_missing_subscription_and_region_say_what_to_set(run_azure) -> None:
    results, _ = run_azure(subscription_id=None, location=None)
    assert results["azure.subscription"].status is Status.fail
    assert "azure.subscription_id" in results["azure.subscription"].remedy
    assert results["azure.region"].status is Status.fail
    assert "azure.location" in results["azure.region"].remedy
    assert all(r.status is not Status.passed for k, r in results.items() if k != "azure.signin")


def test_region_not_offering_a_type_suggests_regions_that_do(run_azure) -> None:
    sc = scenarios.healthy()
    sc["providers"]["Microsoft.App"]["resourceTypes"]["managedEnvironments"] = ["West Europe", "North Europe"]
    results, _ = run_azure(sc)
    region = results["azure.region"]
    assert region.status is Status.fail
    assert "Container Apps environment (Microsoft.App/managedEnvironments)" in region.found
    assert "northeurope, westeurope" in region.remedy
    results, _ = run_azure(location="brazilsouth")
    assert results["azure.region"].status is Status.fail
    assert "not available to subscription" in results["azure.region"].found


def test_tui_session_is_reused(fake_arm, az_stub) -> None:
    arm = fake_arm()
    session = sign_in(SignInOptions(cloud="custom"))
    calls_before = len(az_stub.calls())
    plan = make_plan(arm)
    ctx = CheckContext(plan=plan, cache={CACHE_SESSION: session, CACHE_RETRY: FAST_RETRY})
    results = list(run_checks(azure_checks(plan), ctx))
    assert all(r.status is Status.passed for r in results)
    assert len(az_stub.calls()) == calls_before  # no second sign-in


def test_postgres_sku_not_offered_and_family_quota_exhausted(run_azure) -> None:
    sc = scenarios.healthy()
    skus = scenarios.pg_edition(sc, "Burstable")
    skus[:] = [s for s in skus if s["name"] == "Standard_B1ms"]
    results, _ = run_azure(sc)
    pg = results["azure.quota.postgres"]
    assert pg.status is Status.fail
    assert "Burstable Standard_B2ms is not offered in swedencentral (offered: Standard_B1ms)" in pg.found
    sc = scenarios.healthy()
    for row in sc["postgres_usages"][scenarios.LOCATION]:
        if row["name"]["value"] == "standardBSFamily":
            row["currentValue"] = row["limit"] - 1
    results, _ = run_azure(sc)
    pg = results["azure.quota.postgres"]
    assert pg.status is Status.fail
    assert "standardBSFamily: 1 free of 10000" in pg.found and "needs 2 vCores" in pg.found
    assert "--resource-name standardBSFamily" in pg.remedy


def test_container_apps_environment_quota_used_up(run_azure) -> None:
    sc = scenarios.healthy()
    sc["aca_usages"][scenarios.LOCATION][0]["currentValue"] = 10  # Usages_List.json: ManagedEnvironmentCount limit 10
    results, _ = run_azure(sc)
    aca = results["azure.quota.containerapps"]
    assert aca.status is Status.fail
    assert "ManagedEnvironmentCount: 10 of 10 used, need 1 more" in aca.found


# ---- issue 9: verdicts on the bodies Azure really returns (tests/azure/bodies, SOURCES.json) ----


def test_scale_set_count_used_up_fails_aks(run_azure) -> None:
    """The compute usage list (bodies/compute_usages.json, as `az vm list-usage` answers) also
    counts scale sets; the AKS pool is one. With the count used up the vCPUs alone passed."""
    sc = scenarios.healthy()
    for row in sc["compute_usages"][scenarios.LOCATION]:
        if row["name"]["value"] == "virtualMachineScaleSets":
            row["currentValue"] = row["limit"]
    results, _ = run_azure(sc, target="aks")
    quota = results["azure.quota.compute"]
    assert quota.status is Status.fail
    assert "Virtual Machine Scale Sets: 0 free of 2000, need 1" in quota.found
    assert "--resource-name virtualMachineScaleSets" in quota.remedy and "value=2001" in quota.remedy


def test_container_apps_cores_row_named_as_in_the_spec_example(run_azure, fake_arm) -> None:
    """Usages_List.json (Microsoft.App 2025-01-01) lists the regional cores as
    ``ManagedEnvironmentCores`` (3 of 20 used). The check read only a row named
    ...ConsumptionCores and fell back to the default 100 cores: an XL preset (24 cores) passed."""
    arm = fake_arm(scenarios.healthy())
    plan = make_plan(arm, "aca", size="xl")
    ctx = CheckContext(plan=plan, cache={CACHE_RETRY: FAST_RETRY})
    results = {r.id: r for r in run_checks(azure_checks(plan), ctx)}
    aca = results["azure.quota.containerapps"]
    assert aca.status is Status.fail
    assert "ManagedEnvironmentCores (3 of 20 used): 17 cores free, the apps may scale to 24" in aca.found
    assert "--resource-name ManagedEnvironmentCores" in aca.remedy and "value=27" in aca.remedy


def test_postgres_usage_list_without_the_family_row_is_unverified(run_azure) -> None:
    """QuotaUsagesForFlexibleServers.json has family rows only, no regional "cores" row: when the
    preset's family is not listed either, the vCore quota is unknown — never a pass."""
    sc = scenarios.healthy()
    sc["postgres_usages"][scenarios.LOCATION] = [r for r in sc["postgres_usages"][scenarios.LOCATION] if r["name"]["value"] != "standardBSFamily"]
    results, _ = run_azure(sc)
    pg = results["azure.quota.postgres"]
    assert pg.status is Status.unknown
    assert "could not verify vCore quota" in pg.found


def test_postgres_offer_restricted_fails(run_azure) -> None:
    """The real capabilities body carries restricted/OfferRestricted, not a status; a barred
    subscription still gets 200 with empty editions."""
    results, _ = run_azure(scenarios.postgres_offer_restricted())
    pg = results["azure.quota.postgres"]
    assert pg.status is Status.fail
    assert "restricted for this subscription in swedencentral" in pg.found
    assert "Subscriptions are restricted from provisioning in this region" in pg.found
    assert "support request" in pg.remedy and "choose another region" in pg.remedy


def test_postgres_restricted_flag_alone_fails(run_azure) -> None:
    sc = scenarios.healthy()
    sc["postgres_capabilities"][scenarios.LOCATION]["value"][0]["restricted"] = "Enabled"
    results, _ = run_azure(sc)
    assert results["azure.quota.postgres"].status is Status.fail
    sc = scenarios.healthy()
    sc["postgres_capabilities"][scenarios.LOCATION]["value"][0]["supportedFeatures"] = [{"name": "OfferRestricted", "status": "Enabled"}]
    results, _ = run_azure(sc)
    assert results["azure.quota.postgres"].status is Status.fail


def test_vm_size_offered_in_zones_1_and_2_only_fails_aks(run_azure) -> None:
    results, _ = run_azure(scenarios.vm_size_in_zones("Standard_D4ds_v5", ["1", "2"]), target="aks")
    quota = results["azure.quota.compute"]
    assert quota.status is Status.fail
    assert "offered in zone(s) 1, 2 only" in quota.found and "pinned to zones 1, 2, 3" in quota.found
    assert quota.details["pool_zones"] == ["1", "2", "3"]


def test_vm_size_with_a_zone_restriction_fails_aks(run_azure) -> None:
    results, _ = run_azure(scenarios.vm_size_zone_restricted("Standard_D4ds_v5", ["3"]), target="aks")
    quota = results["azure.quota.compute"]
    assert quota.status is Status.fail
    assert "restricted for this subscription in zone(s) 3" in quota.found
    assert quota.details["restricted_zones"] == ["3"]


def test_provider_state_is_compared_without_case(run_azure) -> None:
    sc = scenarios.healthy()
    for p in sc["providers"].values():
        if p["registrationState"] == "Registered":
            p["registrationState"] = "registered"
    sc["providers"]["Microsoft.App"]["registrationState"] = "registering"
    results, _ = run_azure(sc)
    prov = results["azure.providers"]
    assert prov.status is Status.warn  # only Microsoft.App, still registering
    assert prov.details["unregistered"] == ["Microsoft.App"]


def test_allowed_locations_containing_global_still_denies_the_region(run_azure) -> None:
    results, _ = run_azure(scenarios.allowed_locations_with_global())
    pol = results["azure.policy"]
    assert pol.status is Status.fail
    assert "allows only westeurope, northeurope, global" in pol.found
    assert "choose an allowed region (northeurope, westeurope)" in pol.remedy  # not "global"


def test_resource_selectors_that_do_not_cover_the_region_pass(run_azure) -> None:
    results, _ = run_azure(scenarios.region_policy_with_resource_selectors(["eastus2euap", "centraluseuap"]))
    pol = results["azure.policy"]
    assert pol.status is Status.passed, pol.found
    assert "does not cover swedencentral" in pol.found
    results, _ = run_azure(scenarios.region_policy_with_resource_selectors(["swedencentral"]))
    assert results["azure.policy"].status is Status.fail


def test_not_scopes_excluding_the_group_pass_with_the_group_scoped_dry_run(run_azure) -> None:
    rg_scope = f"/subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{scenarios.RG}"
    results, arm = run_azure(scenarios.region_policy_excluding(rg_scope))
    pol = results["azure.policy"]
    assert pol.status is Status.passed, pol.found
    assert f"dry run at resource group {scenarios.RG}" in pol.found
    assert all(f"/resourcegroups/{scenarios.RG}/" in c.path.lower() for c in arm.calls("checkPolicyRestrictions", "POST"))


def test_dry_run_at_subscription_scope_when_the_group_is_new_says_so(run_azure) -> None:
    results, arm = run_azure(scenarios.region_denied_by_policy(), resource_group="rg-new")
    pol = results["azure.policy"]
    assert pol.status is Status.fail
    assert "dry run at subscription scope (the resource group does not exist yet" in pol.found
    calls = arm.calls("checkPolicyRestrictions", "POST")
    # Asked at the group first (ARM: 404 ResourceGroupNotFound), then answered at the subscription.
    assert all(c.status == 404 for c in calls if "/resourcegroups/" in c.path.lower())
    assert len([c for c in calls if c.status == 200 and "/resourcegroups/" not in c.path.lower()]) == 11


def test_not_allowed_types_effect_from_parameter(run_azure) -> None:
    results, _ = run_azure(scenarios.types_forbidden(None))  # definition default: Deny
    pol = results["azure.policy"]
    assert pol.status is Status.fail
    assert "'Not allowed resource types' forbids Microsoft.Cache/redisEnterprise" in pol.found
    for effect in ("Audit", "Disabled"):
        results, _ = run_azure(scenarios.types_forbidden(effect))
        pol = results["azure.policy"]
        assert pol.status is Status.passed, (effect, pol.found)
        assert "non-deny effect" in pol.found


def test_initiative_effect_from_the_initiative_parameter(run_azure) -> None:
    results, _ = run_azure(scenarios.guardrails_initiative())  # typesEffect default Deny
    pol = results["azure.policy"]
    assert pol.status is Status.fail
    assert "'Enforce guardrails' forbids Microsoft.Cache/redisEnterprise" in pol.found
    results, _ = run_azure(scenarios.guardrails_initiative(effect="Audit"))
    assert results["azure.policy"].status is Status.passed, results["azure.policy"].found


def test_override_to_audit_makes_an_initiative_member_non_blocking(run_azure) -> None:
    # Shape of getPolicyAssignmentWithOverrides.json: policyEffect Audit for the named members.
    overrides = [{"kind": "policyEffect", "value": "Audit",
                  "selectors": [{"kind": "policyDefinitionReferenceId", "in": ["Limit_Types"]}]}]
    results, _ = run_azure(scenarios.guardrails_initiative(overrides=overrides))
    assert results["azure.policy"].status is Status.passed, results["azure.policy"].found


def test_everything_throttled_exits_4_within_the_deadline_and_says_429(run_azure) -> None:
    """Every ARM call answers 429 with Retry-After 4 s (within the 5 s the test policy honours), the
    report has 10 s (retries end 3 s before): one wait fits, the second would not, so the checks stop
    retrying and say they were throttled — no "no answer", no exit 0."""
    import time

    faults = [Fault(r"^/subscriptions/", status=429, retry_after=4)]
    start = time.monotonic()
    results, arm = run_azure(faults=faults, timeout=10)
    elapsed = time.monotonic() - start
    assert elapsed < 10, elapsed  # the report is complete before its deadline
    throttled = {k: r for k, r in results.items() if "429" in r.found}
    assert "azure.subscription" in throttled and "azure.policy" in throttled
    for r in throttled.values():
        assert r.status is Status.unknown
        assert "throttled — ARM answered 429 Too Many Requests; ARM asked to wait 4 s" in r.found
        assert "no answer" not in r.found
    assert any("would end after the report's deadline" in r.found for r in throttled.values())
    assert any("this run already waited" in r.found for r in throttled.values())
    assert not [r for r in results.values() if r.status is Status.passed and r.id not in ("azure.signin",)]
    assert exit_code_for(list(results.values())) == 4


def test_a_late_answer_inside_the_deadline_is_used(run_azure) -> None:
    faults = [Fault(r"/providers/Microsoft\.Authorization/policyAssignments$", status=429, retry_after=1, times=1)]
    results, arm = run_azure(faults=faults, timeout=10)
    assert results["azure.policy"].status is Status.passed
    assert [c.status for c in arm.calls("policyAssignments$")] == [429, 200]


def test_403_everywhere_is_unverified_exit_4_never_0(run_azure) -> None:
    faults = [Fault(r"^/subscriptions/", status=403, code="AuthorizationFailed")]
    results, _ = run_azure(faults=faults)
    assert not [r for r in results.values() if r.status is Status.passed and r.id != "azure.signin"]
    assert exit_code_for(list(results.values())) == 4
    assert any(r.status is Status.unknown and "403" in r.found and "Reader" in r.remedy for r in results.values())


def test_healthy_marketplace_plan_passes_everything(run_azure) -> None:
    """The Marketplace baseline on the real-body fake: ACA compute plus the managed application type."""
    results, arm = run_azure(target="compose", model="marketplace")
    assert not_passed(results) == {}
    assert exit_code_for(list(results.values())) == 0
    perm = results["azure.permissions"]
    assert "Microsoft.Solutions/applications/write" in perm.details["needed"]
    assert "Microsoft.App/managedEnvironments/write" in perm.details["needed"]
    assert "azure.quota.containerapps" in results


def test_healthy_baselines_read_the_real_bodies(run_azure) -> None:
    """The healthy AKS run reads the spec-example bodies: SKU zones from locationInfo (listed in
    the example's unsorted order), the PostgreSQL offer open (restricted: Disabled)."""
    results, _ = run_azure(target="aks")
    quota = results["azure.quota.compute"]
    assert quota.status is Status.passed
    assert quota.details["sku_zones"] == ["1", "2", "3"] and quota.details["pool_zones"] == ["1", "2", "3"]
    assert results["azure.quota.postgres"].status is Status.passed
    assert results["azure.permissions"].details["deny_assignments_seen"] == 0


def test_case_and_display_names_in_the_providers_list(run_azure) -> None:
    """ARM lists provider locations by display name and does not promise the case of type names."""
    sc = scenarios.healthy()
    app = sc["providers"].pop("Microsoft.App")
    app["resourceTypes"] = {t.lower(): [loc.upper() for loc in locs] for t, locs in app["resourceTypes"].items()}
    sc["providers"]["microsoft.app"] = app
    results, _ = run_azure(sc)
    assert results["azure.region"].status is Status.passed, results["azure.region"].found
    assert results["azure.providers"].status is Status.passed, results["azure.providers"].found


def test_custom_role_from_a_management_group_is_read_and_evaluated(run_azure) -> None:
    results, arm = run_azure(scenarios.application_owners_from_management_group())
    perm = results["azure.permissions"]
    assert perm.status is Status.fail
    assert perm.details["missing"] == ["Microsoft.Network/virtualNetworks/write"]
    assert "[contoso] Application-Owners" in perm.details["roles"]  # the roleName of Enterprise-Scale's definition
    assert arm.calls(rf"^{scenarios.MG}/providers/Microsoft\.Authorization/roleDefinitions/{scenarios.APP_OWNERS}$")


def test_contributor_and_rbac_admin_cannot_set_the_prod_stack_deny_settings(run_azure, fake_arm) -> None:
    """Contributor's notActions include deploymentStacks/manageDenySetting/action; a prod launch
    (denyDelete) needs it: the check names it and the role that grants it (Owner)."""
    sc = scenarios.contributor_only()
    sc["role_assignments"].append({"scope": f"/subscriptions/{scenarios.SUBSCRIPTION}", "role": scenarios.RBAC_ADMIN, "principalId": scenarios.OID})
    arm = fake_arm(sc, page_size=4)
    plan = InstallPlan(name="demo", model="container", target="aca", tier="prod", azure={
        "cloud": "custom", "arm_endpoint": arm.url, "subscription_id": scenarios.SUBSCRIPTION,
        "location": scenarios.LOCATION, "resource_group": scenarios.RG})
    ctx = CheckContext(plan=plan, cache={CACHE_RETRY: FAST_RETRY})
    perm = next(r for r in run_checks(azure_checks(plan), ctx) if r.id == "azure.permissions")
    assert perm.status is Status.fail
    assert perm.details["missing"] == ["Microsoft.Resources/deploymentStacks/manageDenySetting/action"]
    assert '--role "Owner"' in perm.remedy
