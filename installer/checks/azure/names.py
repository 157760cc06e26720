"""Global names are free: Key Vault (soft-deleted vaults hold their name), storage, registry, PostgreSQL.

Names come from ``installer.azure.naming`` — the ones the blueprints use. A name already used by
this install's own resource group counts as free (a re-run updates it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from installer.azure.clients import sdk_import
from installer.checks.azure.run import AzureRun, azure_check, missing_is_none, result, text
from installer.checks.base import CheckResult, Status


def _verdict(run: AzureRun, cid: str, title: str, kind: str, name: str, check: Any, existing: Any) -> CheckResult:
    available = bool(getattr(check, "name_available", False))
    details = {"name": name, "available": available, "reason": text(getattr(check, "reason", None))}
    if existing is not None:
        return result(cid, title, Status.passed, f"{kind} {name} exists in {run.names.resource_group} (this install's; a re-run updates it)", **details)
    if available:
        return result(cid, title, Status.passed, f"{kind} name {name} is available", **details)
    message = text(getattr(check, "message", None)) or text(getattr(check, "reason", None)) or "taken"
    return result(cid, title, Status.fail, f"{kind} name {name} is not available: {message.splitlines()[0][:200]}",
                  f"names derive from azure.name_prefix ({run.names.prefix}) and the install name: set another azure.name_prefix "
                  "in the answers file and re-run `fabrix check`", **details)


def _rg_get(run: AzureRun, get: Callable[[str, str], Any], name: str) -> Callable[[], Any]:
    return missing_is_none(lambda: get(run.names.resource_group, name))


@azure_check("azure.name.keyvault", "Key Vault name available")
def check_keyvault_name(run: AzureRun) -> CheckResult:
    cid, title = "azure.name.keyvault", "Key Vault name available"
    sub, loc = run.require_subscription(), run.require_location()
    VaultCheckNameAvailabilityParameters = sdk_import("azure.mgmt.keyvault.models", "VaultCheckNameAvailabilityParameters")

    name = run.names.key_vault
    vaults = run.clients.keyvault(sub).vaults
    check, deleted, existing = run.parallel(
        lambda: vaults.check_name_availability(VaultCheckNameAvailabilityParameters(name=name, type="Microsoft.KeyVault/vaults")),
        missing_is_none(lambda: vaults.get_deleted(name, loc)),
        _rg_get(run, vaults.get, name),
    )
    if existing is None and deleted is not None:
        props = getattr(deleted, "properties", None)
        protected = bool(getattr(props, "purge_protection_enabled", False))
        purge_date = getattr(props, "scheduled_purge_date", None)
        details = {"name": name, "soft_deleted": True, "purge_protection": protected, "scheduled_purge_date": str(purge_date or "")}
        if protected:
            return result(cid, title, Status.fail,
                          f"Key Vault name {name} is held by a soft-deleted vault with purge protection (purged automatically on {purge_date})",
                          f"recover it (`az keyvault recover --name {name} --location {loc}`, Key Vault Contributor) and delete it properly later, "
                          "or set another azure.name_prefix", **details)
        return result(cid, title, Status.fail,
                      f"Key Vault name {name} is held by a soft-deleted vault in {loc} (scheduled purge {purge_date})",
                      f"purge it: `az keyvault purge --name {name} --location {loc}` (needs Microsoft.KeyVault/locations/deletedVaults/purge/action: "
                      "Key Vault Contributor or Contributor on the subscription), or recover it with `az keyvault recover`, or set another azure.name_prefix",
                      **details)
    return _verdict(run, cid, title, "Key Vault", name, check, existing)


@azure_check("azure.name.storage", "Storage account name available")
def check_storage_name(run: AzureRun) -> CheckResult:
    StorageAccountCheckNameAvailabilityParameters = sdk_import("azure.mgmt.storage.models", "StorageAccountCheckNameAvailabilityParameters")

    sub = run.require_subscription()
    name = run.names.storage_account
    accounts = run.clients.storage(sub).storage_accounts
    check, existing = run.parallel(
        lambda: accounts.check_name_availability(StorageAccountCheckNameAvailabilityParameters(name=name, type="Microsoft.Storage/storageAccounts")),
        _rg_get(run, accounts.get_properties, name),
    )
    return _verdict(run, "azure.name.storage", "Storage account name available", "storage account", name, check, existing)


@azure_check("azure.name.registry", "Container registry name available")
def check_registry_name(run: AzureRun) -> CheckResult:
    RegistryNameCheckRequest = sdk_import("azure.mgmt.containerregistry.models", "RegistryNameCheckRequest")

    sub = run.require_subscription()
    name = run.names.container_registry
    registries = run.clients.registry(sub).registries
    check, existing = run.parallel(
        lambda: registries.check_name_availability(RegistryNameCheckRequest(name=name, type="Microsoft.ContainerRegistry/registries")),
        _rg_get(run, registries.get, name),
    )
    return _verdict(run, "azure.name.registry", "Container registry name available", "container registry", name, check, existing)


@azure_check("azure.name.postgres", "PostgreSQL server name available")
def check_postgres_name(run: AzureRun) -> CheckResult:
    CheckNameAvailabilityRequest = sdk_import("azure.mgmt.postgresqlflexibleservers.models", "CheckNameAvailabilityRequest")

    sub = run.require_subscription()
    name = run.names.postgres
    client = run.clients.postgres(sub)
    check, existing = run.parallel(
        lambda: client.name_availability.check_globally(CheckNameAvailabilityRequest(name=name, type="Microsoft.DBforPostgreSQL/flexibleServers")),
        _rg_get(run, client.servers.get, name),
    )
    return _verdict(run, "azure.name.postgres", "PostgreSQL server name available", "PostgreSQL server", name, check, existing)
