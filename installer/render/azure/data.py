"""The data and platform services: Key Vault (with the platform's secrets), Storage, the container
registry, PostgreSQL Flexible Server and Azure Managed Redis. Each sits behind a private endpoint
with public network access off; the workload identity gets only the role it needs on each."""

from __future__ import annotations

import re
from urllib.parse import quote

from installer.connections import POSTGRES_PORT
from installer.connections import database_urls as database_urls_of
from installer.render.azure.api import API
from installer.render.azure.expr import Call, Fmt, ListKeys, Param, Prop, Raw, ResId, TrueOrNull
from installer.render.azure.hybrid_ingress import azure_components
from installer.render.azure.model import Resource
from installer.render.azure.names import SecretParam, secret_param
from installer.render.azure.parts import Ctx, role
from installer.render.workload import database_url_secret


def key_vault(c: Ctx, secrets: list[SecretParam]) -> tuple[Resource, Resource, dict[str, Resource]]:
    """(vault, the identity's Key Vault Secrets User assignment, secret name → secret resource)."""
    f, names, loc, log = c.f, c.names, c.loc, c.log
    kv = f.add(Resource(
        "keyVault", "Microsoft.KeyVault/vaults", API["Microsoft.KeyVault/vaults"], names.value("kv"), "keyvault",
        location=loc,
        body={"properties": {
            "tenantId": Raw("subscription().tenantId"),
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "enableSoftDelete": True,
            # By tier (sizing.VAULT_PROTECTION): production 90 days with purge protection, others 7
            # days without, so a rolled-back dev/test install can purge the name and re-install.
            "softDeleteRetentionInDays": Param("keyVaultSoftDeleteDays"),
            "enablePurgeProtection": TrueOrNull(Param("keyVaultPurgeProtection")),
            "publicNetworkAccess": "Disabled",
            "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
        }},
    ))
    c.private_endpoint("keyvault", kv, "keyvault")
    kv_reader = role(f, "keyvault", kv, "Key Vault Secrets User", c.principal, "workload identity", "kvSecretsUser")
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
    return kv, kv_reader, vault_secrets


def registration_writer(c: Ctx, vault_secrets: dict[str, Resource], compute: str) -> list[Resource]:
    """Key Vault Secrets Officer for the workload identity on exactly the two secrets the post-deploy
    registration job writes (the dataplane's client id and secret, issued by the controller;
    installer/render/registration.py), never on the vault: every other secret stays read-only.
    Azure RBAC for Key Vault takes role assignments at secret scope (learn key-vault/general/rbac-guide)."""
    from installer.render.registration import issued_secrets

    issued = issued_secrets(c.inp, compute)
    if issued is None:
        return []
    out = []
    for name in issued:
        secret = vault_secrets.get(name)
        if secret is None:
            raise ValueError(f"the registration writes Key Vault secret {name}, which the template does not create")
        symbol = "kvOfficer" + "".join(w.capitalize() for w in name.split("-"))
        out.append(role(c.f, "keyvault", secret, "Key Vault Secrets Officer", c.principal,
                        f"workload identity (registration job, secret {name})", symbol))
    return out


def storage(c: Ctx, shares: list[str]) -> tuple[Resource, dict[str, Resource], list[Resource]]:
    """(account, share name → file share, what a mount needs first). Documents go to blob with
    Entra ID; ``shares`` are the Azure Files shares Container Apps mount for the apps' data volumes
    (one per volume), reached through the ``file`` private endpoint."""
    f, names, loc = c.f, c.names, c.loc
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
                # Container Apps mounts Azure Files over SMB with the account key only (no managed
                # identity for environment storage), so shared keys stay on when it has shares. The key
                # goes from listKeys() straight into the environment storage; never a parameter or output.
                "allowSharedKeyAccess": bool(shares),
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
    c.private_endpoint("storage", st, "blob")
    role(f, "storage", st, "Storage Blob Data Contributor", c.principal, "workload identity", "blobDataContributor")
    file_shares: dict[str, Resource] = {}
    mount_needs: list[Resource] = []
    if shares:
        files = f.add(Resource(
            "fileService", "Microsoft.Storage/storageAccounts/fileServices",
            API["Microsoft.Storage/storageAccounts/fileServices"], "default", "storage", parent=st, tags=False,
            body={"properties": {"shareDeleteRetentionPolicy": {"enabled": True, "days": 14}}},
        ))
        for i, share in enumerate(shares):
            file_shares[share] = f.add(Resource(
                f"share{i}", "Microsoft.Storage/storageAccounts/fileServices/shares",
                API["Microsoft.Storage/storageAccounts/fileServices/shares"], share, "storage", parent=files,
                tags=False,
                body={"properties": {"shareQuota": Param("appDataShareGB"), "enabledProtocols": "SMB",
                                     "accessTier": "TransactionOptimized"}},
            ))
        # The environment (VNet-integrated) resolves <account>.file.core.windows.net to this endpoint.
        mount_needs.append(c.private_endpoint("storage", st, "file", label="file"))
    return st, file_shares, mount_needs


