"""The launch preview: ARM what-if on the exact template and parameters, in counts and details.

ARM's what-if (``POST .../deployments/{name}/whatIf``; notes/azure-launch.md §1 "What-if") lists
one change per resource: Create, Delete, Ignore, Deploy, NoChange, Modify, Unsupported. We count
them and keep every Modify and Delete in detail. A Modify or Delete of a resource that exists and
does *not* carry this install's ownership tag (``fabrix-install = <name>``) touches something this
install does not own: the launch refuses it unless the person passes ``--allow-foreign-changes``
(``--yes`` alone is not enough — it answers "launch?", not "change someone else's resource?").

What-if is noisy (provider-filled properties show up as Modify, see the notes' pitfalls 4–5), so
the preview shows the changes and never gates on "no changes".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from installer.labels import TAG_INSTALL

COUNTED = ("create", "modify", "delete", "noChange")


@dataclass(frozen=True)
class Change:
    resource_id: str
    change_type: str  # lowercase first letter, as stacks spell it: create, modify, delete, noChange …
    owned: bool  # the resource exists and carries this install's tag (or does not exist yet)
    paths: list[str] = field(default_factory=list)  # changed property paths (Modify)

    @property
    def name(self) -> str:
        return self.resource_id.rsplit("/providers/", 1)[-1]

    def describe(self) -> str:
        what = f"{self.change_type} {self.name}"
        if self.paths:
            what += f" ({', '.join(self.paths[:6])}{' …' if len(self.paths) > 6 else ''})"
        return what + ("" if self.owned else " — NOT owned by this install")


@dataclass(frozen=True)
class Preview:
    counts: dict[str, int]
    changes: list[Change]  # every modify and delete, in ARM's order
    other: int = 0  # ignore / deploy / unsupported

    @property
    def foreign(self) -> list[Change]:
        """Modifies and deletes of resources this install does not own."""
        return [c for c in self.changes if not c.owned]

    def headline(self) -> str:
        c = self.counts
        return (f"{c.get('create', 0)} to create, {c.get('modify', 0)} to modify, "
                f"{c.get('delete', 0)} to delete, {c.get('noChange', 0)} unchanged")

    def to_json(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "changes": [asdict(c) | {"name": c.name} for c in self.changes],
                "foreign": [c.resource_id for c in self.foreign], "other": self.other}


def _get(obj: Any, *names: str) -> Any:
    """A field of an SDK model or of a plain dict (the SDK returns either, by version); enums
    as their wire value (``str()`` of an SDK enum is its Python name, not ARM's word)."""
    for name in names:
        value = None
        if isinstance(obj, dict):
            value = obj.get(name)
        elif not isinstance(obj, (str, bytes)):
            value = getattr(obj, name, None)
        if value is not None:
            return value.value if isinstance(value, Enum) else value
    return None


def _canon(change_type: str) -> str:
    t = (change_type or "").strip()
    return t[:1].lower() + t[1:] if t else "unsupported"


def _paths(delta: Any) -> list[str]:
    out: list[str] = []
    for item in delta or []:
        path = _get(item, "path")
        children = _get(item, "children")
        if children:
            out += [f"{path}.{p}" for p in _paths(children)]
        elif path:
            out.append(str(path))
    return out


def preview_from_whatif(result: Any, install: str) -> Preview:
    """``Preview`` of a what-if result (``WhatIfOperationResult`` or its JSON)."""
    changes_in = _get(result, "changes")
    if changes_in is None:
        changes_in = _get(_get(result, "properties") or {}, "changes") or []
    counts = {k: 0 for k in COUNTED}
    kept: list[Change] = []
    other = 0
    for item in changes_in:
        kind = _canon(str(_get(item, "change_type", "changeType") or ""))
        if kind in counts:
            counts[kind] += 1
        else:
            other += 1
        if kind not in ("modify", "delete"):
            continue
        before = _get(item, "before") or {}
        tags = (before.get("tags") if isinstance(before, dict) else None) or {}
        owned = str(tags.get(TAG_INSTALL, "")) == install
        kept.append(Change(str(_get(item, "resource_id", "resourceId") or ""), kind, owned, _paths(_get(item, "delta"))))
    return Preview(counts, kept, other)
