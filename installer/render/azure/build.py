"""Build the foundation model from the plan and the catalog (the orchestration).

Parameters, variables, monitoring, identity, network and private DNS are here; the services are in
``data``, the compute module in ``compute``, Front Door in ``frontdoor``. Secrets: every generated
secret an Azure workload reads is a ``secureString`` parameter without a default; the template
writes it into Key Vault and apps read it through the user-assigned identity. Nothing secret is a
default, a variable or an output.
"""

from __future__ import annotations

from typing import Any

from installer.labels import TAG_INSTALL
from installer.plan import DeploymentModel
from installer.render import RenderInput
from installer.render.azure import data, sizing
from installer.render.azure.api import API, MODULES, PRIVATE_LINK, ROLES, SUBNETS, VNET_PREFIX
from installer.render.azure.compute import aca, aks
from installer.render.azure.expr import Call, Fmt, Param, Prop, Raw, ResId, ResName
from installer.render.azure.frontdoor import PRIVATE_LINK_READY, aca_origins, aks_origins, aks_private_link_service, frontdoor
from installer.render.azure.hybrid_ingress import ACA_PRIVATE_DNS, ONPREM_CIDR_PARAM, azure_components
from installer.render.azure.model import Foundation, OutputSpec, ParamSpec, Resource, VarSpec
from installer.render.azure.names import Compute, Names, Naming, SecretParam, derived, secret_param, secret_params, short
from installer.render.azure.parts import Ctx, zone_name
from installer.render.workload import azure_apps, azure_names, data_volume_name

__all__ = ["API", "PRIVATE_LINK", "ROLES", "Compute", "Naming", "SecretParam", "build_foundation", "secret_param",
           "secret_params"]


