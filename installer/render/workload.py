"""The Azure view of the catalog's apps, shared by the ACA, AKS, runbook, hybrid and export renderers.

On Azure the data services (Postgres, Redis) are managed services created by the foundation, and
the local-only tools (Traefik, pgAdmin, Redis Commander) are dropped, so only ``kind: app``
components run as workloads. Everything a workload needs — image, port, probe path, resources for
the plan's size, replicas, environment with Key Vault references — is computed here once, so ACA
and AKS cannot disagree with each other or with Compose.

Values only known after the foundation is deployed (the identity's client id, the public domain,
ids the plan leaves open) appear as ``${NAME}`` placeholders; ``DEPLOY_VALUES`` says where each
comes from. The launch step (or a person with ``envsubst``) fills them in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from installer.azure import naming
from installer.catalog import Component, RunAs
from installer.connections import allowed_origins, database_url_key
from installer.plan import AzureCloud, InstallPlan, Size, Tier
from installer.render import RenderInput

# The Kubernetes minor version every AKS artefact targets: the cluster (foundation), the manifests
# and the strict schema check. Change it here only.
KUBERNETES_VERSION = "1.31"

# Placeholders and where their values come from (printed into every Azure bundle's README).
DEPLOY_VALUES: dict[str, str] = {
    "AZURE_SUBSCRIPTION_ID": "azure.subscription_id in the answers (filled in when set)",
    "AZURE_TENANT_ID": "azure.tenant_id in the answers (filled in when set)",
    "IDENTITY_CLIENT_ID": "clientId of the workload user-assigned identity (foundation output)",
    "PUBLIC_DOMAIN": "your DNS domain, added to Front Door as a custom domain: each app answers on <route host>.<domain>"
                     " (no foundation output; until then each app's azurefd.net host is the output frontDoorHost<App>)",
}

# Replicas (min, max) per size preset for production-like tiers. Dev/test keep min 1, max 2:
# smaller, never a different security posture.
REPLICAS: dict[Size, tuple[int, int]] = {
    Size.s: (1, 2),
    Size.m: (2, 4),
    Size.l: (2, 6),
    Size.xl: (3, 10),
}
# Concurrent HTTP requests per replica before ACA adds one; CPU target (%) for the AKS HPA.
HTTP_CONCURRENCY = 50
# Region when the answers leave azure.location open (the vendor's default, notes/platform-stack.md).
DEFAULT_LOCATION = "swedencentral"
CPU_TARGET_PERCENT = 70

# Key Vault suffix per cloud (custom clouds: the person supplies the vault URL via the placeholder).
_VAULT_SUFFIX: dict[AzureCloud, str] = {
    AzureCloud.public: "vault.azure.net",
    AzureCloud.usgov: "vault.usgovcloudapi.net",
    AzureCloud.china: "vault.azure.cn",
}
_PG_SUFFIX: dict[AzureCloud, str] = {
    AzureCloud.public: "postgres.database.azure.com",
    AzureCloud.usgov: "postgres.database.usgovcloudapi.net",
    AzureCloud.china: "postgres.database.chinacloudapi.cn",
}


def placeholder(name: str) -> str:
    return "${" + name + "}"


def kv_secret_name(secret: str) -> str:
    """Key Vault secret name for a catalog secret: ``flowise_db_password`` → ``flowise-db-password``."""
    return secret.replace("_", "-")


@dataclass(frozen=True)
class AzureNames:
    """Azure resource names of one install: ``installer.azure.naming`` plus the Kubernetes namespace."""

    resource_group: str
    location: str
    prefix: str
    key_vault: str
    identity: str
    aca_environment: str
    aks_cluster: str
    registry: str
    postgres: str
    redis: str
    vnet: str
    storage: str
    log_analytics: str
    front_door: str
    namespace: str  # Kubernetes namespace of the install's workloads

    def vault_url(self, cloud: AzureCloud) -> str:
        suffix = _VAULT_SUFFIX.get(cloud)
        if suffix is None:
            return placeholder("KEY_VAULT_URL")
        return f"https://{self.key_vault}.{suffix}/"

    def postgres_host(self, cloud: AzureCloud) -> str:
        suffix = _PG_SUFFIX.get(cloud, _PG_SUFFIX[AzureCloud.public])
        return f"{self.postgres}.{suffix}"

    def redis_host(self) -> str:
        # Azure Managed Redis: <name>.<region>.redis.azure.net, TLS on 10000 (notes/azure.md §0.5).
        return f"{self.redis}.{self.location}.redis.azure.net"


def azure_names(plan: InstallPlan) -> AzureNames:
    """One install's Azure names (``installer.azure.naming``, the one naming rule), plus ours."""
    n = naming.names_for(plan)
    return AzureNames(
        resource_group=n.resource_group,
        location=plan.azure.location or DEFAULT_LOCATION,
        prefix=n.prefix,
        key_vault=n.key_vault,
        identity=n.identity,
        aca_environment=n.container_apps_environment,
        aks_cluster=n.aks_cluster,
        registry=n.container_registry,
        postgres=n.postgres,
        redis=n.redis,
        vnet=n.virtual_network,
        storage=n.storage_account,
        log_analytics=n.log_analytics,
        front_door=n.front_door,
        namespace=f"fabrix-{plan.name}",
    )


