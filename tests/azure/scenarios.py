"""Scenario data for the fake ARM: a healthy subscription, and the ways real ones are not.

Each function returns a fresh dict; variants start from ``healthy()`` and change one thing, so a
failing test names exactly the fact that differs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from installer.azure import requirements
from installer.plan import InstallPlan

BODIES = Path(__file__).parent / "bodies"  # real ARM bodies from the REST API specs (bodies/SOURCES.json)


def body(name: str, location: str | None = None) -> Any:
    """A stored example body; ``location`` replaces the example's region (the only adjustment)."""
    text = (BODIES / name).read_text()
    if location:
        text = text.replace('"swedencentral"', json.dumps(location))
    return json.loads(text)


TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
OTHER_SUBSCRIPTION = "99999999-8888-7777-6666-555555555555"
OID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
LOCATION = "swedencentral"
RG = "rg-fabrix-test"

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
RESOURCES_ONLY = "7e1f3c11-2b7a-4f0a-8d55-6f2c0a9b1e43"

ALLOWED_LOCATIONS_POLICY = "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"

# Built-in role definitions, permissions as Azure publishes them (abridged notActions lists).
BUILTIN_ROLES: dict[str, dict[str, Any]] = {
    OWNER: {"roleName": "Owner", "permissions": [{"actions": ["*"], "notActions": []}]},
    CONTRIBUTOR: {
        "roleName": "Contributor",
        "permissions": [
            {
                "actions": ["*"],
                "notActions": [
                    "Microsoft.Authorization/*/Delete",
                    "Microsoft.Authorization/*/Write",
                    "Microsoft.Authorization/elevateAccess/Action",
                    "Microsoft.Blueprint/blueprintAssignments/write",
                    "Microsoft.Blueprint/blueprintAssignments/delete",
                    "Microsoft.Compute/galleries/share/action",
                    "Microsoft.Purview/consents/write",
                    "Microsoft.Purview/consents/delete",
                    "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                    "Microsoft.Subscription/cancel/action",
                    "Microsoft.Subscription/enable/action",
                ],
            }
        ],
    },
    READER: {"roleName": "Reader", "permissions": [{"actions": ["*/read"], "notActions": []}]},
    USER_ACCESS_ADMIN: {
        "roleName": "User Access Administrator",
        "permissions": [{"actions": ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], "notActions": []}],
    },
    RBAC_ADMIN: {
        "roleName": "Role Based Access Control Administrator",
        "permissions": [
            {
                "actions": [
                    "Microsoft.Authorization/roleAssignments/write",
                    "Microsoft.Authorization/roleAssignments/delete",
                    "*/read",
                    "Microsoft.Support/*",
                ],
                "notActions": [],
            }
        ],
    },
    NETWORK_CONTRIBUTOR: {
        "roleName": "Network Contributor",
        "permissions": [
            {
                "actions": [
                    "Microsoft.Authorization/*/read",
                    "Microsoft.Insights/alertRules/*",
                    "Microsoft.Network/*",
                    "Microsoft.ResourceHealth/availabilityStatuses/read",
                    "Microsoft.Resources/deployments/*",
                    "Microsoft.Resources/subscriptions/resourceGroups/read",
                    "Microsoft.Support/*",
                ],
                "notActions": [],
            }
        ],
    },
}

# The Azure landing zone's "Application Owners" custom role, as Azure/Enterprise-Scale defines it
# (src/resources/Microsoft.Authorization/roleDefinitions/Application-Owners.json, bodies/SOURCES.json):
# Actions * with NotActions that include virtualNetworks/write — paired with RBAC Administrator in
# many landing zones. Its name is the fixed GUID of that file.
_APP_OWNERS_BODY = body("role_application_owners.json")
APPLICATION_OWNERS_ROLE: dict[str, Any] = {
    "roleName": _APP_OWNERS_BODY["properties"]["roleName"],
    "type": _APP_OWNERS_BODY["properties"]["type"],
    "permissions": _APP_OWNERS_BODY["properties"]["permissions"],
    "assignableScopes": _APP_OWNERS_BODY["properties"]["assignableScopes"],
}
APP_OWNERS = _APP_OWNERS_BODY["name"]
# A custom role a tenant writes thinking "deployments and role assignments are what a deployment needs".
RESOURCES_ONLY_ROLE: dict[str, Any] = {
    "roleName": "Deployment Operator (custom)",
    "type": "CustomRole",
    "permissions": [{"actions": ["Microsoft.Resources/*", "Microsoft.Authorization/roleAssignments/*", "*/read"], "notActions": []}],
}


def _zones(region: str) -> list[dict[str, str]]:
    # Logical zone n maps to a physical zone that differs per subscription (as in real ARM).
    return [{"logicalZone": str(n), "physicalZone": f"{region}-az{(n % 3) + 1}"} for n in (1, 2, 3)]


