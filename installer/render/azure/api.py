"""Facts about the Azure resources the foundation uses: API versions, built-in roles, Private Link
zones, the Bicep modules and the network layout."""

from __future__ import annotations

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
    "Microsoft.Insights/dataCollectionRules": "2024-03-11",
    "Microsoft.Insights/dataCollectionRuleAssociations": "2024-03-11",
    "Microsoft.KeyVault/vaults": "2025-05-01",
    "Microsoft.KeyVault/vaults/secrets": "2025-05-01",
    "Microsoft.Storage/storageAccounts": "2025-06-01",
    "Microsoft.Storage/storageAccounts/blobServices": "2025-06-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2025-06-01",
    "Microsoft.Storage/storageAccounts/fileServices": "2025-06-01",
    "Microsoft.Storage/storageAccounts/fileServices/shares": "2025-06-01",
    "Microsoft.ContainerRegistry/registries": "2025-11-01",
    "Microsoft.DBforPostgreSQL/flexibleServers": "2025-08-01",
    "Microsoft.DBforPostgreSQL/flexibleServers/configurations": "2025-08-01",
    "Microsoft.DBforPostgreSQL/flexibleServers/databases": "2025-08-01",
    "Microsoft.Cache/redisEnterprise": "2025-07-01",
    "Microsoft.Cache/redisEnterprise/databases": "2025-07-01",
    "Microsoft.App/managedEnvironments": "2025-07-01",
    "Microsoft.App/managedEnvironments/storages": "2025-07-01",
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
    # Write: only on the two secrets the dataplane registration job sets (data.registration_writer).
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
}

# Private endpoint groupId and the private DNS zone per service in Azure's public cloud
# (notes/azure.md §4; learn.microsoft.com/azure/private-link/private-endpoint-dns).
PRIVATE_LINK = {
    "keyvault": ("vault", "privatelink.vaultcore.azure.net"),
    "blob": ("blob", "privatelink.blob.core.windows.net"),
    "file": ("file", "privatelink.file.core.windows.net"),
    "postgres": ("postgresqlServer", "privatelink.postgres.database.azure.com"),
    "redis": ("redisEnterprise", "privatelink.redis.azure.net"),
    "registry": ("registry", "privatelink.azurecr.io"),
}

# The same zones in every cloud, from Microsoft's "Azure Private Endpoint private DNS zone values"
# table (MicrosoftDocs/azure-docs articles/private-link/private-endpoint-dns.md, sections
# Commercial / Government / China). Keyed by ARM's environment().name. Azure Managed Redis
# (redisEnterprise) is listed for the commercial cloud only: the table has no Government or China
# zone for it, so the template keeps the commercial zone name for it (README: Azure Managed Redis
# behind a private endpoint is documented for the public cloud only).
PRIVATE_DNS_ZONES: dict[str, dict[str, str]] = {
    "AzureCloud": {kind: zone for kind, (_, zone) in PRIVATE_LINK.items()},
    "AzureUSGovernment": {
        "keyvault": "privatelink.vaultcore.usgovcloudapi.net",
        "blob": "privatelink.blob.core.usgovcloudapi.net",
        "file": "privatelink.file.core.usgovcloudapi.net",
        "postgres": "privatelink.postgres.database.usgovcloudapi.net",
        "registry": "privatelink.azurecr.us",
    },
    "AzureChinaCloud": {
        "keyvault": "privatelink.vaultcore.azure.cn",
        "blob": "privatelink.blob.core.chinacloudapi.cn",
        "file": "privatelink.file.core.chinacloudapi.cn",
        "postgres": "privatelink.postgres.database.chinacloudapi.cn",
        "registry": "privatelink.azurecr.cn",
    },
}
# fabrix's cloud names → ARM's environment().name.
ARM_CLOUD = {"public": "AzureCloud", "usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}

# What environment() returns per cloud for the suffixes the zone names are derived from (ARM
# template functions reference, environment(); `az cloud show -n <cloud>` prints the same values).
# Used only by tests and the runbook; templates call environment() at deploy time.
ENVIRONMENT_SUFFIXES: dict[str, dict[str, str]] = {
    "AzureCloud": {"storage": "core.windows.net", "keyvaultDns": ".vault.azure.net",
                   "acrLoginServer": ".azurecr.io", "sqlServerHostname": ".database.windows.net"},
    "AzureUSGovernment": {"storage": "core.usgovcloudapi.net", "keyvaultDns": ".vault.usgovcloudapi.net",
                          "acrLoginServer": ".azurecr.us", "sqlServerHostname": ".database.usgovcloudapi.net"},
    "AzureChinaCloud": {"storage": "core.chinacloudapi.cn", "keyvaultDns": ".vault.azure.cn",
                        "acrLoginServer": ".azurecr.cn", "sqlServerHostname": ".database.chinacloudapi.cn"},
}


def zone_for(cloud: str, kind: str) -> str | None:
    """The private DNS zone of ``kind`` in fabrix cloud ``cloud`` (None: no zone published there)."""
    return PRIVATE_DNS_ZONES.get(ARM_CLOUD.get(cloud, "AzureCloud"), {}).get(kind)


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
