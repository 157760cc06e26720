"""AKS: the second deployment, which connects Front Door to the cluster's ingress over Private Link.

The AKS blueprint deploys in two steps (``render/azure/frontdoor.py``): Front Door's origins and
routes point at the Private Link service that AKS creates for the internal NGINX ingress only
once ``k8s/ingress.yaml`` is applied, so they carry the condition ``aksIngressPrivateLinkReady``.
After post-deploy has applied the manifests, this step

1. waits for that service to exist (``GET`` by id on the node resource group's
   ``Microsoft.Network/privateLinkServices/{pls}``, api 2024-05-01, until ``Succeeded``;
   budget ``FABRIX_PLS_WAIT``, default 900 s — a failure names the service and how to look);
2. updates the *same* deployment stack with ``aksIngressPrivateLinkReady=true`` and watches it like
   the first (per-resource rows): Front Door's origins and routes are created;
3. approves Front Door's private endpoint connection on the service. Front Door Premium creates
   one private endpoint per profile, Private Link resource, group id and location, and its
   connection stays ``Pending`` until the service's owner approves it — no traffic flows before
   (MicrosoftDocs azure-docs ``articles/frontdoor/private-link.md``). The connections are read from
   the service's own body (``properties.privateEndpointConnections``, as
   ``PrivateLinkServiceGet.json`` shows) and approved with
   ``PUT {service}/privateEndpointConnections/{name}?api-version=2024-05-01``, body
   ``{name, properties{privateEndpoint{id}, privateLinkServiceConnectionState{status: Approved,
   description}}}`` (azure-rest-api-specs ``specification/network/resource-manager/
   Microsoft.Network/stable/2024-05-01/examples/PrivateLinkServiceUpdatePrivateEndpointConnection.json``).
   Only ``Pending`` connections whose description is this install's origin ``requestMessage``
   are approved: the service is visible to every subscription (Front Door's endpoint lives in
   Microsoft's), so a stranger's request is left for a person to judge.

Resume: whether the second deployment was submitted is read from ARM, not guessed — the stack's
shown ``parameters`` hold ``aksIngressPrivateLinkReady: true`` once it was. A ``kill -9`` before
the PUT resumes by submitting it; after, by re-attaching to it (``step_deploy`` already waits for
a running stack); never a second stack. Every sub-step is journaled under ``frontdoor``.

A re-run of an install whose service exists (an upgrade) deploys with the parameter true at once,
so the first deployment does not remove the live origins and routes (``actionOnUnmanage``).

Container Apps (``run_aca``): the origins reach the apps over Private Link to the environment,
whose connection also waits for approval; the environment exists before its origins, so there is
no second deployment there — only the approval, with the Container Apps API (list and
``begin_create_or_update`` of ``managedEnvironments/{env}/privateEndpointConnections``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from installer.launch.azure import arm
from installer.launch.azure.arm import Target
from installer.launch.azure.preview import _get
from installer.launch.journal import Phase, step_state
from installer.launch.runner import Stop
from installer.progress import State

if TYPE_CHECKING:
    from installer.launch.azure.backend import AzureBackend

STEP = "frontdoor"
NETWORK_API = "2024-05-01"  # Microsoft.Network privateLinkServices (+ privateEndpointConnections)
AKS_API = "2025-10-01"
WAIT_ENV = "FABRIX_PLS_WAIT"
DEFAULT_WAIT = 900.0  # the load balancer and its Private Link service take a few minutes after the apply


def wait_budget() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT


@dataclass(frozen=True)
class IngressLink:
    cluster: str
    node_group: str
    service: str  # the Private Link service's name
    service_id: str

    @property
    def where(self) -> str:
        return f"{self.service} in the node resource group {self.node_group}"


def ready_param() -> str:
    from installer.render.azure.frontdoor import PRIVATE_LINK_READY

    return PRIVATE_LINK_READY


def applies(b: AzureBackend) -> bool:
    """The blueprint has a second deployment: it declares the readiness parameter."""
    return ready_param() in (b.template.get("parameters") or {})


def ingress_link(b: AzureBackend, t: Target) -> IngressLink:
    """Where AKS puts the ingress's Private Link service: the cluster's node resource group (read
    from the cluster; the blueprint names it), under the name k8s/ingress.yaml gives it."""
    from installer.render.azure.frontdoor import aks_private_link_service
    from installer.render.workload import azure_names

    cluster = str(b.outputs.get("aksClusterName") or azure_names(b.plan).aks_cluster)
    node_group = f"rg-{cluster}-nodes"
    cluster_id = (f"/subscriptions/{t.subscription_id}/resourceGroups/{t.resource_group}"
                  f"/providers/Microsoft.ContainerService/managedClusters/{cluster}")
    try:
        found = t.resources.resources.get_by_id(cluster_id, api_version=AKS_API)
        props = _get(found, "properties") or {}
        node_group = str(_get(props, "nodeResourceGroup", "node_resource_group") or node_group)
    except (ResourceNotFoundError, HttpResponseError):
        pass  # not deployed yet (a re-run's first deployment): the blueprint's name
    service = aks_private_link_service(cluster)
    service_id = (f"/subscriptions/{t.subscription_id}/resourceGroups/{node_group}"
                  f"/providers/Microsoft.Network/privateLinkServices/{service}")
    return IngressLink(cluster, node_group, service, service_id)


def _node_group_hint(link: IngressLink) -> str:
    """Why a call on the service can be refused: it lives in the node resource group AKS created,
    outside the install's group, so a role scoped to the install's group does not reach it."""
    return (f"the Private Link service is in the node resource group {link.node_group}, which AKS created outside "
            f"the install's group: the signed-in identity needs Microsoft.Network/privateLinkServices/read and "
            f"privateEndpointConnections/write there (Network Contributor on {link.node_group}, or a role at the "
            "subscription)")


def _service(t: Target, link: IngressLink) -> Any | None:
    try:
        return t.resources.resources.get_by_id(link.service_id, api_version=NETWORK_API)
    except ResourceNotFoundError:
        return None
    except HttpResponseError as exc:
        if "ResourceGroupNotFound" in str(exc):
            return None
        code, message = arm.arm_error(exc)
        hint = f"; {_node_group_hint(link)}" if exc.status_code == 403 else ""
        raise Stop(f"reading the ingress's Private Link service {link.where} failed: {code}: {message}{hint}",
                   service=link.service) from exc


def _state(service: Any) -> str:
    return str(_get(_get(service, "properties") or {}, "provisioningState") or "")


def prepare_first_deploy(b: AzureBackend, t: Target) -> None:
    """Before a first deployment: when the service already exists (a re-run), keep the origins."""
    if not applies(b):
        return
    service = _service(t, ingress_link(b, t))
    if service is not None and _state(service).lower() == "succeeded":
        b.parameters[ready_param()] = {"value": True}


def _submitted_ready(stack: Any) -> bool:
    params = _get(_get(stack, "properties") or stack, "parameters") or {}
    value = params.get(ready_param()) if isinstance(params, dict) else None
    return bool(_get(value, "value")) if value is not None else False


def run(b: AzureBackend, t: Target) -> None:
    r = b.r
    if not applies(b):
        run_aca(b, t)
        return
    records = r.records()
    done = step_state(records).get(STEP)
    if done is not None and done.phase is Phase.end:
        return
    link = ingress_link(b, t)
    r.journal_step(STEP, Phase.begin, service=link.service_id)
    stack, _ = arm.stack_get(t)
    if stack is not None and _submitted_ready(stack):
        # Submitted before an interruption (step_deploy re-attached to it if it was running).
        r.emit(STEP, State.skipped, "the second deployment (Front Door origins and routes) was submitted before the "
                                    "interruption; continuing with it")
        if arm.stack_state(stack) != "succeeded":
            b.stack = b.watch(t)
        else:
            b.stack = stack
    else:
        wait_for_service(b, t, link)
        r.journal_step(STEP, Phase.begin, service=link.service_id, service_ready=True)
        second_deploy(b, t)
    from installer.launch.azure.backend import _outputs

    b.outputs = _outputs(b.stack)
    r.journal_step(STEP, Phase.begin, service=link.service_id, deployed=True)
    approved = approve(b, t, link)
    r.journal_step(STEP, Phase.end, service=link.service_id, approved=approved)


def _origin_targets(t: Target, b: AzureBackend, group_id: str) -> list[str]:
    """The Private Link resources the deployed origins point at (evaluated ids, read back)."""
    from installer.render.azure.api import API

    api = API["Microsoft.Cdn/profiles/originGroups/origins"]
    out: list[str] = []
    # The stack lists its managed resources once it has settled; the deployment's operations name
    # them as soon as they succeed: take both (as postdeploy does).
    ids = arm.stack_resource_ids(b.stack) + [row.resource_id for row in b.tracker.rows.values() if row.resource_id]
    for rid in dict.fromkeys(ids):
        if "/origingroups/" not in rid.lower() or "/origins/" not in rid.lower():
            continue
        try:
            origin = t.resources.resources.get_by_id(rid, api_version=api)
        except HttpResponseError:
            continue
        shared = _get(_get(origin, "properties") or {}, "sharedPrivateLinkResource") or {}
        target = str(_get(_get(shared, "privateLink") or {}, "id") or "")
        if target and str(_get(shared, "groupId") or "") == group_id and target.lower() not in {o.lower() for o in out}:
            out.append(target)
    return out


def run_aca(b: AzureBackend, t: Target) -> None:
    """Container Apps: Front Door's origins reach each app over Private Link to the environment,
    whose connection waits for approval as on AKS (learn frontdoor/private-link; the approve call
    is ``PUT …/managedEnvironments/{env}/privateEndpointConnections/{c}``, azure-rest-api-specs
    ``Microsoft.App/ContainerApps/stable/2025-07-01/examples/
    ManagedEnvironmentPrivateEndpointConnections_CreateOrUpdate.json``). One deployment is enough
    there: the environment exists before its origins."""
    r = b.r
    done = step_state(r.records()).get(STEP)
    if done is not None and done.phase is Phase.end:
        return
    envs = _origin_targets(t, b, "managedEnvironments")
    if not envs:
        return
    r.journal_step(STEP, Phase.begin, environments=envs)
    apps = t.clients.container_apps(t.subscription_id)
    approved: list[str] = []
    for env_id in envs:
        parts = env_id.split("/")
        group, env = parts[4], parts[-1]

        def listed(group: str = group, env: str = env) -> list[Any]:
            try:
                return list(apps.managed_environment_private_endpoint_connections.list(group, env))
            except ResourceNotFoundError:
                return []

        def approve_one(conn: Any, group: str = group, env: str = env) -> None:
            name = str(_get(conn, "name"))
            envelope = {"properties": {"privateLinkServiceConnectionState": {
                "status": "Approved", "actionsRequired": "None", "description": approval_note(b.plan.name)}}}
            try:
                apps.managed_environment_private_endpoint_connections.begin_create_or_update(
                    group, env, name, envelope, polling_interval=arm.WHATIF_POLL).result()
            except HttpResponseError as exc:
                code, msg = arm.arm_error(exc)
                raise Stop(f"approving Front Door's private endpoint connection {name} on the Container Apps "
                           f"environment {env} failed: {code}: {msg}", service=env) from exc

        approved += approve_pending(b, env, f"the Container Apps environment {env}", listed, approve_one,
                                    "`az network private-endpoint-connection approve --id <connection id>` by hand")
    r.journal_step(STEP, Phase.end, environments=envs, approved=approved)


def wait_for_service(b: AzureBackend, t: Target, link: IngressLink) -> None:
    from installer.launch.azure.backend import poll_seconds

    r = b.r
    budget = wait_budget()
    r.emit(STEP, State.running, f"waiting for the ingress's Private Link service {link.where} (AKS creates it from "
                                f"k8s/ingress.yaml; up to {budget:.0f}s)", service=link.service)
    clock0 = time.monotonic()
    state = ""
    while True:
        service = _service(t, link)
        state = _state(service) if service is not None else ""
        if state.lower() == "succeeded":
            r.emit(STEP, State.done, f"Private Link service {link.service} exists ({time.monotonic() - clock0:.0f}s)",
                   service=link.service)
            return
        if state.lower() == "failed":
            raise Stop(f"the ingress's Private Link service {link.where} failed to provision; see the ingress "
                       f"controller's Service events (`az aks command invoke -g {t.resource_group} -n {link.cluster} "
                       f"--command \"kubectl get events -n app-routing-system\"`)", service=link.service)
        if time.monotonic() - clock0 >= budget:
            break
        if arm.sleep(max(0.05, poll_seconds()), r.cancel):
            raise Stop("cancelled while waiting for the ingress's Private Link service", cancelled=True,
                       service=link.service)
    seen = f"it is {state}" if state else "it does not exist"
    # Diagnostics (before the rollback removes the cluster): what ARM says about the service.
    b.postdeploy_detail.update({"private_link_service": link.service_id, "private_link_state": state or "absent",
                                "waited_s": round(time.monotonic() - clock0)})
    raise Stop(f"the ingress's Private Link service {link.where} did not appear within {budget:.0f}s after the "
               f"manifests were applied ({seen}); AKS creates it for the internal load balancer of "
               f"k8s/ingress.yaml (annotations service.beta.kubernetes.io/azure-pls-*): look at the controller's "
               f"Service (`az aks command invoke -g {t.resource_group} -n {link.cluster} --command \"kubectl get "
               f"svc,events -n app-routing-system\"`), or raise {WAIT_ENV}", service=link.service)


def second_deploy(b: AzureBackend, t: Target) -> None:
    r = b.r
    b.parameters[ready_param()] = {"value": True}
    r.journal_step(STEP, Phase.begin, stack=t.stack, second_deployment=True)
    r.emit(STEP, State.running, f"updating the stack {t.stack} with {ready_param()}=true: Front Door's origins and "
                                "routes to the ingress")
    try:
        arm.stack_submit(t, b.stack_body())
    except HttpResponseError as exc:
        code, message = arm.arm_error(exc)
        raise Stop(f"ARM refused the second deployment of the stack: {code}: {message}") from exc
    r.journal_step(STEP, Phase.begin, stack=t.stack, second_deployment=True, submitted=True)
    b.stack = b.watch(t)
    r.emit(STEP, State.done, f"Front Door's origins and routes are deployed ({len(arm.stack_resource_ids(b.stack))} "
                             "resource(s) in the stack)")


def _request_message(b: AzureBackend) -> str:
    """The ``requestMessage`` the blueprint gives every AKS origin (frontdoor.aks_origins)."""
    for res in b.template.get("resources") or []:
        if str(res.get("type", "")).lower() == "microsoft.cdn/profiles/origingroups/origins":
            msg = (((res.get("properties") or {}).get("sharedPrivateLinkResource")) or {}).get("requestMessage")
            if msg:
                return str(msg)
    return f"AI Fabrix Front Door for {b.plan.name}"


def approve(b: AzureBackend, t: Target, link: IngressLink) -> list[str]:
    """Approve Front Door's pending connection(s) on the service; wait for them to show up."""

    def listed() -> list[Any]:
        service = _service(t, link)
        return list(_get(_get(service, "properties") or {}, "privateEndpointConnections") or []) if service else []

    return approve_pending(b, link.service, link.where, listed, lambda c: _approve_one(t, c, b.plan.name, link),
                           "k8s/README.md shows the `az network private-endpoint-connection approve` command")