def resource_id(plan: InstallPlan, names: AzureNames, provider_type: str, name: str) -> str:
    sub = plan.azure.subscription_id or placeholder("AZURE_SUBSCRIPTION_ID")
    return (
        f"/subscriptions/{sub}/resourceGroups/{names.resource_group}"
        f"/providers/{provider_type}/{name}"
    )


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None = None  # a literal (never a secret)
    secret: str | None = None  # Key Vault secret name


@dataclass(frozen=True)
class AzureApp:
    """One workload as every Azure target runs it."""

    name: str
    title: str
    image: str
    port: int
    health_path: str | None  # readiness (and startup) probe
    health_port: int | None
    live_path: str | None  # liveness probe
    live_port: int | None
    args: list[str]  # the container's arguments (the image's CMD when empty)
    cpu: float
    memory_gib: float
    min_replicas: int
    max_replicas: int
    frontdoor: bool  # reached from Front Door (Private Link); everything else stays internal
    route_host: str | None
    depends_on: list[str]  # other apps it calls (for network allows)
    data_services: list[str]  # managed data services it calls: postgres / redis
    env: list[EnvVar] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # Key Vault secret names it reads
    volumes: list[str] = field(default_factory=list)  # container paths that need a writable volume
    model_client: bool = False  # calls the language-model APIs in azure.model_endpoints
    run_as: RunAs = field(default_factory=RunAs)  # user/group and scratch paths (AKS security context)


def data_volume_name(app: str, index: int) -> str:
    """The persistent store behind an app's ``index``-th data volume, the same on every Azure target:
    the Azure Files share and the Container Apps environment storage (ACA), the PVC (AKS)."""
    return f"{app}-data{index}"


def aca_resources(cpu: float, memory_mb: int) -> tuple[float, float]:
    """The smallest valid Container Apps combination covering the catalog's need.

    Consumption profiles allow 0.25-vCPU steps up to 4 vCPU with memory fixed at 2 GiB per vCPU.
    """
    needed = max(cpu, memory_mb / 1024 / 2, 0.25)
    vcpu = min(math.ceil(needed * 4) / 4, 4.0)
    return vcpu, vcpu * 2


def frontdoor_facing(comp: Component) -> bool:
    """Apps browsers reach; on Azure through Front Door over Private Link (catalog ``route.frontdoor``)."""
    return comp.route is not None and comp.route.frontdoor


def replicas(plan: InstallPlan) -> tuple[int, int]:
    if plan.tier in (Tier.dev, Tier.test, Tier.evaluation):
        return 1, 2
    return REPLICAS[plan.size]


# The Key Vault secret the foundation composes from Managed Redis's listKeys() (data.redis).
REDIS_URL_SECRET = "redis-url"


def database_url_secret(comp: Component, database: str) -> str:
    """Key Vault secret holding a composed database URL: the vendor's key without its ``KeyVault``
    suffix, as its Azure names are (``databases-miso-controller-0-url``)."""
    return database_url_key(comp, database)


