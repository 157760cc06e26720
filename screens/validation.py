"""Validate a step's edits with the plan model itself, so the UI shows the engine's own words."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from installer.answers import describe_errors
from installer.plan import InstallPlan


def _merge(base: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not key.endswith("!"):
            out[key] = _merge(out[key], value)
        else:
            out[key.rstrip("!")] = value
    return out


def try_update(plan: InstallPlan, updates: dict[str, Any]) -> tuple[InstallPlan | None, dict[str, str]]:
    """``plan`` with ``updates`` applied, or None and ``{"compose.ports": "message", …}``.

    Nested dicts merge; a key ending in ``!`` replaces its value whole (e.g. ``"ports!": {...}``)
    so a field the person cleared really goes away.
    """
    data = _merge(plan.model_dump(mode="json", by_alias=True), updates)
    try:
        return InstallPlan.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err, line in zip(exc.errors(include_url=False), describe_errors(exc), strict=True):
            path = ".".join(str(p) for p in err["loc"])
            message = line.split(": ", 1)[1] if ": " in line else line
            errors.setdefault(path, message)
        return None, errors


def error_for(errors: dict[str, str], path: str) -> str | None:
    """The error that belongs to the field at ``path`` (its own, or a deeper one such as a dict key)."""
    if path in errors:
        return errors[path]
    for key, message in errors.items():
        if key.startswith(path + "."):
            return message
    return None
