"""Pure parts of the Azure engine: RBAC evaluation, naming, requirements, region names."""

from __future__ import annotations

import re

import pytest

from installer.azure import requirements
from installer.azure.naming import names_for
from installer.azure.rbac import PermissionBlock, RoleAssignment, RoleDefinition, action_matches, applies_at, evaluate
from installer.azure.subscriptions import LocationInfo, RegionIndex, normalize_region
from installer.plan import InstallPlan

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", "Microsoft.Authorization/roleAssignments/write", True),
        ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", True),  # case-insensitive
        ("Microsoft.Authorization/*/Write", "Microsoft.Resources/deployments/write", False),
        ("*/read", "Microsoft.Resources/deployments/write", False),
        ("*/register/action", "Microsoft.App/register/action", True),
        ("Microsoft.Resources/deployments/*", "Microsoft.Resources/deployments/write", True),
        ("Microsoft.Resources/deployments/write", "Microsoft.Resources/deployments/writeX", False),
        ("Microsoft.Resources/deployments.write", "Microsoft.Resources/deploymentsXwrite", False),  # '.' is literal
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def _defs() -> dict[str, RoleDefinition]:
    return {
        "contrib": RoleDefinition("contrib", "Contributor", (PermissionBlock(("*",), ("Microsoft.Authorization/*/Write",)),)),
        "uaa": RoleDefinition("uaa", "User Access Administrator", (PermissionBlock(("*/read", "Microsoft.Authorization/*"), ()),)),
    }


