"""The ARM actions a plan's deployment needs, read from the rendered foundation.

A template deployment checks the caller's permission for every resource it writes, not only for
``Microsoft.Resources/deployments/write`` (learn azure-resource-manager/templates/deployment-tutorial
"required permissions"): each resource type's ``write``, the ``join`` actions of the subnets and
private DNS zones other resources attach to, ``listKeys`` where the template reads keys, and
``roleAssignments/write`` for the assignments it makes to its managed identities. The list is
built from ``installer.render.foundation.foundation_model`` so it follows the blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.azure import requirements
from installer.plan import InstallPlan

DEPLOYMENTS = ("Microsoft.Resources/deployments/write", "Microsoft.Resources/deployments/read",
               "Microsoft.Resources/deployments/validate/action", "Microsoft.Resources/deployments/whatIf/action",
               "Microsoft.Resources/deployments/operations/read", "Microsoft.Resources/deployments/cancel/action")
ROLE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments/write"
CREATE_RG = "Microsoft.Resources/subscriptions/resourceGroups/write"

# Actions a resource implies beyond its own write (learn: private-link/rbac-permissions,
# virtual-network/virtual-network-manage-subnet "permissions"; container-apps/storage-mounts).
_IMPLIED: dict[str, tuple[str, ...]] = {
    "Microsoft.Network/privateEndpoints": ("Microsoft.Network/virtualNetworks/subnets/join/action",),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": ("Microsoft.Network/privateDnsZones/join/action",),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": ("Microsoft.Network/virtualNetworks/join/action",),
    "Microsoft.App/managedEnvironments": ("Microsoft.Network/virtualNetworks/subnets/join/action",),
    "Microsoft.ContainerService/managedClusters": ("Microsoft.Network/virtualNetworks/subnets/join/action",),
    "Microsoft.App/managedEnvironments/storages": ("Microsoft.Storage/storageAccounts/listKeys/action",),
    "Microsoft.Cache/redisEnterprise/databases": ("Microsoft.Cache/redisEnterprise/databases/listKeys/action",),
}
# What the launch does after the deployment, through ARM, as the signed-in principal:
# - approve the pending private endpoint connection Front Door leaves on its Private Link origin
#   (notes/azure.md §4; installer/render/azure/frontdoor.py): on ACA the environment's, on AKS the
#   ingress Private Link service's (installer/render/aks.py "pls-create");
# - on AKS, apply the manifests to the private cluster with `az aks command invoke` (README).
# The databases script reads Key Vault secrets and the registration job writes the dataplane's two
# (installer/launch/azure/registration_job.py): data actions, granted by the install's own role
# assignments in the template (Secrets User on the vault, Secrets Officer on those two secrets),
# whose roleAssignments/write the template's types already add; not evaluated here.
_POST_DEPLOY: dict[str, tuple[tuple[str, str], ...]] = {
    "aca": (("Microsoft.App/managedEnvironments/privateEndpointConnections/write",
             "post-deploy: approve Front Door's private endpoint connection"),
            # installer/launch/azure/postdeploy.py: the databases step runs as a Container Apps job.
            ("Microsoft.App/jobs/write", "post-deploy: the databases and dataplane registration jobs"),
            ("Microsoft.App/jobs/start/action", "post-deploy: start the databases and registration jobs"),
            # installer/launch/azure/registration_job.py: the dataplane reads its new credentials.
            ("Microsoft.App/containerApps/revisions/restart/action",
             "post-deploy: restart the dataplane after its registration")),
    "aks": (("Microsoft.Network/privateLinkServices/privateEndpointConnections/write",
             "post-deploy: approve Front Door's private endpoint connection"),
            ("Microsoft.ContainerService/managedClusters/runCommand/action",
             "post-deploy: apply the manifests and run the database and registration Jobs with `az aks command invoke`")),
}


# The launch deploys through a deployment stack (installer/launch/azure/backend.py); from the test
# tier up its denySettings (denyDelete) need manageDenySetting, which Contributor lacks.
STACK_WRITE = "Microsoft.Resources/deploymentStacks/write"
STACK_DENY = "Microsoft.Resources/deploymentStacks/manageDenySetting/action"


def _stack_denies(plan: InstallPlan) -> bool:
    try:
        from installer.launch.azure.backend import DENY_BY_TIER
    except ImportError:  # pragma: no cover - the launch backend is absent
        return plan.tier.value in ("test", "prod")
    return DENY_BY_TIER.get(plan.tier, "none") != "none"


def _registers_dataplane(plan: InstallPlan) -> bool:
    """The launch registers a dataplane in Azure (the core is enabled and not kept on-prem)."""
    from installer.catalog import load_catalog

    return plan.model.value != "hybrid" and {"miso-controller", "dataplane"} <= set(plan.enabled_components(load_catalog()))


@dataclass(frozen=True)
class NeededAction:
    action: str
    scope: str  # "resourceGroup" or "subscription"
    why: str  # the resource type or step that needs it (shown in findings)


def _foundation_types(plan: InstallPlan) -> list[str]:
    from installer.render import RenderInput
    from installer.render.foundation import foundation_model

    compute = requirements.compute_target(plan)
    f = foundation_model(RenderInput(plan), "aks" if compute == "aks" else "aca")
    return sorted({res.type for res in f.resources})


def needed_actions(plan: InstallPlan, resource_group_exists: bool) -> list[NeededAction]:
    """Every action the plan's deployment and launch need, each once, in a stable order."""
    if not plan.is_azure():
        return []
    try:
        types = _foundation_types(plan)
    except Exception:  # the renderer cannot build here: fall back to the requirements list
        types = sorted({t.full for t in requirements.resource_types(plan)} | {"Microsoft.Authorization/roleAssignments"})
    if plan.model.value == "marketplace":
        types = sorted(set(types) | {"Microsoft.Solutions/applications"})
    out: dict[str, NeededAction] = {}

    def add(action: str, why: str, scope: str = "resourceGroup") -> None:
        out.setdefault(action.lower(), NeededAction(action, scope, why))

    if not resource_group_exists:
        add(CREATE_RG, "create the resource group", "subscription")
    for action in DEPLOYMENTS:
        add(action, "the template deployment")
    add(STACK_WRITE, "the deployment stack the launch creates")
    add("Microsoft.Resources/deploymentStacks/read", "the deployment stack the launch creates")
    if _stack_denies(plan):
        add(STACK_DENY, f"the stack's denySettings (denyDelete) for the {plan.tier.value} tier")
    for rtype in types:
        if rtype.lower() == "microsoft.authorization/roleassignments":
            add(ROLE_ASSIGNMENTS, "role assignments for the install's managed identities")
            continue
        add(f"{rtype}/write", rtype)
        for implied in _IMPLIED.get(rtype, ()):
            add(implied, rtype)
    for action, why in _POST_DEPLOY[requirements.compute_target(plan)]:
        if action.endswith("/revisions/restart/action") and not _registers_dataplane(plan):
            continue
        add(action, why)
    return list(out.values())


# Built-in roles to suggest, most specific first (ids: learn role-based-access-control/built-in-roles).
SUGGESTED_ROLES: tuple[tuple[str, str], ...] = (
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Role Based Access Control Administrator", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"),
    ("Network Contributor", "4d97b98b-1d4f-4787-a291-c67834d212e7"),
    ("User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"),
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
)


__all__ = ["CREATE_RG", "DEPLOYMENTS", "ROLE_ASSIGNMENTS", "SUGGESTED_ROLES", "NeededAction", "needed_actions"]
