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
from installer.render.templating import render_template
from installer.render.yamlout import dump
from installer.render.workload import (
    DEPLOY_VALUES,
    HTTP_CONCURRENCY,
    AzureApp,
    AzureNames,
    azure_apps,
    azure_names,
    data_volume_name,
    resource_id,
)

WORKLOAD_PROFILE = "Consumption"


def foundation(inp: RenderInput, compute: str) -> Bundle:
    """The Azure foundation (Bicep modules, tier parameters, flat ARM) from the foundation renderer."""
    from installer.render.foundation import render_foundation

    return render_foundation(inp, compute)  # type: ignore[arg-type]


def identity_id(plan: InstallPlan, names: AzureNames) -> str:
    return resource_id(plan, names, "Microsoft.ManagedIdentity/userAssignedIdentities", names.identity)


def environment_id(plan: InstallPlan, names: AzureNames) -> str:
    return resource_id(plan, names, "Microsoft.App/managedEnvironments", names.aca_environment)


def _registry_host(image: str) -> str | None:
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first) else None


def _probes(app: AzureApp) -> list[dict[str, Any]]:
    if app.health_path is None:
        return []
    ready = {"path": app.health_path, "port": app.health_port or app.port, "scheme": "HTTP"}
    live = {"path": app.live_path or app.health_path, "port": app.live_port or app.health_port or app.port,
            "scheme": "HTTP"}
    return [
        # Startup covers slow first boots (Keycloak, migrations) so liveness can stay strict.
        {"type": "Startup", "httpGet": ready, "initialDelaySeconds": 10, "periodSeconds": 10,
         "timeoutSeconds": 5, "failureThreshold": 10},
        # Liveness on the liveness endpoint: a restart does not cure a dependency that is down.
        {"type": "Liveness", "httpGet": live, "periodSeconds": 30, "timeoutSeconds": 5,
         "failureThreshold": 3},
        {"type": "Readiness", "httpGet": ready, "periodSeconds": 10, "timeoutSeconds": 5,
         "failureThreshold": 3},
    ]


def app_body(inp: RenderInput, app: AzureApp, names: AzureNames) -> dict[str, Any]:
    plan = inp.plan
    uami = identity_id(plan, names)
    vault = names.vault_url(plan.azure.cloud)
    env: list[dict[str, str]] = []
    for var in app.env:
        env.append({"name": var.name, "secretRef": var.secret} if var.secret else {"name": var.name, "value": var.value or ""})
    registries = []
    host = _registry_host(app.image)
    if host and plan.images.registry and host == plan.images.registry.split("/")[0]:
        registries.append({"server": host, "identity": uami})
    # Each data volume is an Azure Files share the foundation creates in its storage account and
    # registers as environment storage of the same name, so the data outlives restarts and revisions.
    volumes = [
        {"name": f"data{i}", "storageType": "AzureFile", "storageName": data_volume_name(app.name, i)}
        for i, _ in enumerate(app.volumes)
    ]
    container: dict[str, Any] = {
        "name": app.name,
        "image": app.image,
        "env": env,
        "resources": {"cpu": app.cpu, "memory": f"{app.memory_gib:g}Gi"},
        "probes": _probes(app),
    }
    if app.args:
        container["args"] = list(app.args)
    if app.volumes:
        container["volumeMounts"] = [
            {"volumeName": f"data{i}", "mountPath": path} for i, path in enumerate(app.volumes)
        ]
    return {
        "location": names.location,
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {uami: {}}},
        "tags": {TAG_INSTALL: plan.name, "fabrix-component": app.name},
        "properties": {
            "environmentId": environment_id(plan, names),
            "workloadProfileName": WORKLOAD_PROFILE,
            "configuration": {
                "activeRevisionsMode": "Single",
                "maxInactiveRevisions": 3,
                "ingress": {
                    "external": app.frontdoor,
                    "targetPort": app.port,
                    "transport": "http",
                    "allowInsecure": False,
                    "traffic": [{"latestRevision": True, "weight": 100}],
                },
                "secrets": [
                    {"name": s, "keyVaultUrl": f"{vault}secrets/{s}", "identity": uami}
                    for s in app.secrets
                ],
                "registries": registries,
            },
            "template": {
                "containers": [container],
                "scale": {
                    "minReplicas": app.min_replicas,
                    "maxReplicas": app.max_replicas,
                    "rules": [
                        {"name": "http-concurrency",
                         "http": {"metadata": {"concurrentRequests": str(HTTP_CONCURRENCY)}}}
                    ],
                },
                "volumes": volumes,
            },
        },
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
