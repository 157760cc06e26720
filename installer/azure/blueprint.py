"""What the plan's Azure blueprint asks of the region and the subscription, read from the blueprint.

The checks must not restate the renderer's choices (a storage SKU, a registry setting, the AKS
node pool's zones): they build the same foundation model the renderer writes
(``installer.render.foundation.foundation_model``) with the plan's tier values and look at it. If a
blueprint changes a SKU, the checks follow without an edit, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from installer.azure import requirements
from installer.plan import InstallPlan


@dataclass(frozen=True)
class ZoneNeed:
    resource: str  # Microsoft.Storage/storageAccounts
    setting: str  # what in the blueprint needs zones: "SKU Standard_GZRS", "zoneRedundancy: Enabled"
    zones: tuple[str, ...] = ()  # logical zones named explicitly (AKS node pool); empty: any zones

    def describe(self) -> str:
        where = f" in zones {', '.join(self.zones)}" if self.zones else ""
        return f"{self.resource} ({self.setting}{where})"


@dataclass(frozen=True)
class BlueprintNeeds:
    zone_needs: tuple[ZoneNeed, ...] = ()
    encryption_at_host: tuple[str, ...] = ()  # resources that set enableEncryptionAtHost: true
    compute: str = "aca"
    tier: str = ""

    @property
    def zones_required(self) -> tuple[str, ...]:
        """Logical zones named explicitly anywhere in the blueprint, sorted."""
        return tuple(sorted({z for need in self.zone_needs for z in need.zones}))


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    """A literal, or a template parameter's value for the plan's tier; other expressions → None."""
    from installer.render.azure.expr import Expr, Param

    if isinstance(value, Param):
        return params.get(value.name)
    if isinstance(value, Expr):
        return None
    return value


def _walk(value: Any) -> Iterator[dict[Any, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, (list, tuple)):
        for child in value:
            yield from _walk(child)


def _zone_settings(node: dict[Any, Any], params: dict[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(setting, explicit zones) for every zone-dependent setting in one object of a resource body."""
    sku = node.get("sku")
    if isinstance(sku, dict):
        name = _resolve(sku.get("name"), params)
        # ZRS, GZRS, RAGZRS (Storage), Premium_ZRS (disks): replicated across the region's zones.
        if isinstance(name, str) and name.upper().endswith("ZRS"):
            yield f"SKU {name}", ()
    if str(_resolve(node.get("zoneRedundancy"), params)).lower() == "enabled":
        yield "zoneRedundancy: Enabled", ()
    if _resolve(node.get("zoneRedundant"), params) is True:
        yield "zoneRedundant: true", ()
    ha = node.get("highAvailability")
    if isinstance(ha, dict) and str(_resolve(ha.get("mode"), params)) == "ZoneRedundant":
        yield "high availability ZoneRedundant", ()
    for key in ("availabilityZones", "zones"):
        zones = _resolve(node.get(key), params)
        if isinstance(zones, (list, tuple)) and zones and all(isinstance(z, (str, int)) for z in zones):
            yield f"{key} {', '.join(str(z) for z in zones)}", tuple(str(z) for z in zones)


def blueprint_needs(plan: InstallPlan) -> BlueprintNeeds:
    """Zone-redundant settings and encryption-at-host in the foundation the plan renders."""
    if not plan.is_azure():
        return BlueprintNeeds()
    # Imported here: the render package is heavy and only the Azure checks need it.
    from installer.render import RenderInput
    from installer.render.foundation import foundation_model, tier_values

    compute = requirements.compute_target(plan)
    inp = RenderInput(plan)
    f = foundation_model(inp, "aks" if compute == "aks" else "aca")
    params = {name: spec.default for name, spec in f.params.items()}
    params.update(tier_values(f, inp, plan.tier))
    zone_needs: list[ZoneNeed] = []
    encryption: list[str] = []
    for res in f.resources:
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for node in _walk(res.body):
            for setting in _zone_settings(node, params):
                if setting not in seen:
                    seen.add(setting)
                    zone_needs.append(ZoneNeed(res.type, setting[0], setting[1]))
            if _resolve(node.get("enableEncryptionAtHost"), params) is True and res.type not in encryption:
                encryption.append(res.type)
    return BlueprintNeeds(tuple(zone_needs), tuple(encryption), compute, plan.tier.value)


__all__ = ["BlueprintNeeds", "ZoneNeed", "blueprint_needs"]
