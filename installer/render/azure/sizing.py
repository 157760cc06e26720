"""SKUs per size preset, and which preset each tier's parameter file uses.

Sizes follow the vendor's sizing table (notes/platform-stack.md: S/M/L/XL): single-node Postgres
for S, zone-redundant HA from M; Azure Managed Redis Balanced SKUs growing with the preset.
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import InstallPlan, Size, Tier


@dataclass(frozen=True)
class Skus:
    postgres_sku: str
    postgres_tier: str
    postgres_storage_gb: int
    postgres_ha: str
    postgres_backup_days: int
    redis_sku: str
    log_retention_days: int
    aks_vm_size: str
    aks_node_count: int
    aks_sku_tier: str
    # Each app data volume (Azure Files share on ACA, PVC on AKS). 100 GiB is the floor because the
    # AKS class is premium Azure Files, whose minimum share is 100 GiB (the CSI driver rounds up).
    app_data_gb: int


SKUS: dict[Size, Skus] = {
    Size.s: Skus("Standard_B2ms", "Burstable", 64, "Disabled", 7, "Balanced_B1", 30, "Standard_D4ds_v5", 2, "Free", 100),
    Size.m: Skus("Standard_D2ds_v5", "GeneralPurpose", 256, "ZoneRedundant", 14, "Balanced_B3", 90, "Standard_D4ds_v5", 3, "Standard", 100),
    Size.l: Skus("Standard_D4ds_v5", "GeneralPurpose", 512, "ZoneRedundant", 35, "Balanced_B10", 90, "Standard_D8ds_v5", 3, "Standard", 256),
    Size.xl: Skus("Standard_E8ds_v5", "MemoryOptimized", 2048, "ZoneRedundant", 35, "Balanced_B20", 180, "Standard_D16ds_v5", 5, "Standard", 512),
}

TIERS: tuple[Tier, ...] = (Tier.dev, Tier.test, Tier.prod, Tier.evaluation)
_ORDER = [Size.s, Size.m, Size.l, Size.xl]


def size_for_tier(plan: InstallPlan, tier: Tier) -> Size:
    """Dev and evaluation run S; test runs S (plan S) or M; prod runs the plan's size, at least M.

    Smaller SKUs only: every tier keeps the same security posture (private endpoints, no public access).
    """
    if tier in (Tier.dev, Tier.evaluation):
        return Size.s
    if tier is Tier.test:
        return Size.s if plan.size is Size.s else Size.m
    return plan.size if plan.size is not Size.s else Size.m


@dataclass(frozen=True)
class VaultProtection:
    purge_protection: bool
    soft_delete_days: int


# Key Vault names are deterministic (one install, one name), and a deleted vault keeps its name for
# the soft-delete retention; with purge protection nobody can free it earlier. Production keeps
# both (90 days, irreversible purge protection): after a rollback or `fabrix down` the install moves
# to its next vault name (installer/azure/vault_names.py), so it is not blocked. Dev, test and
# evaluation installs are rolled back and re-installed often: 7 days' soft delete (the minimum) and
# no purge protection, so `az keyvault purge` frees the name at once (learn key-vault/general/soft-delete-overview).
VAULT_PROTECTION: dict[Tier, VaultProtection] = {
    Tier.prod: VaultProtection(True, 90),
    Tier.test: VaultProtection(False, 7),
    Tier.dev: VaultProtection(False, 7),
    Tier.evaluation: VaultProtection(False, 7),
}

