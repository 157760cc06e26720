"""The Azure foundation for the ACA and AKS targets (and the Marketplace package).

``render_foundation(inp, compute)`` returns a Bundle with:

- ``bicep/main.bicep``: resource-group scope; parameters, the ownership tags, one module per concern;
- ``bicep/modules/<concern>.bicep``: monitoring, identity, network, dns, keyvault, storage,
  registry, postgres, redis, compute (Container Apps environment + apps, or the AKS cluster with
  its federated credentials), frontdoor;
- ``bicep/params/<tier>.bicepparam`` for dev, test, prod and evaluation: SKUs from the size
  presets (``installer.render.azure.sizing``), secrets read from the environment at deploy time
  (``readEnvironmentVariable('<SECRET ENV NAME>')``, the names of ``installer.secrets.env_name``);
- ``arm/mainTemplate.json``: the same resources as one flat ARM template (languageVersion 1.0).

Both texts come from one model (``installer.render.azure.build``), so they agree resource by
resource. No secret value is ever written: secrets are ``secureString`` parameters without
defaults, stored in Key Vault by the template, read by the apps through the identity.
"""

from __future__ import annotations

from typing import Any, Literal

from installer.plan import Tier
from installer.render.azure.hybrid_ingress import ONPREM_CIDR_PARAM, ONPREM_CIDR_VAR
from installer.render import RenderInput
from installer.render.azure import sizing
from installer.render.azure.arm import arm_template, dumps
from installer.render.azure.bicep import bicep_files, bicepparam_text
from installer.render.azure.build import Naming, build_foundation, secret_params
from installer.render.azure.model import Foundation
from installer.render.bundle import Bundle

__all__ = ["render_foundation", "foundation_model", "TIER_FILES", "tier_values"]

TIER_FILES = {tier: f"bicep/params/{tier.value}.bicepparam" for tier in sizing.TIERS}

_TIER_PARAMS = {
    "postgresSkuName": "postgres_sku",
    "postgresTier": "postgres_tier",
    "postgresStorageSizeGB": "postgres_storage_gb",
    "postgresHaMode": "postgres_ha",
    "postgresBackupRetentionDays": "postgres_backup_days",
    "redisSkuName": "redis_sku",
    "logRetentionDays": "log_retention_days",
    "aksNodeVmSize": "aks_vm_size",
    "aksNodeCount": "aks_node_count",
    "aksSkuTier": "aks_sku_tier",
    "appDataShareGB": "app_data_gb",
}


def foundation_model(inp: RenderInput, compute: Literal["aca", "aks"], naming: Naming = "plan") -> Foundation:
    return build_foundation(inp, compute, naming)


# Parameters that follow the tier itself rather than its size preset.
_TIER_PROTECTION = {"keyVaultPurgeProtection": "purge_protection", "keyVaultSoftDeleteDays": "soft_delete_days"}


def tier_values(f: Foundation, inp: RenderInput, tier: Tier) -> dict[str, Any]:
    skus = sizing.SKUS[sizing.size_for_tier(inp.plan, tier)]
    vault = sizing.VAULT_PROTECTION[tier]
    return {
        name: getattr(vault, _TIER_PROTECTION[name]) if name in _TIER_PROTECTION else getattr(skus, _TIER_PARAMS[name])
        for name, spec in f.params.items()
        if spec.tier_value
    }


def add_foundation(bundle: Bundle, f: Foundation, inp: RenderInput, version: str) -> None:
    for rel, text in bicep_files(f).items():
        bundle.add(f"bicep/{rel}", text)
    env = {sp.param: sp.env for sp in secret_params(inp, f.compute)}  # type: ignore[arg-type]
    if "publicDomain" in f.params:
        env["publicDomain"] = "PUBLIC_DOMAIN"
    if ONPREM_CIDR_PARAM in f.params:  # hybrid: the runner's egress range, as in the ACA YAML
        env[ONPREM_CIDR_PARAM] = ONPREM_CIDR_VAR
    for tier, path in TIER_FILES.items():
        bundle.add(path, bicepparam_text(f, tier.value, tier_values(f, inp, tier), env))
    bundle.add("arm/mainTemplate.json", dumps(arm_template(f, version)))


def render_foundation(inp: RenderInput, compute: Literal["aca", "aks"]) -> Bundle:
    """Bicep modules, per-tier ``.bicepparam`` files and the flat ARM template (see module docstring)."""
    if compute not in ("aca", "aks"):
        raise ValueError(f"compute must be 'aca' or 'aks', not {compute!r}")
    bundle = Bundle()
    add_foundation(bundle, foundation_model(inp, compute), inp, inp.catalog.platform.version)
    return bundle