def _env_value(inp: RenderInput, names: AzureNames, key: str, raw: object, target: str,
               comp_name: str = "") -> EnvVar:
    cat = inp.catalog
    if isinstance(raw, str):
        return EnvVar(key, value=raw)
    assert isinstance(raw, dict)
    kind, ref = next(iter(raw.items()))
    if kind == "secret":
        return EnvVar(key, secret=kv_secret_name(str(ref)))
    if kind == "keyvault":  # written into Key Vault by the foundation (e.g. the Redis key)
        return EnvVar(key, secret=str(ref))
    if kind == "admin_email":
        return EnvVar(key, value=inp.plan.identity.admin_email)
    if kind == "database_url":
        # Composed in Key Vault by the foundation (role, URL-encoded password, server, sslmode=require).
        return EnvVar(key, secret=database_url_secret(cat.components[comp_name], str(ref)))
    if kind == "redis_url":
        return EnvVar(key, secret=REDIS_URL_SECRET)  # rediss://:<URL-encoded key>@host:10000, from listKeys()
    if kind == "location":
        return EnvVar(key, value=inp.plan.azure.location or DEFAULT_LOCATION)
    if kind == "allowed_origins":
        assert isinstance(ref, list)
        urls: list[str] = []
        for other_name in ref:
            other_comp = cat.components[other_name]
            urls.append(_env_value(inp, names, key, {"public_url": other_name}, target, comp_name).value or "")
            urls.append(_url(inp, names, other_comp, target))
        return EnvVar(key, value=allowed_origins(urls))
    other = cat.components[str(ref)]
    if kind == "host":
        return EnvVar(key, value=_host(inp, names, other, target))
    if kind == "url":
        return EnvVar(key, value=_url(inp, names, other, target))
    if kind == "public_url":
        if not frontdoor_facing(other):  # not on Front Door: the in-network URL is the only one
            return EnvVar(key, value=_url(inp, names, other, target))
        assert other.route is not None
        return EnvVar(key, value=f"https://{other.route.host}.{placeholder('PUBLIC_DOMAIN')}")
    raise ValueError(f"catalog env {key}: unknown value kind {kind!r}")


def _host(inp: RenderInput, names: AzureNames, comp: Component, target: str) -> str:
    if comp.azure_service == "postgresql_flexible_server":
        return names.postgres_host(inp.plan.azure.cloud)
    if comp.azure_service == "managed_redis":
        return names.redis_host()
    if target == "aks":
        return f"{comp.name}.{names.namespace}.svc.cluster.local"
    return comp.name  # Container Apps in one environment reach each other by app name


def _url(inp: RenderInput, names: AzureNames, comp: Component, target: str) -> str:
    host = _host(inp, names, comp, target)
    if target == "aks":
        return f"http://{host}:{comp.port}"
    return f"http://{host}"  # ACA ingress listens on 80 and forwards to targetPort


def azure_apps(inp: RenderInput, target: str) -> list[AzureApp]:
    """Workloads for ``target`` ("aca" or "aks"), in catalog (start) order."""
    plan, cat = inp.plan, inp.catalog
    names = azure_names(plan)
    enabled = plan.enabled_components(cat)
    apps: list[AzureApp] = []
    for name in enabled:
        comp = cat.components[name]
        if comp.kind != "app":
            continue
        lo, hi = replicas(plan)
        if comp.max_replicas is not None:
            lo, hi = min(lo, comp.max_replicas), min(hi, comp.max_replicas)
        live = comp.http_live or comp.http_health
        res = comp.resources[plan.size.value]
        cpu, mem = aca_resources(res.cpu, res.memory_mb)
        merged = {**comp.env, **comp.azure_env}
        env = [_env_value(inp, names, k, v, target, name) for k, v in merged.items()]
        apps.append(
            AzureApp(
                name=name,
                title=comp.title,
                image=plan.image_for(name, cat),
                port=comp.port,
                health_path=comp.http_health.path if comp.http_health else None,
                health_port=comp.http_health.port if comp.http_health else None,
                live_path=live.path if live else None,
                live_port=live.port if live else None,
                args=list(comp.azure_args() or []),
                cpu=cpu,
                memory_gib=mem,
                min_replicas=lo,
                max_replicas=hi,
                frontdoor=frontdoor_facing(comp),
                route_host=comp.route.host if comp.route else None,
                depends_on=[d for d in comp.depends_on if cat.components[d].kind == "app" and d in enabled],
                data_services=[
                    d for d in comp.depends_on if cat.components[d].azure_service in
                    ("postgresql_flexible_server", "managed_redis")
                ],
                env=env,
                secrets=sorted({e.secret for e in env if e.secret}),
                volumes=[v.path for v in comp.volumes],
                model_client=comp.model_client,
                run_as=comp.run_as,
            )
        )
    return apps


def data_services(inp: RenderInput) -> list[Component]:
    """The enabled components that Azure runs as managed services (Postgres, Redis)."""
    cat = inp.catalog
    return [
        cat.components[n]
        for n in inp.plan.enabled_components(cat)
        if cat.components[n].kind == "data"
    ]
