"""Plans shared by the blueprint tests (ACA, AKS, models, export, cross-target)."""

from __future__ import annotations

from typing import Any

from installer.answers import plan_from_dict
from installer.catalog import load_catalog
from installer.plan import InstallPlan
from installer.render import RenderInput
from installer.secrets import env_name, generate, secrets_for

BASE: dict[str, Any] = {
    "apiVersion": "fabrix/v1",
    "name": "review",
    "images": {"registry": "contosoacr.azurecr.io"},
    "azure": {"location": "westeurope", "subscription_id": "11111111-2222-3333-4444-555555555555",
              "tenant_id": "99999999-8888-7777-6666-555555555555"},
}


def plan(**patch: Any) -> InstallPlan:
    return plan_from_dict({**BASE, **patch})


def secrets_of(p: InstallPlan) -> dict[str, str]:
    """Freshly generated values for every secret the plan uses (env-name → value)."""
    cat = load_catalog()
    return {env_name(s): generate(cat.secrets[s]) for s in secrets_for(p.enabled_components(cat), cat)}


def inp(p: InstallPlan, with_secrets: bool = True) -> RenderInput:
    return RenderInput(plan=p, secrets=secrets_of(p) if with_secrets else {})
