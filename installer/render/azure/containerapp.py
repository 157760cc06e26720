"""One Container App, one model: the ``properties`` of ``Microsoft.App/containerApps`` that the flat
ARM template, the Bicep module and ``aca/<app>.yaml`` (``az containerapp create/update --yaml``)
all write. Only the references differ (a resource id as an ARM expression or as a literal path),
so the YAML can never change a deployed app by disagreeing with the template (issue 12 item 6).

Shapes: Microsoft.App ContainerApps 2025-07-01 (azure-rest-api-specs, ContainerApps.json:
Configuration.maxInactiveRevisions, Ingress.traffic, ContainerAppProbe, Scale.rules[].http).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from installer.render.azure.hybrid_ingress import CONTROL_PLANE, secure_control_plane_ingress
from installer.render.workload import HTTP_CONCURRENCY, AzureApp, EnvVar, data_volume_name

WORKLOAD_PROFILE = "Consumption"
MAX_INACTIVE_REVISIONS = 3


@dataclass
class AppRefs:
    """How one rendering spells what lies outside the app."""

    identity: Any  # the user-assigned identity's resource id
    environment: Any  # the managed environment's resource id
    secret_url: Callable[[str], Any]  # Key Vault secret name → its URL
    env_value: Callable[[EnvVar], Any]  # a literal environment value as this rendering writes it
    cpu: Callable[[float], Any]  # ARM/Bicep need a Decimal for fractional vCPU, YAML a float
    registry: str | None  # the registry host pulled through the identity (images.registry), if any
    # Hybrid only: the on-prem runner's egress range; the control plane's ingress then takes the
    # runner over the private path with mTLS (hybrid_ingress.py). None: not hybrid.
    onprem_cidr: Any = None


def probes(app: AzureApp) -> list[dict[str, Any]]:
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
        {"type": "Liveness", "httpGet": live, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3},
        {"type": "Readiness", "httpGet": ready, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
    ]


def scale(app: AzureApp) -> dict[str, Any]:
    """Replicas from the component's state model: a single-instance component (catalog
    ``max_replicas: 1``: state in the process or on local disk) gets no scale rule at all; the
    others add a replica per ``HTTP_CONCURRENCY`` concurrent requests."""
    out: dict[str, Any] = {"minReplicas": app.min_replicas, "maxReplicas": app.max_replicas}
    if app.max_replicas > app.min_replicas:
        out["rules"] = [{"name": "http-concurrency",
                         "http": {"metadata": {"concurrentRequests": str(HTTP_CONCURRENCY)}}}]
    return out


def registry_host(image: str) -> str | None:
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first) else None


def container_app_properties(app: AzureApp, refs: AppRefs) -> dict[str, Any]:
    env: list[dict[str, Any]] = [
        {"name": v.name, "secretRef": v.secret} if v.secret else {"name": v.name, "value": refs.env_value(v)}
        for v in app.env
    ]
    container: dict[str, Any] = {
        "name": app.name,
        "image": app.image,
        "env": env,
        "resources": {"cpu": refs.cpu(app.cpu), "memory": f"{app.memory_gib:g}Gi"},
    }
    if app.args:
        container["args"] = list(app.args)
    if probes(app):
        container["probes"] = probes(app)
    if app.volumes:
        container["volumeMounts"] = [{"volumeName": f"data{i}", "mountPath": p} for i, p in enumerate(app.volumes)]
    configuration: dict[str, Any] = {
        "activeRevisionsMode": "Single",
        "maxInactiveRevisions": MAX_INACTIVE_REVISIONS,
        "ingress": {
            # External to the environment only for Front-Door-facing apps; the environment itself
            # has public network access disabled, so "external" means reachable over Private Link.
            "external": app.frontdoor, "targetPort": app.port, "transport": "http", "allowInsecure": False,
            "traffic": [{"latestRevision": True, "weight": 100}],
        },
    }
    if refs.onprem_cidr is not None and app.name == CONTROL_PLANE:
        secure_control_plane_ingress(configuration["ingress"], refs.onprem_cidr)
    host = registry_host(app.image)
    if host is not None and refs.registry is not None and host == refs.registry:
        # Pulls through the identity (AcrPull); never a registry password.
        configuration["registries"] = [{"server": host, "identity": refs.identity}]
    if app.secrets:
        configuration["secrets"] = [
            {"name": s, "keyVaultUrl": refs.secret_url(s), "identity": refs.identity} for s in app.secrets
        ]
    template: dict[str, Any] = {"containers": [container], "scale": scale(app)}
    if app.volumes:
        # Each data volume is the Azure Files share of the same name, registered as environment storage.
        template["volumes"] = [
            {"name": f"data{i}", "storageType": "AzureFile", "storageName": data_volume_name(app.name, i)}
            for i, _ in enumerate(app.volumes)
        ]
    return {
        "environmentId": refs.environment,
        "workloadProfileName": WORKLOAD_PROFILE,
        "configuration": configuration,
        "template": template,
    }
