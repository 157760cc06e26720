"""State of the deploying fake ARM: the simulated clock and what exists (groups, resources,
deployments and their operations, stacks), plus the small JSON helpers they share.
See tests/azure/FAKE_ARM.md for how tests drive it."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.azure import arm_errors
from tests.azure.arm_eval import Scope, TemplateError

Reply = tuple[int, dict[str, str], Any]

EPOCH = dt.datetime(2026, 12, 4, 8, 0, 0, tzinfo=dt.timezone.utc)


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


def retry_headers(real: float) -> dict[str, str]:
    """How long a client should wait, in *real* time (the client sleeps in real time).

    ``Retry-After`` when that is whole seconds (ARM sends integers, and some SDK models deserialize
    the header as ``int``); otherwise only ``retry-after-ms``, which azure-core's ``get_retry_after``
    reads when ``Retry-After`` is absent (azure-core 1.41 ``pipeline/policies/_utils.py``: it checks
    ``retry-after`` first, then ``retry-after-ms`` / ``x-ms-retry-after-ms``). Nothing for 0: the
    SDK then uses its ``polling_interval``.
    """
    if real <= 0:
        return {}
    if float(real).is_integer():
        return {"Retry-After": str(int(real))}
    return {"retry-after-ms": str(max(1, int(round(real * 1000))))}


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