LOCATIONS = [
    {"name": "swedencentral", "displayName": "Sweden Central", "geography": "Sweden", "availabilityZoneMappings": _zones("swedencentral")},
    {"name": "westeurope", "displayName": "West Europe", "geography": "Europe", "availabilityZoneMappings": _zones("westeurope")},
    {"name": "northeurope", "displayName": "North Europe", "geography": "Europe", "availabilityZoneMappings": _zones("northeurope")},
    {"name": "germanywestcentral", "displayName": "Germany West Central", "geography": "Germany", "availabilityZoneMappings": _zones("germanywestcentral")},
    {"name": "eastus", "displayName": "East US", "geography": "United States", "availabilityZoneMappings": _zones("eastus")},
    {"name": "eastus2", "displayName": "East US 2", "geography": "United States", "availabilityZoneMappings": _zones("eastus2")},
]
DISPLAY = [loc["displayName"] for loc in LOCATIONS]


def _providers() -> dict[str, Any]:
    """Every namespace any model needs, registered, offering every type in every region."""
    everything = set()
    for model, target in (("container", "aca"), ("container", "aks"), ("marketplace", "compose")):
        plan = InstallPlan(name="x", model=model, target=target)
        everything |= set(requirements.namespaces(plan))
        for t in requirements.resource_types(plan):
            everything.add(t.namespace)
    providers: dict[str, Any] = {ns: {"registrationState": "Registered", "resourceTypes": {}} for ns in sorted(everything)}
    for model, target in (("container", "aca"), ("container", "aks"), ("marketplace", "compose")):
        for t in requirements.resource_types(InstallPlan(name="x", model=model, target=target)):
            providers[t.namespace]["resourceTypes"][t.type] = ["global"] if not t.regional else list(DISPLAY)
    # Unrelated providers make the list realistic (and must be ignored).
    providers["Microsoft.Sql"] = {"registrationState": "NotRegistered", "resourceTypes": {"servers": list(DISPLAY)}}
    return providers


def healthy() -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "principal": {"oid": OID, "kind": "user", "upn": "consultant@contoso.example"},
        "location": LOCATION,
        "subscriptions": body("subscriptions.json")["value"],
        "locations": copy.deepcopy(LOCATIONS),
        "providers": _providers(),
        "resource_groups": [RG],
        "existing_resources": [],
        "role_definitions": copy.deepcopy(BUILTIN_ROLES),
        "role_assignments": [
            {"scope": f"/subscriptions/{SUBSCRIPTION}", "role": OWNER, "principalId": OID},
            # An assignment elsewhere must not count for our subscription's resource group.
            {"scope": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/other-rg", "role": READER, "principalId": OID},
        ],
        "compute_usages": {LOCATION: body("compute_usages.json")["value"]},
        "compute_skus": body("compute_skus.json")["value"],
        "aca_usages": {LOCATION: body("aca_usages.json")["value"]},
        "postgres_capabilities": {LOCATION: body("postgres_capabilities.json")},
        "postgres_usages": {LOCATION: body("postgres_usages.json")["value"]},
        "policy_assignments": [
            # Audit-only assignments exist everywhere; they restrict nothing.
            {"policyDefinitionId": "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8", "displayName": "Azure Security Benchmark"},
        ],
        "policy_definitions": body("policy_definitions.json"),
        "taken_names": {},
        "deleted_vaults": [],
        # Subscription features (Microsoft.Features); AKS node pools use encryption at host.
        "features": {"Microsoft.Compute/EncryptionAtHost": "Registered"},
    }


def disabled_subscription() -> dict[str, Any]:
    sc = healthy()
    sc["subscriptions"][0]["state"] = "Disabled"
    return sc


def subscription_in_state(state: str) -> dict[str, Any]:
    """A SubscriptionState of the 2022-12-01 enum: Enabled, Warned, PastDue, Disabled, Deleted."""
    sc = healthy()
    sc["subscriptions"][0]["state"] = state
    return sc


def free_trial() -> dict[str, Any]:
    sc = healthy()
    sc["subscriptions"][0]["subscriptionPolicies"]["quotaId"] = "FreeTrial_2014-09-01"
    sc["subscriptions"][0]["subscriptionPolicies"]["spendingLimit"] = "On"
    return sc


def unregistered_providers(*namespaces: str) -> dict[str, Any]:
    sc = healthy()
    for ns in namespaces or ("Microsoft.App", "Microsoft.DBforPostgreSQL"):
        sc["providers"][ns]["registrationState"] = "NotRegistered"
    return sc


def contributor_only() -> dict[str, Any]:
    """Contributor at subscription scope: may deploy, may not create role assignments."""
    sc = healthy()
    sc["role_assignments"] = [{"scope": f"/subscriptions/{SUBSCRIPTION}", "role": CONTRIBUTOR, "principalId": OID}]
    return sc