def registry(c: Ctx) -> tuple[Resource, Resource]:
    """(registry, the identity's AcrPull assignment)."""
    f, names, loc = c.f, c.names, c.loc
    acr = f.add(Resource(
        "registry", "Microsoft.ContainerRegistry/registries", API["Microsoft.ContainerRegistry/registries"],
        names.value("acr"), "registry", location=loc,
        body={"sku": {"name": "Premium"}, "properties": {
            "adminUserEnabled": False,
            "anonymousPullEnabled": False,
            "publicNetworkAccess": "Disabled",
            "networkRuleBypassOptions": "AzureServices",
            # The development pipeline builds with ACR Tasks (`az acr run`), which run inside Azure
            # and push through this bypass; nothing outside the VNet reaches the data plane
            # (Microsoft.ContainerRegistry 2025-11-01 registry properties).
            "networkRuleBypassAllowedForTasks": True,
            "dataEndpointEnabled": True,
            "zoneRedundancy": "Enabled",
            "policies": {
                # Quarantine holds every pushed image until a scanner marks it; the pipeline scans
                # inside the ACR task before its push step instead, so nothing would ever mark them.
                "quarantinePolicy": {"status": "disabled"},
                "retentionPolicy": {"status": "enabled", "days": 30},
                # No trustPolicy: Docker Content Trust (Notary v1) is deprecated in ACR; images are
                # identified by digest (images.overrides) instead.
                "exportPolicy": {"status": "disabled"},
            },
        }},
    ))
    c.private_endpoint("registry", acr, "registry")
    acr_pull = role(f, "registry", acr, "AcrPull", c.principal, "workload identity", "acrPull")
    return acr, acr_pull


# The Flexible Server administrator (its password: Key Vault secret postgres-password).
POSTGRES_ADMIN = "pgadmin"


def postgres_version(c: Ctx) -> str:
    """The major version the catalog's Postgres image runs (``pgvector/pgvector:pg15`` → 15), so a
    dump from the evaluation install restores on Azure."""
    image = c.inp.plan.image_for("postgres", c.inp.catalog) if "postgres" in c.inp.catalog.components else ""
    match = re.search(r"pg(\d+)", image.rsplit(":", 1)[-1])
    return match.group(1) if match else "16"


def postgres(c: Ctx) -> Resource:
    f, names, loc, cat = c.f, c.names, c.loc, c.inp.catalog
    enabled = azure_components(c.inp.plan, c.f.compute, cat)
    pg = f.add(Resource(
        "postgres", "Microsoft.DBforPostgreSQL/flexibleServers", API["Microsoft.DBforPostgreSQL/flexibleServers"],
        names.value("pg"), "postgres", location=loc,
        body={
            "sku": {"name": Param("postgresSkuName"), "tier": Param("postgresTier")},
            "properties": {
                "version": postgres_version(c),
                "administratorLogin": POSTGRES_ADMIN,
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
    c.private_endpoint("postgres", pg, "postgres")
    return pg


def database_urls(c: Ctx, kv: Resource, pg: Resource, vault_secrets: dict[str, Resource]) -> None:
    """The connection URLs the apps read (``{database_url: DB}`` in the catalog), composed inside the
    deployment from the role's secure parameter (URL-encoded) and the server's host name, and written
    to Key Vault; the apps get Key Vault references. ``sslmode=require``: the server enforces TLS
    (require_secure_transport). The roles themselves come from postdeploy/10-databases.sh."""
    cat = c.inp.catalog
    for app in azure_components(c.inp.plan, c.f.compute, cat):
        comp = cat.components[app]
        for _key, database in database_urls_of(comp):
            db = comp.database(database)
            name = database_url_secret(comp, database)
            vault_secrets[name] = c.f.add(Resource(
                "secret" + "".join(w.capitalize() for w in re.split(r"[^a-z0-9]", name) if w),
                "Microsoft.KeyVault/vaults/secrets", API["Microsoft.KeyVault/vaults/secrets"], name, "keyvault",
                parent=kv,
                body={"properties": {
                    "value": Fmt("postgresql://{0}:{1}@{2}:" + str(POSTGRES_PORT) + "/{3}?sslmode=require", (
                        quote(db.user, safe=""), Call("uriComponent", (Param(secret_param(db.password_secret)),)),
                        Prop(pg, "fullyQualifiedDomainName"), quote(db.name, safe=""))),
                    "contentType": "text/uri-list", "attributes": {"enabled": True}}},
            ))


def redis(c: Ctx, kv: Resource, vault_secrets: dict[str, Resource]) -> Resource:
    """The Managed Redis cluster; its key goes from listKeys() straight into Key Vault (redis-access-key, redis-url)."""
    f, names, loc = c.f, c.names, c.loc
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
    c.private_endpoint("redis", redis, "redis")
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
        # The key is base64 (+, /, =): URL-encoded, or a client's URL parser splits it (issue 12).
        body={"properties": {"value": Fmt("rediss://:{0}@{1}:10000", (Call("uriComponent", (key,)), host)),
                             "contentType": "text/uri-list",
                             "attributes": {"enabled": True}}},
    ))
    return redis
