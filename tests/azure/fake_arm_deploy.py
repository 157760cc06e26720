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

import base64
import copy
import datetime as dt
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.azure import arm_errors
from tests.azure.arm_eval import Scope, TemplateError, evaluate, is_expression

if TYPE_CHECKING:
    from tests.azure.fake_arm import FakeArm

Reply = tuple[int, dict[str, str], Any]

EPOCH = dt.datetime(2026, 12, 4, 8, 0, 0, tzinfo=dt.timezone.utc)

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


class SimClock:
    """Simulated seconds since the fake started: ``advance()`` moves it, ``speed`` runs it."""

    def __init__(self, speed: float = 0.0) -> None:
        self.speed = speed
        self._offset = 0.0
        self._t0 = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._offset + (time.monotonic() - self._t0) * self.speed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set_speed(self, speed: float) -> None:
        with self._lock:
            elapsed = time.monotonic() - self._t0
            self._offset += elapsed * self.speed
            self._t0 = time.monotonic()
            self.speed = speed

    def real_seconds(self, simulated: float) -> float:
        """How long ``simulated`` seconds last in real time (0 when only ``advance`` moves time)."""
        return simulated / self.speed if self.speed else 0.0


def iso(t: float) -> str:
    return (EPOCH + dt.timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_duration(seconds: float) -> str:
    return f"PT{max(seconds, 0.0):.3f}S"


# ---------------------------------------------------------------------------------------------
# World state
# ---------------------------------------------------------------------------------------------


@dataclass
class Group:
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)
    managed_by: str | None = None
    deleting_since: float | None = None
    delete_done_at: float | None = None


