"""Build the foundation model from the plan and the catalog.

Names: ``plan`` naming uses ``installer.render.workload.azure_names`` (the same literal names the
ACA YAML and AKS manifests use); ``unique`` naming (Marketplace) derives every name from a
``namePrefix`` parameter and a suffix of ``uniqueString(resourceGroup().id)``, because one offer
is deployed by many customers and Key Vault, Storage, ACR and Front Door names are global.

Secrets: every generated secret an Azure workload reads is a ``secureString`` parameter without a
default; the template writes it into Key Vault, and apps read it through the user-assigned
identity. Nothing secret is a default, a variable or an output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from installer.labels import TAG_INSTALL
from installer.plan import InstallPlan
from installer.render import RenderInput
from installer.render.azure import sizing
from installer.render.azure.expr import Call, Decimal, ExprKey, Fmt, ListKeys, Param, Prop, Raw, ResId, ResName, Var
from installer.render.azure.model import Foundation, OutputSpec, ParamSpec, Resource, VarSpec
from installer.render.workload import AzureApp, azure_apps, azure_names, kv_secret_name
from installer.secrets import env_name

Compute = Literal["aca", "aks"]
Naming = Literal["plan", "unique"]

# API versions: GA, and the newest or younger than 730 days (ARM-TTK apiVersions-Should-Be-Recent).
API = {
    "Microsoft.Network/virtualNetworks": "2025-05-01",
    "Microsoft.Network/networkSecurityGroups": "2025-05-01",
    "Microsoft.Network/privateEndpoints": "2025-05-01",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2025-05-01",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies": "2025-10-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2024-11-30",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials": "2024-11-30",
    "Microsoft.OperationalInsights/workspaces": "2025-07-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.Insights/diagnosticSettings": "2021-05-01-preview",
    "Microsoft.KeyVault/vaults": "2025-05-01",
    "Microsoft.KeyVault/vaults/secrets": "2025-05-01",
    "Microsoft.Storage/storageAccounts": "2025-06-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2025-06-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2025-06-01",
    "Microsoft.ContainerRegistry/registries": "2025-11-01",
    "Microsoft.DBforPostgreSQL/flexibleServers": "2025-08-01",
    "Microsoft.DBforPostgreSQL/flexibleServers/configurations": "2025-08-01",
    "Microsoft.DBforPostgreSQL/flexibleServers/databases": "2025-08-01",
    "Microsoft.Cache/redisEnterprise": "2025-07-01",
    "Microsoft.Cache/redisEnterprise/databases": "2025-07-01",
    "Microsoft.App/managedEnvironments": "2025-07-01",
    "Microsoft.App/containerApps": "2025-07-01",
    "Microsoft.ContainerService/managedClusters": "2025-07-01",
    "Microsoft.Cdn/profiles": "2025-06-01",
    "Microsoft.Cdn/profiles/afdEndpoints": "2025-06-01",
    "Microsoft.Cdn/profiles/originGroups": "2025-06-01",
    "Microsoft.Cdn/profiles/originGroups/origins": "2025-06-01",
    "Microsoft.Cdn/profiles/afdEndpoints/routes": "2025-06-01",
    "Microsoft.Cdn/profiles/securityPolicies": "2025-06-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
}

# Built-in role definition ids (least privilege for what the workloads do).
ROLES = {
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
}

# Private endpoint groupId and private DNS zone per service (notes/azure.md §4; learn private-endpoint-dns).
PRIVATE_LINK = {
    "keyvault": ("vault", "privatelink.vaultcore.azure.net"),
    "blob": ("blob", "privatelink.blob.core.windows.net"),
    "postgres": ("postgresqlServer", "privatelink.postgres.database.azure.com"),
    "redis": ("redisEnterprise", "privatelink.redis.azure.net"),
    "registry": ("registry", "privatelink.azurecr.io"),
}

MODULES = {
    "monitoring": "Log Analytics workspace and workspace-based Application Insights",
    "identity": "User-assigned identity the workloads run as (no keys: RBAC roles only)",
    "network": "Virtual network, subnets and their network security groups",
    "dns": "Private DNS zones for every private endpoint, linked to the virtual network",
    "keyvault": "Key Vault (RBAC, purge protection, private endpoint) and the platform's secrets",
    "storage": "Storage account for documents (no shared keys, private endpoint)",
    "registry": "Premium container registry (private endpoint, admin user off)",
    "postgres": "PostgreSQL Flexible Server with pgvector allowed (private endpoint, TLS)",
    "redis": "Azure Managed Redis (TLS on 10000, private endpoint)",
    "compute": "",  # set per compute
    "frontdoor": "Front Door Premium with WAF; Private Link origins to the workloads",
}

VNET_PREFIX = "10.40.0.0/16"
SUBNETS = {"pe": "10.40.1.0/24", "aca": "10.40.4.0/23", "aks": "10.40.16.0/20"}

SECRET_PARAM_SUFFIX = ""


def secret_param(secret: str) -> str:
    """``flowise_db_password`` → ``flowiseDbPassword`` (the secureString parameter's name)."""
    head, *rest = secret.split("_")
    return head + "".join(p.capitalize() for p in rest) + SECRET_PARAM_SUFFIX


@dataclass(frozen=True)
class SecretParam:
    secret: str  # catalog secret name
    param: str  # template parameter
    vault_name: str  # Key Vault secret name
    env: str  # environment variable the .bicepparam files read (the SecretStore's env name)


def secret_params(inp: RenderInput, compute: Compute) -> list[SecretParam]:
    """Every generated secret the Azure workloads read, plus the Postgres administrator password."""
    names = {"postgres_password"}
    for app in azure_apps(inp, compute):
        comp = inp.catalog.components[app.name]
        for value in {**comp.env, **comp.azure_env}.values():
            if isinstance(value, dict) and "secret" in value:
                names.add(str(value["secret"]))
    return [SecretParam(s, secret_param(s), kv_secret_name(s), env_name(s)) for s in sorted(names)]


def _short(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class _Names:
    """Resource names as template values (literal strings or expressions)."""

    def __init__(self, plan: InstallPlan, naming: Naming) -> None:
        self.naming = naming
        self.lit = azure_names(plan)
        self.plan = plan

    def get(self, key: str) -> Any:
        if self.naming == "plan":
            return {
                "vnet": self.lit.vnet,
                "identity": self.lit.identity,
                "log": self.lit.log_analytics,
                "appi": f"appi-{self.plan.name}",
                "kv": self.lit.key_vault,
                "st": self.lit.storage,
                "acr": self.lit.registry,
                "pg": self.lit.postgres,
                "redis": self.lit.redis,
                "cae": self.lit.aca_environment,
                "aks": self.lit.aks_cluster,
                "afd": self.lit.front_door,
                "waf": "waf" + _short(self.plan.name),
                "endpoint": f"{self.lit.front_door}-{{0}}",
            }[key]
        pattern = {
            "vnet": "{0}-vnet",
            "identity": "{0}-id",
            "log": "{0}-log",
            "appi": "{0}-appi",
            "kv": "{0}-kv-{1}",
            "st": "{0}st{1}",
            "acr": "{0}acr{1}",
            "pg": "{0}-pg-{1}",
            "redis": "{0}-redis-{1}",
            "cae": "{0}-cae",
            "aks": "{0}-aks",
            "afd": "{0}-afd",
            "waf": "{0}waf",
            "endpoint": "{0}-{{0}}-{1}",
        }[key]
        return pattern

    def value(self, key: str, *extra: str) -> Any:
        got = self.get(key)
        if self.naming == "plan":
            return got.format(*extra) if extra else got
        template = got.replace("{{0}}", "\0").format("{0}", "{1}").replace("\0", extra[0] if extra else "")
        return Fmt(template, (Param("namePrefix"), Var("suffix")) if "{1}" in template else (Param("namePrefix"),))


def _derived(name: Any, template: str) -> Any:
    """A name built from another resource's name: ``pe-{0}``."""
    if isinstance(name, str):
        return template.format(name)
    if isinstance(name, Fmt):
        return Fmt(template.format(name.template), name.args)
    return Fmt(template, (name,))


def _role(f: Foundation, module: str, scope: Resource, role: str, principal: Any, who: str, symbol: str) -> Resource:
    role_id = ROLES[role]
    return f.add(
        Resource(
            symbol=symbol,
            type="Microsoft.Authorization/roleAssignments",
            api=API["Microsoft.Authorization/roleAssignments"],
            # Deterministic: the same scope, principal and role always give the same assignment name.
            name=Call("guid", (ResId(scope), who, role_id)),
            module=module,
            scope=scope,
            tags=False,
            body={
                "properties": {
                    "roleDefinitionId": Call(
                        "subscriptionResourceId", ("Microsoft.Authorization/roleDefinitions", role_id)
                    ),
                    "principalId": principal,
                    "principalType": "ServicePrincipal",
                    "description": f"{role} for {who} (fabrix)",
                }
            },
            comment=f"{role} for {who}: least privilege for what it does here",
        )
    )


def _private_endpoint(
    f: Foundation, module: str, target: Resource, kind: str, zones: dict[str, Resource], subnet: Any,
    vnet: Resource,
) -> Resource:
    group, zone = PRIVATE_LINK[kind]
    pe = f.add(
        Resource(
            symbol=f"{target.symbol}Pe",
            type="Microsoft.Network/privateEndpoints",
            api=API["Microsoft.Network/privateEndpoints"],
            name=_derived(target.name, "pe-{0}"),
            module=module,
            location=Param("location"),
            depends=[vnet],
            body={
                "properties": {
                    "subnet": {"id": subnet},
                    "privateLinkServiceConnections": [
                        {
                            "name": _derived(target.name, "pe-{0}"),
                            "properties": {"privateLinkServiceId": ResId(target), "groupIds": [group]},
                        }
                    ],
                }
            },
        )
    )
    f.add(
        Resource(
            symbol=f"{target.symbol}PeDns",
            type="Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
            api=API["Microsoft.Network/privateEndpoints/privateDnsZoneGroups"],
            name="default",
            module=module,
            parent=pe,
            tags=False,
            body={
                "properties": {
                    "privateDnsZoneConfigs": [
                        {"name": zone.replace(".", "-"), "properties": {"privateDnsZoneId": ResId(zones[kind])}}
                    ]
                }
            },
        )
    )
    return pe


def build_foundation(inp: RenderInput, compute: Compute, naming: Naming = "plan") -> Foundation:
    plan, cat = inp.plan, inp.catalog
    names = _Names(plan, naming)
    modules = dict(MODULES)
    modules["compute"] = (
        "Container Apps environment (workload profiles, VNet, no public access) and the apps"
        if compute == "aca"
        else "AKS cluster: OIDC issuer, workload identity, Cilium network policy, private API server"
    )
    if compute == "aks":
        # The ingress's Private Link service exists only once the routing add-on has created the
        # internal load balancer, so the origin and route are a post-deploy step, not template.
        modules["frontdoor"] = (
            "Front Door Premium with WAF and its endpoint; the Private Link origin to the AKS ingress"
            " is added after deploy, once the ingress load balancer exists"
        )
    f = Foundation(install=plan.name, compute=compute, modules=modules)
    skus = sizing.SKUS[plan.size]
    apps = azure_apps(inp, compute)
    enabled = plan.enabled_components(cat)
    has_pg = any(cat.components[n].azure_service == "postgresql_flexible_server" for n in enabled)
    has_redis = any(cat.components[n].azure_service == "managed_redis" for n in enabled)
    secrets = secret_params(inp, compute)

    # ---- parameters ----
    P = f.params
    P["location"] = ParamSpec("string", "Azure region for every regional resource", Raw("resourceGroup().location"))
    if naming == "unique":
        P["namePrefix"] = ParamSpec(
            "string", "Prefix of every resource name (2-8 lowercase letters and digits)",
            (plan.azure.name_prefix or _short(plan.name)[:8] or "fabrix")[:8], min_length=2, max_length=8,
        )
    P["vnetAddressPrefix"] = ParamSpec("string", "Address space of the virtual network (a /16)", VNET_PREFIX)
    if has_pg:
        P["postgresSkuName"] = ParamSpec("string", "PostgreSQL compute SKU", skus.postgres_sku, tier_value=True)
        P["postgresTier"] = ParamSpec(
            "string", "PostgreSQL compute tier", skus.postgres_tier,
            allowed=["Burstable", "GeneralPurpose", "MemoryOptimized"], tier_value=True,
        )
        P["postgresStorageSizeGB"] = ParamSpec("int", "PostgreSQL storage (GB)", skus.postgres_storage_gb, min_value=32, tier_value=True)
        P["postgresHaMode"] = ParamSpec(
            "string", "PostgreSQL high availability", skus.postgres_ha,
            allowed=["Disabled", "SameZone", "ZoneRedundant"], tier_value=True,
        )
        P["postgresBackupRetentionDays"] = ParamSpec("int", "PostgreSQL backup retention (days)", skus.postgres_backup_days, min_value=7, max_value=35, tier_value=True)
    if has_redis:
        P["redisSkuName"] = ParamSpec("string", "Azure Managed Redis SKU", skus.redis_sku, tier_value=True)
    P["logRetentionDays"] = ParamSpec("int", "Log Analytics retention (days)", skus.log_retention_days, min_value=30, max_value=730, tier_value=True)
    if compute == "aks":
        P["aksNodeVmSize"] = ParamSpec("string", "AKS system node pool VM size", skus.aks_vm_size, tier_value=True)
        P["aksNodeCount"] = ParamSpec("int", "AKS system node pool node count", skus.aks_node_count, min_value=1, max_value=100, tier_value=True)
        P["aksSkuTier"] = ParamSpec("string", "AKS control plane tier", skus.aks_sku_tier, allowed=["Free", "Standard", "Premium"], tier_value=True)
    uses_public_domain = compute == "aca" and any("${PUBLIC_DOMAIN}" in (e.value or "") for a in apps for e in a.env)
    if uses_public_domain:
        P["publicDomain"] = ParamSpec("string", "DNS domain browsers use for the platform (Front Door custom domain)", min_length=3)
    for sp in secrets:
        desc = f"{inp.catalog.secrets[sp.secret].description}; stored in Key Vault as {sp.vault_name}"
        P[sp.param] = ParamSpec("string", desc, secure=True, min_length=16)

    # ---- variables ----
    V = f.variables
    V["tags"] = VarSpec("object", {TAG_INSTALL: plan.name}, "Ownership tag on every resource (teardown touches only these)")
    if naming == "unique":
        V["suffix"] = VarSpec(
            "string", Call("take", (Call("uniqueString", (Raw("resourceGroup().id"),)), 6)),
            "Stable per-resource-group suffix for globally unique names",
        )
    loc = Param("location")

    # ---- monitoring ----
    log = f.add(Resource(
        "logAnalytics", "Microsoft.OperationalInsights/workspaces", API["Microsoft.OperationalInsights/workspaces"],
        names.value("log"), "monitoring", location=loc,
        body={"properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": Param("logRetentionDays"),
                             "features": {"disableLocalAuth": True}}},
    ))
    f.add(Resource(
        "appInsights", "Microsoft.Insights/components", API["Microsoft.Insights/components"],
        names.value("appi"), "monitoring", location=loc,
        body={"kind": "web", "properties": {"Application_Type": "web", "WorkspaceResourceId": ResId(log),
                                            "DisableLocalAuth": True}},
    ))

    # ---- identity ----
    uami = f.add(Resource(
        "workloadIdentity", "Microsoft.ManagedIdentity/userAssignedIdentities",
        API["Microsoft.ManagedIdentity/userAssignedIdentities"], names.value("identity"), "identity", location=loc,
    ))
    principal = Prop(uami, "principalId")

    # ---- network ----
    nsgs: dict[str, Resource] = {}
    subnet_keys = ["pe", compute]
    for key in subnet_keys:
        nsgs[key] = f.add(Resource(
            f"nsg{key.capitalize()}", "Microsoft.Network/networkSecurityGroups",
            API["Microsoft.Network/networkSecurityGroups"], _derived(names.value("vnet"), "{0}-" + f"nsg-{key}"),
            "network", location=loc,
        ))
    subnets: list[dict[str, Any]] = []
    for key in subnet_keys:
        props: dict[str, Any] = {
            "addressPrefix": SUBNETS[key],
            "networkSecurityGroup": {"id": ResId(nsgs[key])},
        }
        if key == "pe":
            props["privateEndpointNetworkPolicies"] = "Enabled"
        if key == "aca":
            props["delegations"] = [{"name": "aca", "properties": {"serviceName": "Microsoft.App/environments"}}]
        subnets.append({"name": f"snet-{key}", "properties": props})
    vnet = f.add(Resource(
        "vnet", "Microsoft.Network/virtualNetworks", API["Microsoft.Network/virtualNetworks"], names.value("vnet"),
        "network", location=loc,
        body={"properties": {"addressSpace": {"addressPrefixes": [Param("vnetAddressPrefix")]}, "subnets": subnets}},
    ))

    def subnet_id(key: str) -> Any:
        return Call("resourceId", ("Microsoft.Network/virtualNetworks/subnets", names.value("vnet"), f"snet-{key}"))

    # ---- private DNS ----
    kinds = ["keyvault", "blob", "registry"] + (["postgres"] if has_pg else []) + (["redis"] if has_redis else [])
    zones: dict[str, Resource] = {}
    for kind in kinds:
        zone_name = PRIVATE_LINK[kind][1]
        sym = f"dns{kind.capitalize()}"
        zones[kind] = f.add(Resource(sym, "Microsoft.Network/privateDnsZones", API["Microsoft.Network/privateDnsZones"],
                                     zone_name, "dns", location="global"))
        f.add(Resource(
            f"{sym}Link", "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            API["Microsoft.Network/privateDnsZones/virtualNetworkLinks"], _derived(names.value("vnet"), "link-{0}"),
            "dns", parent=zones[kind], location="global",
            body={"properties": {"registrationEnabled": False, "virtualNetwork": {"id": ResId(vnet)}}},
        ))

    pe_subnet = subnet_id("pe")

    # ---- Key Vault ----
    kv = f.add(Resource(
        "keyVault", "Microsoft.KeyVault/vaults", API["Microsoft.KeyVault/vaults"], names.value("kv"), "keyvault",
        location=loc,
        body={"properties": {
            "tenantId": Raw("subscription().tenantId"),
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enablePurgeProtection": True,
            "publicNetworkAccess": "Disabled",
            "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
        }},
    ))
    _private_endpoint(f, "keyvault", kv, "keyvault", zones, pe_subnet, vnet)
    kv_reader = _role(f, "keyvault", kv, "Key Vault Secrets User", principal, "workload identity", "kvSecretsUser")
    f.add(Resource(
        "keyVaultDiagnostics", "Microsoft.Insights/diagnosticSettings", API["Microsoft.Insights/diagnosticSettings"],
        "to-log-analytics", "keyvault", scope=kv, tags=False,
        body={"properties": {"workspaceId": ResId(log), "logs": [{"categoryGroup": "audit", "enabled": True}]}},
    ))
    # Apps read these at start: they must exist (with the reader role) before any app revision.
    vault_secrets: dict[str, Resource] = {}
    for sp in secrets:
        vault_secrets[sp.vault_name] = f.add(Resource(
            f"secret{sp.param[0].upper()}{sp.param[1:]}", "Microsoft.KeyVault/vaults/secrets",
            API["Microsoft.KeyVault/vaults/secrets"], sp.vault_name, "keyvault", parent=kv,
            body={"properties": {"value": Param(sp.param), "contentType": "text/plain", "attributes": {"enabled": True}}},
        ))

    # ---- Storage ----
    st = f.add(Resource(
        "storage", "Microsoft.Storage/storageAccounts", API["Microsoft.Storage/storageAccounts"], names.value("st"),
        "storage", location=loc,
        body={
            "sku": {"name": "Standard_GZRS"},
            "kind": "StorageV2",
            "properties": {
                "accessTier": "Hot",
                "minimumTlsVersion": "TLS1_2",
                "supportsHttpsTrafficOnly": True,
                "allowBlobPublicAccess": False,
                "allowSharedKeyAccess": False,
                "defaultToOAuthAuthentication": True,
                "allowCrossTenantReplication": False,
                "publicNetworkAccess": "Disabled",
                "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
                "encryption": {"requireInfrastructureEncryption": True, "keySource": "Microsoft.Storage",
                               "services": {"blob": {"enabled": True}, "file": {"enabled": True}}},
            },
        },
    ))
    blob = f.add(Resource(
        "blobService", "Microsoft.Storage/storageAccounts/blobServices",
        API["Microsoft.Storage/storageAccounts/blobServices"], "default", "storage", parent=st, tags=False,
        body={"properties": {"deleteRetentionPolicy": {"enabled": True, "days": 14},
                             "containerDeleteRetentionPolicy": {"enabled": True, "days": 14}}},
    ))
    f.add(Resource(
        "documentsContainer", "Microsoft.Storage/storageAccounts/blobServices/containers",
        API["Microsoft.Storage/storageAccounts/blobServices/containers"], "documents", "storage", parent=blob,
        tags=False, body={"properties": {"publicAccess": "None"}},
    ))
    _private_endpoint(f, "storage", st, "blob", zones, pe_subnet, vnet)
    _role(f, "storage", st, "Storage Blob Data Contributor", principal, "workload identity", "blobDataContributor")

    # ---- Registry ----
    acr = f.add(Resource(
        "registry", "Microsoft.ContainerRegistry/registries", API["Microsoft.ContainerRegistry/registries"],
        names.value("acr"), "registry", location=loc,
        body={"sku": {"name": "Premium"}, "properties": {
            "adminUserEnabled": False,
            "anonymousPullEnabled": False,
            "publicNetworkAccess": "Disabled",
            "networkRuleBypassOptions": "AzureServices",
            "dataEndpointEnabled": True,
            "zoneRedundancy": "Enabled",
            "policies": {
                "quarantinePolicy": {"status": "enabled"},
                "retentionPolicy": {"status": "enabled", "days": 30},
                "trustPolicy": {"status": "enabled", "type": "Notary"},
                "exportPolicy": {"status": "disabled"},
            },
        }},
    ))
    _private_endpoint(f, "registry", acr, "registry", zones, pe_subnet, vnet)
    acr_pull = _role(f, "registry", acr, "AcrPull", principal, "workload identity", "acrPull")

    # ---- PostgreSQL ----
    pg: Resource | None = None
    if has_pg:
        pg = f.add(Resource(
            "postgres", "Microsoft.DBforPostgreSQL/flexibleServers", API["Microsoft.DBforPostgreSQL/flexibleServers"],
            names.value("pg"), "postgres", location=loc,
            body={
                "sku": {"name": Param("postgresSkuName"), "tier": Param("postgresTier")},
                "properties": {
                    "version": "16",
                    "administratorLogin": "pgadmin",
                    "administratorLoginPassword": Param(secret_param("postgres_password")),
                    "authConfig": {"activeDirectoryAuth": "Enabled", "passwordAuth": "Enabled",
                                   "tenantId": Raw("subscription().tenantId")},
                    "storage": {"storageSizeGB": Param("postgresStorageSizeGB"), "autoGrow": "Enabled"},
                    "backup": {"backupRetentionDays": Param("postgresBackupRetentionDays"), "geoRedundantBackup": "Disabled"},
                    "highAvailability": {"mode": Param("postgresHaMode")},
                    "network": {"publicNetworkAccess": "Disabled"},
                },
            },
        ))
        extensions = sorted({e.upper() for c in enabled for db in cat.components[c].databases for e in db.extensions} | {"VECTOR"})
        # Server children are applied one at a time (the server rejects parallel changes).
        chain: list[Resource] = []
        settings = [("azure.extensions", ",".join(extensions)), ("require_secure_transport", "ON")]
        for i, (key, value) in enumerate(settings):
            chain.append(f.add(Resource(
                f"pgConfig{i}", "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
                API["Microsoft.DBforPostgreSQL/flexibleServers/configurations"], key, "postgres", parent=pg, tags=False,
                depends=chain[-1:], body={"properties": {"value": value, "source": "user-override"}},
                comment="pgvector: CREATE EXTENSION vector runs per database after deploy" if key == "azure.extensions" else "",
            )))
        dbs = [db.name for c in enabled for db in cat.components[c].databases]
        for i, db in enumerate(dbs):
            chain.append(f.add(Resource(
                f"pgDb{i}", "Microsoft.DBforPostgreSQL/flexibleServers/databases",
                API["Microsoft.DBforPostgreSQL/flexibleServers/databases"], db, "postgres", parent=pg, tags=False,
                depends=chain[-1:], body={"properties": {"charset": "UTF8", "collation": "en_US.utf8"}},
            )))
        _private_endpoint(f, "postgres", pg, "postgres", zones, pe_subnet, vnet)

    # ---- Managed Redis ----
    redis: Resource | None = None
    if has_redis:
        redis = f.add(Resource(
            "redis", "Microsoft.Cache/redisEnterprise", API["Microsoft.Cache/redisEnterprise"], names.value("redis"),
            "redis", location=loc,
            body={"sku": {"name": Param("redisSkuName")},
                  "properties": {"minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled"}},
        ))
        redis_db = f.add(Resource(
            "redisDatabase", "Microsoft.Cache/redisEnterprise/databases", API["Microsoft.Cache/redisEnterprise/databases"],
            "default", "redis", parent=redis, tags=False,
            body={"properties": {
                "clientProtocol": "Encrypted", "port": 10000, "clusteringPolicy": "EnterpriseCluster",
                "evictionPolicy": "VolatileLRU",
                # Open WebUI's and Miso's Redis clients authenticate with a key; it lives only in Key Vault.
                "accessKeysAuthentication": "Enabled",
            }},
        ))
        _private_endpoint(f, "redis", redis, "redis", zones, pe_subnet, vnet)
        key = ListKeys(redis_db, "primaryKey")
        host = Prop(redis, "hostName")
        vault_secrets["redis-access-key"] = f.add(Resource(
            "secretRedisAccessKey", "Microsoft.KeyVault/vaults/secrets", API["Microsoft.KeyVault/vaults/secrets"],
            "redis-access-key", "redis", parent=kv,
            body={"properties": {"value": key, "contentType": "text/plain", "attributes": {"enabled": True}}},
        ))
        vault_secrets["redis-url"] = f.add(Resource(
            "secretRedisUrl", "Microsoft.KeyVault/vaults/secrets", API["Microsoft.KeyVault/vaults/secrets"],
            "redis-url", "redis", parent=kv,
            body={"properties": {"value": Fmt("rediss://:{0}@{1}:10000/0", (key, host)), "contentType": "text/uri-list",
                                 "attributes": {"enabled": True}}},
        ))

    # ---- compute ----
    if compute == "aca":
        env = _aca(f, names, apps, vnet, subnet_id("aca"), log, uami, kv, [acr_pull, kv_reader], vault_secrets, pg,
                   redis, inp)
        _frontdoor(f, names, apps, env, inp)
    else:
        _aks(f, names, apps, subnet_id("aks"), log, uami, acr, vnet, inp)
        _frontdoor(f, names, [], None, inp)

    # ---- outputs (never a secret) ----
    O = f.outputs
    O["keyVaultName"] = OutputSpec("string", ResName(kv), "Key Vault holding the platform's secrets")
    O["keyVaultUri"] = OutputSpec("string", Prop(kv, "vaultUri"), "Key Vault URI (secret references)")
    O["identityClientId"] = OutputSpec("string", Prop(uami, "clientId"), "Client id of the workload identity")
    O["identityResourceId"] = OutputSpec("string", ResId(uami), "Resource id of the workload identity")
    O["registryLoginServer"] = OutputSpec("string", Prop(acr, "loginServer"), "Container registry login server")
    if pg is not None:
        O["postgresFqdn"] = OutputSpec("string", Prop(pg, "fullyQualifiedDomainName"), "PostgreSQL server host name")
    if redis is not None:
        O["redisHostName"] = OutputSpec("string", Prop(redis, "hostName"), "Managed Redis host name (TLS, port 10000)")
    O["logAnalyticsWorkspaceId"] = OutputSpec("string", ResId(log), "Log Analytics workspace id")
    return f


def _app_env(app: AzureApp, inp: RenderInput, pg: Resource | None, redis: Resource | None) -> list[dict[str, Any]]:
    names = azure_names(inp.plan)
    pg_host = names.postgres_host(inp.plan.azure.cloud)
    redis_host = names.redis_host()
    out: list[dict[str, Any]] = []
    for e in app.env:
        if e.secret:
            out.append({"name": e.name, "secretRef": e.secret})
            continue
        value: Any = e.value or ""
        if pg is not None and value == pg_host:
            value = Prop(pg, "fullyQualifiedDomainName")
        elif redis is not None and value == redis_host:
            value = Prop(redis, "hostName")
        elif "${PUBLIC_DOMAIN}" in value:
            before, after = value.split("${PUBLIC_DOMAIN}", 1)
            value = Fmt(before + "{0}" + after, (Param("publicDomain"),))
        out.append({"name": e.name, "value": value})
    return out


def _aca(f: Foundation, names: _Names, apps: list[AzureApp], vnet: Resource, subnet: Any, log: Resource,
         uami: Resource, kv: Resource, roles: list[Resource], vault_secrets: dict[str, Resource],
         pg: Resource | None, redis: Resource | None, inp: RenderInput) -> Resource:
    loc = Param("location")
    env = f.add(Resource(
        "containerAppsEnvironment", "Microsoft.App/managedEnvironments", API["Microsoft.App/managedEnvironments"],
        names.value("cae"), "compute", location=loc, depends=[vnet],
        body={
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {ExprKey(ResId(uami)): {}}},
            "properties": {
                "vnetConfiguration": {"infrastructureSubnetId": subnet, "internal": False},
                "workloadProfiles": [{"name": "Consumption", "workloadProfileType": "Consumption"}],
                # Reached only through Front Door's Private Link (publicNetworkAccess off).
                "publicNetworkAccess": "Disabled",
                "peerTrafficConfiguration": {"encryption": {"enabled": True}},
                "appLogsConfiguration": {"destination": "azure-monitor"},
                "zoneRedundant": False,
            },
        },
    ))
    f.add(Resource(
        "containerAppsDiagnostics", "Microsoft.Insights/diagnosticSettings", API["Microsoft.Insights/diagnosticSettings"],
        "to-log-analytics", "compute", scope=env, tags=False,
        body={"properties": {"workspaceId": ResId(log), "logs": [{"categoryGroup": "allLogs", "enabled": True}]}},
    ))
    vault_uri = Prop(kv, "vaultUri")
    registry_hosts = sorted({a.image.split("/")[0] for a in apps if "." in a.image.split("/")[0] and a.image.count("/") >= 1})
    for app in apps:
        container: dict[str, Any] = {
            "name": app.name,
            "image": app.image,
            "env": _app_env(app, inp, pg, redis),
            "resources": {"cpu": Decimal(app.cpu), "memory": f"{app.memory_gib:g}Gi"},
        }
        if app.health_path:
            port = app.health_port or app.port
            container["probes"] = [
                {"type": "Liveness", "httpGet": {"path": app.health_path, "port": port}, "initialDelaySeconds": 30, "periodSeconds": 30},
                {"type": "Readiness", "httpGet": {"path": app.health_path, "port": port}, "initialDelaySeconds": 10, "periodSeconds": 10},
            ]
        app_host = app.image.split("/")[0]
        configuration: dict[str, Any] = {
            "activeRevisionsMode": "Single",
            "ingress": {"external": app.frontdoor, "targetPort": app.port, "transport": "http", "allowInsecure": False},
        }
        if app_host in registry_hosts and app_host.endswith(".azurecr.io"):
            # Pulls through the identity (AcrPull); never a registry password.
            configuration["registries"] = [{"server": app_host, "identity": ResId(uami)}]
        if app.secrets:
            configuration["secrets"] = [
                {"name": s, "keyVaultUrl": Fmt("{0}secrets/{1}", (vault_uri, s)), "identity": ResId(uami)}
                for s in app.secrets
            ]
        f.add(Resource(
            f"app{''.join(p.capitalize() for p in app.name.split('-'))}", "Microsoft.App/containerApps",
            API["Microsoft.App/containerApps"], app.name, "compute", location=loc,
            depends=roles + [vault_secrets[s] for s in app.secrets if s in vault_secrets]
            + [r for r in [pg, redis] if r is not None],
            body={
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {ExprKey(ResId(uami)): {}}},
                "properties": {
                    "environmentId": ResId(env),
                    "workloadProfileName": "Consumption",
                    "configuration": configuration,
                    "template": {
                        "containers": [container],
                        "scale": {"minReplicas": app.min_replicas, "maxReplicas": app.max_replicas,
                                  "rules": [{"name": "http", "http": {"metadata": {"concurrentRequests": "50"}}}]},
                    },
                },
            },
        ))
    return env


