"""Render: plan + catalog + secrets → ``Bundle``. Pure and deterministic.

Each blueprint kind registers a renderer under a key; ``render_plan`` picks the ones a plan needs.
Renderers take ``RenderInput`` and return a ``Bundle``; they never touch the machine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from installer.catalog import Catalog, load_catalog
from installer.plan import DeploymentModel, InstallPlan
from installer.render.bundle import Bundle

__all__ = ["Bundle", "RenderInput", "render_plan", "renderer_keys", "TARGET_RENDERERS"]


@dataclass(frozen=True)
class RenderInput:
    plan: InstallPlan
    # env-name → value, from the install's SecretStore. Only local (Compose) bundles may embed them.
    secrets: Mapping[str, str] = field(default_factory=dict)
    catalog: Catalog = field(default_factory=load_catalog)


Renderer = Callable[[RenderInput], Bundle]

# key → "module:function". Modules import lazily so one kind's bug never breaks the others.
TARGET_RENDERERS: dict[str, str] = {
    "compose": "installer.render.compose:render_compose",
    "aca": "installer.render.aca:render_aca",
    "aks": "installer.render.aks:render_aks",
    "marketplace": "installer.render.marketplace:render_marketplace",
    "manual": "installer.render.runbook:render_runbook",
    "hybrid": "installer.render.hybrid:render_hybrid",
    "multicloud": "installer.render.multicloud:render_multicloud",
    "development": "installer.render.development:render_development",
}


def _load(key: str) -> Renderer:
    module_name, func = TARGET_RENDERERS[key].split(":")
    return getattr(importlib.import_module(module_name), func)


def renderer_keys(plan: InstallPlan) -> list[str]:
    """Which renderers a plan needs."""
    if plan.model is DeploymentModel.container:
        return [plan.target.value]
    return [plan.model.value]


def render_plan(inp: RenderInput, keys: list[str] | None = None) -> Bundle:
    """Render every blueprint kind in ``keys`` (default: the plan's own) into one bundle.

    With several keys each kind goes under its own folder (``compose/``, ``aca/`` …).
    """
    keys = keys or renderer_keys(inp.plan)
    if len(keys) == 1:
        return _load(keys[0])(inp)
    bundle = Bundle()
    for key in keys:
        bundle.merge(_load(key)(inp), prefix=f"{key}/")
    return bundle


def all_target_keys() -> list[str]:
    return list(TARGET_RENDERERS)

