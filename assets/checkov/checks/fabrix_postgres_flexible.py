"""PostgreSQL Flexible Server: no public access, Entra ID authentication on, TLS required."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from checkov.arm.base_resource_check import BaseResourceCheck  # noqa: E402
from checkov.common.models.enums import CheckCategories, CheckResult  # noqa: E402
from fabrix_common import dig, is_literal, leaf_name  # noqa: E402


class PostgresFlexiblePrivate(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="PostgreSQL Flexible Server: public network access disabled",
            id="CKV_FABRIX_3",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.DBforPostgreSQL/flexibleServers"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        ok = is_literal(dig(conf, "properties", "network", "publicNetworkAccess"), "Disabled")
        return CheckResult.PASSED if ok else CheckResult.FAILED


class PostgresFlexibleEntraAuth(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="PostgreSQL Flexible Server: Microsoft Entra authentication enabled (identities, not only passwords)",
            id="CKV_FABRIX_4",
            categories=[CheckCategories.IAM],
            supported_resources=["Microsoft.DBforPostgreSQL/flexibleServers"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        ok = is_literal(dig(conf, "properties", "authConfig", "activeDirectoryAuth"), "Enabled")
        return CheckResult.PASSED if ok else CheckResult.FAILED


class PostgresFlexibleTls(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="PostgreSQL Flexible Server: require_secure_transport stays ON (TLS enforced)",
            id="CKV_FABRIX_5",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["Microsoft.DBforPostgreSQL/flexibleServers/configurations"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        if leaf_name(conf) != "require_secure_transport":
            return CheckResult.UNKNOWN
        ok = is_literal(dig(conf, "properties", "value"), "ON")
        return CheckResult.PASSED if ok else CheckResult.FAILED


check_private = PostgresFlexiblePrivate()
check_entra = PostgresFlexibleEntraAuth()
check_tls = PostgresFlexibleTls()