def _aks(f: Foundation, names: _Names, apps: list[AzureApp], subnet: Any, log: Resource, uami: Resource,
         acr: Resource, vnet: Resource, inp: RenderInput) -> Resource:
    loc = Param("location")
    # The cluster's control-plane identity joins nodes to our subnet: Network Contributor on the VNet.
    net_role = _role(f, "network", vnet, "Network Contributor", Prop(uami, "principalId"), "AKS control plane", "aksNetworkContributor")
    aks = f.add(Resource(
        "aks", "Microsoft.ContainerService/managedClusters", API["Microsoft.ContainerService/managedClusters"],
        names.value("aks"), "compute", location=loc, depends=[net_role],
        body={
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {ExprKey(ResId(uami)): {}}},
            "sku": {"name": "Base", "tier": Param("aksSkuTier")},
            "properties": {
                "dnsPrefix": _derived(names.value("aks"), "{0}-dns"),
                "enableRBAC": True,
                "disableLocalAccounts": True,
                "aadProfile": {"managed": True, "enableAzureRBAC": True},
                "oidcIssuerProfile": {"enabled": True},
                "securityProfile": {"workloadIdentity": {"enabled": True}, "imageCleaner": {"enabled": True, "intervalHours": 48}},
                "apiServerAccessProfile": {"enablePrivateCluster": True},
                "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "cilium",
                                   "networkDataplane": "cilium", "loadBalancerSku": "standard"},
                "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
                "agentPoolProfiles": [{
                    "name": "system", "mode": "System", "osType": "Linux", "osSKU": "AzureLinux",
                    "vmSize": Param("aksNodeVmSize"), "count": Param("aksNodeCount"),
                    "vnetSubnetID": subnet, "availabilityZones": ["1", "2", "3"],
                    "maxPods": 50, "enableEncryptionAtHost": True,
                    # The ds_v5 sizes have a local temp disk: OS disk on it (nothing persisted, faster reimage).
                    "osDiskType": "Ephemeral",
                }],
                "addonProfiles": {
                    "azureKeyvaultSecretsProvider": {"enabled": True, "config": {"enableSecretRotation": "true"}},
                    "omsagent": {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": ResId(log),
                                                             "useAADAuth": "true"}},
                    "azurepolicy": {"enabled": True},
                },
                "ingressProfile": {"webAppRouting": {"enabled": True}},
            },
        },
    ))
    _role(f, "compute", acr, "AcrPull", Prop(aks, "identityProfile.kubeletidentity.objectId"), "AKS kubelet", "kubeletAcrPull")
    lit = azure_names(inp.plan)
    chain: list[Resource] = []
    # One federated credential per app service account; created one after another (parallel writes fail).
    for app in apps:
        chain.append(f.add(Resource(
            f"federated{''.join(p.capitalize() for p in app.name.split('-'))}",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
            API["Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"],
            f"fc-{app.name}", "compute", parent=uami, tags=False, depends=chain[-1:],
            body={"properties": {
                "issuer": Prop(aks, "oidcIssuerProfile.issuerURL"),
                "subject": f"system:serviceaccount:{lit.namespace}:{app.name}",
                "audiences": ["api://AzureADTokenExchange"],
            }},
        )))
    f.outputs["aksClusterName"] = OutputSpec("string", ResName(aks), "AKS cluster name")
    f.outputs["aksOidcIssuerUrl"] = OutputSpec("string", Prop(aks, "oidcIssuerProfile.issuerURL"), "AKS OIDC issuer URL")
    return aks