def build_foundation(inp: RenderInput, compute: Compute, naming: Naming = "plan") -> Foundation:
    plan, cat = inp.plan, inp.catalog
    names = Names(plan, naming)
    modules = dict(MODULES)
    modules["compute"] = (
        "Container Apps environment (workload profiles, VNet, no public access) and the apps"
        if compute == "aca"
        else "AKS cluster: OIDC issuer, workload identity, Cilium network policy, private API server"
    )
    if compute == "aks":
        # The ingress's Private Link service exists only once k8s/ingress.yaml made the internal
        # load balancer, so origins and routes wait for aksIngressPrivateLinkReady (second deploy).
        modules["frontdoor"] = (
            "Front Door Premium with WAF, one endpoint per published app, and Private Link origins and"
            " routes to the AKS internal ingress (deployed once aksIngressPrivateLinkReady is true)"
        )
    apps = azure_apps(inp, compute)
    # Hybrid: the runner (dataplane) runs on-prem; the controller takes it over a private path.
    hybrid = plan.model == DeploymentModel.hybrid and compute == "aca"
    in_azure = set(azure_components(plan, compute, cat))
    apps = [a for a in apps if a.name in in_azure]
    # ACA mounts each app data volume from an Azure Files share in our storage account; AKS claims
    # its volumes from the cluster's Azure Files CSI class instead (k8s/<app>.yaml).
    shares = [data_volume_name(a.name, i) for a in apps for i, _ in enumerate(a.volumes)] if compute == "aca" else []
    if shares:
        modules["storage"] = (
            "Storage account: documents (blob) and the apps' data file shares (Azure Files, mounted by"
            " Container Apps with the account key); private endpoints for blob and file"
        )
    f = Foundation(install=plan.name, compute=compute, modules=modules)
    skus = sizing.SKUS[plan.size]
    enabled = [n for n in plan.enabled_components(cat) if n in in_azure]
    has_pg = any(cat.components[n].azure_service == "postgresql_flexible_server" for n in enabled)
    has_redis = any(cat.components[n].azure_service == "managed_redis" for n in enabled)
    secrets = secret_params(inp, compute)

    # ---- parameters ----
    P = f.params
    P["location"] = ParamSpec("string", "Azure region for every regional resource", Raw("resourceGroup().location"))
    if naming == "unique":
        P["namePrefix"] = ParamSpec(
            "string", "Prefix of every resource name (2-8 lowercase letters and digits)",
            (plan.azure.name_prefix or short(plan.name)[:8] or "fabrix")[:8], min_length=2, max_length=8,
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
    vault = sizing.VAULT_PROTECTION[plan.tier]
    P["keyVaultPurgeProtection"] = ParamSpec(
        "bool", "Key Vault purge protection (irreversible; production only, so dev/test re-installs can purge the name)",
        vault.purge_protection, tier_value=True)
    P["keyVaultSoftDeleteDays"] = ParamSpec(
        "int", "Days a deleted Key Vault keeps its name (7 outside production)", vault.soft_delete_days,
        min_value=7, max_value=90, tier_value=True)
    P["logRetentionDays"] = ParamSpec("int", "Log Analytics retention (days)", skus.log_retention_days, min_value=30, max_value=730, tier_value=True)
    if shares:
        P["appDataShareGB"] = ParamSpec("int", "Quota of each app data file share (GiB)", skus.app_data_gb,
                                        min_value=1, max_value=5120, tier_value=True)
    if compute == "aks":
        P["aksNodeVmSize"] = ParamSpec("string", "AKS system node pool VM size", skus.aks_vm_size, tier_value=True)
        P["aksNodeCount"] = ParamSpec("int", "AKS system node pool node count", skus.aks_node_count, min_value=1, max_value=100, tier_value=True)
        P["aksSkuTier"] = ParamSpec("string", "AKS control plane tier", skus.aks_sku_tier, allowed=["Free", "Standard", "Premium"], tier_value=True)
        P[PRIVATE_LINK_READY] = ParamSpec(
            "bool", "True once k8s/ingress.yaml is applied (the ingress's Private Link service exists): "
            "adds Front Door's origins and routes to it", False)
    uses_public_domain = compute == "aca" and any("${PUBLIC_DOMAIN}" in (e.value or "") for a in apps for e in a.env)
    if uses_public_domain:
        P["publicDomain"] = ParamSpec("string", "DNS domain browsers use for the platform (Front Door custom domain)", min_length=3)
    if hybrid:
        P[ONPREM_CIDR_PARAM] = ParamSpec(
            "string", "Egress range (CIDR) of the on-prem runner: the only source the controller accepts", min_length=9)
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

    # ---- network ----
    nsgs: dict[str, Resource] = {}
    subnet_keys = ["pe", compute]
    for key in subnet_keys:
        nsgs[key] = f.add(Resource(
            f"nsg{key.capitalize()}", "Microsoft.Network/networkSecurityGroups",
            API["Microsoft.Network/networkSecurityGroups"], derived(names.value("vnet"), "{0}-" + f"nsg-{key}"),
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
        if key == "aks":
            # The ingress's Private Link service takes its NAT IPs from this subnet.
            props["privateLinkServiceNetworkPolicies"] = "Disabled"
        if key == "aca":
            props["delegations"] = [{"name": "aca", "properties": {"serviceName": "Microsoft.App/environments"}}]
        subnets.append({"name": f"snet-{key}", "properties": props})
    vnet = f.add(Resource(
        "vnet", "Microsoft.Network/virtualNetworks", API["Microsoft.Network/virtualNetworks"], names.value("vnet"),
        "network", location=loc,
        body={"properties": {"addressSpace": {"addressPrefixes": [Param("vnetAddressPrefix")]}, "subnets": subnets}},
    ))

    # ---- private DNS ----
    kinds = ["keyvault", "blob"] + (["file"] if shares else []) + ["registry"] + (["postgres"] if has_pg else []) + (["redis"] if has_redis else [])
    zones: dict[str, Resource] = {}
    for kind in kinds:
        sym = f"dns{kind.capitalize()}"
        zones[kind] = f.add(Resource(sym, "Microsoft.Network/privateDnsZones", API["Microsoft.Network/privateDnsZones"],
                                     zone_name(kind), "dns", location="global"))
        f.add(Resource(
            f"{sym}Link", "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            API["Microsoft.Network/privateDnsZones/virtualNetworkLinks"], derived(names.value("vnet"), "link-{0}"),
            "dns", parent=zones[kind], location="global",
            body={"properties": {"registrationEnabled": False, "virtualNetwork": {"id": ResId(vnet)}}},
        ))

    c = Ctx(f=f, inp=inp, names=names, uami=uami, vnet=vnet, log=log, zones=zones)
    kv, kv_reader, vault_secrets = data.key_vault(c, secrets)
    data.registration_writer(c, vault_secrets, compute)
    st, share_res, mount_needs = data.storage(c, shares)
    acr, acr_pull = data.registry(c)
    pg = data.postgres(c) if has_pg else None
    if pg is not None:
        data.database_urls(c, kv, pg, vault_secrets)
    redis = data.redis(c, kv, vault_secrets) if has_redis else None

    # ---- compute ----
    if compute == "aca":
        env = aca(f, names, apps, vnet, c.subnet_id("aca"), log, uami, kv, [acr_pull, kv_reader], vault_secrets, pg,
                  redis, inp, st, share_res, mount_needs, hybrid=hybrid)
        if hybrid:
            _environment_private_endpoint(f, c, env)
        frontdoor(f, names, apps, inp, aca_origins(f, apps, env, inp))
    else:
        _, node_rg = aks(f, names, apps, c.subnet_id("aks"), log, uami, acr, vnet, inp)
        pls = aks_private_link_service(azure_names(plan).aks_cluster)
        frontdoor(f, names, apps, inp, aks_origins(apps, node_rg, pls, inp))

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


def _environment_private_endpoint(f: Foundation, c: Ctx, env: Resource) -> None:
    """Hybrid: the on-prem runner's private path into the environment (which has no public access):
    a private endpoint in snet-pe and the region's private DNS zone, linked to the VNet. On-prem
    reaches it over ExpressRoute/VPN and resolves the zone through a DNS forwarder (HYBRID.md)."""
    zone = f.add(Resource("dnsContainerApps", "Microsoft.Network/privateDnsZones", API["Microsoft.Network/privateDnsZones"],
                          Fmt(ACA_PRIVATE_DNS, (Param("location"),)), "dns", location="global"))
    f.add(Resource(
        "dnsContainerAppsLink", "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        API["Microsoft.Network/privateDnsZones/virtualNetworkLinks"], derived(c.names.value("vnet"), "link-{0}"),
        "dns", parent=zone, location="global",
        body={"properties": {"registrationEnabled": False, "virtualNetwork": {"id": ResId(c.vnet)}}},
    ))
    pe_name = derived(env.name, "pe-{0}")
    pe = f.add(Resource(
        "containerAppsEnvironmentPe", "Microsoft.Network/privateEndpoints", API["Microsoft.Network/privateEndpoints"],
        pe_name, "compute", location=Param("location"), depends=[c.vnet, env],
        body={"properties": {
            "subnet": {"id": c.subnet_id("pe")},
            "privateLinkServiceConnections": [{"name": pe_name, "properties": {
                "privateLinkServiceId": ResId(env), "groupIds": ["managedEnvironments"]}}],
        }},
    ))
    f.add(Resource(
        "containerAppsEnvironmentPeDns", "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        API["Microsoft.Network/privateEndpoints/privateDnsZoneGroups"], "default", "compute", parent=pe, tags=False,
        body={"properties": {"privateDnsZoneConfigs": [{"name": "containerapps", "properties": {"privateDnsZoneId": ResId(zone)}}]}},
    ))
