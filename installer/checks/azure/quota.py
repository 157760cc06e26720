"""Quotas against the size preset: AKS node vCPUs, Container Apps cores, PostgreSQL vCores and SKU."""

from __future__ import annotations

from typing import Any

from installer.azure import requirements
from installer.checks.azure import facts
from installer.checks.azure.account import SMALL_OFFERS
from installer.checks.azure.run import AzureRun, Unverifiable, azure_check, result, text
from installer.checks.base import CheckResult, Status


def _usage_rows(rows: Any) -> list[tuple[str, str, float, float]]:
    """(name, localized name, current, limit) for usage models of any azure-mgmt package."""
    out = []
    for u in rows:
        name = getattr(u, "name", None)
        value = str(getattr(name, "value", name) or "")
        local = str(getattr(name, "localized_value", "") or value)
        out.append((value, local, float(getattr(u, "current_value", 0) or 0), float(getattr(u, "limit", 0) or 0)))
    return out


def _quota_remedy(run: AzureRun, provider: str, quota_name: str, new_limit: float) -> str:
    return (
        f"request more quota: Azure portal → Quotas → {provider} → {run.location} → {quota_name} (new limit ≥ {new_limit:g}), "
        f"or `az quota update --resource-name {quota_name} --scope /subscriptions/{run.subscription_id}/providers/{provider}/locations/{run.location} "
        f"--limit-object value={new_limit:g}` (az extension `quota`; needs Quota Request Operator or Contributor), "
        "or choose a smaller size preset or another region"
    )


def _pool_zones(run: AzureRun) -> tuple[str, ...]:
    """Zones the blueprint pins the AKS node pool to (empty: not pinned, or no blueprint here)."""
    from installer.checks.azure.blueprint import needs

    try:
        need = needs(run)
    except Unverifiable:
        return ()
    return tuple(sorted({z for n in need.zone_needs if n.resource.lower() == "microsoft.containerservice/managedclusters" for z in n.zones}))


@azure_check("azure.quota.compute", "vCPU quota for the AKS node pool")
def check_compute_quota(run: AzureRun) -> CheckResult:
    cid, title = "azure.quota.compute", "vCPU quota for the AKS node pool"
    sub, loc = run.require_subscription(), run.require_location()
    demand = requirements.aks_demand(run.plan)
    client = run.clients.compute(sub)
    usages, skus = run.parallel(
        lambda: _usage_rows(client.usage.list(loc)),
        lambda: [s for s in client.resource_skus.list(filter=f"location eq '{loc}'") if str(s.name).lower() == demand.vm_size.lower()],
    )
    details: dict[str, Any] = {"vm_size": demand.vm_size, "nodes": demand.nodes, "needed_vcpus": demand.vcpus}
    if not skus:
        return result(cid, title, Status.fail, f"VM size {demand.vm_size} is not offered in {loc}",
                      "choose another region or size preset (`az vm list-skus --location <region> --size Standard_D -o table`)", **details)
    restrictions = [r for s in skus for r in (s.restrictions or [])]
    blocked = [r for r in restrictions if text(getattr(r, "type", None)).lower() == "location"]
    if blocked:
        reason = text(getattr(blocked[0], "reason_code", None)) or "restricted"
        return result(cid, title, Status.fail, f"VM size {demand.vm_size} is restricted for this subscription in {loc} ({reason})",
                      "open a support request (Help + support → Service and subscription limits → Compute-VM) to lift the SKU restriction, or choose another region", **details)
    # The node pool is pinned to zones (the blueprint's availabilityZones): the size must be offered
    # in each of them (locationInfo[].zones) and not restricted there (restrictions of type Zone).
    pool_zones = _pool_zones(run)
    offered = sorted({str(z) for s in skus for li in (s.location_info or []) if str(li.location or "").lower() == loc.lower() for z in (li.zones or [])})
    zone_blocked = sorted({str(z) for r in restrictions if text(getattr(r, "type", None)).lower() == "zone"
                           for z in (getattr(getattr(r, "restriction_info", None), "zones", None) or [])})
    usable = [z for z in offered if z not in zone_blocked]
    details.update(pool_zones=list(pool_zones), sku_zones=offered, restricted_zones=zone_blocked)
    lacking = [z for z in pool_zones if z not in usable]
    if lacking:
        why = []
        if [z for z in lacking if z not in offered]:
            why.append(f"offered in zone(s) {', '.join(offered) or 'none'} only")
        if zone_blocked:
            why.append(f"restricted for this subscription in zone(s) {', '.join(zone_blocked)}")
        return result(cid, title, Status.fail,
                      f"VM size {demand.vm_size} is {' and '.join(why)} in {loc}; the AKS node pool is pinned to zones {', '.join(pool_zones)} "
                      f"(the deployment would fail in zone {', '.join(lacking)})",
                      "choose a region or size offered in every zone of the pool (`az vm list-skus --location "
                      f"{loc} --size {demand.vm_size} --zone -o table`), or open a support request (Compute-VM, zonal access) for the zone", **details)
    family = demand.family or str(getattr(skus[0], "family", "") or "")
    rows = {name.lower(): (local, cur, lim) for name, local, cur, lim in usages}
    short: list[str] = []
    worst_limit = 0.0
    for key, label in (("cores", "Total Regional vCPUs"), (family.lower(), f"{family} vCPUs")):
        if key not in rows:
            continue
        local, cur, lim = rows[key]
        free = lim - cur
        details[key] = {"current": cur, "limit": lim, "free": free}
        if free < demand.vcpus:
            short.append(f"{local or label}: {free:g} free of {lim:g}, need {demand.vcpus}")
            worst_limit = max(worst_limit, cur + demand.vcpus)
    if "cores" not in rows:
        return result(cid, title, Status.unknown, "could not verify: the compute usage list has no regional vCPU entry",
                      "check Quotas → Compute in the portal for the region", **details)
    remedy_quota, remedy_limit = family or "cores", worst_limit
    # The same usage list counts VMs and scale sets (rows virtualMachines, virtualMachineScaleSets
    # of the recorded `az vm list-usage` answer): the pool is one scale set of nodes+1 VMs.
    for quota, label, need in (("virtualMachines", "Virtual Machines", demand.nodes + 1), ("virtualMachineScaleSets", "Virtual Machine Scale Sets", 1)):
        if quota.lower() not in rows:
            continue
        local, cur, lim = rows[quota.lower()]
        details[quota.lower()] = {"current": cur, "limit": lim, "free": lim - cur}
        if lim - cur < need:
            short.append(f"{local or label}: {lim - cur:g} free of {lim:g}, need {need}")
            if not worst_limit:  # no vCPU shortfall: the remedy names this count's quota
                remedy_quota, remedy_limit = quota, cur + need
    what = f"{demand.nodes}+1 (upgrade surge) × {demand.vm_size} = {demand.vcpus} vCPUs"
    if short:
        return result(cid, title, Status.fail, f"{what}; " + "; ".join(short), _quota_remedy(run, "Microsoft.Compute", remedy_quota, remedy_limit), **details)
    return result(cid, title, Status.passed, f"{what} fit in the regional and {family} quotas", **details)


