"""Front Door Premium: Premium SKU (Private Link), HTTPS-only routes, Private Link origins with
certificate name checks, and a WAF policy in Prevention mode."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from checkov.arm.base_resource_check import BaseResourceCheck  # noqa: E402
from checkov.common.models.enums import CheckCategories, CheckResult  # noqa: E402
from fabrix_common import dig, is_literal  # noqa: E402


class FrontDoorPremium(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Front Door profile: Premium SKU (needed for Private Link origins and managed WAF rules)",
            id="CKV_FABRIX_6",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.Cdn/profiles"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        ok = is_literal(dig(conf, "sku", "name"), "Premium_AzureFrontDoor")
        return CheckResult.PASSED if ok else CheckResult.FAILED


class FrontDoorRouteHttpsOnly(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Front Door route: HTTPS only, to the origin as well (TLS end to end)",
            id="CKV_FABRIX_7",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["Microsoft.Cdn/profiles/afdEndpoints/routes"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        protocols = dig(conf, "properties", "supportedProtocols")
        protocols = protocols if isinstance(protocols, list) else [protocols]
        if [str(p).lower() for p in protocols] != ["https"]:
            return CheckResult.FAILED
        if not is_literal(dig(conf, "properties", "forwardingProtocol"), "HttpsOnly"):
            return CheckResult.FAILED
        return CheckResult.PASSED


class FrontDoorPrivateLinkOrigin(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Front Door origin: reached over Private Link with certificate name check",
            id="CKV_FABRIX_8",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.Cdn/profiles/originGroups/origins"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        if dig(conf, "properties", "sharedPrivateLinkResource", "privateLink", "id") is None:
            return CheckResult.FAILED
        if dig(conf, "properties", "enforceCertificateNameCheck") is not True:
            return CheckResult.FAILED
        return CheckResult.PASSED


class FrontDoorWafPrevention(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Front Door WAF policy: enabled, Prevention mode, Premium SKU with the default managed rule set",
            id="CKV_FABRIX_9",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["Microsoft.Network/FrontDoorWebApplicationFirewallPolicies"],
        )

    def scan_resource_conf(self, conf: dict) -> CheckResult:
        if not is_literal(dig(conf, "properties", "policySettings", "mode"), "Prevention"):
            return CheckResult.FAILED
        if not is_literal(dig(conf, "properties", "policySettings", "enabledState"), "Enabled"):
            return CheckResult.FAILED
        if not is_literal(dig(conf, "sku", "name"), "Premium_AzureFrontDoor"):
            return CheckResult.FAILED
        sets = dig(conf, "properties", "managedRules", "managedRuleSets") or []
        types = {str(dig(s, "ruleSetType")).lower() for s in sets if isinstance(s, dict)}
        return CheckResult.PASSED if "microsoft_defaultruleset" in types else CheckResult.FAILED


check_sku = FrontDoorPremium()
check_route = FrontDoorRouteHttpsOnly()
check_origin = FrontDoorPrivateLinkOrigin()
check_waf = FrontDoorWafPrevention()
