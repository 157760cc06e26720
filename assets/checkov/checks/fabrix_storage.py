"""Storage: Entra ID only unless Container Apps mount Azure Files; environment storage takes the
account key from listKeys() inside the deployment (never a parameter, a literal or an output)."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from checkov.arm.base_resource_check import BaseResourceCheck  # noqa: E402
from checkov.common.models.enums import CheckCategories, CheckResult  # noqa: E402
from fabrix_common import dig, is_literal  # noqa: E402

_ARM_LIST_KEYS = re.compile(r"^\[listKeys\(")


def _from_list_keys(value: Any) -> bool:
    """ARM ``[listKeys(resourceId(…), '…').keys[0].value]``, or the Bicep ``storage.listKeys()…`` tree
    pycep gives (a ``function_accessor`` with ``func_name: listKeys``); a parameter name or literal is not."""
    if isinstance(value, str):
        return bool(_ARM_LIST_KEYS.match(value.strip()))
    if isinstance(value, dict):
        return value.get("func_name") == "listKeys" or any(_from_list_keys(v) for v in value.values())
    if isinstance(value, list):
        return any(_from_list_keys(v) for v in value)
    return False


class StorageSharedKeyDisabled(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Storage account: shared key access disabled (Microsoft Entra ID only)",
            id="CKV_FABRIX_13",
            categories=[CheckCategories.IAM],
            supported_resources=["Microsoft.Storage/storageAccounts"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        ok = is_literal(dig(conf, "properties", "allowSharedKeyAccess"), False)
        return CheckResult.PASSED if ok else CheckResult.FAILED


class EnvironmentStorageKeyFromListKeys(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Container Apps environment storage: the Azure Files account key comes from listKeys() in the "
                 "deployment, never a parameter or literal; access mode set explicitly",
            id="CKV_FABRIX_14",
            categories=[CheckCategories.SECRETS],
            supported_resources=["Microsoft.App/managedEnvironments/storages"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        azure_file = dig(conf, "properties", "azureFile")
        if azure_file is None:
            return CheckResult.PASSED  # NFS Azure Files: no key at all
        if not _from_list_keys(dig(azure_file, "accountKey")):
            return CheckResult.FAILED
        if dig(azure_file, "accessMode") not in ("ReadWrite", "ReadOnly"):
            return CheckResult.FAILED
        return CheckResult.PASSED


check_shared_key = StorageSharedKeyDisabled()
check_env_storage = EnvironmentStorageKeyFromListKeys()
