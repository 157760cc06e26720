"""What-if for deployment stacks in the fake ARM (``Microsoft.Resources/deploymentStacksWhatIfResults``).

Shapes from azure-rest-api-specs ``specification/resources/resource-manager/Microsoft.Resources/
deploymentStacks/stable/2025-07-01/examples/DeploymentStackWhatIfResultsResourceGroup{Create,WhatIf,
Get,Delete}.json`` and ``models-whatIf.tsp`` (notes/azure-launch.md §2): PUT the what-if result
(``deploymentStackResourceId`` and ``retentionInterval`` required; 201 + Azure-AsyncOperation),
POST ``.../whatIf`` (202 + Location, then 200 with ``properties.changes``), GET, list, DELETE (200/204).
Changes are computed against the group and the stack as they are now: ``create`` / ``modify`` /
``noChange`` for the template's resources, ``delete`` or ``detach`` (per ``actionOnUnmanage``) for
what the stack manages and the template no longer has; ``managementStatusChange`` says who owns it
before and after (a pre-existing resource the template names goes from ``notManaged`` to ``managed``).
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.azure.fake_arm_state import ArmRuleError, Reply, _delta, _merge, iso

if TYPE_CHECKING:
    from tests.azure.fake_arm_deploy import DeployPlane

RG = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)"


@dataclass
class WhatIfResult:
    name: str
    group: str
    body: dict[str, Any]
    created: float
    changes: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class StackWhatIfPlane:
    def __init__(self, plane: DeployPlane) -> None:
        self.plane = plane
        self.results: dict[tuple[str, str], WhatIfResult] = {}
        base = rf"{RG}/providers/Microsoft\.Resources/deploymentStacksWhatIfResults"
        plane.add_route("GET", base, self.list)
        plane.add_route("PUT", rf"{base}/(?P<name>[^/]+)", self.put)
        plane.add_route("GET", rf"{base}/(?P<name>[^/]+)", self.get)
        plane.add_route("DELETE", rf"{base}/(?P<name>[^/]+)", self.delete)
        plane.add_route("POST", rf"{base}/(?P<name>[^/]+)/whatIf", self.what_if)

    def _json(self, r: WhatIfResult) -> dict[str, Any]:
        g = self.plane.groups.get(r.group)
        props = copy.deepcopy(r.body.get("properties") or {})
        props.pop("template", None)
        props["provisioningState"] = "succeeded"
        props["correlationId"] = r.extra.get("correlation", "")
        if r.changes is not None:
            props["changes"] = r.changes
            props["deploymentStackLastModified"] = iso(r.created)
        return {
            "id": f"/subscriptions/{self.plane.sub}/resourceGroups/{g.name if g else r.group}/providers/Microsoft.Resources/deploymentStacksWhatIfResults/{r.name}",
            "type": "Microsoft.Resources/deploymentStacksWhatIfResults",
            "name": r.name,
            "location": g.location if g else None,
            "properties": props,
        }

    def put(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        g = self.plane._group(rg)
        body = body or {}
        props = body.get("properties") or {}
        missing = [k for k in ("deploymentStackResourceId", "retentionInterval") if not props.get(k)]
        if missing:
            raise ArmRuleError(400, "InvalidRequestContent", f"The request content was invalid: properties.{' and properties.'.join(missing)} required.")
        if not re.fullmatch(r"P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?", str(props["retentionInterval"])):
            raise ArmRuleError(400, "InvalidRequestContent", f"retentionInterval '{props['retentionInterval']}' is not an ISO 8601 duration (e.g. P7D).")
        self.plane._check_stack_body(name, body)
        key = (rg.lower(), name.lower())
        existed = key in self.results
        r = WhatIfResult(name, g.name.lower(), body, self.plane.clock.now(), extra={"correlation": str(uuid.uuid4())})
        self.results[key] = r
        op = self.plane.new_operation(lambda: (200, {}, {"status": "Succeeded"}))
        headers = {
            "Azure-AsyncOperation": self.plane.url(f"/subscriptions/{self.plane.sub}/providers/Microsoft.Resources/operationStatuses/{op}?api-version=2025-07-01"),
        }
        return (200 if existed else 201), headers, self._json(r)

    def _result(self, rg: str, name: str) -> WhatIfResult:
        self.plane._group(rg)
        r = self.results.get((rg.lower(), name.lower()))
        if r is None:
            raise ArmRuleError(404, "ResourceNotFound", f"The deployment stack what-if result '{name}' was not found.")
        return r

    def get(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        return 200, {}, self._json(self._result(rg, name))

    def list(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        self.plane._group(rg)
        items = [self._json(r) for (g, _), r in self.results.items() if g == rg.lower()]
        return 200, {}, self.plane.arm.page(items, f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Resources/deploymentStacksWhatIfResults", query)

    def delete(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        self.plane._group(rg)
        return (200 if self.results.pop((rg.lower(), name.lower()), None) else 204), {}, None

    def what_if(self, sub: str, rg: str, name: str, query: Any, body: Any) -> Reply:
        r = self._result(rg, name)
        g = self.plane._group(rg)
        props = r.body.get("properties") or {}
        d = self.plane._build(g, f"{name}-whatif", {"properties": {**props, "mode": "Incremental"}}, dry_run=True, stack=name)
        r.changes = self._changes(props, d)
        r.created = self.plane.clock.now()
        result = self._json(r)
        return 202, self.plane._location(lambda: (200, {}, result)), None

    def _changes(self, props: dict[str, Any], d: Any) -> dict[str, Any]:
        stack_id = str(props["deploymentStackResourceId"])
        m = re.search(r"/resourceGroups/([^/]+)/providers/Microsoft\.Resources/deploymentStacks/([^/]+)$", stack_id, re.IGNORECASE)
        stack = self.plane.stacks.get((m.group(1).lower(), m.group(2).lower())) if m else None
        managed = {rid.lower() for rid in (stack.managed if stack else [])}
        changes = []
        in_template = set()
        for op in d.ops:
            res = op.resource
            key = res.id.lower()
            in_template.add(key)
            before_status = "managed" if key in managed else "notManaged"
            after = {"type": res.type, "apiVersion": op.api_version, **res.json()}
            existing = self.plane.resources.get(key)
            if existing is None:
                change: dict[str, Any] = {"changeType": "create", "resourceConfigurationChanges": {"after": after}}
            else:
                before = {"type": existing.type, "apiVersion": op.api_version, **existing.json()}
                delta = _delta({"tags": existing.tags, "properties": existing.properties}, {"tags": res.tags, "properties": _merge(existing.properties, op.declared)})
                change = {"changeType": "modify" if delta else "noChange", "resourceConfigurationChanges": {"before": before, "after": after}}
                if delta:
                    change["resourceConfigurationChanges"]["delta"] = [{**{k: v for k, v in x.items() if k != "propertyChangeType"}, "changeType": x["propertyChangeType"]} for x in delta]
            changes.append({"id": res.id, "changeCertainty": "definite", "managementStatusChange": {"before": before_status, "after": "managed"}, **change})
        action = ((props.get("actionOnUnmanage") or {}).get("resources")) or "detach"
        for rid in stack.managed if stack else []:
            if rid.lower() in in_template:
                continue
            changes.append(
                {
                    "id": rid,
                    "changeType": "delete" if action == "delete" else "detach",
                    "changeCertainty": "definite",
                    "managementStatusChange": {"before": "managed", "after": "notManaged"},
                }
            )
        before_deny = ((stack.body.get("properties") or {}).get("denySettings")) if stack else None
        after_deny = props.get("denySettings") or {}
        deny_delta = [
            {"path": k, "changeType": "create" if before_deny is None or k not in before_deny else "modify", "before": (before_deny or {}).get(k), "after": v}
            for k, v in after_deny.items()
            if (before_deny or {}).get(k) != v
        ]
        deny_change: dict[str, Any] = {"after": after_deny}
        if before_deny is not None:
            deny_change["before"] = before_deny
        if deny_delta:
            deny_change["delta"] = deny_delta
        return {"resourceChanges": changes, "denySettingsChange": deny_change}


def attach(plane: DeployPlane) -> None:
    plane.stack_what_if = StackWhatIfPlane(plane)  # type: ignore[attr-defined]