def _aca_core_row(rows: list[tuple[str, str, float, float]]) -> tuple[str, str, float, float] | None:
    """The regional cores row of Microsoft.App usages. The REST API example (Usages_List.json,
    2025-01-01) names it ``ManagedEnvironmentCores``; recorded answers also show
    ``ManagedEnvironmentConsumptionCores`` (the consumption plan the apps run on), preferred when both
    are listed. GPU and dedicated-profile rows (``...GeneralPurposeCores``, ``...Gpus``) are other pools."""
    by_name = {r[0].lower(): r for r in rows}
    return by_name.get("managedenvironmentconsumptioncores") or by_name.get("managedenvironmentcores")


@azure_check("azure.quota.containerapps", "Container Apps environment and cores")
def check_aca_quota(run: AzureRun) -> CheckResult:
    cid, title = "azure.quota.containerapps", "Container Apps environment and cores"
    sub, loc = run.require_subscription(), run.require_location()
    rows, subinfo = run.parallel(
        lambda: _usage_rows(run.clients.container_apps(sub).usages.list(loc)),
        lambda: facts.subscription(run),
    )
    need_cores = requirements.aca_cores(run.plan, run.ctx.catalog)
    details: dict[str, Any] = {"needed_cores": need_cores}
    problems: list[str] = []
    env_row = next((r for r in rows if "environmentcount" in r[0].lower()), None)
    if env_row is not None:
        _, local, cur, lim = env_row
        details["environments"] = {"current": cur, "limit": lim}
        if lim - cur < 1:
            problems.append(f"{local}: {cur:g} of {lim:g} used, need 1 more")
    core_row = _aca_core_row(rows)
    core_quota = "ManagedEnvironmentConsumptionCores"
    if core_row is not None:
        core_quota, local, cur, lim = core_row
        limit, source = lim - cur, f"{local} ({cur:g} of {lim:g} used)"
        details["cores"] = {"current": cur, "limit": lim}
    else:  # documented defaults (learn container-apps/quotas): 100 cores per environment, 10 on trials
        limit = 10.0 if subinfo.quota_id.startswith(SMALL_OFFERS) else 100.0
        source = "default per-environment core limit"
    details["core_limit"] = limit
    if need_cores > limit:
        problems.append(f"{source}: {limit:g} cores free, the apps may scale to {need_cores:g}")
    if problems:
        return result(cid, title, Status.fail, "; ".join(problems),
                      _quota_remedy(run, "Microsoft.App", core_quota, (core_row[2] if core_row else 0) + need_cores) if need_cores > limit
                      else _quota_remedy(run, "Microsoft.App", "ManagedEnvironmentCount", (env_row[2] + 1) if env_row else 1), **details)
    env_text = f"{env_row[2]:g} of {env_row[3]:g} environments used" if env_row else "environment count not listed"
    return result(cid, title, Status.passed, f"{env_text}; apps need up to {need_cores:g} of {limit:g} cores ({source})", **details)


