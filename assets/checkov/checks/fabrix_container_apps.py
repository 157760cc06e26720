"""Container Apps: no public environment, no insecure ingress, Key Vault references and registries
through a managed identity (never an inline secret value or a registry password)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from checkov.arm.base_resource_check import BaseResourceCheck  # noqa: E402
from checkov.common.models.enums import CheckCategories, CheckResult  # noqa: E402
from fabrix_common import dig, is_literal  # noqa: E402


class ContainerAppsEnvironmentPrivate(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Container Apps environment: public network access disabled and VNet-integrated",
            id="CKV_FABRIX_1",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.App/managedEnvironments"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        if not is_literal(dig(conf, "properties", "publicNetworkAccess"), "Disabled"):
            return CheckResult.FAILED
        if dig(conf, "properties", "vnetConfiguration", "infrastructureSubnetId") is None:
            return CheckResult.FAILED
        return CheckResult.PASSED


class ContainerAppSecureIngressAndIdentity(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Container App: HTTPS-only ingress; secrets are Key Vault references and registries use a managed identity",
            id="CKV_FABRIX_2",
            categories=[CheckCategories.IAM],
            supported_resources=["Microsoft.App/containerApps"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        config = dig(conf, "properties", "configuration") or {}
        if dig(config, "ingress", "allowInsecure") not in (None, False):
            return CheckResult.FAILED
        for secret in dig(config, "secrets") or []:
            if not isinstance(secret, dict) or "value" in secret:
                return CheckResult.FAILED
            if dig(secret, "keyVaultUrl") is None or dig(secret, "identity") is None:
                return CheckResult.FAILED
        for registry in dig(config, "registries") or []:
            if not isinstance(registry, dict) or "passwordSecretRef" in registry or dig(registry, "identity") is None:
                return CheckResult.FAILED
        identity_type = dig(conf, "identity", "type")
        if not isinstance(identity_type, str) or "userassigned" not in identity_type.lower().replace(" ", ""):
            return CheckResult.FAILED
        return CheckResult.PASSED


check_env = ContainerAppsEnvironmentPrivate()
check_app = ContainerAppSecureIngressAndIdentity()
