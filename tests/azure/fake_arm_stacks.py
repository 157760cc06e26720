"""Deployment stacks at resource-group scope for the deploying fake ARM (api 2025-07-01):
PUT (201 + Azure-AsyncOperation, lowercase states, the underlying deployment's id), GET/list,
validate, DELETE with ``unmanageAction.*``, ``actionOnUnmanage`` on updates, deny settings.
Sources: azure-rest-api-specs ``specification/resources/resource-manager/Microsoft.Resources/
deploymentStacks/stable/2025-07-01/examples/DeploymentStackResourceGroup{Get,Delete}.json`` and the
TypeSpec ``models.tsp`` / ``routes.tsp`` beside them (notes/azure-launch.md §2).
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from tests.azure.arm_eval import TemplateError
from tests.azure.fake_arm_state import ArmRuleError, Reply, Stack, _unique, iso


class StacksMixin:
    """Part of ``DeployPlane``."""

    def _stack_state(self, s: Stack, now: float | None = None) -> str:
        if s.deleting_since is not None:
            return "deleting"
        if s.deployment is None:
            return "succeeded"
        return {"Accepted": "deploying", "Running": "deploying", "Succeeded": "succeeded", "Failed": "failed", "Canceled": "canceled"}[self._dep_state(s.deployment, now)]

    def _stack_id(self, s: Stack) -> str:
        g = self.groups.get(s.group)
        return f"/subscriptions/{self.sub}/resourceGroups/{g.name if g else s.group}/providers/Microsoft.Resources/deploymentStacks/{s.name}"

    def _settle_stack(self, s: Stack, now: float) -> None:
        """When the stack's deployment has ended: what it manages now, and what it lets go."""
        d = s.deployment
        if d is None or s.settled or self._dep_state(d, now) in ("Accepted", "Running"):
            return
        s.settled = True
        created = [op.resource.id for op in d.ops if op.applied and not op.is_nested_deployment]
        if self._dep_state(d, now) != "Succeeded":
            # A failed stack still manages what it did create, and keeps what it managed before.
            s.managed = _unique(s.managed + created)
            return
        in_template = {op.resource.id.lower() for op in d.ops}
        unmanaged = [rid for rid in s.managed if rid.lower() not in in_template]
        action = ((s.body.get("properties") or {}).get("actionOnUnmanage") or {}).get("resources", "detach")
        s.deleted, s.detached = [], []
        for rid in unmanaged:
            if action == "delete" and rid.lower() in self.resources:
                self._remove_resource(self.resources[rid.lower()])
                s.deleted.append(rid)
            else:
                s.detached.append(rid)
        s.managed = _unique(created)

    def _stack_json(self, s: Stack) -> dict[str, Any]:
        props = copy.deepcopy(s.body.get("properties") or {})
        props.pop("template", None)
        props.pop("parameters", None)
        # One instant for the whole answer: the clock runs on between the request's tick and
        # here, and a state read later than the resources were applied and settled would say
        # "succeeded" with resources[] (and the group) not there yet.
        now = self.clock.now()
        if s.deployment is not None:
            self._apply(s.deployment, now)
            self._settle_stack(s, now)
        state = self._stack_state(s, now)
        deny = (props.get("denySettings") or {}).get("mode", "none")
        props.update(
            {
                "provisioningState": state,
                "deploymentScope": f"/subscriptions/{self.sub}/resourceGroups/{self.groups[s.group].name if s.group in self.groups else s.group}",
                "resources": [{"id": rid, "status": "managed", "denyStatus": deny} for rid in s.managed],
                "deletedResources": [{"id": rid} for rid in s.deleted],
                "detachedResources": [{"id": rid} for rid in s.detached],
                "failedResources": [],
                "parameters": s.deployment.parameters_shown if s.deployment else {},
            }
        )
        if s.deployment is not None:
            d = s.deployment
            props["deploymentId"] = self._dep_id(d)
            props["correlationId"] = d.correlation_id
            props["duration"] = self._dep_json(d)["properties"]["duration"]
            props["failedResources"] = [{"id": op.resource.id, "error": op.error.body()} for op in d.ops if op.error and not op.skipped and self.clock.now() >= op.end]
            if state == "succeeded":
                props["outputs"] = self._outputs(d)
            err = self._dep_error(d)
            if err and state in ("failed", "canceled"):
                props["error"] = err
        out = {
            "id": self._stack_id(s),
            "name": s.name,
            "type": "Microsoft.Resources/deploymentStacks",
            "location": self.groups[s.group].location if s.group in self.groups else None,
            "properties": props,
        }
        if s.body.get("tags"):
            out["tags"] = s.body["tags"]
        return out

    def _check_stack_body(self, name: str, body: dict[str, Any]) -> None:
        if not re.fullmatch(r"[-\w._()]{1,90}", name):
            raise ArmRuleError(400, "InvalidDeploymentStackName", f"The deployment stack name '{name}' is invalid: 1-90 characters of letters, digits, '-', '.', '_', '(' or ')'.")
        props = body.get("properties") or {}
        aou = props.get("actionOnUnmanage")
        if not isinstance(aou, dict) or aou.get("resources") not in ("delete", "detach"):
            raise ArmRuleError(400, "InvalidRequestContent", "The request content was invalid: 'properties.actionOnUnmanage.resources' is required ('delete' or 'detach').")
        deny = props.get("denySettings")
        if not isinstance(deny, dict) or deny.get("mode") not in ("none", "denyDelete", "denyWriteAndDelete"):
            raise ArmRuleError(400, "InvalidRequestContent", "The request content was invalid: 'properties.denySettings.mode' is required ('none', 'denyDelete' or 'denyWriteAndDelete').")
        if len(deny.get("excludedPrincipals") or []) > 5:
            raise ArmRuleError(400, "InvalidDenySettings", "At most 5 excludedPrincipals are allowed in denySettings.")

    def stack_put(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        g = self._group(rg)
        body = body or {}
        self._check_stack_body(name, body)
        key = (rg.lower(), name.lower())
        s = self.stacks.get(key)
        if s is not None and self._stack_state(s) not in ("succeeded", "failed", "canceled"):
            raise ArmRuleError(409, "DeploymentStackInNonTerminalState", f"The deployment stack '{name}' could not be deployed as it is already in a non-terminal state '{self._stack_state(s)}'.")
        dep_name = f"{name}-{iso(self.clock.now())[:10].replace('-', '')}-{uuid.uuid4().hex[:5]}"[:64]
        d = self._build(g, dep_name, {"properties": {**(body.get("properties") or {}), "mode": "Incremental"}}, stack=name)
        self.deployments[(rg.lower(), dep_name.lower())] = d
        created = s is None
        if s is None:
            s = Stack(name, rg.lower(), body, d)
            self.stacks[key] = s
        else:
            s.body, s.deployment, s.settled = body, d, False
        op = self.new_operation(lambda: (200, {}, self._stack_async(s)))
        headers = {
            "Azure-AsyncOperation": self.url(f"/subscriptions/{self.sub}/resourceGroups/{g.name}/providers/Microsoft.Resources/deploymentStacks/{name}/operationStatuses/{op}?api-version=2025-07-01"),
            **self.retry_after(),
        }
        return (201 if created else 200), headers, self._stack_json(s)

    def _stack_async(self, s: Stack) -> dict[str, Any]:
        self.tick()
        state = self._stack_state(s)
        status = {"succeeded": "Succeeded", "failed": "Failed", "canceled": "Canceled"}.get(state, "Running")
        out: dict[str, Any] = {"status": status}
        if status == "Failed" and s.deployment is not None:
            out["error"] = self._dep_error(s.deployment)
        return out

    def stack_get(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        self._group(rg)
        s = self.stacks.get((rg.lower(), name.lower()))
        if s is None:
            raise ArmRuleError(404, "DeploymentStackNotFound", f"The deployment stack '{name}' was not found.")
        return 200, {}, self._stack_json(s)

    def stack_list(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        self._group(rg)
        items = [self._stack_json(s) for (g, _), s in self.stacks.items() if g == rg.lower()]
        return 200, {}, self.arm.page(items, f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Resources/deploymentStacks", query)

    def stack_validate(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        g = self._group(rg)
        body = body or {}
        try:
            self._check_stack_body(name, body)
            d = self._build(g, name, {"properties": {**(body.get("properties") or {}), "mode": "Incremental"}}, dry_run=True, stack=name)
        except (ArmRuleError, TemplateError) as err:
            message = err.message if isinstance(err, ArmRuleError) else f"Deployment template validation failed: '{err}'."
            return 400, {}, {"error": {"code": "DeploymentStackValidationFailed", "message": "The deployment stack is not valid. See inner errors for details.", "details": [{"code": getattr(err, "code", "InvalidTemplate"), "message": message}]}}
        props = body.get("properties") or {}
        return 200, {}, {
            "id": f"/subscriptions/{self.sub}/resourceGroups/{g.name}/providers/Microsoft.Resources/deploymentStacks/{name}",
            "name": name,
            "type": "Microsoft.Resources/deploymentStacks",
            "properties": {
                "actionOnUnmanage": props.get("actionOnUnmanage"),
                "denySettings": props.get("denySettings"),
                "deploymentScope": f"/subscriptions/{self.sub}/resourceGroups/{g.name}",
                "correlationId": d.correlation_id,
                "parameters": d.parameters_shown,
                "validatedResources": [{"id": op.resource.id} for op in d.ops],
            },
        }

    def stack_delete(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        self._group(rg)
        key = (rg.lower(), name.lower())
        s = self.stacks.get(key)
        if s is None:
            return 204, {}, None
        if self._stack_state(s) == "deploying":
            raise ArmRuleError(409, "DeploymentStackInNonTerminalState", f"The deployment stack '{name}' could not be deleted as it is in a non-terminal state 'deploying'.")
        # 2025-07-01: unmanageAction.Resources=delete|detach (omitted: detach). The preview
        # spelling unmanageAction=deleteResources|deleteAll|detach is accepted too.
        action = (query.get("unmanageAction.Resources") or query.get("unmanageAction.resources") or [None])[0]
        legacy = (query.get("unmanageAction") or [None])[0]
        if action is None and legacy in ("deleteResources", "deleteAll"):
            action = "delete"
        s.delete_action = action or "detach"
        if s.deleting_since is None:
            now = self.clock.now()
            s.deleting_since = now
            s.delete_done_at = now + (self.delete_duration if s.delete_action == "delete" and s.managed else 1.0)

        def poll() -> Reply:
            self.tick()
            if key in self.stacks:
                return 202, self._location_again(), None
            return 200, {}, None

        return 202, self._location(poll), None

    def _finish_stack_delete(self, s: Stack) -> None:
        if s.delete_action == "delete":
            for rid in list(s.managed):
                res = self.resources.get(rid.lower())
                if res is not None:
                    self._remove_resource(res)
        s.managed = []