def application_owners_with_rbac_admin() -> dict[str, Any]:
    """The landing-zone pairing: Application Owners (notActions virtualNetworks/write) + RBAC Administrator."""
    sc = healthy()
    sc["role_definitions"][APP_OWNERS] = copy.deepcopy(APPLICATION_OWNERS_ROLE)
    sub = f"/subscriptions/{SUBSCRIPTION}"
    sc["role_assignments"] = [
        {"scope": sub, "role": APP_OWNERS, "principalId": OID},
        {"scope": sub, "role": RBAC_ADMIN, "principalId": OID},
    ]
    return sc


MG = "/providers/Microsoft.Management/managementGroups/contoso-landingzones"


def application_owners_from_management_group() -> dict[str, Any]:
    """The same pairing, as landing zones deploy it: the custom role defined and assigned at the
    landing-zones management group (so it is read by id, not from the subscription's list)."""
    sc = application_owners_with_rbac_admin()
    sc["role_definitions"][APP_OWNERS]["definedAt"] = MG
    sc["role_assignments"][0]["scope"] = MG
    return sc


def resources_only_custom_role() -> dict[str, Any]:
    sc = healthy()
    sc["role_definitions"][RESOURCES_ONLY] = copy.deepcopy(RESOURCES_ONLY_ROLE)
    sc["role_assignments"] = [{"scope": f"/subscriptions/{SUBSCRIPTION}", "role": RESOURCES_ONLY, "principalId": OID}]
    return sc


