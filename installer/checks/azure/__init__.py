"""Prerequisite checks against the Azure subscription (``fabrix check`` for Azure plans).

``azure_checks(plan)`` lists the checks that apply to the plan's model and target. They share one
sign-in and each ARM fact once per run (``run.AzureRun``), so the report takes about as long as
the slowest call chain. Anything that prevents an answer — throttling, a 5xx, no permission to
read, no sign-in — is reported ``unknown`` (could not verify), never ``pass``.

Reuse a TUI sign-in with ``CheckContext(plan, cache={"azure.session": session})``.
"""

from __future__ import annotations

from installer.azure import requirements
from installer.azure.blueprint import blueprint_needs
from installer.checks.azure.account import check_signin, check_subscription
from installer.checks.azure.blueprint import check_encryption_at_host, check_zones
from installer.checks.azure.names import check_keyvault_name, check_postgres_name, check_registry_name, check_storage_name
from installer.checks.azure.permissions import check_permissions
from installer.checks.azure.policy import check_policy
from installer.checks.azure.quota import check_aca_quota, check_compute_quota, check_postgres_quota
from installer.checks.azure.region import check_providers, check_region
from installer.checks.base import Check, CheckContext
from installer.plan import InstallPlan


def _check(fn) -> Check:  # type: ignore[no-untyped-def]
    return Check(id=fn.check_id, title=fn.check_title, run=fn)


def azure_checks(plan: InstallPlan) -> list[Check]:
    if not plan.is_azure():
        return []
    fns = [check_signin, check_subscription, check_region, check_providers, check_permissions, check_policy]
    fns.append(check_compute_quota if requirements.compute_target(plan) == "aks" else check_aca_quota)
    fns += [check_postgres_quota, check_keyvault_name, check_storage_name, check_registry_name, check_postgres_name]
    # Checks that follow from the blueprint's own settings (zone-redundant SKUs, encryption at
    # host). If the blueprint cannot be built here, list them anyway: they then say "unknown".
    try:
        needs = blueprint_needs(plan)
        zones, encryption = bool(needs.zone_needs), bool(needs.encryption_at_host)
    except Exception:
        zones, encryption = True, requirements.compute_target(plan) == "aks"
    if zones:
        fns.append(check_zones)
    if encryption:
        fns.append(check_encryption_at_host)
    return [_check(fn) for fn in fns]


__all__ = ["CheckContext", "azure_checks"]
