"""Container → Azure Container Apps: the foundation (compute "aca") plus one app YAML per workload.

Each ``aca/<component>.yaml`` is the ARM body ``az containerapp create --yaml`` takes
(notes/azure.md §5): ingress external only for Front-Door-facing apps (the environment itself is
internal, so "external" means reachable over Private Link, never from the internet), Key Vault
secret references and registry pulls through the user-assigned identity, probes from the
catalog's ``http_health``, valid CPU/memory pairs and HTTP scale rules per size preset.
"""

from __future__ import annotations

from typing import Any

from installer.labels import TAG_INSTALL
from installer.plan import InstallPlan
from installer.render import Bundle, RenderInput
from installer.render.azure.containerapp import AppRefs, container_app_properties
from installer.render.templating import render_template
from installer.render.yamlout import dump
from installer.render.workload import (
    DEPLOY_VALUES,
    AzureApp,
    AzureNames,
    azure_apps,
    azure_names,
    resource_id,
)



def foundation(inp: RenderInput, compute: str) -> Bundle:
    """The Azure foundation (Bicep modules, tier parameters, flat ARM) from the foundation renderer."""
    from installer.render.foundation import render_foundation

    return render_foundation(inp, compute)  # type: ignore[arg-type]


def identity_id(plan: InstallPlan, names: AzureNames) -> str:
    return resource_id(plan, names, "Microsoft.ManagedIdentity/userAssignedIdentities", names.identity)


def environment_id(plan: InstallPlan, names: AzureNames) -> str:
    return resource_id(plan, names, "Microsoft.App/managedEnvironments", names.aca_environment)


def app_body(inp: RenderInput, app: AzureApp, names: AzureNames, onprem_cidr: str | None = None) -> dict[str, Any]:
    """The YAML body: the same Container App properties the foundation template deploys
    (``installer.render.azure.containerapp``), with resource ids spelled out. ``onprem_cidr``:
    hybrid only, the runner's range (a placeholder) that the control plane's ingress accepts."""
    plan = inp.plan
    uami = identity_id(plan, names)
    vault = names.vault_url(plan.azure.cloud)
    refs = AppRefs(
        identity=uami, environment=environment_id(plan, names),
        secret_url=lambda s: f"{vault}secrets/{s}", env_value=lambda v: v.value or "", cpu=float,
        registry=(plan.images.registry or "").split("/")[0] or None, onprem_cidr=onprem_cidr,
    )
    return {
        "location": names.location,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {uami: {}}},
        "tags": {TAG_INSTALL: plan.name, "fabrix-component": app.name},
        "properties": container_app_properties(app, refs),
    }


def render_aca_apps(inp: RenderInput, postdeploy: str | None = None) -> Bundle:
    """Only the ACA app files (``aca/``), without the foundation. ``postdeploy``: the bundle's
    database script, which the README lists among the steps after the deployment."""
    names = azure_names(inp.plan)
    apps = azure_apps(inp, "aca")
    bundle = Bundle()
    for app in apps:
        bundle.add(
            f"aca/{app.name}.yaml",
            render_template("aca/app.yaml.j2", app=app, plan=inp.plan, names=names,
                            body=dump(app_body(inp, app, names))),
        )
    bundle.add(
        "aca/README.md",
        render_template("aca/README.md.j2", plan=inp.plan, names=names, apps=apps,
                        deploy_values=DEPLOY_VALUES, postdeploy=postdeploy),
    )
    return bundle


def render_aca(inp: RenderInput) -> Bundle:
    from installer.render.postdeploy import add_postdeploy

    bundle = foundation(inp, "aca")
    script = add_postdeploy(bundle, inp)
    bundle.merge(render_aca_apps(inp, postdeploy=script))
    return bundle
