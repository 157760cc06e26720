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
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
}

# Private endpoint groupId and private DNS zone per service (notes/azure.md §4; learn private-endpoint-dns).
PRIVATE_LINK = {
    "keyvault": ("vault", "privatelink.vaultcore.azure.net"),
    "blob": ("blob", "privatelink.blob.core.windows.net"),
    "file": ("file", "privatelink.file.core.windows.net"),
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