def deny_assignment(scope: str | None = None, actions: tuple[str, ...] = ("*/write",), not_actions: tuple[str, ...] = ("*/read",),
                    child_scopes: bool = True) -> dict[str, Any]:
    """Owner, but a deny assignment (as a deployment stack with denySettings writes one) covers the group."""
    sc = healthy()
    sc["deny_assignments"] = [
        {
            "name": "Deny assignment created by Deployment Stack 'platform-guardrails'",
            "scope": scope or f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{RG}",
            "permissions": [{"actions": list(actions), "notActions": list(not_actions)}],
            "principals": [{"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}],
            "excludePrincipals": [],
            "doNotApplyToChildScopes": not child_scopes,
        }
    ]
    return sc


def pg_edition(sc: dict[str, Any], edition: str, location: str = LOCATION) -> list[dict[str, Any]]:
    """The supportedServerSkus list of one edition in the scenario's capabilities body (to edit)."""
    for cap in sc["postgres_capabilities"][location]["value"]:
        for ed in cap["supportedServerEditions"]:
            if ed["name"] == edition:
                return ed["supportedServerSkus"]  # type: ignore[no-any-return]
    raise KeyError(edition)


def postgres_offer_restricted(location: str = LOCATION) -> dict[str, Any]:
    """PostgreSQL Flexible Server barred for this subscription in the region (restricted: Enabled,
    OfferRestricted) — the capabilities call still answers 200."""
    sc = healthy()
    sc["postgres_capabilities"][location] = body("postgres_capabilities_restricted.json")
    return sc


def vm_sku(sc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in sc["compute_skus"] if s["name"].lower() == name.lower())


def vm_size_in_zones(name: str, zones: list[str]) -> dict[str, Any]:
    """The VM size is offered in the region, but only in ``zones`` (locationInfo[].zones)."""
    sc = healthy()
    vm_sku(sc, name)["locationInfo"][0]["zones"] = list(zones)
    return sc


def vm_size_zone_restricted(name: str, zones: list[str]) -> dict[str, Any]:
    """A restriction of type Zone (shape: Microsoft.Compute ResourceSkuRestrictions, spec 2021-07-01)."""
    sc = healthy()
    vm_sku(sc, name)["restrictions"] = [
        {
            "type": "Zone",
            "values": [LOCATION],
            "restrictionInfo": {"locations": [LOCATION], "zones": list(zones)},
            "reasonCode": "NotAvailableForSubscription",
        }
    ]
    return sc


def exhausted_vcpu() -> dict[str, Any]:
    sc = healthy()
    for row in sc["compute_usages"][LOCATION]:
        if row["name"]["value"] == "cores" or row["name"]["value"].endswith("Family"):  # vCPU rows only
            row["currentValue"] = row["limit"] - 2
    return sc


def region_denied_by_policy() -> dict[str, Any]:
    sc = healthy()
    sc["policy_assignments"].append(
        {
            "policyDefinitionId": ALLOWED_LOCATIONS_POLICY,
            "displayName": "Allowed locations (EU data boundary)",
            "parameters": {"listOfAllowedLocations": ["westeurope", "northeurope"]},
        }
    )
    return sc


NOT_ALLOWED_TYPES_POLICY = "/providers/Microsoft.Authorization/policyDefinitions/6c112d4e-5bc7-47ae-a041-ea2d9dccd749"
GUARDRAILS = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/policySetDefinitions/Enforce-Guardrails"


def _allowed_locations(locations: list[str], **extra: Any) -> dict[str, Any]:
    return {"policyDefinitionId": ALLOWED_LOCATIONS_POLICY, "displayName": "Allowed locations (EU data boundary)",
            "parameters": {"listOfAllowedLocations": locations}, **extra}


def allowed_locations_with_global() -> dict[str, Any]:
    """The Cloud Adoption Framework assignment: regions plus "global" (for global resources)."""
    sc = healthy()
    sc["policy_assignments"].append(_allowed_locations(["westeurope", "northeurope", "global"]))
    return sc


def region_policy_with_resource_selectors(locations: list[str]) -> dict[str, Any]:
    """Allowed locations, covering only resources in ``locations`` (resourceSelectors, shape of
    getPolicyAssignmentWithResourceSelectors.json)."""
    sc = healthy()
    sc["policy_assignments"].append(_allowed_locations(
        ["westeurope"], resourceSelectors=[{"name": "SDPRegions", "selectors": [{"kind": "resourceLocation", "in": locations}]}]))
    return sc


def region_policy_excluding(scope: str) -> dict[str, Any]:
    sc = healthy()
    sc["policy_assignments"].append(_allowed_locations(["westeurope"], notScopes=[scope]))
    return sc


def types_forbidden(effect: str | None) -> dict[str, Any]:
    """Not allowed resource types lists Azure Managed Redis; ``effect`` by parameter (None: the default, Deny)."""
    sc = healthy()
    params: dict[str, Any] = {"listOfResourceTypesNotAllowed": ["Microsoft.Cache/redisEnterprise", "Microsoft.ClassicCompute/virtualMachines"]}
    if effect is not None:
        params["effect"] = effect
    sc["policy_assignments"].append({"policyDefinitionId": NOT_ALLOWED_TYPES_POLICY, "displayName": "Not allowed resource types", "parameters": params})
    return sc


def guardrails_initiative(effect: str | None = None, overrides: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An initiative with Allowed locations and Not allowed resource types; the members' parameters
    come from the initiative's (``[parameters('…')]``), the types effect defaults to Deny there."""
    sc = healthy()
    sc["policy_definitions"].append({
        "properties": {
            "displayName": "Enforce guardrails", "policyType": "Custom",
            "parameters": {
                "allowedLocations": {"type": "Array"},
                "deniedTypes": {"type": "Array", "defaultValue": ["Microsoft.Cache/redisEnterprise"]},
                "typesEffect": {"type": "String", "defaultValue": "Deny", "allowedValues": ["Audit", "Deny", "Disabled"]},
            },
            "policyDefinitions": [
                {"policyDefinitionId": ALLOWED_LOCATIONS_POLICY, "policyDefinitionReferenceId": "Limit_Locations",
                 "parameters": {"listOfAllowedLocations": {"value": "[parameters('allowedLocations')]"}}},
                {"policyDefinitionId": NOT_ALLOWED_TYPES_POLICY, "policyDefinitionReferenceId": "Limit_Types",
                 "parameters": {"listOfResourceTypesNotAllowed": {"value": "[parameters('deniedTypes')]"},
                                "effect": {"value": "[parameters('typesEffect')]"}}},
            ],
        },
        "id": GUARDRAILS, "type": "Microsoft.Authorization/policySetDefinitions", "name": "Enforce-Guardrails",
    })
    params: dict[str, Any] = {"allowedLocations": [LOCATION, "global"]}
    if effect is not None:
        params["typesEffect"] = effect
    pa: dict[str, Any] = {"policyDefinitionId": GUARDRAILS, "displayName": "Enforce guardrails", "parameters": params}
    if overrides is not None:
        pa["overrides"] = overrides
    sc["policy_assignments"].append(pa)
    return sc


def soft_deleted_vault(vault_name: str, purge_protection: bool = False) -> dict[str, Any]:
    sc = healthy()
    sc["deleted_vaults"] = [{"name": vault_name, "location": LOCATION, "purgeProtectionEnabled": purge_protection}]
    return sc


def region_without_zones(region: str = LOCATION) -> dict[str, Any]:
    """The chosen region lists no availability zones for this subscription."""
    sc = healthy()
    for loc in sc["locations"]:
        if loc["name"] == region:
            loc.pop("availabilityZoneMappings", None)
    return sc


def encryption_at_host(state: str | None) -> dict[str, Any]:
    """Microsoft.Compute/EncryptionAtHost in ``state`` (None: never registered, absent from the list)."""
    sc = healthy()
    if state is None:
        sc["features"].pop("Microsoft.Compute/EncryptionAtHost")
    else:
        sc["features"]["Microsoft.Compute/EncryptionAtHost"] = state
    return sc
