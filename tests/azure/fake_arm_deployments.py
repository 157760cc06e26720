"""Deployments at resource-group scope for the deploying fake ARM: PUT (201 + Azure-AsyncOperation),
GET/HEAD/list, cancel, DELETE, per-resource operations, validate and what-if (202 + Location).
Sources: azure-rest-api-specs ``specification/resources/resource-manager/Microsoft.Resources/
deployments/stable/2026-06-01/`` (``deployments.json``; examples ``PutDeploymentResourceGroup.json``,
``PostDeploymentWhatIfOnResourceGroup.json``, ``PostDeploymentValidateOnResourceGroup.json``).
"""

from __future__ import annotations

import re
from typing import Any

from tests.azure import arm_errors
from tests.azure.arm_eval import TemplateError, evaluate
from tests.azure.fake_arm_state import ArmRuleError, Deployment, Group, Op, Reply, _delta, _merge, iso, iso_duration
from tests.azure.fake_arm_template import _providers


class DeploymentsMixin:
    """Part of ``DeployPlane``."""

    def _dep_state(self, d: Deployment, now: float | None = None) -> str:
        now = self.clock.now() if now is None else now
        if d.canceled_at is not None and now >= d.canceled_at:
            return "Canceled"
        if now < d.submitted + 1.0:
            return "Accepted"
        live = [op for op in d.ops if not op.skipped]
        if any(op.end > now for op in live):
            return "Running"
        return "Failed" if any(op.error for op in live) else "Succeeded"

    def _dep_end(self, d: Deployment) -> float:
        live = [op.end for op in d.ops if not op.skipped]
        return max(live, default=d.submitted + 1.0)

    def _dep_id(self, d: Deployment) -> str:
        g = self.groups.get(d.group)
        return f"/subscriptions/{self.sub}/resourceGroups/{g.name if g else d.group}/providers/Microsoft.Resources/deployments/{d.name}"

    def _dep_error(self, d: Deployment) -> dict[str, Any] | None:
        state = self._dep_state(d)
        if state == "Failed":
            return arm_errors.deployment_failed(self._dep_id(d), [op.error.body() for op in d.ops if op.error and not op.skipped])
        if state == "Canceled":
            return {"code": "DeploymentCanceled", "message": f"The deployment '{d.name}' was canceled.", "details": []}
        return None

    def _dep_json(self, d: Deployment) -> dict[str, Any]:
        now = self.clock.now()
        state = self._dep_state(d, now)
        end = min(now, self._dep_end(d)) if state not in ("Canceled",) else (d.canceled_at or now)
        props: dict[str, Any] = {
            "provisioningState": state,
            "correlationId": d.correlation_id,
            "timestamp": iso(now if state in ("Accepted", "Running") else end),
            "duration": iso_duration((now if state in ("Accepted", "Running") else end) - d.submitted),
            "mode": d.mode,
            "parameters": d.parameters_shown,
            "providers": _providers(d),
            "dependencies": [],
            "templateHash": str(abs(hash(repr(d.template))) % 10**19),
            "outputResources": [{"id": op.resource.id} for op in d.ops if op.applied],
        }
        if state == "Succeeded":
            props["outputs"] = self._outputs(d)
        err = self._dep_error(d)
        if err:
            props["error"] = err
        out = {"id": self._dep_id(d), "name": d.name, "type": "Microsoft.Resources/deployments", "properties": props}
        if d.tags:
            out["tags"] = d.tags
        return out

    def _outputs(self, d: Deployment) -> dict[str, Any]:
        if d._outputs is None:
            out = {}
            for k, spec in d.outputs_raw.items():
                raw_type = str(spec.get("type", "string"))
                otype = "SecureString" if raw_type.lower() == "securestring" else raw_type[:1].upper() + raw_type[1:]
                try:
                    out[k] = {"type": otype, "value": evaluate(spec.get("value"), d.scope)}
                except TemplateError:
                    out[k] = {"type": otype, "value": None}
            d._outputs = out
        return d._outputs

    def dep_put(self, sub: str, rg: str, name: str, query: Any, body: Any, stack: str | None = None) -> Reply:
        g = self._group(rg)
        if g.deleting_since is not None:
            raise ArmRuleError(409, "ResourceGroupBeingDeleted", f"The resource group '{rg}' is in deprovisioning state and cannot perform this operation.")
        if not re.fullmatch(r"[-\w._()]{1,64}", name):
            raise ArmRuleError(400, "InvalidDeploymentName", f"The deployment name '{name}' is invalid: 1-64 characters of letters, digits, '-', '.', '_', '(' or ')'.")
        key = (rg.lower(), name.lower())
        old = self.deployments.get(key)
        if old is not None and self._dep_state(old) in ("Accepted", "Running"):
            raise ArmRuleError(409, "DeploymentActive", f"The deployment '{name}' is already running in resource group '{rg}'. Wait for it to finish or cancel it.")
        d = self._build(g, name, body or {}, stack=stack)
        self.deployments[key] = d
        op = self.new_operation(lambda: (200, self.retry_after() if self._dep_state(d) in ("Accepted", "Running") else {}, self._async_status(d)))
        headers = {
            "Azure-AsyncOperation": self.url(f"/subscriptions/{self.sub}/resourcegroups/{g.name}/providers/Microsoft.Resources/deployments/{name}/operationStatuses/{op}?api-version=2026-06-01"),
            **self.retry_after(),
        }
        return (201 if old is None else 200), headers, self._dep_json(d)

    def _async_status(self, d: Deployment) -> dict[str, Any]:
        state = self._dep_state(d)
        out: dict[str, Any] = {"status": state}
        err = self._dep_error(d)
        if err:
            out["error"] = err
        return out

    def dep_get(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        self._group(rg)
        d = self.deployments.get((rg.lower(), name.lower()))
        if d is None:
            raise ArmRuleError(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
        return 200, {}, self._dep_json(d)

    def dep_head(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        return (204 if (rg.lower(), name.lower()) in self.deployments else 404), {}, None

    def dep_list(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        self._group(rg)
        flt = (query.get("$filter") or [""])[0]
        m = re.search(r"provisioningState eq '([^']+)'", flt)
        items = [self._dep_json(d) for (g, _), d in self.deployments.items() if g == rg.lower()]
        if m:
            items = [i for i in items if i["properties"]["provisioningState"].lower() == m.group(1).lower()]
        return 200, {}, self.arm.page(items, f"/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments", query)

    def dep_cancel(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        d = self.deployments.get((rg.lower(), name.lower()))
        if d is None:
            raise ArmRuleError(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
        if self._dep_state(d) not in ("Accepted", "Running"):
            raise ArmRuleError(409, "DeploymentCannotBeCancelled", f"The deployment '{name}' cannot be canceled: it is in state '{self._dep_state(d)}'. Only Accepted or Running deployments can be canceled.")
        d.canceled_at = self.clock.now()
        return 204, {}, None

    def dep_delete(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        key = (rg.lower(), name.lower())
        d = self.deployments.get(key)
        if d is None:
            return 204, {}, None
        if self._dep_state(d) in ("Accepted", "Running"):
            raise ArmRuleError(409, "DeploymentActive", f"The deployment '{name}' is running and cannot be deleted. Cancel it first.")
        self.deployments.pop(key)  # history only: the deployed resources stay
        return 202, self._location(lambda: (204, {}, None)), None

    def _op_json(self, d: Deployment, op: Op, now: float) -> dict[str, Any] | None:
        if op.skipped or now < op.start or (d.canceled_at is not None and op.start >= d.canceled_at):
            return None
        done = now >= op.end and not (d.canceled_at is not None and op.end > d.canceled_at)
        if d.canceled_at is not None and op.end > d.canceled_at and now >= d.canceled_at:
            state, status_code = "Canceled", None
        elif not done:
            state, status_code = "Running", None
        elif op.error:
            state, status_code = "Failed", op.error.status_code
        else:
            state, status_code = "Succeeded", "OK" if op.resource.id.lower() in self._preexisting_at(d) else "Created"
        props: dict[str, Any] = {
            "provisioningOperation": "Create",
            "provisioningState": state,
            "timestamp": iso(min(now, op.end)),
            "duration": iso_duration(min(now, op.end) - op.start),
            "trackingId": op.operation_id,
            "serviceRequestId": f"fake-{op.operation_id[:8]}",
            "targetResource": {
                "id": op.resource.id,
                "resourceType": op.resource.type,
                "resourceName": op.resource.name,
                "apiVersion": op.api_version,
                "symbolicName": op.symbolic,
            },
        }
        if status_code:
            props["statusCode"] = status_code
        if state == "Failed" and op.error:
            props["statusMessage"] = {"status": "Failed", "error": op.error.body()}
        return {"id": f"{self._dep_id(d)}/operations/{op.operation_id}", "operationId": op.operation_id, "properties": props}

    def _preexisting_at(self, d: Deployment) -> set[str]:
        return getattr(d, "_pre", set())

    def dep_operations(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        d = self.deployments.get((rg.lower(), name.lower()))
        if d is None:
            raise ArmRuleError(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
        now = self.clock.now()
        items = [j for op in sorted(d.ops, key=lambda o: (o.start, o.operation_id), reverse=True) if (j := self._op_json(d, op, now))]
        top = query.get("$top")
        if top:
            items = items[: int(top[0])]
        return 200, {}, self.arm.page(items, f"/subscriptions/{sub}/resourcegroups/{rg}/deployments/{name}/operations", query)

    def dep_operation(self, sub: str, rg: str, name: str, opid: str, query: Any, body: Any) -> Reply:
        d = self.deployments.get((rg.lower(), name.lower()))
        op = next((o for o in (d.ops if d else []) if o.operation_id.lower() == opid.lower()), None)
        j = self._op_json(d, op, self.clock.now()) if d and op else None
        if j is None:
            raise ArmRuleError(404, "DeploymentOperationNotFound", f"The deployment operation '{opid}' could not be found.")
        return 200, {}, j

    def dep_validate(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        g = self._group(rg)
        try:
            d = self._build(g, name, body or {}, dry_run=True)
        except (ArmRuleError, TemplateError) as err:
            message = err.message if isinstance(err, ArmRuleError) else f"Deployment template validation failed: '{err}'."
            code = err.code if isinstance(err, ArmRuleError) else "InvalidTemplate"
            return 400, {}, {"error": {"code": "InvalidTemplateDeployment", "message": f"The template deployment '{name}' is not valid according to the validation procedure. See inner errors for details.", "details": [{"code": code, "message": message}]}}
        return 200, {}, {
            "id": self._dep_id(d),
            "name": name,
            "type": "Microsoft.Resources/deployments",
            "properties": {
                "provisioningState": "Succeeded",
                "mode": d.mode,
                "parameters": d.parameters_shown,
                "correlationId": d.correlation_id,
                "timestamp": iso(self.clock.now()),
                "duration": "PT0S",
                "providers": _providers(d),
                "validatedResources": [{"id": op.resource.id} for op in d.ops],
            },
        }

    def dep_whatif(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        g = self._group(rg)
        d = self._build(g, name, body or {}, dry_run=True)
        result = {"status": "Succeeded", "properties": {"changes": self._changes(g, d)}}
        ready = self.clock.now() + 2.0

        def poll() -> Reply:
            if self.clock.now() < ready and self.clock.speed:
                return 202, self._location_again(), None
            return 200, {}, result

        return 202, self._location(poll), None

    def _changes(self, g: Group, d: Deployment) -> list[dict[str, Any]]:
        changes = []
        in_template = set()
        for op in d.ops:
            if op.is_nested_deployment:
                continue
            res = op.resource
            in_template.add(res.id.lower())
            after = {k: v for k, v in res.json().items()}
            after["apiVersion"] = op.api_version
            before_res = self.resources.get(res.id.lower())
            if before_res is None:
                changes.append({"resourceId": res.id, "changeType": "Create", "after": after})
                continue
            before = before_res.json()
            before["apiVersion"] = op.api_version
            # Read-only properties the provider fills in are not changes (what-if's noise filter).
            after_props = _merge(before_res.properties, op.declared)
            delta = _delta({"tags": before_res.tags, "properties": before_res.properties}, {"tags": res.tags, "properties": after_props})
            changes.append({"resourceId": res.id, "changeType": "Modify" if delta else "NoChange", "before": before, "after": after, **({"delta": delta} if delta else {})})
        for r in self.group_resources(g.name):
            if r.id.lower() in in_template or r.extension:
                continue
            kind = "Delete" if d.mode == "Complete" else "Ignore"
            changes.append({"resourceId": r.id, "changeType": kind, "before": r.json()})
        return changes