def _offer_restricted(cap: Any) -> bool:
    """The capabilities body says the offer is barred: ``restricted: "Enabled"`` (the field the
    2024-08-01 example carries, "Disabled" when open) or the ``OfferRestricted`` supported feature
    ``Enabled`` (its successor). Older bodies had ``status``: "Disabled" counts too."""
    if text(getattr(cap, "restricted", None)).lower() == "enabled":
        return True
    for feature in getattr(cap, "supported_features", None) or []:
        if text(getattr(feature, "name", "")).lower() == "offerrestricted" and text(getattr(feature, "status", "")).lower() == "enabled":
            return True
    return text(getattr(cap, "status", None)).lower() == "disabled"


@azure_check("azure.quota.postgres", "PostgreSQL Flexible Server SKU and vCores")
def check_postgres_quota(run: AzureRun) -> CheckResult:
    cid, title = "azure.quota.postgres", "PostgreSQL Flexible Server SKU and vCores"
    sub, loc = run.require_subscription(), run.require_location()
    sizing = requirements.sizing(run.plan)
    client = run.clients.postgres(sub)
    caps, usages = run.parallel(
        lambda: list(client.capabilities_by_location.list(loc)),
        lambda: _usage_rows(client.quota_usages.list(loc)),
    )
    details: dict[str, Any] = {"sku": sizing.postgres_sku, "tier": sizing.postgres_tier, "ha": sizing.postgres_ha}
    if not caps:
        return result(cid, title, Status.fail, f"PostgreSQL Flexible Server is not offered in {loc}", "choose another region", **details)
    barred = [c for c in caps if _offer_restricted(c)]
    if barred:
        reason = str(getattr(barred[0], "reason", "") or "restricted for this subscription")
        return result(cid, title, Status.fail, f"PostgreSQL Flexible Server is restricted for this subscription in {loc}: {reason}",
                      "choose another region, or open a support request (Help + support → Service and subscription limits (quotas) → "
                      "Azure Database for PostgreSQL Flexible Server → region access) to lift the restriction", **details)
    skus = {}
    for cap in caps:
        for edition in cap.supported_server_editions or []:
            if text(edition.name).lower() == sizing.postgres_tier.lower():
                for sku in edition.supported_server_skus or []:
                    skus[str(sku.name).lower()] = sku
    sku = skus.get(sizing.postgres_sku.lower())
    if sku is None:
        offered = ", ".join(sorted(str(s.name) for s in skus.values())) or "none"
        return result(cid, title, Status.fail, f"{sizing.postgres_tier} {sizing.postgres_sku} is not offered in {loc} (offered: {offered})",
                      "choose another region or size preset", **details)
    vcores = int(getattr(sku, "v_cores", 0) or requirements.vm_vcpus(sizing.postgres_sku)) * (2 if sizing.postgres_ha else 1)
    details["needed_vcores"] = vcores
    warn = ""
    if sizing.postgres_ha and "zoneredundant" not in {text(m).lower() for m in (getattr(sku, "supported_ha_mode", None) or [])}:
        warn = f"; zone-redundant HA is not offered for {sizing.postgres_sku} in {loc} (same-zone HA only)"
    # Real answers list "cores" (regional total) and one row per VM family (standardDDSv5Family…).
    family = requirements.vm_family(sizing.postgres_sku)
    rows = {name.lower(): (local, cur, lim) for name, local, cur, lim in usages}
    if "cores" not in rows and family.lower() not in rows:
        return result(cid, title, Status.unknown, f"{sizing.postgres_sku} offered; could not verify vCore quota: no cores entry in the usage list",
                      "check Quotas → Azure Database for PostgreSQL flexible servers in the portal", **details)
    short: list[str] = []
    free_min = float("inf")
    for key in ("cores", family.lower()):
        if key not in rows:
            continue
        local, cur, lim = rows[key]
        details[key] = {"current": cur, "limit": lim}
        free_min = min(free_min, lim - cur)
        if lim - cur < vcores:
            short.append(f"{local}: {lim - cur:g} free of {lim:g}")
            quota_name, new_limit = (family if key != "cores" else "cores"), cur + vcores
    if short:
        return result(cid, title, Status.fail, f"{'; '.join(short)}; {sizing.postgres_sku}{' with HA' if sizing.postgres_ha else ''} needs {vcores} vCores",
                      _quota_remedy(run, "Microsoft.DBforPostgreSQL", quota_name, new_limit), **details)
    lim = free_min
    status = Status.warn if warn else Status.passed
    return result(cid, title, status, f"{sizing.postgres_tier} {sizing.postgres_sku}{' with HA' if sizing.postgres_ha else ''} offered; "
                  f"needs {vcores} of {lim:g} free vCores{warn}",
                  "choose a region with availability zones for zone-redundant HA" if warn else "", **details)
