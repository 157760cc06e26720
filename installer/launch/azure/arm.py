"""The ARM calls the Azure launch makes, through the shared client pipeline (``ClientFactory``:
one token, bounded retries, the plan's ARM endpoint). Thin: each function is one ARM operation
with the request shape from the REST specs (notes/azure-launch.md §1–§3, §6), so the backend and
the rollback read as steps, not as SDK plumbing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from installer.launch.azure.preview import _get

WHATIF_POLL = 2.0  # seconds between what-if polls when ARM sends no Retry-After


@dataclass
class Target:
    """Where the install goes: one subscription, one resource group, one stack."""

    clients: Any  # installer.azure.clients.ClientFactory
    subscription_id: str
    resource_group: str
    location: str
    stack: str

    @property
    def resources(self) -> Any:
        return self.clients.resources(self.subscription_id)

    @property
    def deployments(self) -> Any:
        return self.clients.deployments(self.subscription_id)

    @property
    def stacks(self) -> Any:
        return self.clients.deployment_stacks(self.subscription_id)

    @property
    def stack_id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.Resources/deploymentStacks/{self.stack}")


def arm_error(exc: BaseException) -> tuple[str, str]:
    """(code, message) of an azure-core error, the innermost detail first (ARM nests the cause)."""
    err = getattr(exc, "error", None)
    code = str(getattr(err, "code", "") or "")
    message = str(getattr(err, "message", "") or "")
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except Exception:  # noqa: BLE001 - a body that is not JSON: keep what azure-core parsed
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        e = body["error"]
        while e.get("details"):
            e = e["details"][0]
        code, message = str(e.get("code") or code), str(e.get("message") or message)
    return code or type(exc).__name__, message or str(exc).splitlines()[0]


# ---- resource group ----------------------------------------------------------------------------


def group_get(t: Target) -> Any | None:
    try:
        return t.resources.resource_groups.get(t.resource_group)
    except ResourceNotFoundError:
        return None


def group_create(t: Target, tags: dict[str, str]) -> Any:
    # PUT .../resourcegroups/{rg}: 201 created / 200 existed; not an LRO (resources.json 2025-04-01).
    return t.resources.resource_groups.create_or_update(t.resource_group, {"location": t.location, "tags": tags})


def group_delete(t: Target, cancel: threading.Event | None = None) -> None:
    poller = t.resources.resource_groups.begin_delete(t.resource_group)
    poller.result()


def group_resources(t: Target) -> list[Any]:
    try:
        return list(t.resources.resources.list_by_resource_group(t.resource_group))
    except ResourceNotFoundError:
        return []


# ---- what-if ----------------------------------------------------------------------------------


def what_if(t: Target, name: str, template: dict[str, Any], parameters: dict[str, Any]) -> Any:
    """ARM what-if of ``template`` in the group (202 + Location, polled by the SDK)."""
    body = {"properties": {"mode": "Incremental", "template": template, "parameters": parameters,
                           "whatIfSettings": {"resultFormat": "FullResourcePayloads"}}}
    return t.deployments.deployments.begin_what_if(t.resource_group, name, body,
                                                   polling_interval=WHATIF_POLL).result()


# ---- deployment stack --------------------------------------------------------------------------


def stack_submit(t: Target, body: dict[str, Any]) -> Any:
    """PUT the stack and return at once (201 + Azure-AsyncOperation); we poll it ourselves, for
    per-resource progress and to be able to re-attach after a crash."""
    return t.stacks.deployment_stacks.begin_create_or_update_at_resource_group(
        t.resource_group, t.stack, body, polling=False).result()


def stack_get(t: Target) -> tuple[Any | None, float | None]:
    """The stack (None when there is none) and the Retry-After ARM sent with it, if any."""
    box: dict[str, Any] = {}

    def keep_headers(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
        box["retry_after"] = pipeline_response.http_response.headers.get("Retry-After")
        return deserialized

    try:
        stack = t.stacks.deployment_stacks.get_at_resource_group(t.resource_group, t.stack, cls=keep_headers)
    except ResourceNotFoundError:
        return None, None
    except HttpResponseError as exc:
        if "ResourceGroupNotFound" in str(exc):
            return None, None
        raise
    try:
        retry = float(box["retry_after"]) if box.get("retry_after") else None
    except ValueError:
        retry = None
    return stack, retry


def stack_state(stack: Any) -> str:
    return str(_get(_get(stack, "properties") or stack, "provisioning_state", "provisioningState") or "").lower()


def stack_deployment_name(stack: Any) -> str | None:
    dep_id = _get(_get(stack, "properties") or stack, "deployment_id", "deploymentId")
    return str(dep_id).rstrip("/").rsplit("/", 1)[-1] if dep_id else None


def stack_resource_ids(stack: Any) -> list[str]:
    items = _get(_get(stack, "properties") or stack, "resources") or []
    return [str(_get(r, "id")) for r in items if _get(r, "id")]


def stack_error(stack: Any) -> tuple[str, str]:
    err = _get(_get(stack, "properties") or stack, "error")
    if not err:
        return "", ""
    while _get(err, "details"):
        err = _get(err, "details")[0]
    return str(_get(err, "code") or ""), str(_get(err, "message") or "")


def stack_delete(t: Target) -> None:
    """Delete the stack *and* what it manages (omitting the flags would only detach them —
    deployment-stacks#226); resources without delete support are detached, then reported."""
    t.stacks.deployment_stacks.begin_delete_at_resource_group(
        t.resource_group, t.stack,
        unmanage_action_resources="delete",
        unmanage_action_resource_groups="delete",
        unmanage_action_resources_without_delete_support="detach",
        polling_interval=WHATIF_POLL,
    ).result()


def operations(t: Target, deployment: str) -> list[Any]:
    try:
        return list(t.deployments.deployment_operations.list(t.resource_group, deployment))
    except ResourceNotFoundError:
        return []


def cancel_deployment(t: Target, deployment: str) -> None:
    """Cancel a running deployment (only Accepted/Running can be; anything else is fine)."""
    try:
        t.deployments.deployments.cancel(t.resource_group, deployment)
    except HttpResponseError:
        pass


def deployment_get(t: Target, deployment: str) -> Any | None:
    try:
        return t.deployments.deployments.get(t.resource_group, deployment)
    except ResourceNotFoundError:
        return None


# ---- key vault ---------------------------------------------------------------------------------


def deleted_vault(t: Target, name: str) -> Any | None:
    try:
        return t.clients.keyvault(t.subscription_id).vaults.get_deleted(name, t.location)
    except (ResourceNotFoundError, HttpResponseError):
        return None


def purge_vault(t: Target, name: str) -> None:
    t.clients.keyvault(t.subscription_id).vaults.begin_purge_deleted(name, t.location, polling_interval=WHATIF_POLL).result()


def sleep(seconds: float, cancel: threading.Event | None) -> bool:
    """Wait ``seconds``; True if ``cancel`` was set meanwhile."""
    if cancel is None:
        time.sleep(seconds)
        return False
    return cancel.wait(seconds)
