"""Azure Managed Redis: no public access, TLS 1.2+, encrypted client protocol, Entra instead of keys."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from checkov.arm.base_resource_check import BaseResourceCheck  # noqa: E402
from checkov.common.models.enums import CheckCategories, CheckResult  # noqa: E402
from fabrix_common import dig, is_literal  # noqa: E402


class ManagedRedisPrivateTls(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Managed Redis: public network access disabled and minimum TLS 1.2",
            id="CKV_FABRIX_10",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.Cache/redisEnterprise"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        if not is_literal(dig(conf, "properties", "publicNetworkAccess"), "Disabled"):
            return CheckResult.FAILED
        if not is_literal(dig(conf, "properties", "minimumTlsVersion"), "1.2"):
            return CheckResult.FAILED
        return CheckResult.PASSED


class ManagedRedisEncryptedProtocol(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Managed Redis database: encrypted client protocol (TLS)",
            id="CKV_FABRIX_11",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["Microsoft.Cache/redisEnterprise/databases"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        ok = is_literal(dig(conf, "properties", "clientProtocol"), "Encrypted")
        return CheckResult.PASSED if ok else CheckResult.FAILED


class ManagedRedisNoAccessKeys(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Managed Redis database: access keys disabled (Microsoft Entra identities only)",
            id="CKV_FABRIX_12",
            categories=[CheckCategories.IAM],
            supported_resources=["Microsoft.Cache/redisEnterprise/databases"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        ok = is_literal(dig(conf, "properties", "accessKeysAuthentication"), "Disabled")
        return CheckResult.PASSED if ok else CheckResult.FAILED


check_private = ManagedRedisPrivateTls()
check_protocol = ManagedRedisEncryptedProtocol()
check_keys = ManagedRedisNoAccessKeys()
