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
from installer.launch.journal import Phase, first_data, step_state
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


def _service(t: Target, link: IngressLink) -> Any | None:
    try:
        return t.resources.resources.get_by_id(link.service_id, api_version=NETWORK_API)
    except ResourceNotFoundError:
        return None
    except HttpResponseError as exc:
        if "ResourceGroupNotFound" in str(exc):
            return None
        raise


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
    from installer.launch.azure.backend import poll_seconds

    r = b.r
    message = _request_message(b)
    budget = wait_budget()
    clock0 = time.monotonic()
    r.emit(STEP, State.running, f"approving Front Door's private endpoint connection on {link.service}", service=link.service)
    approved: list[str] = []
    while True:
        service = _service(t, link)
        conns = list(_get(_get(service, "properties") or {}, "privateEndpointConnections") or []) if service else []
        ours = [c for c in conns if _conn_state(c).get("description") in (message, approval_note(b.plan.name))]
        for c in ours:
            status = str(_conn_state(c).get("status") or "")
            name = str(_get(c, "name") or "")
            if status == "Pending":
                _approve_one(t, c, b.plan.name)
                approved.append(name)
                r.emit(STEP, State.done, f"approved Front Door's private endpoint connection {name}", service=link.service)
            elif status == "Approved" and name not in approved:
                approved.append(name)
            elif status in ("Rejected", "Disconnected"):
                raise Stop(f"Front Door's private endpoint connection {name} on {link.service} is {status}; "
                           "delete the origin's connection and deploy again, or approve a new request by hand",
                           service=link.service)
        if ours:
            strangers = [str(_get(c, "name")) for c in conns if c not in ours and _conn_state(c).get("status") == "Pending"]
            if strangers:
                r.emit(STEP, State.warning, f"left {len(strangers)} pending connection(s) on {link.service} that are not "
                                            f"this install's Front Door for a person to judge: {', '.join(strangers)}",
                       service=link.service)
            return approved
        if time.monotonic() - clock0 >= budget:
            raise Stop(f"Front Door's private endpoint connection did not appear on {link.where} within {budget:.0f}s "
                       "after the origins were deployed; nothing reaches the apps until it is approved "
                       "(k8s/README.md shows the `az network private-endpoint-connection approve` command)",
                       service=link.service)
        if arm.sleep(max(0.05, poll_seconds()), r.cancel):
            raise Stop("cancelled while approving Front Door's private endpoint connection", cancelled=True,
                       service=link.service)


def approval_note(install: str) -> str:
    """The description an approved connection carries (a resume recognises it as ours)."""
    return f"Approved by fabrix for {install}"


def _conn_state(conn: Any) -> dict[str, Any]:
    state = _get(_get(conn, "properties") or {}, "privateLinkServiceConnectionState") or {}
    return dict(state) if isinstance(state, dict) else {}


def _approve_one(t: Target, conn: Any, install: str) -> None:
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
        raise Stop(f"approving Front Door's private endpoint connection {conn_id.rsplit('/', 1)[-1]} failed: {code}: {msg}") from exc