def approve_pending(b: AzureBackend, label: str, where: str, listed: Any, approve_one: Any, by_hand: str) -> list[str]:
    """Wait until this install's Front Door connection shows on ``where`` (``listed()``), approve
    it when Pending; a stranger's pending request is left and reported. Returns the names."""
    from installer.launch.azure.backend import poll_seconds

    r = b.r
    message = _request_message(b)
    budget = wait_budget()
    clock0 = time.monotonic()
    r.emit(STEP, State.running, f"approving Front Door's private endpoint connection on {label}", service=label)
    approved: list[str] = []
    while True:
        conns = listed()
        ours = [c for c in conns if _description(c) in (message, approval_note(b.plan.name))]
        for c in ours:
            status = _status(c)
            name = str(_get(c, "name") or "")
            if status == "Pending":
                approve_one(c)
                approved.append(name)
                r.emit(STEP, State.done, f"approved Front Door's private endpoint connection {name}", service=label)
            elif status == "Approved" and name not in approved:
                approved.append(name)
            elif status in ("Rejected", "Disconnected"):
                raise Stop(f"Front Door's private endpoint connection {name} on {label} is {status}; "
                           "delete the origin's connection and deploy again, or approve a new request by hand",
                           service=label)
        if ours:
            strangers = [str(_get(c, "name")) for c in conns if c not in ours and _status(c) == "Pending"]
            if strangers:
                r.emit(STEP, State.warning, f"left {len(strangers)} pending connection(s) on {label} that are not "
                                            f"this install's Front Door for a person to judge: {', '.join(strangers)}",
                       service=label)
            return approved
        if time.monotonic() - clock0 >= budget:
            raise Stop(f"Front Door's private endpoint connection did not appear on {where} within {budget:.0f}s "
                       f"after the origins were deployed; nothing reaches the apps until it is approved ({by_hand})",
                       service=label)
        if arm.sleep(max(0.05, poll_seconds()), r.cancel):
            raise Stop("cancelled while approving Front Door's private endpoint connection", cancelled=True,
                       service=label)