def test_not_actions_subtract_only_within_their_role() -> None:
    contributor = [RoleAssignment(SUB, f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/contrib")]
    grant = evaluate("Microsoft.Authorization/roleAssignments/write", SUB, contributor, _defs())
    assert not grant.allowed
    both = contributor + [RoleAssignment(SUB, "/providers/Microsoft.Authorization/roleDefinitions/UAA")]
    grant = evaluate("Microsoft.Authorization/roleAssignments/write", SUB, both, _defs())
    assert grant.allowed and grant.via == ("User Access Administrator",)


def test_scope_inheritance() -> None:
    rg = f"{SUB}/resourceGroups/rg-a"
    assert applies_at(SUB, rg)
    assert applies_at("/", rg)
    assert applies_at("/providers/Microsoft.Management/managementGroups/corp", rg)
    assert applies_at(f"{SUB}/resourceGroups/RG-A", rg)  # case-insensitive
    assert not applies_at(f"{SUB}/resourceGroups/rg-a", SUB)  # below does not count above
    assert not applies_at(f"{SUB}/resourceGroups/rg-ab", rg)  # segment-wise, not a string prefix


def test_conditional_only_grant_is_flagged() -> None:
    ra = [RoleAssignment(SUB, "uaa", condition="@Request[...] GuidEquals {x}")]
    grant = evaluate("Microsoft.Authorization/roleAssignments/write", SUB, ra, _defs())
    assert grant.allowed and grant.conditional_only and grant.conditions == ("@Request[...] GuidEquals {x}",)


@pytest.mark.parametrize("name", ["demo", "a", "x" * 40, "my-install-2", "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t"])
@pytest.mark.parametrize("prefix", [None, "ab", "contoso999"])
def test_names_follow_azure_rules(name: str, prefix: str | None) -> None:
    plan = InstallPlan(name=name, model="container", target="aca", azure={"name_prefix": prefix} if prefix else {})
    n = names_for(plan)
    assert re.fullmatch(r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", n.key_vault), n.key_vault
    assert re.fullmatch(r"[a-z0-9]{3,24}", n.storage_account), n.storage_account
    assert re.fullmatch(r"[a-zA-Z0-9]{5,50}", n.container_registry), n.container_registry
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", n.postgres), n.postgres
    assert 1 <= len(n.redis) <= 60 and 2 <= len(n.front_door_endpoint) <= 46
    assert 1 <= len(n.resource_group) <= 90
    for global_name in n.global_names().values():
        assert n.suffix in global_name  # the hash survives truncation
    assert names_for(plan) == n  # deterministic


def test_names_differ_by_prefix_and_install() -> None:
    a = names_for(InstallPlan(name="demo", azure={"name_prefix": "aa"}))
    b = names_for(InstallPlan(name="demo", azure={"name_prefix": "bb"}))
    c = names_for(InstallPlan(name="demo2", azure={"name_prefix": "aa"}))
    assert len({a.key_vault, b.key_vault, c.key_vault}) == 3
    assert names_for(InstallPlan(name="demo", azure={"resource_group": "rg-mine"})).resource_group == "rg-mine"


def test_requirements_per_model() -> None:
    aca = InstallPlan(name="d", model="container", target="aca")
    aks = InstallPlan(name="d", model="container", target="aks")
    market = InstallPlan(name="d", model="marketplace")
    compose = InstallPlan(name="d", model="container", target="compose")
    assert "Microsoft.App/managedEnvironments" in requirements.summary(aca)["resource_types"]
    assert "Microsoft.App" not in requirements.namespaces(aks)
    assert {"Microsoft.ContainerService", "Microsoft.Compute"} <= set(requirements.namespaces(aks))
    assert "Microsoft.Solutions" in requirements.namespaces(market)
    assert requirements.compute_target(InstallPlan(name="d", model="hybrid")) == "aca"
    assert requirements.namespaces(compose) == [] and requirements.resource_types(compose) == []
    for model in ("marketplace", "manual", "hybrid", "multicloud", "development"):
        assert "Microsoft.DBforPostgreSQL" in requirements.namespaces(InstallPlan(name="d", model=model))


def test_vm_family_and_capacity() -> None:
    assert requirements.vm_family("Standard_D4s_v5") == "standardDSv5Family"
    assert requirements.vm_family("Standard_D4ds_v5") == "standardDDSv5Family"
    assert requirements.vm_family("Standard_E8ds_v5") == "standardEDSv5Family"
    demand = requirements.aks_demand(InstallPlan(name="d", model="container", target="aks"))
    assert demand.vcpus == (demand.nodes + 1) * demand.vcpus_per_node
    # The checks measure what the blueprint deploys: the same preset the tier's parameter file uses.
    from installer.render.azure.sizing import SKUS, size_for_tier

    for tier, size in (("evaluation", "l"), ("test", "l"), ("prod", "s"), ("prod", "xl")):
        plan = InstallPlan(name="d", model="container", target="aks", tier=tier, size=size)
        skus = SKUS[size_for_tier(plan, plan.tier)]
        assert requirements.aks_demand(plan).vm_size == skus.aks_vm_size
        assert requirements.aks_demand(plan).nodes == skus.aks_node_count
        assert requirements.sizing(plan).postgres_sku == skus.postgres_sku
    small = requirements.aca_cores(InstallPlan(name="d", model="container", target="aca", tier="prod", size="s"))
    large = requirements.aca_cores(InstallPlan(name="d", model="container", target="aca", tier="prod", size="xl"))
    assert 0 < small < large


def test_region_names_compare_by_name_and_display_name() -> None:
    index = RegionIndex([LocationInfo("swedencentral", "Sweden Central", "Physical", "Sweden"),
                         LocationInfo("eastus2euap", "East US 2 EUAP", "Physical", "US")])
    assert index.resolve("Sweden Central") == "swedencentral"
    assert index.resolve("SWEDEN  central") == "swedencentral"
    assert index.resolve("East US 2 EUAP") == "eastus2euap"
    assert normalize_region("West Europe") == "westeurope"


def test_deny_assignment_semantics() -> None:
    """learn role-based-access-control/deny-assignments: scope and below unless
    doNotApplyToChildScopes, Everyone unless excluded, actions minus notActions."""
    from installer.azure import rbac

    rg = "/subscriptions/s/resourceGroups/rg"
    d = rbac.DenyAssignment("id", "stack", "/subscriptions/s", (rbac.PermissionBlock(("*/write",), ("*/read",)),),
                            principals=(rbac.EVERYONE,), exclude_principals=("admin",))
    assert d.applies_to("me", rg) and d.denies("Microsoft.Network/virtualNetworks/write")
    assert not d.denies("Microsoft.Network/virtualNetworks/read")
    assert not d.applies_to("admin", rg)  # excluded principal
    own_only = rbac.DenyAssignment("id", "x", "/subscriptions/s", d.permissions, (rbac.EVERYONE,), (), True)
    assert own_only.applies_to("me", "/subscriptions/s") and not own_only.applies_to("me", rg)
    someone = rbac.DenyAssignment("id", "x", "/subscriptions/s", d.permissions, ("other",))
    assert not someone.applies_to("me", rg)
    assert [x.name for x in rbac.denied_by("Microsoft.Storage/storageAccounts/write", rg, "me", [d, someone])] == ["stack"]


def test_needed_actions_follow_the_rendered_foundation() -> None:
    from installer.azure.actions import CREATE_RG, needed_actions
    from installer.plan import InstallPlan

    aks = [a.action for a in needed_actions(InstallPlan(name="x", model="container", target="aks"), resource_group_exists=False)]
    assert aks[0] == CREATE_RG
    assert "Microsoft.ContainerService/managedClusters/write" in aks
    assert "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write" in aks
    assert "Microsoft.Authorization/roleAssignments/write" in aks
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in aks
    assert "Microsoft.App/managedEnvironments/write" not in aks
    assert "Microsoft.ContainerService/managedClusters/runCommand/action" in aks  # post-deploy
    assert "Microsoft.Network/privateLinkServices/privateEndpointConnections/write" in aks
    aca = [a.action for a in needed_actions(InstallPlan(name="x", model="container", target="aca"), resource_group_exists=True)]
    assert CREATE_RG not in aca
    assert "Microsoft.Storage/storageAccounts/listKeys/action" in aca  # environment storage reads the key
    assert len(aca) == len(set(a.lower() for a in aca))


def test_stack_deny_settings_need_manage_deny_setting_from_the_test_tier() -> None:
    from installer.azure.actions import STACK_DENY, STACK_WRITE, needed_actions
    from installer.plan import InstallPlan

    dev = [a.action for a in needed_actions(InstallPlan(name="x", model="container", target="aca", tier="dev"), True)]
    prod = [a.action for a in needed_actions(InstallPlan(name="x", model="container", target="aca", tier="prod"), True)]
    assert STACK_WRITE in dev and STACK_DENY not in dev
    assert STACK_DENY in prod
    assert "Microsoft.App/jobs/start/action" in prod
