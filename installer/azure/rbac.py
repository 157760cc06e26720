"""Effective Azure RBAC permissions, evaluated from actions/notActions (never from role names).

Rules (learn.microsoft.com role-based-access-control/role-definitions): an action is granted
when some role assignment that applies at the scope has a permission block whose ``actions``
match it and whose ``notActions`` do not. ``*`` matches any run of characters; matching is
case-insensitive. notActions only subtract within their own block — another role can grant the
action back. Deny assignments, ABAC conditions and inactive PIM-eligible roles are not evaluated
here; the checks report them as warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class PermissionBlock:
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleDefinition:
    id: str
    name: str  # display name, for messages only
    permissions: tuple[PermissionBlock, ...] = ()


@dataclass(frozen=True)
class RoleAssignment:
    scope: str
    role_definition_id: str
    condition: str | None = None
    principal_type: str = ""


@dataclass(frozen=True)
class Grant:
    action: str
    allowed: bool
    via: tuple[str, ...] = ()  # role names that grant it
    conditional_only: bool = False  # every granting assignment carries an ABAC condition
    conditions: tuple[str, ...] = field(default=())


@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    return bool(_pattern(pattern).match(action))


def block_grants(block: PermissionBlock, action: str) -> bool:
    return any(action_matches(p, action) for p in block.actions) and not any(
        action_matches(p, action) for p in block.not_actions
    )


def role_id(value: str) -> str:
    """The GUID at the end of a role definition id (definitions appear under several scopes)."""
    return value.rstrip("/").rsplit("/", 1)[-1].lower()


def applies_at(assignment_scope: str, scope: str) -> bool:
    """An assignment applies at ``scope`` when it is made there or above (MG and root scopes count:
    the list API only returns management groups that contain the subscription)."""
    a = assignment_scope.rstrip("/").lower()
    s = scope.rstrip("/").lower()
    if a in ("", "/") or a.startswith("/providers/microsoft.management/managementgroups/"):
        return True
    return s == a or s.startswith(a + "/")


def evaluate(
    action: str,
    scope: str,
    assignments: Iterable[RoleAssignment],
    definitions: dict[str, RoleDefinition],
) -> Grant:
    via: list[str] = []
    conditions: list[str] = []
    unconditional = False
    for ra in assignments:
        if not applies_at(ra.scope, scope):
            continue
        definition = definitions.get(role_id(ra.role_definition_id))
        if definition is None:
            continue
        if any(block_grants(b, action) for b in definition.permissions):
            via.append(definition.name)
            if ra.condition:
                conditions.append(ra.condition)
            else:
                unconditional = True
    return Grant(
        action=action,
        allowed=bool(via),
        via=tuple(dict.fromkeys(via)),
        conditional_only=bool(via) and not unconditional,
        conditions=tuple(dict.fromkeys(conditions)),
    )