@dataclass
class Resource:
    id: str
    name: str
    type: str
    location: str | None
    tags: dict[str, Any]
    properties: dict[str, Any]
    kind: str | None = None
    sku: Any = None
    identity: Any = None
    extension: bool = False  # extension resources (role assignments) are not listed in the group

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name.rsplit("/", 1)[-1], "type": self.type}
        if self.location:
            out["location"] = self.location
        if self.tags:
            out["tags"] = self.tags
        for key in ("kind", "sku", "identity"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["properties"] = self.properties
        return out


@dataclass
class Injected:
    """A failure the next matching resource operation(s) end with."""

    resource_type: str
    kind: str
    name: str | None = None  # None: any resource of the type
    times: int | None = 1  # None: every time
    hits: int = 0
    at_fraction: float = 1.0  # when, within the operation's duration, it fails

    def matches(self, rtype: str, name: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.resource_type.lower() != rtype.lower():
            return False
        return self.name is None or self.name.lower() == name.lower()


@dataclass
class Op:
    operation_id: str
    resource: Resource  # what the operation creates (evaluated)
    symbolic: str
    depends: list[int]
    api_version: str
    start: float = 0.0
    end: float = 0.0
    error: arm_errors.ProviderError | None = None
    skipped: bool = False  # a dependency failed: never started
    applied: bool = False
    is_nested_deployment: bool = False
    declared: dict[str, Any] = field(default_factory=dict)  # the template's properties, before the provider fills in read-only ones


@dataclass
class Deployment:
    name: str
    group: str
    mode: str
    template: dict[str, Any]
    parameters_shown: dict[str, Any]
    submitted: float
    ops: list[Op]
    outputs_raw: dict[str, Any]
    scope: Scope
    tags: dict[str, Any]
    correlation_id: str
    canceled_at: float | None = None
    stack: str | None = None
    _outputs: dict[str, Any] | None = None


@dataclass
class Stack:
    name: str
    group: str
    body: dict[str, Any]
    deployment: Deployment | None
    managed: list[str] = field(default_factory=list)  # resource ids the stack manages
    deleted: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)
    deleting_since: float | None = None
    delete_done_at: float | None = None
    delete_action: str = "detach"
    settled: bool = False  # managed list updated after the deployment ended


class ArmRuleError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


# ---------------------------------------------------------------------------------------------
# The plane
# ---------------------------------------------------------------------------------------------


@dataclass
class Throttle:
    """Answer matching requests with 429 + Retry-After: every ``every``-th one, or beyond
    ``limit`` requests per ``window`` real seconds."""

    pattern: str = ".*"
    method: str | None = None
    every: int | None = None
    limit: int | None = None
    window: float = 60.0
    retry_after: float = 1.0
    seen: int = 0
    throttled: int = 0
    _times: list[float] = field(default_factory=list)

    def check(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if not re.search(self.pattern, path, re.IGNORECASE):
            return False
        self.seen += 1
        now = time.monotonic()
        if self.every and self.seen % self.every == 0:
            self.throttled += 1
            return True
        if self.limit is not None:
            self._times = [t for t in self._times if now - t < self.window]
            if len(self._times) >= self.limit:
                self.throttled += 1
                return True
            self._times.append(now)
        return False


class DeployPlane:
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
        self._seed()
        self.routes = self._routes()
        from tests.azure import fake_arm_ops  # jobs, run command, deleted vaults: their own module

        self.jobs: Any = None
        self.aks: Any = None
        self.vaults: Any = None
        fake_arm_ops.attach(self)

    # ---- scenario seed ----

    def _seed(self) -> None:
        loc = self.sc.get("location", "swedencentral")
        tags = self.sc.get("resource_group_tags", {})
        for name in self.sc.get("resource_groups", []):
            self.groups[name.lower()] = Group(name, loc, dict(tags.get(name, {})))
        for item in self.sc.get("existing_resources", []):
            rid = item if isinstance(item, str) else item["id"]
            extra = {} if isinstance(item, str) else item
            self.resources[rid.lower()] = _resource_from_id(rid, loc, extra)

    # ---- test API ----

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

    # ---- dispatch (called by FakeArm for every authenticated request) ----

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any) -> Reply | None:
        with self.lock:
            reply = self._dispatch(method, path, query, headers, body)
            self.log.append((time.monotonic(), self.clock.now(), method, path, reply[0] if reply else 0))
            return reply

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any) -> Reply | None:
        for t in self.throttles:
            if t.check(method, path):
                return 429, retry_headers(t.retry_after, t.retry_after), arm_errors.envelope(
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
        """``Retry-After`` in whole simulated seconds (as ARM sends it, and as SDK models that
        deserialize it as ``int`` need it) plus ``retry-after-ms`` in *real* milliseconds, which
        azure-core reads first — so polling waits as long as the simulated wait lasts here."""
        if self.poll_retry_after is None:
            return {}
        return retry_headers(self.poll_retry_after, self.clock.real_seconds(self.poll_retry_after))

    def url(self, path: str) -> str:
        return f"{self.arm.url.rstrip('/')}{path}"

    def new_operation(self, poll: Callable[[], Reply]) -> str:
        op_id = uuid.uuid4().hex
        self.operations[op_id] = poll
        return op_id

    # ---- time: apply what has finished ----

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
                if res.type.lower() == "microsoft.keyvault/vaults" and str(res.properties.get("createMode", "")).lower() == "recover":
                    self.deleted_vaults[:] = [v for v in self.deleted_vaults if v["name"].lower() != res.name.lower()]
                self._sync_resources()

    # ---- keep the read-only routes' scenario lists true ----

    def _sync_groups(self) -> None:
        self.sc["resource_groups"] = [g.name for g in self.groups.values() if g.delete_done_at is None]

    def _sync_resources(self) -> None:
        self.sc["existing_resources"] = [r.id for r in self.resources.values()]

    # ---------------------------------------------------------------------------------------
    # routes
    # ---------------------------------------------------------------------------------------

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

    # ---- async operations ----

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

    # ---- resource groups ----

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

    # ---------------------------------------------------------------------------------------
    # deployments
    # ---------------------------------------------------------------------------------------

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

    # ---- operations ----

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

    # ---- validate / what-if ----

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

    # ---------------------------------------------------------------------------------------
    # template → operations
    # ---------------------------------------------------------------------------------------

    def _build(self, g: Group, name: str, body: dict[str, Any], *, dry_run: bool = False, stack: str | None = None) -> Deployment:
        props = body.get("properties") or {}
        if stack is None and props.get("mode") not in ("Incremental", "Complete"):
            raise ArmRuleError(400, "InvalidDeploymentMode", "The deployment mode is required: 'Incremental' or 'Complete'.")
        template = props.get("template")
        if props.get("templateLink") or props.get("parametersLink"):
            raise ArmRuleError(400, "InvalidContentLink", "The fake ARM cannot download linked templates: submit 'template' and 'parameters' inline.")
        if not isinstance(template, dict):
            raise ArmRuleError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties.template' is required.")
        if not isinstance(template.get("resources"), list):
            raise TemplateError("The template must contain a 'resources' array.")
        params = self._parameters(template, props.get("parameters") or {})
        scope = Scope(
            subscription_id=self.sub,
            resource_group=g.name,
            location=g.location,
            parameters=params,
            variables=template.get("variables") or {},
            deployment_name=name,
            tenant_id=self.sc.get("tenant_id", ""),
        )
        declared = template.get("parameters") or {}
        for pname, value in list(params.items()):
            if isinstance(value, _LazyDefault):
                params[pname] = evaluate(str(value), scope)
                _check_value(pname, declared[pname], params[pname])
        rg_prefix = f"/subscriptions/{self.sub}/resourceGroups/{g.name}"
        raw: list[tuple[dict[str, Any], int | None]] = []
        for r in template["resources"]:
            if not isinstance(r, dict):
                raise TemplateError("Each resource of the template must be an object (languageVersion 1.0).")
            if "copy" in r:
                count = int(evaluate(r["copy"].get("count"), scope))
                raw.extend((r, i) for i in range(count))
            else:
                raw.append((r, None))
        entries: list[dict[str, Any]] = []
        for r, index in raw:
            scope.copy_index = index
            if "condition" in r and not evaluate(r["condition"], scope):
                continue
            rtype = str(r["type"])
            rname = str(evaluate(r["name"], scope))
            scope_expr = r.get("scope")
            if scope_expr:
                base = str(evaluate(scope_expr, scope))
                if not base.startswith("/"):
                    base = _relative_to_id(rg_prefix, base)
                rid = _child_id(base, rtype, rname)
                extension = True
            else:
                rid = _child_id(rg_prefix, rtype, rname)
                extension = rtype.lower() == "microsoft.authorization/roleassignments"
            entries.append({"raw": r, "index": index, "type": rtype, "name": rname, "id": rid, "extension": extension})
        scope.copy_index = None
        by_id = {e["id"].lower(): i for i, e in enumerate(entries)}
        # dependsOn: resource ids or names, as ARM accepts them
        for e in entries:
            scope.copy_index = e["index"]
            deps = []
            for dep in e["raw"].get("dependsOn") or []:
                value = str(evaluate(dep, scope))
                idx = _find_dep(entries, by_id, value, rg_prefix)
                if idx is None:
                    raise TemplateError(f"The resource '{value}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details.")
                deps.append(idx)
            e["deps"] = deps
        scope.copy_index = None
        order = _topological(entries)
        pre = {r.id.lower() for r in self.resources.values()}
        now = self.clock.now()
        start0 = now + 1.0
        synthesized: dict[str, Resource] = {}
        ops: list[Op | None] = [None] * len(entries)
        dep_closure: dict[int, set[int]] = {}
        for i in order:
            e = entries[i]
            closure: set[int] = set()
            for j in e["deps"]:
                closure |= {j} | dep_closure[j]
            dep_closure[i] = closure
            allowed = {entries[j]["id"].lower() for j in closure}
            failure: arm_errors.ProviderError | None = None

            def reference(rid: str, _allowed: set[str] = allowed, _name: str = e["name"]) -> dict[str, Any]:
                key = rid.lower() if rid.startswith("/") else _relative_to_id(rg_prefix, rid).lower()
                if key in by_id and key not in _allowed:
                    raise _RefError(f"The resource '{rid}' is not defined or not yet deployed: '{_name}' references it without depending on it (add it to dependsOn).")
                res = synthesized.get(key) or self.resources.get(key)
                if res is None:
                    raise _RefError(f"The Resource '{rid}' under resource group '{g.name}' was not found.")
                return res.json()

            scope.reference = reference
            scope.list_keys = lambda rid: _keys(rid)
            scope.copy_index = e["index"]
            r = e["raw"]
            try:
                location = evaluate(r.get("location"), scope)
                tags = evaluate(r.get("tags") or {}, scope)
                properties = evaluate(r.get("properties") or {}, scope)
                sku = evaluate(r.get("sku"), scope) if "sku" in r else None
                kind = evaluate(r.get("kind"), scope) if "kind" in r else None
                identity = evaluate(r.get("identity"), scope) if "identity" in r else None
            except (_RefError, TemplateError) as err:
                # ARM evaluates reference() when the resource is deployed: a bad one fails that
                # operation, not the submission; validate and what-if show such values unevaluated.
                location = evaluate(r.get("location"), scope) if not _mentions_reference(r.get("location")) else g.location
                tags = r.get("tags") if dry_run else {}
                properties, sku, kind, identity = (r.get("properties") or {}) if dry_run else {}, r.get("sku"), r.get("kind"), r.get("identity")
                if not dry_run:
                    code = "ResourceNotFound" if isinstance(err, _RefError) else "InvalidTemplate"
                    failure = arm_errors.ProviderError(404 if code == "ResourceNotFound" else 400, "NotFound" if code == "ResourceNotFound" else "BadRequest", code, str(err))
            if not isinstance(tags, dict):
                tags = {}
            res = Resource(e["id"], e["name"], e["type"], location, tags, _synthesize(e["type"], e["name"], e["id"], location or g.location, properties), kind, sku, identity, e["extension"])
            synthesized[e["id"].lower()] = res
            start = max([start0] + [ops[j].end for j in e["deps"] if ops[j] is not None])  # type: ignore[union-attr]
            duration = self.durations.get(e["type"].lower(), self.default_duration)
            op = Op(
                operation_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{rg_prefix}/{name}/{now}/{e['id']}").hex[:16].upper(),
                resource=res,
                symbolic=f"{e['type'].split('/')[-1]}[{e['name']}]",
                depends=e["deps"],
                api_version=str(r.get("apiVersion", "")),
                start=start,
                end=start + duration,
                is_nested_deployment=e["type"].lower() == "microsoft.resources/deployments",
                declared=properties if isinstance(properties, dict) else {},
            )
            if failure is None and not dry_run:
                for inj in self.injected:
                    if inj.matches(e["type"], e["name"]):
                        inj.hits += 1
                        failure = arm_errors.provider_error(inj.kind, name=e["name"], rtype=e["type"], location=location or g.location, subscription=self.sub)
                        op.end = start + duration * inj.at_fraction
                        break
                if failure is None and e["type"].lower() == "microsoft.keyvault/vaults":
                    failure = self._soft_deleted_conflict(e["name"], location or g.location, properties)
                    if failure is not None:
                        op.end = start + 2.0
            elif failure is not None:
                op.end = start + 1.0
            op.error = failure
            if any(ops[j] is not None and (ops[j].error or ops[j].skipped) for j in e["deps"]):  # type: ignore[union-attr]
                op.skipped = True
            ops[i] = op
        scope.copy_index = None
        d = Deployment(
            name=name,
            group=g.name.lower(),
            mode=props.get("mode", "Incremental"),
            template=template,
            parameters_shown=_shown_parameters(template, params),
            submitted=now,
            ops=[op for op in ops if op is not None],
            outputs_raw=template.get("outputs") or {},
            scope=scope,
            tags=dict(body.get("tags") or {}),
            correlation_id=str(uuid.uuid4()),
            stack=stack,
        )
        d._pre = pre  # type: ignore[attr-defined]
        scope.reference = lambda rid: (self.resources.get(rid.lower()) or synthesized[rid.lower()]).json()
        return d

    def _soft_deleted_conflict(self, name: str, location: str, properties: Any) -> arm_errors.ProviderError | None:
        """A vault name held by a soft-deleted vault cannot be reused (unless recovering it)."""
        if isinstance(properties, dict) and str(properties.get("createMode", "")).lower() == "recover":
            return None
        for v in self.deleted_vaults:
            if v["name"].lower() == name.lower():
                return arm_errors.ProviderError(
                    409,
                    "Conflict",
                    "ConflictError",
                    "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. "
                    "Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.",
                )
        return None

    def _parameters(self, template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        declared = template.get("parameters") or {}
        unknown = [k for k in given if k.lower() not in {d.lower() for d in declared}]
        if unknown:
            raise TemplateError(
                f"The template parameters '{', '.join(unknown)}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. "
                f"The only supported parameters for this template are '{', '.join(declared)}'. Please see https://aka.ms/arm-pass-parameter-values for usage details."
            )
        values: dict[str, Any] = {}
        lookup = {k.lower(): v for k, v in given.items()}
        pending_defaults: list[tuple[str, Any]] = []
        for pname, spec in declared.items():
            supplied = lookup.get(pname.lower())
            if supplied is not None:
                if not isinstance(supplied, dict) or not ({"value", "reference"} & set(supplied)):
                    raise TemplateError(f"The value of deployment parameter '{pname}' is null or not in the form {{\"value\": ...}}. Please see https://aka.ms/arm-pass-parameter-values for usage details.")
                if "reference" in supplied:
                    values[pname] = self._keyvault_reference(pname, supplied["reference"])
                else:
                    values[pname] = supplied["value"]
            elif "defaultValue" in spec:
                pending_defaults.append((pname, spec["defaultValue"]))
            else:
                raise TemplateError(f"The value for the template parameter '{pname}' at line '1' and column '1' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.")
        return _with_defaults(values, pending_defaults, declared, self)

    def _keyvault_reference(self, pname: str, ref: dict[str, Any]) -> str:
        vault = str((ref.get("keyVault") or {}).get("id", ""))
        if vault.lower() not in self.resources:
            raise ArmRuleError(400, "KeyVaultParameterReferenceNotFound", f"The specified KeyVault '{vault}' could not be found (parameter '{pname}').")
        return f"fake-secret:{ref.get('secretName')}"

    # ---------------------------------------------------------------------------------------
    # deployment stacks
    # ---------------------------------------------------------------------------------------

    def _stack_state(self, s: Stack) -> str:
        if s.deleting_since is not None:
            return "deleting"
        if s.deployment is None:
            return "succeeded"
        return {"Accepted": "deploying", "Running": "deploying", "Succeeded": "succeeded", "Failed": "failed", "Canceled": "canceled"}[self._dep_state(s.deployment)]

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
        state = self._stack_state(s)
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


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


class _RefError(Exception):
    pass


def _mentions_reference(value: Any) -> bool:
    return "reference(" in str(value) or "list" in str(value).lower() and "keys(" in str(value).lower()


def retry_headers(simulated: float, real: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(simulated))), "retry-after-ms": str(int(round(real * 1000)))}


