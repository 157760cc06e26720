"""Checks that follow from what the blueprint itself deploys (``installer.azure.blueprint``):
availability zones for its zone-redundant settings, and the EncryptionAtHost feature for AKS."""

from __future__ import annotations

from typing import Any

from azure.core.rest import HttpRequest

from installer.azure.blueprint import BlueprintNeeds, blueprint_needs
from installer.azure.subscriptions import normalize_region
from installer.checks.azure import facts
from installer.checks.azure.run import AzureRun, Unverifiable, azure_check, result
from installer.checks.base import CheckResult, Status

ZONES_ID, ZONES_TITLE = "azure.zones", "Region has availability zones"
EAH_ID, EAH_TITLE = "azure.feature.encryptionathost", "EncryptionAtHost feature registered"
FEATURE_API = "2021-07-01"
FEATURE_REGISTER = "az feature register --namespace Microsoft.Compute --name EncryptionAtHost"
PROVIDER_REGISTER = "az provider register -n Microsoft.Compute"
FEATURE_ACTION = "Microsoft.Features/providers/features/register/action"


def needs(run: AzureRun) -> BlueprintNeeds:
    """The plan's blueprint facts, built once per run (several checks read them)."""
    try:
        return run.fact("blueprint", lambda: blueprint_needs(run.plan))
    except Exception as exc:  # a renderer error must not sink the report; say what we could not read
        raise Unverifiable(
            f"could not verify: the blueprint for this plan could not be built ({type(exc).__name__}: {exc})",
            "run `fabrix render --answers <file>` to see the error in the blueprint",
        ) from exc


@azure_check(ZONES_ID, ZONES_TITLE)
def check_zones(run: AzureRun) -> CheckResult:
    need = needs(run)
    if not need.zone_needs:
        return result(ZONES_ID, ZONES_TITLE, Status.passed, "the blueprint uses no zone-redundant setting")
    location = run.require_location()
    index = facts.regions(run)
    here = index.get(location)
    settings = "; ".join(n.describe() for n in need.zone_needs)
    if here is None:
        raise Unverifiable(
            f"could not verify: region {location} is not available to subscription {run.subscription_id} (see the region check)",
            "choose a region the subscription offers (`az account list-locations -o table`)",
        )
    required = set(need.zones_required)
    missing = sorted(required - set(here.zones)) if here.zones else sorted(required)
    if here.zones and not missing:
        return result(ZONES_ID, ZONES_TITLE, Status.passed,
                      f"{here.display_name} ({here.name}) has zones {', '.join(here.zones)}; the blueprint needs them for: {settings}",
                      zones=list(here.zones), settings=[n.describe() for n in need.zone_needs])
    # Regions with every zone the blueprint names; the same geography first (data residency).
    fits = [x for x in index.locations if x.physical and x.zones and required <= set(x.zones) and x.name != here.name]
    fits.sort(key=lambda x: (x.geography != here.geography, x.name))
    alternatives = ", ".join(x.name for x in fits[:8]) or "none of this subscription's regions lists zones"
    found = (f"{here.display_name} ({here.name}) has no availability zones for this subscription"
             if not here.zones else
             f"{here.display_name} ({here.name}) lacks zone(s) {', '.join(missing)} (has {', '.join(here.zones)})")
    return result(
        ZONES_ID, ZONES_TITLE, Status.fail, f"{found}; the blueprint needs zones for: {settings}",
        f"choose a region with availability zones: {alternatives} (`az account list-locations --query "
        "\"[?availabilityZoneMappings].name\" -o tsv` lists them)",
        zones=list(here.zones), missing=missing, alternatives=[x.name for x in fits],
        settings=[n.describe() for n in need.zone_needs], region=normalize_region(location),
    )


def _feature_state(run: AzureRun, sub: str) -> str:
    def fetch() -> str:
        url = (f"/subscriptions/{sub}/providers/Microsoft.Features/providers/Microsoft.Compute/features/"
               f"EncryptionAtHost?api-version={FEATURE_API}")
        response = run.clients.resources(sub).send_request(HttpRequest("GET", url))
        response.raise_for_status()  # HttpResponseError → the check says "could not verify"
        body: Any = response.json()
        state = (body.get("properties") or {}).get("state") if isinstance(body, dict) else None
        if not state:
            raise Unverifiable("could not verify: the features API answered without properties.state",
                               "check by hand: `az feature show --namespace Microsoft.Compute --name EncryptionAtHost`")
        return str(state)

    return run.fact("feature.EncryptionAtHost", fetch)


@azure_check(EAH_ID, EAH_TITLE)
def check_encryption_at_host(run: AzureRun) -> CheckResult:
    need = needs(run)
    users = ", ".join(need.encryption_at_host)
    if not need.encryption_at_host:
        return result(EAH_ID, EAH_TITLE, Status.passed, "the blueprint does not enable encryption at host")
    sub = run.require_subscription()
    state = _feature_state(run, sub)
    if state.lower() == "registered":
        return result(EAH_ID, EAH_TITLE, Status.passed,
                      f"Microsoft.Compute/EncryptionAtHost is Registered ({users} enables encryption at host)", state=state)
    try:  # who may register it: a courtesy; the finding stands without it
        may = facts.role_facts(run).grant(FEATURE_ACTION, run.subscription_scope).allowed
        who = ("you may run it" if may else
               "you lack Microsoft.Features/providers/features/register/action: ask a subscription Contributor or Owner to run it")
    except Exception:
        who = "needs Contributor or Owner on the subscription"
    remedy = f"`{FEATURE_REGISTER} --subscription {sub}`, wait until it shows Registered, then `{PROVIDER_REGISTER}` — {who}"
    if state.lower() in ("registering", "pending"):
        return result(EAH_ID, EAH_TITLE, Status.warn,
                      f"Microsoft.Compute/EncryptionAtHost is {state} (registration takes up to ~20 minutes); "
                      f"{users} enables encryption at host",
                      f"wait, re-check, then `{PROVIDER_REGISTER}` to propagate it — {who}", state=state)
    return result(EAH_ID, EAH_TITLE, Status.fail,
                  f"Microsoft.Compute/EncryptionAtHost is {state}; {users} enables encryption at host and the deployment would fail",
                  remedy, state=state, command=FEATURE_REGISTER)


__all__ = ["check_encryption_at_host", "check_zones", "needs"]