def _frontdoor(f: Foundation, names: _Names, apps: list[AzureApp], env: Resource | None, inp: RenderInput) -> None:
    profile = f.add(Resource(
        "frontDoor", "Microsoft.Cdn/profiles", API["Microsoft.Cdn/profiles"], names.value("afd"), "frontdoor",
        location="global", body={"sku": {"name": "Premium_AzureFrontDoor"}, "properties": {"originResponseTimeoutSeconds": 60}},
    ))
    waf = f.add(Resource(
        "wafPolicy", "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies",
        API["Microsoft.Network/FrontDoorWebApplicationFirewallPolicies"], names.value("waf"), "frontdoor",
        location="global",
        body={"sku": {"name": "Premium_AzureFrontDoor"}, "properties": {
            "policySettings": {"enabledState": "Enabled", "mode": "Prevention", "requestBodyCheck": "Enabled"},
            "managedRules": {"managedRuleSets": [
                {"ruleSetType": "Microsoft_DefaultRuleSet", "ruleSetVersion": "2.1", "ruleSetAction": "Block"},
                {"ruleSetType": "Microsoft_BotManagerRuleSet", "ruleSetVersion": "1.1"},
            ]},
        }},
    ))
    published = [a for a in apps if a.frontdoor]
    endpoints: list[Resource] = []
    hosts = [a.route_host or a.name for a in published] if env is not None else ["ingress"]
    for host in hosts:
        endpoints.append(f.add(Resource(
            f"endpoint{host.capitalize()}", "Microsoft.Cdn/profiles/afdEndpoints", API["Microsoft.Cdn/profiles/afdEndpoints"],
            names.value("endpoint", host), "frontdoor", parent=profile, location="global",
            body={"properties": {"enabledState": "Enabled"}},
        )))
    if env is not None:
        for app, endpoint in zip(published, endpoints, strict=True):
            sym = "".join(p.capitalize() for p in app.name.split("-"))
            app_res = next(r for r in f.resources if r.type == "Microsoft.App/containerApps" and r.name == app.name)
            group = f.add(Resource(
                f"originGroup{sym}", "Microsoft.Cdn/profiles/originGroups", API["Microsoft.Cdn/profiles/originGroups"],
                app.name, "frontdoor", parent=profile, tags=False,
                body={"properties": {
                    "loadBalancingSettings": {"sampleSize": 4, "successfulSamplesRequired": 3, "additionalLatencyInMilliseconds": 50},
                    # One origin per group: no health probes (Front Door's advice; ACA probes the app itself).
                    "sessionAffinityState": "Disabled",
                }},
            ))
            fqdn = Prop(app_res, "configuration.ingress.fqdn")
            origin = f.add(Resource(
                f"origin{sym}", "Microsoft.Cdn/profiles/originGroups/origins", API["Microsoft.Cdn/profiles/originGroups/origins"],
                app.name, "frontdoor", parent=group, tags=False,
                body={"properties": {
                    "hostName": fqdn, "originHostHeader": fqdn, "httpPort": 80, "httpsPort": 443,
                    "priority": 1, "weight": 1000, "enabledState": "Enabled", "enforceCertificateNameCheck": True,
                    # Private Link to the Container Apps environment; approve the pending connection after deploy.
                    "sharedPrivateLinkResource": {
                        "privateLink": {"id": ResId(env)}, "groupId": "managedEnvironments",
                        "privateLinkLocation": Param("location"),
                        "requestMessage": f"AI Fabrix Front Door for {inp.plan.name}",
                    },
                }},
            ))
            f.add(Resource(
                f"route{sym}", "Microsoft.Cdn/profiles/afdEndpoints/routes", API["Microsoft.Cdn/profiles/afdEndpoints/routes"],
                app.name, "frontdoor", parent=endpoint, tags=False, depends=[origin],
                body={"properties": {
                    "originGroup": {"id": ResId(group)}, "supportedProtocols": ["Https"], "patternsToMatch": ["/*"],
                    "forwardingProtocol": "HttpsOnly", "linkToDefaultDomain": "Enabled", "httpsRedirect": "Enabled",
                    "enabledState": "Enabled",
                }},
            ))
    if not endpoints:
        return  # nothing published yet: the WAF policy waits for the first endpoint
    f.add(Resource(
        "wafSecurityPolicy", "Microsoft.Cdn/profiles/securityPolicies", API["Microsoft.Cdn/profiles/securityPolicies"],
        "waf", "frontdoor", parent=profile, tags=False,
        body={"properties": {"parameters": {
            "type": "WebApplicationFirewall", "wafPolicy": {"id": ResId(waf)},
            "associations": [{"domains": [{"id": ResId(e)} for e in endpoints], "patternsToMatch": ["/*"]}],
        }}},
    ))
