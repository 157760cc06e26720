"""The compute module: a Container Apps environment with the apps, or an AKS cluster with workload
identity (federated credentials per app service account). Images, ports and env come only from the
catalog through ``installer.render.workload.azure_apps``."""

from __future__ import annotations

from typing import Any

from installer.render import RenderInput
from installer.render.azure.api import API
from installer.render.azure.expr import Decimal, ExprKey, Fmt, ListKeys, Param, Prop, ResId, ResName
from installer.render.azure.hybrid_ingress import CONTROL_PLANE, ONPREM_CIDR_PARAM
from installer.render.azure.model import Foundation, OutputSpec, Resource
from installer.render.azure.names import Names, derived
from installer.render.azure.parts import role
from installer.render.azure.containerapp import AppRefs, container_app_properties
from installer.render.workload import AzureApp, EnvVar, azure_names, data_volume_name


def env_value(var: EnvVar, inp: RenderInput, pg: Resource | None, redis: Resource | None) -> Any:
    """A literal environment value as the template writes it: the managed services' host names
    from the deployed resources, the public domain from its parameter."""
    names = azure_names(inp.plan)
    value: Any = var.value or ""
    if pg is not None and value == names.postgres_host(inp.plan.azure.cloud):
        return Prop(pg, "fullyQualifiedDomainName")
    if redis is not None and value == names.redis_host():
        return Prop(redis, "hostName")
    if "${PUBLIC_DOMAIN}" in value:
        before, after = value.split("${PUBLIC_DOMAIN}", 1)
        return Fmt(before + "{0}" + after, (Param("publicDomain"),))
    return value


def aca(f: Foundation, names: Names, apps: list[AzureApp], vnet: Resource, subnet: Any, log: Resource,
         uami: Resource, kv: Resource, roles: list[Resource], vault_secrets: dict[str, Resource],
         pg: Resource | None, redis: Resource | None, inp: RenderInput, storage: Resource,
         shares: dict[str, Resource], mount_needs: list[Resource], hybrid: bool = False) -> Resource:
    """The Container Apps environment and its apps. ``hybrid``: the control plane's ingress takes
    the on-prem runner over the private path (hybrid_ingress.py), the same as the ACA YAML."""
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
    # One environment storage per app data share. Azure Files over SMB takes the account key only:
    # listKeys() inside the deployment, never a parameter, output or file. Written one after another
    # (the environment rejects parallel updates).
    env_storages: dict[str, Resource] = {}
    chain: list[Resource] = []
    for i, (share, share_res) in enumerate(shares.items()):
        env_storages[share] = f.add(Resource(
            f"envStorage{i}", "Microsoft.App/managedEnvironments/storages",
            API["Microsoft.App/managedEnvironments/storages"], share, "compute", parent=env, tags=False,
            depends=[share_res, *mount_needs, *chain[-1:]],
            body={"properties": {"azureFile": {
                "accountName": ResName(storage),
                "accountKey": ListKeys(storage, "keys[0].value"),
                "shareName": share,
                "accessMode": "ReadWrite",
            }}},
            comment="Azure Files needs the account key (SMB); it stays inside the deployment" if i == 0 else "",
        ))
        chain.append(env_storages[share])
    vault_uri = Prop(kv, "vaultUri")
    registry = (inp.plan.images.registry or "").split("/")[0] or None
    for app in apps:
        mounts = [data_volume_name(app.name, i) for i, _ in enumerate(app.volumes)]
        refs = AppRefs(
            identity=ResId(uami), environment=ResId(env),
            secret_url=lambda s: Fmt("{0}secrets/{1}", (vault_uri, s)),
            env_value=lambda v: env_value(v, inp, pg, redis),
            cpu=Decimal, registry=registry,
            onprem_cidr=Param(ONPREM_CIDR_PARAM) if hybrid else None,
        )
        app_res = f.add(Resource(
            f"app{''.join(p.capitalize() for p in app.name.split('-'))}", "Microsoft.App/containerApps",
            API["Microsoft.App/containerApps"], app.name, "compute", location=loc,
            depends=roles + [vault_secrets[s] for s in app.secrets if s in vault_secrets]
            + [r for r in [pg, redis] if r is not None] + [env_storages[m] for m in mounts],
            body={
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {ExprKey(ResId(uami)): {}}},
                "properties": container_app_properties(app, refs),
            },
        ))
        if hybrid and app.name == CONTROL_PLANE:
            f.outputs["controlPlaneHost"] = OutputSpec(
                "string", Prop(app_res, "configuration.ingress.fqdn"),
                "Host name of the controller for the on-prem runner (CONTROL_PLANE_HOST; private path, mTLS)")
    return env


