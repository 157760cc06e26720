"""Per-resource progress from a deployment's operations (``GET .../deployments/{name}/operations``).

Each operation names its target resource and carries ``provisioningState`` (free text: Accepted,
Running, Succeeded, Failed …), ``timestamp``, ``duration`` (ISO-8601, ``PT21.05S``) and, on
failure, ``statusMessage.error{code,message,details}`` (notes/azure-launch.md §1 "Deployment
operations"). ``OperationTracker`` turns successive listings into one event per change of state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from installer.launch.azure.preview import _get
from installer.progress import State

# ARM's per-operation provisioningState → our row state.
_STATE = {"accepted": State.pending, "running": State.running, "creating": State.creating,
          "succeeded": State.done, "failed": State.failed, "canceled": State.failed}
_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>[\d.]+)S)?)?$")


def iso_seconds(text: str | None) -> float | None:
    """Seconds of an ISO-8601 duration (``PT1M21.5S`` → 81.5); None when absent or unreadable."""
    m = _DURATION.match(text or "")
    if not m or not text or text in ("P", "PT"):
        return None
    d, h, mi, s = (float(m.group(k) or 0) for k in ("d", "h", "m", "s"))
    return d * 86400 + h * 3600 + mi * 60 + s


@dataclass(frozen=True)
class OperationRow:
    resource: str  # type/name, e.g. Microsoft.KeyVault/vaults/fxkv-abc12
    resource_id: str
    arm_state: str  # ARM's own word
    state: State
    duration: float | None
    error_code: str = ""
    error_message: str = ""

    def message(self) -> str:
        took = f" in {self.duration:.0f}s" if self.duration is not None and self.state in (State.done, State.failed) else ""
        text = f"{self.arm_state.lower()}{took}"
        if self.error_code:
            text += f": {self.error_code}: {self.error_message}"
        return text


def _innermost(error: Any) -> tuple[str, str]:
    """The most specific (code, message) of an ARM error: the deepest first detail."""
    code, message = str(_get(error, "code") or ""), str(_get(error, "message") or "")
    details = _get(error, "details") or []
    if details:
        inner = _innermost(details[0])
        if inner[0]:
            return inner
    return code, message


def operation_row(op: Any) -> OperationRow | None:
    props = _get(op, "properties") or {}
    target = _get(props, "target_resource", "targetResource")
    if not target:
        return None  # e.g. EvaluateDeploymentOutput: no resource to show
    rtype = str(_get(target, "resource_type", "resourceType") or "")
    rname = str(_get(target, "resource_name", "resourceName") or "")
    rid = str(_get(target, "id") or "")
    arm_state = str(_get(props, "provisioning_state", "provisioningState") or "Accepted")
    status = _get(props, "status_message", "statusMessage") or {}
    error = _get(status, "error") if status else None
    code, message = _innermost(error) if error else ("", "")
    return OperationRow(
        resource=f"{rtype}/{rname}" if rtype else rname,
        resource_id=rid,
        arm_state=arm_state,
        state=_STATE.get(arm_state.lower(), State.running),
        duration=iso_seconds(_get(props, "duration")),
        error_code=code,
        error_message=message,
    )


class OperationTracker:
    """Remembers each resource's last state, so a listing yields only what changed."""

    def __init__(self) -> None:
        self.rows: dict[str, OperationRow] = {}

    def update(self, operations: list[Any]) -> list[OperationRow]:
        changed: list[OperationRow] = []
        for op in operations:
            row = operation_row(op)
            if row is None:
                continue
            key = row.resource_id or row.resource
            before = self.rows.get(key)
            if before is not None and (before.arm_state, before.error_code) == (row.arm_state, row.error_code):
                continue
            self.rows[key] = row
            changed.append(row)
        return changed

    def failed(self) -> list[OperationRow]:
        return [r for r in self.rows.values() if r.state is State.failed]
