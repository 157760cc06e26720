"""Private Link for the fake ARM: the AKS ingress's Private Link service and Front Door's private
endpoint connections to it (``arm.deploy.private_link``).

What Azure does, and where the fake takes it from:
- AKS creates a Private Link service for a ``LoadBalancer`` Service annotated
  ``service.beta.kubernetes.io/azure-pls-create: "true"`` (here: the application routing add-on's
  ``NginxIngressController`` with those ``loadBalancerAnnotations``), named by ``azure-pls-name``,
  in the cluster's node resource group (``properties.nodeResourceGroup``), shortly after the
  manifest is applied (MicrosoftDocs azure-aks-docs ``articles/aks/internal-lb.md``, "Create a
  Private Link service connection"). The fake creates it ``pls_delay`` simulated seconds after the
  run command that applied it ends (``None``: never — an ingress that never gets its service).
  Deleting the cluster deletes its node resource group (AKS owns it) and so the service.
- The service's body: ``specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/
  examples/PrivateLinkServiceGet.json`` (``visibility``, ``autoApproval``, ``alias``,
  ``loadBalancerFrontendIpConfigurations``, ``ipConfigurations``, embedded
  ``privateEndpointConnections``).
- Front Door Premium, for an origin with ``sharedPrivateLinkResource``, creates *one* private
  endpoint per profile, Private Link resource, group id and location, whose connection waits as
  ``Pending`` with the origin's ``requestMessage`` as its description until the service's owner
  approves it; deleting the profile deletes its private endpoints (MicrosoftDocs azure-docs
  ``articles/frontdoor/private-link.md``). The private endpoint lives in Front Door's own managed
  network: its id below (subscription, group) is illustrative, not a documented value.
- An origin whose Private Link service does not exist fails its operation. The outer shape
  ``BadRequest`` / "PrivateEndpointProvisioning Failed. ErrorCode: … ErrorMessage: …" is the one a
  Front Door origin gives for a failed private endpoint (hashicorp/terraform-provider-azurerm#30866);
  the inner ``ResourceNotFound`` text is ARM's usual not-found message (assumed, not observed).
- The same for an origin to a Container Apps environment (``groupId: managedEnvironments``): the
  connection is on the environment; list/get/PUT ``…/managedEnvironments/{e}/privateEndpointConnections``
  (ContainerApps 2025-07-01 ``ManagedEnvironmentPrivateEndpointConnections_CreateOrUpdate.json``).
- Approve: ``PUT …/privateLinkServices/{s}/privateEndpointConnections/{c}`` (api 2024-05-01),
  body and answer as ``PrivateLinkServiceUpdatePrivateEndpointConnection.json``; list as
  ``PrivateLinkServiceListPrivateEndpointConnection.json``; get as
  ``PrivateLinkServiceGetPrivateEndpointConnection.json`` (same folder). An approval may move
  ``Pending`` to ``Approved`` or ``Rejected``; a ``Rejected`` connection cannot be approved again
  (the consumer has to re-request) — the 400's code is the fake's own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.azure import arm_errors
from tests.azure.fake_arm_state import ArmRuleError, Group, Reply, Resource

if TYPE_CHECKING:
    from tests.azure.fake_arm_deploy import DeployPlane
    from tests.azure.fake_arm_ops import ClusterState

SUB = r"/subscriptions/(?P<sub>[^/]+)"
PLS = rf"{SUB}/resourcegroups/(?P<rg>[^/]+)/providers/Microsoft\.Network/privateLinkServices/(?P<pls>[^/]+)"
LB = "service.beta.kubernetes.io/azure-"
PLS_TYPE = "microsoft.network/privatelinkservices"
ENV_TYPE = "microsoft.app/managedenvironments"
ENV = rf"{SUB}/resourcegroups/(?P<rg>[^/]+)/providers/Microsoft\.App/managedEnvironments/(?P<env>[^/]+)"
ORIGIN_TYPE = "microsoft.cdn/profiles/origingroups/origins"
FRONT_DOOR_PE_SUBSCRIPTION = "f3a8b9c1-0000-4000-8000-00000000afd0"  # illustrative: Front Door's managed network


@dataclass
class PendingService:
    due: float
    cluster_id: str
    node_group: str
    name: str
    location: str
    annotations: dict[str, str]


class PrivateLinkPlane:
    def __init__(self, plane: DeployPlane) -> None:
        self.plane = plane
        self.pls_delay: float | None = 60.0  # simulated seconds from the ingress apply to the service
        self.pending: list[PendingService] = []
        self.approvals: list[dict[str, Any]] = []  # every PUT on a connection (for assertions)
        self.origin_of: dict[str, tuple[str, str]] = {}  # connection id → (endpoint key, Front Door profile id)
        plane.add_route("GET", rf"{PLS}/privateEndpointConnections", self.list)
        plane.add_route("GET", rf"{PLS}/privateEndpointConnections/(?P<conn>[^/]+)", self.get)
        plane.add_route("PUT", rf"{PLS}/privateEndpointConnections/(?P<conn>[^/]+)", self.put)
        # Container Apps environments take Front Door's connections too (ContainerApps 2025-07-01,
        # ManagedEnvironmentPrivateEndpointConnections_CreateOrUpdate.json: 200 with the connection).
        plane.add_route("GET", rf"{ENV}/privateEndpointConnections", self.env_list)
        plane.add_route("GET", rf"{ENV}/privateEndpointConnections/(?P<conn>[^/]+)", self.env_get)
        plane.add_route("PUT", rf"{ENV}/privateEndpointConnections/(?P<conn>[^/]+)", self.env_put)
        plane.on_tick.append(self.tick)
        plane.on_applied.append(self.applied)
        plane.on_removed.append(self.removed)
        plane.op_rules.append(self.origin_rule)
        plane.aks.after_command.append(self.after_command)

    # ---- the AKS side: the ingress's service --------------------------------------------------

    def after_command(self, cluster: Resource, state: ClusterState, ends: float) -> None:
        node_group = str(cluster.properties.get("nodeResourceGroup") or f"MC_{cluster.id.split('/')[4]}_{cluster.name}_{cluster.location}")
        for (kind, _, _), doc in state.applied.items():
            if kind == "nginxingresscontroller":
                notes = dict(((doc.get("spec") or {}).get("loadBalancerAnnotations")) or {})
            elif kind == "service" and (doc.get("spec") or {}).get("type") == "LoadBalancer":
                notes = dict(((doc.get("metadata") or {}).get("annotations")) or {})
            else:
                continue
            if str(notes.get(f"{LB}pls-create", "")).lower() != "true":
                continue
            name = str(notes.get(f"{LB}pls-name") or f"pls-{(doc.get('metadata') or {}).get('name')}")
            known = any(p.name == name and p.node_group.lower() == node_group.lower() for p in self.pending)
            if known or self._service(node_group, name) is not None or self.pls_delay is None:
                continue
            self.pending.append(PendingService(ends + self.pls_delay, cluster.id, node_group, name,
                                               cluster.location or "swedencentral", {k: str(v) for k, v in notes.items()}))

    def tick(self, now: float) -> None:
        for p in [p for p in self.pending if now >= p.due]:
            self.pending.remove(p)
            if p.cluster_id.lower() not in self.plane.resources:
                continue  # the cluster went away first
            self._create_service(p)

    def _create_service(self, p: PendingService) -> Resource:
        d = self.plane
        if p.node_group.lower() not in d.groups:
            d.groups[p.node_group.lower()] = Group(p.node_group, p.location, {"aks-managed-cluster-name": p.cluster_id.rsplit("/", 1)[-1]})
            d._sync_groups()
        rid = f"/subscriptions/{d.sub}/resourceGroups/{p.node_group}/providers/Microsoft.Network/privateLinkServices/{p.name}"
        vnet_subnet = p.annotations.get(f"{LB}pls-ip-configuration-subnet", "aks-subnet")
        visibility = [s.strip() for s in p.annotations.get(f"{LB}pls-visibility", "").split(",") if s.strip()]
        auto = [s.strip() for s in p.annotations.get(f"{LB}pls-auto-approval", "").split(",") if s.strip()]
        res = Resource(rid, p.name, "Microsoft.Network/privateLinkServices", p.location, {}, {
            "provisioningState": "Succeeded",
            "visibility": {"subscriptions": visibility},
            "autoApproval": {"subscriptions": auto},
            "fqdns": [],
            "alias": f"{p.name}.{uuid.uuid4()}.{p.location}.azure.privatelinkservice",
            "loadBalancerFrontendIpConfigurations": [{
                "id": f"/subscriptions/{d.sub}/resourceGroups/{p.node_group}/providers/Microsoft.Network/loadBalancers/kubernetes-internal/frontendIPConfigurations/{uuid.uuid4().hex}",
            }],
            "ipConfigurations": [{
                "name": f"{vnet_subnet}-ipconfig-0",
                "id": f"{rid}/ipConfigurations/{vnet_subnet}-ipconfig-0",
                "properties": {"privateIPAllocationMethod": "Dynamic", "privateIPAddressVersion": "IPv4", "primary": True,
                               "subnet": {"id": f"{p.cluster_id}/../subnets/{vnet_subnet}"}},
            }],
            "privateEndpointConnections": [],
            "networkInterfaces": [{"id": f"/subscriptions/{d.sub}/resourceGroups/{p.node_group}/providers/Microsoft.Network/networkInterfaces/{p.name}.nic.{uuid.uuid4().hex[:8]}"}],
        })
        d.resources[rid.lower()] = res
        d._sync_resources()
        return res

    def _service(self, group: str, name: str) -> Resource | None:
        return self.plane.resources.get(f"/subscriptions/{self.plane.sub}/resourcegroups/{group}/providers/microsoft.network/privatelinkservices/{name}".lower())

    def services(self) -> list[Resource]:
        with self.plane.lock:
            self.plane.tick()  # what the clock has made happen by now
            return [r for r in self.plane.resources.values() if r.type.lower() == PLS_TYPE]

    def removed(self, res: Resource) -> None:
        kind = res.type.lower()
        if kind == "microsoft.containerservice/managedclusters":
            # AKS deletes the node resource group it owns, with the ingress's service in it.
            node_group = str(res.properties.get("nodeResourceGroup") or "")
            self.pending = [p for p in self.pending if p.cluster_id.lower() != res.id.lower()]
            g = self.plane.groups.get(node_group.lower())
            if g is not None:
                prefix = f"/subscriptions/{self.plane.sub}/resourcegroups/{node_group.lower()}/"
                for key in [k for k in self.plane.resources if k.startswith(prefix)]:
                    self.plane.resources.pop(key, None)
                self.plane.groups.pop(node_group.lower(), None)
                self.plane._sync_groups()
                self.plane._sync_resources()
        elif kind == "microsoft.cdn/profiles":
            # Deleting a profile deletes its private endpoints, so their connections go.
            for svc in [r for r in self.plane.resources.values() if r.type.lower() in (PLS_TYPE, ENV_TYPE)]:
                conns = svc.properties.get("privateEndpointConnections") or []
                svc.properties["privateEndpointConnections"] = [
                    c for c in conns if self.origin_of.get(c["id"].lower(), ("", ""))[1].lower() != res.id.lower()]

    # ---- the Front Door side: origins over Private Link ------------------------------------------

    @staticmethod
    def _link(properties: dict[str, Any]) -> tuple[str, str, str] | None:
        shared = properties.get("sharedPrivateLinkResource") or {}
        target = str(((shared.get("privateLink") or {}).get("id")) or "")
        if not target:
            return None
        return target, str(shared.get("groupId") or ""), str(shared.get("privateLinkLocation") or "")

    def origin_rule(self, rtype: str, rid: str, properties: dict[str, Any]) -> Any:
        """An origin pointing at a Private Link service that does not exist fails."""
        if rtype.lower() != ORIGIN_TYPE:
            return None
        link = self._link(properties)
        if link is None or "/providers/microsoft.network/privatelinkservices/" not in link[0].lower():
            return None
        if link[0].lower() in self.plane.resources:
            return None
        parts = link[0].split("/")
        return arm_errors.ProviderError(
            400, "BadRequest", "BadRequest",
            f"PrivateEndpointProvisioning Failed. ErrorCode: ResourceNotFound. ErrorMessage: The Resource "
            f"'Microsoft.Network/privateLinkServices/{parts[-1]}' under resource group '{parts[4] if len(parts) > 4 else '?'}' was not found.")

    def applied(self, res: Resource) -> None:
        if res.type.lower() != ORIGIN_TYPE:
            return
        link = self._link(res.properties)
        if link is None:
            return
        svc = self.plane.resources.get(link[0].lower())
        if svc is None or svc.type.lower() not in (PLS_TYPE, ENV_TYPE):
            return
        profile = res.id.split("/originGroups/")[0] if "/originGroups/" in res.id else res.id.rsplit("/", 4)[0]
        key = f"{profile}|{link[0]}|{link[1]}|{link[2]}".lower()
        conns = svc.properties.setdefault("privateEndpointConnections", [])
        if any(self.origin_of.get(c["id"].lower(), ("", ""))[0] == key for c in conns):
            return  # one private endpoint per profile, resource, group id and location
        request = str((res.properties.get("sharedPrivateLinkResource") or {}).get("requestMessage") or "")
        pe = uuid.uuid4()
        name = f"{svc.name}.{pe}"
        auto = FRONT_DOOR_PE_SUBSCRIPTION in (((svc.properties.get("autoApproval") or {}).get("subscriptions")) or [])
        self.origin_of[f"{svc.id}/privateEndpointConnections/{name}".lower()] = (key, profile)
        conns.append({
            "name": name,
            "id": f"{svc.id}/privateEndpointConnections/{name}",
            "type": f"{svc.type}/privateEndpointConnections",
            "properties": {
                "provisioningState": "Succeeded",
                "privateEndpoint": {"id": f"/subscriptions/{FRONT_DOOR_PE_SUBSCRIPTION}/resourceGroups/eafd-Prod-{link[2] or 'global'}"
                                          f"/providers/Microsoft.Network/privateEndpoints/{pe}"},
                **({"groupIds": [link[1]]} if link[1] else {}),
                "privateLinkServiceConnectionState": {"status": "Approved" if auto else "Pending",
                                                      "description": request, "actionsRequired": "None"},
                "linkIdentifier": str(abs(hash(key)) % 10**9),
            },
        })

    # ---- connections -------------------------------------------------------------------------

    def _pls(self, sub: str, rg: str, pls: str) -> Resource:
        svc = self._service(rg, pls)
        if svc is None:
            raise ArmRuleError(404, "ResourceNotFound", f"The Resource 'Microsoft.Network/privateLinkServices/{pls}' under resource group '{rg}' was not found.")
        return svc

    @staticmethod
    def connections(svc: Resource) -> list[dict[str, Any]]:
        return list(svc.properties.get("privateEndpointConnections") or [])

    def list(self, sub: str, rg: str, pls: str, query: Any, body: Any) -> Reply:
        svc = self._pls(sub, rg, pls)
        return 200, {}, self.plane.arm.page(self.connections(svc), f"{svc.id}/privateEndpointConnections", query)

    def _conn(self, svc: Resource, conn: str) -> dict[str, Any]:
        for c in svc.properties.get("privateEndpointConnections") or []:
            if c["name"].lower() == conn.lower():
                return c
        raise ArmRuleError(404, "NotFound", f"Private endpoint connection '{conn}' of private link service '{svc.name}' was not found.")

    def get(self, sub: str, rg: str, pls: str, conn: str, query: Any, body: Any) -> Reply:
        return 200, {}, self._conn(self._pls(sub, rg, pls), conn)

    def _env(self, sub: str, rg: str, env: str) -> Resource:
        res = self.plane.resources.get(f"/subscriptions/{self.plane.sub}/resourcegroups/{rg}/providers/microsoft.app/managedenvironments/{env}".lower())
        if res is None:
            raise ArmRuleError(404, "ResourceNotFound", f"The Resource 'Microsoft.App/managedEnvironments/{env}' under resource group '{rg}' was not found.")
        return res

    def env_list(self, sub: str, rg: str, env: str, query: Any, body: Any) -> Reply:
        res = self._env(sub, rg, env)
        return 200, {}, self.plane.arm.page(self.connections(res), f"{res.id}/privateEndpointConnections", query)

    def env_get(self, sub: str, rg: str, env: str, conn: str, query: Any, body: Any) -> Reply:
        return 200, {}, self._conn(self._env(sub, rg, env), conn)

    def env_put(self, sub: str, rg: str, env: str, conn: str, query: Any, body: Any) -> Reply:
        return self._set_state(self._env(sub, rg, env), conn, body)

    def put(self, sub: str, rg: str, pls: str, conn: str, query: Any, body: Any) -> Reply:
        return self._set_state(self._pls(sub, rg, pls), conn, body)

    def _set_state(self, svc: Resource, conn: str, body: Any) -> Reply:
        c = self._conn(svc, conn)
        state = ((body or {}).get("properties") or {}).get("privateLinkServiceConnectionState") or {}
        status = state.get("status")
        if status not in ("Approved", "Rejected", "Pending"):
            raise ArmRuleError(400, "InvalidRequestFormat", "Cannot parse the request: privateLinkServiceConnectionState.status must be Approved, Rejected or Pending.")
        current = c["properties"]["privateLinkServiceConnectionState"]
        if current["status"] == "Rejected" and status != "Rejected":
            raise ArmRuleError(400, "PrivateEndpointConnectionRejected", f"The private endpoint connection '{conn}' was rejected; the consumer has to request it again.")
        self.approvals.append({"connection": c["id"], "status": status, "description": state.get("description")})
        current["status"] = status
        if "description" in state:
            current["description"] = state["description"]
        return 200, {}, c


def attach(plane: DeployPlane) -> None:
    plane.private_link = PrivateLinkPlane(plane)