def aks(f: Foundation, names: Names, apps: list[AzureApp], subnet: Any, log: Resource, uami: Resource,
         acr: Resource, vnet: Resource, inp: RenderInput) -> tuple[Resource, Any]:
    """(cluster, its node resource group name). The cluster runs as its own control-plane identity
    (Network Contributor on the VNet, to join nodes and create the ingress's internal load balancer
    and Private Link service); the pods run as the workload identity through federated credentials.
    One identity for both would give every pod the right to rewire the network."""
    loc = Param("location")
    control = f.add(Resource(
        "aksControlPlaneIdentity", "Microsoft.ManagedIdentity/userAssignedIdentities",
        API["Microsoft.ManagedIdentity/userAssignedIdentities"], derived(names.value("aks"), "id-{0}-control"),
        "compute", location=loc,
    ))
    net_role = role(f, "network", vnet, "Network Contributor", Prop(control, "principalId"), "AKS control plane",
                    "aksNetworkContributor")
    node_rg = derived(names.value("aks"), "rg-{0}-nodes")
    aks = f.add(Resource(
        "aks", "Microsoft.ContainerService/managedClusters", API["Microsoft.ContainerService/managedClusters"],
        names.value("aks"), "compute", location=loc, depends=[net_role],
        body={
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {ExprKey(ResId(control)): {}}},
            "sku": {"name": "Base", "tier": Param("aksSkuTier")},
            "properties": {
                "dnsPrefix": derived(names.value("aks"), "{0}-dns"),
                # Named, so Front Door's origin can point at the Private Link service AKS creates there.
                "nodeResourceGroup": node_rg,
                "enableRBAC": True,
                "disableLocalAccounts": True,
                "aadProfile": {"managed": True, "enableAzureRBAC": True},
                "oidcIssuerProfile": {"enabled": True},
                "securityProfile": {"workloadIdentity": {"enabled": True}, "imageCleaner": {"enabled": True, "intervalHours": 48}},
                "apiServerAccessProfile": {"enablePrivateCluster": True},
                "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "cilium",
                                   "networkDataplane": "cilium", "loadBalancerSku": "standard",
                                   **({"advancedNetworking": {
                                       # FQDN filtering (Advanced Container Networking Services): the
                                       # apps' egress to azure.model_endpoints only (k8s/<app>.yaml).
                                       "enabled": True, "security": {"enabled": True, "advancedNetworkPolicies": "FQDN"},
                                   }} if inp.plan.azure.model_endpoints else {})},
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
                # No default controller (its "External" default is a public load balancer that would
                # bypass Front Door's WAF); k8s/ingress.yaml creates the internal one with its
                # Private Link service (learn aks/app-routing-nginx-configuration).
                "ingressProfile": {"webAppRouting": {"enabled": True, "nginx": {"defaultIngressControllerType": "None"}}},
            },
        },
    ))
    # Container Insights with managed-identity auth sends data only through a data collection rule
    # associated with the cluster (learn azure-monitor/containers/kubernetes-monitoring-enable, ARM).
    dcr = f.add(Resource(
        "containerInsightsRule", "Microsoft.Insights/dataCollectionRules", API["Microsoft.Insights/dataCollectionRules"],
        derived(names.value("aks"), "MSCI-{0}"), "compute", location=loc,
        body={"kind": "Linux", "properties": {
            "dataSources": {"extensions": [{
                "name": "ContainerInsightsExtension", "extensionName": "ContainerInsights",
                "streams": ["Microsoft-ContainerInsights-Group-Default"],
                "extensionSettings": {"dataCollectionSettings": {
                    "interval": "1m", "namespaceFilteringMode": "Off", "enableContainerLogV2": True}},
            }]},
            "destinations": {"logAnalytics": [{"workspaceResourceId": ResId(log), "name": "workspace"}]},
            "dataFlows": [{"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["workspace"]}],
        }},
    ))
    f.add(Resource(
        "containerInsightsAssociation", "Microsoft.Insights/dataCollectionRuleAssociations",
        API["Microsoft.Insights/dataCollectionRuleAssociations"], "ContainerInsightsExtension", "compute",
        scope=aks, tags=False,
        body={"properties": {"dataCollectionRuleId": ResId(dcr),
                             "description": "Container Insights for the cluster (fabrix)"}},
    ))
    role(f, "compute", acr, "AcrPull", Prop(aks, "identityProfile.kubeletidentity.objectId"), "AKS kubelet", "kubeletAcrPull")
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
    return aks, node_rg