def approval_note(install: str) -> str:
    """The description an approved connection carries (a resume recognises it as ours)."""
    return f"Approved by fabrix for {install}"


def _conn_state(conn: Any) -> Any:
    props = _get(conn, "properties") or conn  # a dict from ARM, or an SDK model (flattened)
    return _get(props, "privateLinkServiceConnectionState", "private_link_service_connection_state") or {}


def _status(conn: Any) -> str:
    return str(_get(_conn_state(conn), "status") or "")


def _description(conn: Any) -> str:
    return str(_get(_conn_state(conn), "description") or "")


def _approve_one(t: Target, conn: Any, install: str, link: IngressLink) -> None:
    conn_id = str(_get(conn, "id"))
    props = _get(conn, "properties") or {}
    body: dict[str, Any] = {"name": str(_get(conn, "name")), "properties": {
        "privateLinkServiceConnectionState": {"status": "Approved", "description": approval_note(install)},
    }}
    endpoint = _get(props, "privateEndpoint")
    if endpoint:
        body["properties"]["privateEndpoint"] = {"id": str(_get(endpoint, "id"))}
    try:
        t.resources.resources.begin_create_or_update_by_id(conn_id, body, api_version=NETWORK_API,
                                                           polling_interval=arm.WHATIF_POLL).result()
    except HttpResponseError as exc:
        code, msg = arm.arm_error(exc)
        hint = f"; {_node_group_hint(link)}" if exc.status_code == 403 else ""
        raise Stop(f"approving Front Door's private endpoint connection {conn_id.rsplit('/', 1)[-1]} failed: "
                   f"{code}: {msg}{hint}", service=link.service) from exc
