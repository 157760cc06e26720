"""Building blocks several modules use: a role assignment for the identity, a private endpoint with
its DNS zone group, and the context every builder gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from installer.render import RenderInput
from installer.render.azure.api import API, PRIVATE_LINK, ROLES
from installer.render.azure.expr import Call, Fmt, Param, Prop, Raw, ResId
from installer.render.azure.model import Foundation, Resource
from installer.render.azure.names import Names, derived


@dataclass
class Ctx:
    """What every builder needs: the model being built and the shared resources it points at."""

    f: Foundation
    inp: RenderInput
    names: Names
    uami: Resource
    vnet: Resource
    log: Resource
    zones: dict[str, Resource]

    @property
    def loc(self) -> Param:
        return Param("location")

    @property
    def principal(self) -> Prop:
        return Prop(self.uami, "principalId")

    def subnet_id(self, key: str) -> Any:
        return Call("resourceId", ("Microsoft.Network/virtualNetworks/subnets", self.names.value("vnet"), f"snet-{key}"))

    def private_endpoint(self, module: str, target: Resource, kind: str, label: str = "") -> Resource:
        return private_endpoint(self.f, module, target, kind, self.zones, self.subnet_id("pe"), self.vnet, label)


def zone_name(kind: str) -> Any:
    """The private DNS zone of ``kind`` as a deploy-time expression derived from environment(), so
    one template deploys in every cloud (ARM-TTK: no hard-coded cloud host names). The suffixes
    (ARM template functions, environment()): storage for blob/file; keyvaultDns (``.vault.azure.net``
    → zone ``privatelink.vaultcore.azure.net``); acrLoginServer; sqlServerHostname, whose
    ``.database.windows.net`` is ``.database.azure.com`` for PostgreSQL in the public cloud and the
    same suffix in Government and China. Azure Managed Redis has a zone in the public cloud only
    (api.PRIVATE_DNS_ZONES), so its name is that literal."""
    if kind in ("blob", "file"):
        return Fmt(f"privatelink.{kind}.{{0}}", (Raw("environment().suffixes.storage"),))
    if kind == "keyvault":
        return Fmt("privatelink{0}", (Call("replace", (Raw("environment().suffixes.keyvaultDns"), ".vault.", ".vaultcore.")),))
    if kind == "registry":
        return Fmt("privatelink{0}", (Raw("environment().suffixes.acrLoginServer"),))
    if kind == "postgres":
        return Fmt("privatelink.postgres{0}", (Call("replace", (Raw("environment().suffixes.sqlServerHostname"), ".windows.net", ".azure.com")),))
    return PRIVATE_LINK[kind][1]


def role(f: Foundation, module: str, scope: Resource, role: str, principal: Any, who: str, symbol: str) -> Resource:
    role_id = ROLES[role]
    return f.add(
        Resource(
            symbol=symbol,
            type="Microsoft.Authorization/roleAssignments",
            api=API["Microsoft.Authorization/roleAssignments"],
            # Deterministic: the same scope, principal and role always give the same assignment name.
            name=Call("guid", (ResId(scope), who, role_id)),
            module=module,
            scope=scope,
            tags=False,
            body={
                "properties": {
                    "roleDefinitionId": Call(
                        "subscriptionResourceId", ("Microsoft.Authorization/roleDefinitions", role_id)
                    ),
                    "principalId": principal,
                    "principalType": "ServicePrincipal",
                    "description": f"{role} for {who} (fabrix)",
                }
            },
            comment=f"{role} for {who}: least privilege for what it does here",
        )
    )


def private_endpoint(
    f: Foundation, module: str, target: Resource, kind: str, zones: dict[str, Resource], subnet: Any,
    vnet: Resource, label: str = "",
) -> Resource:
    """A private endpoint to ``target`` for ``kind``; ``label`` tells a second endpoint to the same
    target apart (the storage account's ``file`` endpoint next to its ``blob`` one)."""
    group = PRIVATE_LINK[kind][0]
    pe_name = derived(target.name, "pe-{0}" + (f"-{label}" if label else ""))
    pe = f.add(
        Resource(
            symbol=f"{target.symbol}{label.capitalize()}Pe",
            type="Microsoft.Network/privateEndpoints",
            api=API["Microsoft.Network/privateEndpoints"],
            name=pe_name,
            module=module,
            location=Param("location"),
            depends=[vnet],
            body={
                "properties": {
                    "subnet": {"id": subnet},
                    "privateLinkServiceConnections": [
                        {
                            "name": pe_name,
                            "properties": {"privateLinkServiceId": ResId(target), "groupIds": [group]},
                        }
                    ],
                }
            },
        )
    )
    f.add(
        Resource(
            symbol=f"{target.symbol}{label.capitalize()}PeDns",
            type="Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
            api=API["Microsoft.Network/privateEndpoints/privateDnsZoneGroups"],
            name="default",
            module=module,
            parent=pe,
            tags=False,
            body={
                "properties": {
                    "privateDnsZoneConfigs": [
                        {"name": f"privatelink-{kind}", "properties": {"privateDnsZoneId": ResId(zones[kind])}}
                    ]
                }
            },
        )
    )
    return pe