def _unique(ids: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for rid in ids:
        seen.setdefault(rid.lower(), rid)
    return list(seen.values())


def _child_id(prefix: str, rtype: str, name: str) -> str:
    ns, *types = rtype.split("/")
    names = name.split("/")
    if len(types) != len(names):
        raise TemplateError(f"The template resource '{name}' for type '{rtype}' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name.")
    return f"{prefix}/providers/{ns}/" + "/".join(f"{t}/{n}" for t, n in zip(types, names))


def _relative_to_id(rg_prefix: str, value: str) -> str:
    """``Microsoft.KeyVault/vaults/kv1`` (a scope written as type/name) → a full resource id."""
    parts = value.split("/")
    ns, rest = parts[0], parts[1:]
    types, names = rest[0::2], rest[1::2]
    return f"{rg_prefix}/providers/{ns}/" + "/".join(f"{t}/{n}" for t, n in zip(types, names))


def _resource_from_id(rid: str, location: str, extra: dict[str, Any]) -> Resource:
    m = re.search(r"/providers/([^/]+)/(.+)$", rid)
    if not m:
        return Resource(rid, rid.rsplit("/", 1)[-1], "unknown", location, {}, {})
    ns, rest = m.group(1), m.group(2).split("/")
    rtype = "/".join([ns] + rest[0::2])
    name = "/".join(rest[1::2])
    return Resource(rid, name, rtype, extra.get("location", location), dict(extra.get("tags", {})), dict(extra.get("properties", {})))


def _find_dep(entries: list[dict[str, Any]], by_id: dict[str, int], value: str, rg_prefix: str) -> int | None:
    if value.lower() in by_id:
        return by_id[value.lower()]
    if value.startswith("/"):
        return None
    if "/" in value and "." in value.split("/")[0]:
        rid = _relative_to_id(rg_prefix, value).lower()
        return by_id.get(rid)
    matches = [i for i, e in enumerate(entries) if e["name"].lower() == value.lower()]
    return matches[0] if len(matches) == 1 else None


def _topological(entries: list[dict[str, Any]]) -> list[int]:
    state: dict[int, int] = {}
    order: list[int] = []

    def visit(i: int, path: list[int]) -> None:
        if state.get(i) == 2:
            return
        if state.get(i) == 1:
            cycle = " -> ".join(entries[j]["name"] for j in path[path.index(i) :] + [i])
            raise TemplateError(f"Circular dependency detected on resource: '{entries[i]['id']}'. Please see https://aka.ms/arm-syntax-resources for usage details. ({cycle})")
        state[i] = 1
        for j in entries[i]["deps"]:
            visit(j, path + [i])
        state[i] = 2
        order.append(i)

    for i in range(len(entries)):
        visit(i, [])
    return order


def _with_defaults(values: dict[str, Any], pending: list[tuple[str, Any]], declared: dict[str, Any], plane: DeployPlane) -> dict[str, Any]:
    # Expression defaults (``[resourceGroup().location]``) wait for the deployment's scope (_build).
    for pname, default in pending:
        values[pname] = _LazyDefault(default) if is_expression(default) else default
    for pname, spec in declared.items():
        _check_value(pname, spec, values.get(pname))
    return values


class _LazyDefault(str):
    """A default like ``[resourceGroup().location]``, resolved when the deployment's scope is known."""


def _check_value(pname: str, spec: dict[str, Any], value: Any) -> None:
    if isinstance(value, _LazyDefault):
        return
    ptype = str(spec.get("type", "string")).lower()
    expected = {"string": str, "securestring": str, "int": int, "bool": bool, "array": list, "object": dict, "secureobject": dict}.get(ptype)
    if expected is not None and not (isinstance(value, expected) and not (expected is int and isinstance(value, bool))):
        names = {str: "String", int: "Integer", bool: "Boolean", list: "Array", dict: "Object"}
        actual = names.get(type(value), type(value).__name__)
        raise TemplateError(f"Template parameter JToken type is not valid. Expected '{names[expected]}'. Actual '{actual}'. Please see https://aka.ms/arm-create-parameter-file for usage details. (parameter '{pname}')")
    allowed = spec.get("allowedValues")
    if allowed is not None and value not in allowed:
        raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. The value '{value}' is not part of the allowed value(s): '{','.join(map(str, allowed))}'.")
    if isinstance(value, int) and not isinstance(value, bool):
        if "minValue" in spec and value < spec["minValue"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. The value '{value}' is less than the minimum value '{spec['minValue']}'.")
        if "maxValue" in spec and value > spec["maxValue"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. The value '{value}' is greater than the maximum value '{spec['maxValue']}'.")
    if isinstance(value, (str, list)):
        if "minLength" in spec and len(value) < spec["minLength"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. Length of the value should be greater than or equal to '{spec['minLength']}'.")
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. Length of the value should be less than or equal to '{spec['maxLength']}'.")


def _shown_parameters(template: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What GET shows: secure values never come back (ARM shows only their type)."""
    out = {}
    for pname, spec in (template.get("parameters") or {}).items():
        ptype = str(spec.get("type", "String"))
        if ptype.lower().startswith("secure"):
            out[pname] = {"type": "SecureString" if ptype.lower() == "securestring" else "SecureObject"}
        else:
            value = params.get(pname)
            out[pname] = {"type": ptype[:1].upper() + ptype[1:], "value": None if isinstance(value, _LazyDefault) else value}
    return out


def _providers(d: Deployment) -> list[dict[str, Any]]:
    seen: dict[str, set[str]] = {}
    for op in d.ops:
        ns, *rest = op.resource.type.split("/")
        seen.setdefault(ns, set()).add("/".join(rest))
    return [{"namespace": ns, "resourceTypes": [{"resourceType": t, "locations": []} for t in sorted(ts)]} for ns, ts in sorted(seen.items())]


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


def _delta(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """WhatIfPropertyChange items between two JSON values (Create / Delete / Modify)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in sorted(set(before) | set(after)):
            sub = f"{path}.{k}" if path else k
            if k not in before:
                out.append({"path": sub, "propertyChangeType": "Create", "after": after[k]})
            elif k not in after:
                out.append({"path": sub, "propertyChangeType": "Delete", "before": before[k]})
            else:
                out.extend(_delta(before[k], after[k], sub))
        return out
    if before != after:
        return [{"path": path, "propertyChangeType": "Modify", "before": before, "after": after}]
    return []


def _guidish(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _synthesize(rtype: str, name: str, rid: str, location: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Read-only properties the resource provider fills in (what ``reference()`` returns)."""
    short = name.rsplit("/", 1)[-1]
    t = rtype.lower()
    extra: dict[str, Any] = {"provisioningState": "Succeeded"}
    if t == "microsoft.keyvault/vaults":
        extra["vaultUri"] = f"https://{short}.vault.azure.net/"
    elif t == "microsoft.containerregistry/registries":
        extra["loginServer"] = f"{short.lower()}.azurecr.io"
    elif t == "microsoft.dbforpostgresql/flexibleservers":
        extra["fullyQualifiedDomainName"] = f"{short}.postgres.database.azure.com"
    elif t == "microsoft.cache/redisenterprise":
        extra["hostName"] = f"{short}.{location}.redis.azure.net"
    elif t == "microsoft.managedidentity/userassignedidentities":
        extra.update({"clientId": _guidish(rid, "client"), "principalId": _guidish(rid, "principal"), "tenantId": _guidish("tenant")})
    elif t == "microsoft.app/managedenvironments":
        extra.update({"defaultDomain": f"{_guidish(rid)[:8]}.{location}.azurecontainerapps.io", "staticIp": "10.40.4.10"})
    elif t == "microsoft.app/containerapps":
        ingress = ((properties.get("configuration") or {}).get("ingress")) or {}
        if ingress:
            extra["configuration"] = {"ingress": {"fqdn": f"{short}.internal.{location}.azurecontainerapps.io" if not ingress.get("external", False) else f"{short}.{location}.azurecontainerapps.io"}}
        extra["latestRevisionName"] = f"{short}--0000001"
    elif t == "microsoft.containerservice/managedclusters":
        extra.update(
            {
                "fqdn": f"{short}-dns.hcp.{location}.azmk8s.io",
                "privateFQDN": f"{short}-dns.privatelink.{location}.azmk8s.io",
                "identityProfile": {"kubeletidentity": {"objectId": _guidish(rid, "kubelet-object"), "clientId": _guidish(rid, "kubelet-client"), "resourceId": f"{rid}-agentpool"}},
                "oidcIssuerProfile": {"enabled": True, "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{_guidish('tenant')}/{_guidish(rid, 'oidc')}/"},
            }
        )
    elif t == "microsoft.cdn/profiles/afdendpoints":
        extra["hostName"] = f"{short}-{_guidish(rid)[:8]}.z01.azurefd.net"
    elif t == "microsoft.storage/storageaccounts":
        extra["primaryEndpoints"] = {"blob": f"https://{short}.blob.core.windows.net/", "file": f"https://{short}.file.core.windows.net/"}
    elif t == "microsoft.operationalinsights/workspaces":
        extra["customerId"] = _guidish(rid, "customer")
    elif t == "microsoft.insights/components":
        extra.update({"InstrumentationKey": _guidish(rid, "ikey"), "ConnectionString": f"InstrumentationKey={_guidish(rid, 'ikey')}"})
    return _merge(properties, extra)


def _keys(rid: str) -> dict[str, Any]:
    token = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_URL, rid).bytes * 2).decode()
    if "redisenterprise" in rid.lower():
        return {"primaryKey": token, "secondaryKey": token[::-1]}
    return {"keys": [{"keyName": "key1", "value": token, "permissions": "FULL"}, {"keyName": "key2", "value": token[::-1], "permissions": "FULL"}]}
