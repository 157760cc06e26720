"""The deploying half of the fake ARM: resource groups, deployments, deployment stacks, what-if.

Plugged into ``FakeArm`` (tests/azure/fake_arm.py) as ``arm.deploy``; it answers first and falls
through to the read-only routes for anything it does not know. Time is simulated
(``SimClock``): a test either advances it (``arm.deploy.clock.advance(30)``) or lets it run
``speed`` simulated seconds per real second. Everything is computed from the clock on each request,
so a deployment "progresses" exactly as far as simulated time says.

What it does like ARM (facts and example bodies, azure-rest-api-specs paths beside each):
- resource groups (``.../Microsoft.Resources/resources/stable/2025-04-01/resources.json``, examples
  ``CreateResourceGroup.json``, ``DeleteResourceGroup.json``): PUT 201/200 (not an LRO), HEAD 204/404,
  GET, PATCH (tags), DELETE → 202 + ``Location`` polled until the group and everything in it is gone;
  Key Vaults in a deleted group become soft-deleted vaults (notes/azure-launch.md §6);
- deployments at group scope (``.../deployments/stable/2026-06-01/examples/PutDeploymentResourceGroup.json``):
  PUT → 201 ``Accepted`` + ``Azure-AsyncOperation`` (``.../operationStatuses/{id}``, 200 ``{status,
  error?}``); GET, HEAD, cancel, DELETE (202 + Location), list; operations per resource
  (``.../deployments/{name}/operations``, with or without ``/providers/Microsoft.Resources``);
  validate (200 / 400 ``InvalidTemplate``); what-if (``PostDeploymentWhatIfOnResourceGroup.json``:
  202 + Location, then 200 ``{status, properties{changes}}``);
- deployment stacks (``.../deploymentStacks/stable/2025-07-01/examples/DeploymentStackResourceGroup{Get,Delete}.json``):
  PUT → 201 + Azure-AsyncOperation, lowercase states, ``deploymentId`` of the underlying deployment,
  ``resources[]`` managed, ``actionOnUnmanage`` / ``unmanageAction.*`` on update and delete,
  ``denySettings`` (a managed resource cannot be deleted directly under denyDelete), validate.
Rules it enforces (so a wrong template fails here as in Azure): required parameters, unknown
parameters, allowedValues / min / max, ``dependsOn`` naming a resource the template does not
define, circular dependencies, and ``reference()`` of a template resource that is not a (transitive)
dependency — ARM would race it; here it fails the operation deterministically.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.azure import arm_errors
from tests.azure.arm_eval import TemplateError
from tests.azure.fake_arm_deployments import DeploymentsMixin
from tests.azure.fake_arm_stacks import StacksMixin
from tests.azure.fake_arm_state import (  # noqa: F401 - re-exported: tests name these from here
    ArmRuleError,
    Deployment,
    Group,
    Injected,
    Reply,
    Resource,
    SimClock,
    Stack,
    Throttle,
    _child_id,
    _resource_from_id,
    _merge,
    iso,
    retry_headers,
)
from tests.azure.fake_arm_template import TemplateMixin

if TYPE_CHECKING:
    from tests.azure.fake_arm import FakeArm

# Simulated seconds each resource type takes to create (order of magnitude of real Azure);
# unknown types take DEFAULT_DURATION. Tests override per type with ``plane.durations``.
DEFAULT_DURATION = 10.0
DURATIONS: dict[str, float] = {
    "microsoft.containerservice/managedclusters": 420.0,
    "microsoft.dbforpostgresql/flexibleservers": 360.0,
    "microsoft.cache/redisenterprise": 300.0,
    "microsoft.app/managedenvironments": 180.0,
    "microsoft.app/containerapps": 45.0,
    "microsoft.app/jobs": 20.0,
    "microsoft.keyvault/vaults": 25.0,
    "microsoft.network/privateendpoints": 40.0,
    "microsoft.cdn/profiles": 30.0,
    "microsoft.network/virtualnetworks": 15.0,
}
DELETE_DURATION = 20.0




class DeployPlane(TemplateMixin, DeploymentsMixin, StacksMixin):
    def __init__(self, arm: FakeArm, clock: SimClock | None = None) -> None:
        self.arm = arm
        self.sc = arm.scenario
        self.clock = clock or SimClock(speed=float(self.sc.get("clock_speed", 0.0)))
        self.durations: dict[str, float] = dict(DURATIONS)
        self.default_duration = DEFAULT_DURATION
        self.delete_duration = DELETE_DURATION
        # Retry-After (simulated seconds) on LRO answers and polls; None: no header (the SDK then
        # uses its polling_interval). Sent scaled to real seconds by the clock speed.
        self.poll_retry_after: float | None = None
        self.injected: list[Injected] = []
        self.throttles: list[Throttle] = []
        self.log: list[tuple[float, float, str, str, int]] = []  # real t, simulated t, method, path, status
        self.lock = threading.RLock()
        self.groups: dict[str, Group] = {}
        self.resources: dict[str, Resource] = {}
        self.deployments: dict[tuple[str, str], Deployment] = {}
        self.stacks: dict[tuple[str, str], Stack] = {}
        self.whatifs: dict[str, tuple[float, dict[str, Any]]] = {}
        self.operations: dict[str, Callable[[], Reply]] = {}  # Location / async-operation polls
        self.deleted_vaults: list[dict[str, Any]] = self.sc.setdefault("deleted_vaults", [])
        self.extra_routes: list[tuple[str, re.Pattern[str], Callable[..., Reply | None]]] = []
        # What other planes (private link) add to the deploy plane's life cycle: called on every
        # tick, when an operation's resource is applied or removed, and to refuse an operation
        # when it is scheduled (a rule of its provider: a ProviderError, or None).
        self.on_tick: list[Callable[[float], None]] = []
        self.on_applied: list[Callable[[Resource], None]] = []
        self.on_removed: list[Callable[[Resource], None]] = []
        self.op_rules: list[Callable[[str, str, dict[str, Any]], Any]] = []
        self._seed()
        self.routes = self._routes()
        from tests.azure import fake_arm_ops  # jobs, run command, deleted vaults: their own module

        self.jobs: Any = None
        self.aks: Any = None
        self.revisions: Any = None
        self.vaults: Any = None
        fake_arm_ops.attach(self)
        from tests.azure import fake_arm_stack_whatif

        self.stack_what_if: Any = None
        fake_arm_stack_whatif.attach(self)
        from tests.azure import fake_arm_privatelink

        self.private_link: Any = None
        fake_arm_privatelink.attach(self)

    def _seed(self) -> None:
        loc = self.sc.get("location", "swedencentral")
        tags = self.sc.get("resource_group_tags", {})
        for name in self.sc.get("resource_groups", []):
            self.groups[name.lower()] = Group(name, loc, dict(tags.get(name, {})))
        for item in self.sc.get("existing_resources", []):
            rid = item if isinstance(item, str) else item["id"]
            extra = {} if isinstance(item, str) else item
            self.resources[rid.lower()] = _resource_from_id(rid, loc, extra)

    @property
    def sub(self) -> str:
        subs = self.sc.get("subscriptions") or [{"subscriptionId": "00000000-0000-0000-0000-000000000000"}]
        return subs[0]["subscriptionId"]

    def fail(self, resource_type: str, kind: str, *, name: str | None = None, times: int | None = 1, at_fraction: float = 1.0) -> Injected:
        """The next ``times`` operations on ``resource_type`` (optionally only ``name``) fail with
        ARM's ``kind`` error (QuotaExceeded, RequestDisallowedByPolicy, Conflict, InternalServerError)."""
        arm_errors.provider_error(kind, name="x", rtype=resource_type, location="x", subscription="x")  # validates kind
        inj = Injected(resource_type, kind, name, times, at_fraction=at_fraction)
        with self.lock:
            self.injected.append(inj)
        return inj

    def throttle(self, pattern: str = ".*", **kw: Any) -> Throttle:
        t = Throttle(pattern, **kw)
        with self.lock:
            self.throttles.append(t)
        return t

    def add_group(self, name: str, location: str | None = None, tags: dict[str, str] | None = None) -> Group:
        with self.lock:
            g = Group(name, location or self.sc.get("location", "swedencentral"), dict(tags or {}))
            self.groups[name.lower()] = g
            self._sync_groups()
            return g

    def add_resource(self, group: str, rtype: str, name: str, *, tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None) -> Resource:
        """A resource that exists before the test (someone else's): never owned by a deployment."""
        with self.lock:
            g = self.groups[group.lower()]
            rid = _child_id(f"/subscriptions/{self.sub}/resourceGroups/{g.name}", rtype, name)
            res = Resource(rid, name, rtype, g.location, dict(tags or {}), dict(properties or {}))
            self.resources[rid.lower()] = res
            self._sync_resources()
            return res

    def group_resources(self, group: str) -> list[Resource]:
        with self.lock:
            self.tick()
            prefix = f"/subscriptions/{self.sub}/resourcegroups/{group.lower()}/"
            return [r for k, r in self.resources.items() if k.startswith(prefix)]

    def deployment(self, group: str, name: str) -> Deployment:
        return self.deployments[(group.lower(), name.lower())]

    def rate(self) -> dict[str, float]:
        """Requests the fake answered: totals and per minute (real and simulated), peak per real minute."""
        with self.lock:
            log = list(self.log)
        if not log:
            return {"requests": 0, "real_seconds": 0.0, "per_real_minute": 0.0, "simulated_seconds": 0.0, "per_simulated_minute": 0.0, "peak_per_real_minute": 0.0}
        real = max(log[-1][0] - log[0][0], 1e-6)
        sim = max(log[-1][1] - log[0][1], 1e-6)
        times = [e[0] for e in log]
        peak, j = 0, 0
        for i, t in enumerate(times):
            while t - times[j] >= 60.0:
                j += 1
            peak = max(peak, i - j + 1)
        return {
            "requests": float(len(log)),
            "real_seconds": real,
            "per_real_minute": len(log) / real * 60.0,
            "simulated_seconds": sim,
            "per_simulated_minute": len(log) / sim * 60.0,
            "peak_per_real_minute": float(peak),
        }

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any) -> Reply | None:
        with self.lock:
            reply = self._dispatch(method, path, query, headers, body)
            self.log.append((time.monotonic(), self.clock.now(), method, path, reply[0] if reply else 0))
            return reply

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any) -> Reply | None:
        for t in self.throttles:
            if t.check(method, path):
                return 429, retry_headers(t.retry_after), arm_errors.envelope(
                    "TooManyRequests",
                    "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, see - https://aka.ms/throttling",
                )
        self.tick()
        for route_method, pattern, handler in self.extra_routes + self.routes:
            if route_method != method:
                continue
            m = pattern.fullmatch(path)
            if not m:
                continue
            try:
                reply = handler(query=query, body=body, **m.groupdict())
            except ArmRuleError as err:
                return err.status, {}, arm_errors.envelope(err.code, err.message, **err.extra)
            except TemplateError as err:
                return 400, {}, arm_errors.envelope("InvalidTemplate", f"Deployment template validation failed: '{err}'.")
            if reply is None:
                continue
            if method == "GET" and reply[0] == 200:
                reply[1].setdefault("x-ms-ratelimit-remaining-subscription-reads", str(max(0, 250 - self._recent("GET"))))
            elif reply[0] < 300:
                reply[1].setdefault("x-ms-ratelimit-remaining-subscription-writes", str(max(0, 200 - self._recent(method))))
            return reply
        return None

    def _recent(self, method: str) -> int:
        now = time.monotonic()
        return sum(1 for e in self.log[-400:] if e[2] == method and now - e[0] < 1.0)

    def add_route(self, method: str, pattern: str, handler: Callable[..., Reply | None]) -> None:
        """Other fake planes (jobs, run command, vaults) plug their routes in here."""
        self.extra_routes.append((method, re.compile(pattern, re.IGNORECASE), handler))

    def retry_after(self) -> dict[str, str]:
        """``poll_retry_after`` simulated seconds, said in real time (see ``retry_headers``)."""
        if self.poll_retry_after is None:
            return {}
        return retry_headers(self.clock.real_seconds(self.poll_retry_after))

    def url(self, path: str) -> str:
        return f"{self.arm.url.rstrip('/')}{path}"

    def new_operation(self, poll: Callable[[], Reply]) -> str:
        op_id = uuid.uuid4().hex
        self.operations[op_id] = poll
        return op_id

    def tick(self) -> None:
        now = self.clock.now()
        for d in list(self.deployments.values()):
            self._apply(d, now)
        for key, s in list(self.stacks.items()):
            self._settle_stack(s, now)
            if s.delete_done_at is not None and now >= s.delete_done_at:
                self._finish_stack_delete(s)
                self.stacks.pop(key, None)
        for key, g in list(self.groups.items()):
            if g.delete_done_at is not None and now >= g.delete_done_at:
                self._finish_group_delete(g)
        for hook in self.on_tick:
            hook(now)

    def _apply(self, d: Deployment, now: float) -> None:
        for op in d.ops:
            if op.applied or op.skipped or op.error is not None or op.is_nested_deployment:
                continue
            if d.canceled_at is not None and op.end > d.canceled_at:
                continue
            if now >= op.end and self.groups.get(d.group) is not None:
                res = copy.deepcopy(op.resource)
                existing = self.resources.get(res.id.lower())
                if existing is not None and d.mode == "Incremental":
                    res.properties = _merge(existing.properties, res.properties)
                self.resources[res.id.lower()] = res
                op.applied = True
                for hook in self.on_applied:
                    hook(res)
                if res.type.lower() == "microsoft.keyvault/vaults" and str(res.properties.get("createMode", "")).lower() == "recover":
                    self.deleted_vaults[:] = [v for v in self.deleted_vaults if v["name"].lower() != res.name.lower()]
                self._sync_resources()

    def _sync_groups(self) -> None:
        self.sc["resource_groups"] = [g.name for g in self.groups.values() if g.delete_done_at is None]

    def _sync_resources(self) -> None:
        self.sc["existing_resources"] = [r.id for r in self.resources.values()]

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Reply | None]]]:
        sub = r"/subscriptions/(?P<sub>[^/]+)"
        rg = rf"{sub}/resourcegroups/(?P<rg>[^/]+)"
        dep = rf"{rg}(?:/providers/Microsoft\.Resources)?/deployments/(?P<name>[^/]+)"
        stk = rf"{rg}/providers/Microsoft\.Resources/deploymentStacks/(?P<name>[^/]+)"
        table: list[tuple[str, str, Callable[..., Reply | None]]] = [
            ("GET", rf"{sub}/operationresults/(?P<op>[^/]+)", self.poll_operation),
            ("GET", rf"{sub}/providers/Microsoft\.Resources/operationStatuses/(?P<op>[^/]+)", self.poll_operation),
            ("GET", rf"{sub}/resourcegroups", self.rg_list),
            ("PUT", rg, self.rg_put),
            ("PATCH", rg, self.rg_patch),
            ("GET", rg, self.rg_get),
            ("HEAD", rg, self.rg_head),
            ("DELETE", rg, self.rg_delete),
            ("GET", rf"{rg}/resources", self.rg_resources),
            ("GET", rf"{sub}/resources", self.sub_resources),
            ("GET", rf"{dep}/operationStatuses/(?P<op>[^/]+)", self.poll_operation_scoped),
            ("GET", rf"{dep}/operations", self.dep_operations),
            ("GET", rf"{dep}/operations/(?P<opid>[^/]+)", self.dep_operation),
            ("POST", rf"{dep}/validate", self.dep_validate),
            ("POST", rf"{dep}/whatIf", self.dep_whatif),
            ("POST", rf"{dep}/cancel", self.dep_cancel),
            ("PUT", dep, self.dep_put),
            ("GET", dep, self.dep_get),
            ("HEAD", dep, self.dep_head),
            ("DELETE", dep, self.dep_delete),
            ("GET", rf"{rg}(?:/providers/Microsoft\.Resources)?/deployments", self.dep_list),
            ("GET", rf"{stk}/operationStatuses/(?P<op>[^/]+)", self.poll_operation_scoped),
            ("POST", rf"{stk}/validate", self.stack_validate),
            ("PUT", stk, self.stack_put),
            ("GET", stk, self.stack_get),
            ("DELETE", stk, self.stack_delete),
            ("GET", rf"{rg}/providers/Microsoft\.Resources/deploymentStacks", self.stack_list),
            ("GET", rf"{rg}/providers/(?P<ns>[^/]+)/(?P<rest>.+)", self.resource_get),
            ("DELETE", rf"{rg}/providers/(?P<ns>[^/]+)/(?P<rest>.+)", self.resource_delete),
        ]
        return [(m, re.compile(p, re.IGNORECASE), fn) for m, p, fn in table]

    def poll_operation(self, sub: str, op: str, query: Any, body: Any) -> Reply | None:
        poll = self.operations.get(op)
        if poll is None:
            return None
        return poll()

    def poll_operation_scoped(self, sub: str, rg: str, name: str, op: str, query: Any, body: Any) -> Reply | None:
        return self.poll_operation(sub, op, query, body)

    def _location(self, poll: Callable[[], Reply]) -> dict[str, str]:
        op = self.new_operation(poll)
        return {"Location": self.url(f"/subscriptions/{self.sub}/operationresults/{op}?api-version=2025-04-01"), **self.retry_after()}

    def _group(self, rg: str) -> Group:
        g = self.groups.get(rg.lower())
        if g is None or g.delete_done_at is not None and self.clock.now() >= g.delete_done_at:
            raise ArmRuleError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        return g

    def _rg_json(self, g: Group) -> dict[str, Any]:
        state = "Deleting" if g.deleting_since is not None else "Succeeded"
        out: dict[str, Any] = {
            "id": f"/subscriptions/{self.sub}/resourceGroups/{g.name}",
            "name": g.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": g.location,
            "properties": {"provisioningState": state},
        }
        if g.tags:
            out["tags"] = g.tags
        if g.managed_by:
            out["managedBy"] = g.managed_by
        return out

    def rg_list(self, sub: str, query: Any, body: Any) -> Reply:
        flt = (query.get("$filter") or [""])[0]
        m = re.search(r"tagName eq '([^']*)'(?: and tagValue eq '([^']*)')?", flt)
        items = []
        for g in self.groups.values():
            if g.delete_done_at is not None:
                continue
            if m and not any(k.lower() == m.group(1).lower() and (m.group(2) is None or v == m.group(2)) for k, v in g.tags.items()):
                continue
            items.append(self._rg_json(g))
        return 200, {}, self.arm.page(items, f"/subscriptions/{sub}/resourcegroups", query)

    def rg_put(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        body = body or {}
        location = body.get("location")
        if not location:
            raise ArmRuleError(400, "LocationRequired", "The location property is required for this definition.")
        g = self.groups.get(rg.lower())
        if g is not None and g.deleting_since is not None:
            raise ArmRuleError(409, "ResourceGroupBeingDeleted", f"The resource group '{rg}' is in deprovisioning state and cannot perform this operation.")
        if g is not None:
            if g.location.lower() != location.lower().replace(" ", ""):
                raise ArmRuleError(409, "InvalidResourceGroupLocation", f"Invalid resource group location '{location}'. The Resource group already exists in location '{g.location}'.")
            g.tags = dict(body.get("tags") or {})
            g.managed_by = body.get("managedBy")
            return 200, {}, self._rg_json(g)
        g = Group(rg, location.lower().replace(" ", ""), dict(body.get("tags") or {}), body.get("managedBy"))
        self.groups[rg.lower()] = g
        self._sync_groups()
        return 201, {}, self._rg_json(g)

    def rg_patch(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        g = self._group(rg)
        if body and "tags" in body:
            g.tags = dict(body["tags"] or {})
        return 200, {}, self._rg_json(g)

    def rg_get(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        return 200, {}, self._rg_json(self._group(rg))

    def rg_head(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        try:
            self._group(rg)
        except ArmRuleError:
            return 404, {}, None
        return 204, {}, None

    def rg_delete(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        g = self._group(rg)
        running = [d for d in self.deployments.values() if d.group == rg.lower() and self._dep_state(d) in ("Accepted", "Running")]
        if g.deleting_since is None:
            now = self.clock.now()
            g.deleting_since = now
            # Running deployments are canceled by the delete; everything goes after the slowest delete.
            for d in running:
                d.canceled_at = now
            g.delete_done_at = now + self.delete_duration * (1 + len(self.group_resources(g.name)) // 10)

        def poll() -> Reply:
            self.tick()
            if g.delete_done_at is not None and self.clock.now() >= g.delete_done_at:
                return 200, {}, None
            return 202, self._location_again(), None

        return 202, self._location(poll), None

    def _location_again(self) -> dict[str, str]:
        return dict(self.retry_after())

    def _finish_group_delete(self, g: Group) -> None:
        prefix = f"/subscriptions/{self.sub}/resourcegroups/{g.name.lower()}/"
        for key in [k for k in self.resources if k.startswith(prefix)]:
            self._remove_resource(self.resources[key])
        for key in [k for k in self.deployments if k[0] == g.name.lower()]:
            self.deployments.pop(key)
        for key in [k for k in self.stacks if k[0] == g.name.lower()]:
            self.stacks.pop(key)
        self.groups.pop(g.name.lower(), None)
        self._sync_groups()
        self._sync_resources()

    def _remove_resource(self, res: Resource) -> None:
        """Delete one resource (and its children and extension resources); vaults soft-delete."""
        key = res.id.lower()
        for other in [k for k in self.resources if k == key or k.startswith(key + "/")]:
            self.resources.pop(other, None)
        for hook in self.on_removed:
            hook(res)
        if res.type.lower() == "microsoft.keyvault/vaults" and res.properties.get("enableSoftDelete", True) is not False:
            days = int(res.properties.get("softDeleteRetentionInDays", 90))
            now = self.clock.now()
            self.deleted_vaults.append(
                {
                    "name": res.name,
                    "location": res.location or self.sc.get("location", "swedencentral"),
                    "purgeProtectionEnabled": bool(res.properties.get("enablePurgeProtection", False)),
                    "vaultId": res.id,
                    "deletionDate": iso(now),
                    "scheduledPurgeDate": iso(now + days * 86400),
                    "tags": dict(res.tags),
                }
            )
        self._sync_resources()

    def rg_resources(self, sub: str, rg: str, query: Any, body: Any) -> Reply:
        self._group(rg)
        items = [r.json() for r in self.group_resources(rg) if not r.extension]
        for item in items:
            item.pop("properties", None)  # the list shows GenericResourceExpanded without properties
        return 200, {}, self.arm.page(items, f"/subscriptions/{sub}/resourceGroups/{rg}/resources", query)

    def sub_resources(self, sub: str, query: Any, body: Any) -> Reply:
        """``GET /subscriptions/{sub}/resources?$filter=tagName eq 'k' and tagValue eq 'v'``."""
        flt = (query.get("$filter") or [""])[0]
        m = re.search(r"tagName eq '([^']*)'(?: and tagValue eq '([^']*)')?", flt)
        items = []
        for r in self.resources.values():
            if r.extension:
                continue
            if m and not any(k.lower() == m.group(1).lower() and (m.group(2) is None or v == m.group(2)) for k, v in r.tags.items()):
                continue
            item = r.json()
            item.pop("properties", None)
            items.append(item)
        return 200, {}, self.arm.page(items, f"/subscriptions/{sub}/resources", query)

    def resource_get(self, sub: str, rg: str, ns: str, rest: str, query: Any, body: Any) -> Reply | None:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rest}"
        res = self.resources.get(rid.lower())
        if res is None:
            return None  # the read-only routes answer (404 or their own data)
        return 200, {}, res.json()

    def resource_delete(self, sub: str, rg: str, ns: str, rest: str, query: Any, body: Any) -> Reply | None:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rest}"
        res = self.resources.get(rid.lower())
        if res is None:
            return 204, {}, None
        for s in self.stacks.values():
            mode = (s.body.get("properties", {}).get("denySettings") or {}).get("mode", "none")
            if mode != "none" and any(m.lower() == res.id.lower() for m in s.managed):
                raise ArmRuleError(
                    403,
                    "DenyAssignmentAuthorizationFailed",
                    f"The client has permission to perform action 'delete' on scope '{res.id}', however the access is denied because of the deny assignment with name 'Deny assignment for deployment stack {s.name}'.",
                )
        self._remove_resource(res)
        return 200, {}, None

