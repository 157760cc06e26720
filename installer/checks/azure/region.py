"""The region exists for the subscription and offers every resource type the model needs;
the providers for those types are registered."""

from __future__ import annotations

import difflib

from installer.azure import requirements
from installer.azure.providers import register_command
from installer.azure.subscriptions import RegionIndex, normalize_region
from installer.checks.azure import facts
from installer.checks.azure.run import AzureRun, azure_check, result
from installer.checks.base import CheckResult, Status


def _offered(run: AzureRun, provider: facts.Provider | None, rtype: requirements.ResourceType, index) -> set[str]:
    if provider is None:
        return set()
    listed = provider.types.get(rtype.type.lower(), [])
    return {index.resolve(loc) for loc in listed}


def unknown_region_fix(name: str, index: RegionIndex) -> str:
    """The fix for a region name the subscription does not list: the closest names, then the rest."""
    physical = sorted(x.name for x in index.locations if x.physical)
    close = difflib.get_close_matches(name, physical, n=3, cutoff=0.6)
    near = f"did you mean {' or '.join(close)}? " if close else ""
    return (f"{near}choose one of: {', '.join(physical[:20])}{' …' if len(physical) > 20 else ''} "
            "(`az account list-locations -o table`; some regions need access enabled through a support request)")


@azure_check("azure.region", "Region offers every resource type")
def check_region(run: AzureRun) -> CheckResult:
    cid, title = "azure.region", "Region offers every resource type"
    if not run.location:
        return result(cid, title, Status.fail, "no region chosen (azure.location is empty)",
                      "set azure.location in the answers file (`az account list-locations -o table`)")
    index, providers = run.parallel(lambda: facts.regions(run), lambda: facts.providers(run))
    loc = normalize_region(run.location)
    if index.get(loc) is None:
        return result(cid, title, Status.fail,
                      f"region {run.location} is not available to subscription {run.subscription_id}",
                      unknown_region_fix(loc, index))
    needed = [t for t in requirements.resource_types(run.plan) if t.regional]
    missing: list[requirements.ResourceType] = []
    candidates = {x.name for x in index.locations if x.physical}
    for rtype in needed:
        offered = _offered(run, providers.get(rtype.namespace.lower()), rtype, index)
        candidates &= offered
        if loc not in offered:
            missing.append(rtype)
    display = index.get(loc).display_name  # type: ignore[union-attr]
    if missing:
        names = ", ".join(f"{t.what} ({t.full})" for t in missing)
        alternatives = ", ".join(sorted(candidates)[:8]) or "none of this subscription's regions offers them all"
        return result(cid, title, Status.fail, f"{display} ({loc}) does not offer: {names}",
                      f"choose a region that offers every type: {alternatives}",
                      missing=[t.full for t in missing], alternatives=sorted(candidates))
    return result(cid, title, Status.passed, f"{display} ({loc}) offers all {len(needed)} resource types the {run.plan.model.value} model needs",
                  resource_types=[t.full for t in needed])


@azure_check("azure.providers", "Resource providers registered")
def check_providers(run: AzureRun) -> CheckResult:
    cid, title = "azure.providers", "Resource providers registered"
    providers = facts.providers(run)
    needed = requirements.namespaces(run.plan)
    states = {ns: (providers.get(ns.lower()).state if providers.get(ns.lower()) else "Unknown") for ns in needed}
    # ARM spells states as it likes ("Registered", "registered"): compare without regard to case.
    unregistered = [ns for ns, state in states.items() if state.lower() != "registered"]
    if not unregistered:
        return result(cid, title, Status.passed, f"all {len(needed)} providers registered: {', '.join(needed)}", states=states)
    command = register_command(unregistered, run.subscription_id)
    # Registering needs <namespace>/register/action at subscription scope (Contributor there has it).
    try:
        roles = facts.role_facts(run)
        may = all(roles.grant(f"{ns}/register/action", run.subscription_scope).allowed for ns in unregistered)
        who = ("you may register them (the wizard offers to, after asking)" if may
               else "you lack */register/action on the subscription: ask a subscription Contributor or Owner to run it")
    except Exception:  # the permission lookup is a courtesy; the finding stands without it
        may, who = False, "needs Contributor or Owner on the subscription"
    listing = ", ".join(f"{ns} ({states[ns]})" for ns in unregistered)
    status = Status.warn if all(states[ns].lower() == "registering" for ns in unregistered) else Status.fail
    return result(cid, title, status, f"not registered: {listing}", f"`{command}` — {who}",
                  states=states, unregistered=unregistered, can_register=may, command=command)
