"""What each deployment model needs from a subscription: resource types, providers, capacity.

This is the one mapping from (model, target) to Azure resource types; the region, provider,
policy and quota checks all read it. Capacity comes from the size preset: the SKUs are the
blueprints' (``installer.render.azure.sizing``), so the checks measure what will be deployed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from installer.catalog import Catalog, load_catalog
from installer.plan import DeploymentModel, InstallPlan, Size, Target, Tier


@dataclass(frozen=True)
class ResourceType:
    namespace: str  # Microsoft.App
    type: str  # managedEnvironments (child types: a/b)
    what: str  # what the platform uses it for (shown in findings)
    regional: bool = True  # False: deployed to 'global' (Front Door, private DNS zones)

    @property
    def full(self) -> str:
        return f"{self.namespace}/{self.type}"


# The foundation every Azure model deploys (notes/azure.md §4 and issue 5).
FOUNDATION: tuple[ResourceType, ...] = (
    ResourceType("Microsoft.Network", "virtualNetworks", "virtual network"),
    ResourceType("Microsoft.Network", "privateEndpoints", "private endpoints"),
    ResourceType("Microsoft.Network", "privateDnsZones", "private DNS zones", regional=False),
    ResourceType("Microsoft.ManagedIdentity", "userAssignedIdentities", "workload identity"),
    ResourceType("Microsoft.OperationalInsights", "workspaces", "Log Analytics"),
    ResourceType("Microsoft.KeyVault", "vaults", "Key Vault"),
    ResourceType("Microsoft.Storage", "storageAccounts", "storage account"),
    ResourceType("Microsoft.ContainerRegistry", "registries", "container registry"),
    ResourceType("Microsoft.DBforPostgreSQL", "flexibleServers", "PostgreSQL Flexible Server"),
    ResourceType("Microsoft.Cache", "redisEnterprise", "Azure Managed Redis"),
)
FRONT_DOOR: tuple[ResourceType, ...] = (
    ResourceType("Microsoft.Cdn", "profiles", "Front Door Premium", regional=False),
)
ACA: tuple[ResourceType, ...] = (
    ResourceType("Microsoft.App", "managedEnvironments", "Container Apps environment"),
    ResourceType("Microsoft.App", "containerApps", "Container Apps"),
)
AKS: tuple[ResourceType, ...] = (
    ResourceType("Microsoft.ContainerService", "managedClusters", "AKS cluster"),
)
MANAGED_APP: tuple[ResourceType, ...] = (
    ResourceType("Microsoft.Solutions", "applications", "Marketplace managed application"),
)
# Namespaces needed without a resource of their own (diagnostics, AKS node VMs, policy dry-run).
EXTRA_NAMESPACES: dict[str, tuple[str, ...]] = {
    "common": ("Microsoft.Insights", "Microsoft.PolicyInsights"),
    "aks": ("Microsoft.Compute",),
}


def compute_target(plan: InstallPlan) -> str:
    """Where the apps run on Azure: ``aks`` only when chosen; every other Azure model uses ACA."""
    return "aks" if plan.model is DeploymentModel.container and plan.target is Target.aks else "aca"


def resource_types(plan: InstallPlan) -> list[ResourceType]:
    """Every resource type ``plan`` deploys (empty for Docker Compose)."""
    if not plan.is_azure():
        return []
    types = list(FOUNDATION) + list(FRONT_DOOR)
    types += AKS if compute_target(plan) == "aks" else ACA
    if plan.model is DeploymentModel.marketplace:
        types += MANAGED_APP
    return types


def namespaces(plan: InstallPlan) -> list[str]:
    """Resource provider namespaces that must be registered, sorted."""
    if not plan.is_azure():
        return []
    names = {t.namespace for t in resource_types(plan)} | set(EXTRA_NAMESPACES["common"])
    if compute_target(plan) == "aks":
        names |= set(EXTRA_NAMESPACES["aks"])
    return sorted(names)


# ---- capacity per size preset ----


@dataclass(frozen=True)
class Sizing:
    postgres_sku: str  # Standard_B2ms
    postgres_tier: str  # Burstable | GeneralPurpose | MemoryOptimized
    postgres_ha: bool
    aks_vm_size: str
    aks_node_count: int


def _blueprint_sizing(plan: InstallPlan) -> Sizing | None:
    try:  # the blueprints own the SKUs; read theirs so checks and templates cannot disagree
        from installer.render.azure.sizing import SKUS, size_for_tier
    except ImportError:  # pragma: no cover - only while the render package is absent
        return None
    skus = SKUS[size_for_tier(plan, plan.tier)]  # the preset the plan's tier parameter file uses
    return Sizing(skus.postgres_sku, skus.postgres_tier, skus.postgres_ha != "Disabled", skus.aks_vm_size, skus.aks_node_count)


# Fallback when the blueprint sizing is not importable (same values as the blueprints').
_FALLBACK: dict[Size, Sizing] = {
    Size.s: Sizing("Standard_B2ms", "Burstable", False, "Standard_D4ds_v5", 2),
    Size.m: Sizing("Standard_D2ds_v5", "GeneralPurpose", True, "Standard_D4ds_v5", 3),
    Size.l: Sizing("Standard_D4ds_v5", "GeneralPurpose", True, "Standard_D8ds_v5", 3),
    Size.xl: Sizing("Standard_E8ds_v5", "MemoryOptimized", True, "Standard_D16ds_v5", 5),
}


def sizing(plan: InstallPlan) -> Sizing:
    return _blueprint_sizing(plan) or _FALLBACK[Size.s if plan.tier in (Tier.dev, Tier.evaluation) else plan.size]


_VM = re.compile(r"^Standard_([A-Z]+)(\d+)([a-z]*)_v(\d+)$")


def vm_family(vm_size: str) -> str:
    """Compute quota family for a VM size: Standard_D4s_v5 → standardDSv5Family."""
    m = _VM.match(vm_size)
    if not m:
        # B-series has no version suffix: Standard_B2ms → standardBSFamily.
        return "standardBSFamily" if re.match(r"^Standard_B\d+", vm_size) else ""
    letter, _, suffix, version = m.groups()
    return f"standard{letter}{suffix.upper()}v{version}Family"


def vm_vcpus(vm_size: str) -> int:
    m = re.match(r"^Standard_[A-Z]+(\d+)", vm_size)
    return int(m.group(1)) if m else 0


@dataclass(frozen=True)
class AksDemand:
    vm_size: str
    family: str
    nodes: int
    vcpus_per_node: int

    @property
    def vcpus(self) -> int:
        # +1 node: AKS surges one extra node during upgrades, which needs quota too.
        return (self.nodes + 1) * self.vcpus_per_node


def aks_demand(plan: InstallPlan) -> AksDemand:
    s = sizing(plan)
    return AksDemand(s.aks_vm_size, vm_family(s.aks_vm_size), s.aks_node_count, vm_vcpus(s.aks_vm_size))


def _max_replicas(plan: InstallPlan) -> int:
    try:
        from installer.render.workload import replicas

        return int(replicas(plan)[1])
    except ImportError:  # pragma: no cover
        return 2 if plan.tier is not Tier.prod else {Size.s: 2, Size.m: 4, Size.l: 6, Size.xl: 10}[plan.size]


def aca_cores(plan: InstallPlan, catalog: Catalog | None = None) -> float:
    """Consumption cores the apps may use at full scale (Container Apps rounds to 0.25 vCPU,
    with at least 0.5 vCPU per GiB of memory)."""
    catalog = catalog or load_catalog()
    total = 0.0
    for name in plan.enabled_components(catalog):
        comp = catalog.components[name]
        if comp.kind != "app":
            continue
        res = comp.resources[plan.size.value]
        cpu = min(math.ceil(max(res.cpu, res.memory_mb / 2048, 0.25) * 4) / 4, 4.0)
        total += cpu
    return total * _max_replicas(plan)


def postgres_vcores(sku_name: str, ha: bool) -> int:
    cores = vm_vcpus(sku_name)
    return cores * (2 if ha else 1)


def summary(plan: InstallPlan) -> dict[str, Any]:
    """A JSON-friendly view (reports, REVIEW.md)."""
    return {
        "compute": compute_target(plan),
        "namespaces": namespaces(plan),
        "resource_types": [t.full for t in resource_types(plan)],
    }
