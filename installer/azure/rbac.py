"""Effective Azure RBAC permissions, evaluated from actions/notActions (never from role names).

Rules (learn.microsoft.com role-based-access-control/role-definitions): an action is granted
when some role assignment that applies at the scope has a permission block whose ``actions``
match it and whose ``notActions`` do not. ``*`` matches any run of characters; matching is
case-insensitive. notActions only subtract within their own block — another role can grant the
action back. Deny assignments (learn role-based-access-control/deny-assignments) win over every
grant: one applies when its scope is the target scope or above (``doNotApplyToChildScopes`` limits
it to its own scope), its principals name the caller or Everyone (the all-zero id, type
SystemDefined) and do not exclude the caller, and its actions match without a matching notAction.
ABAC conditions and inactive PIM-eligible roles are not evaluated here; the checks say so.
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
    builtin: bool = False  # properties.type == "BuiltInRole"

    def grants(self, action: str) -> bool:
        return any(block_grants(b, action) for b in self.permissions)


EVERYONE = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class DenyAssignment:
    id: str
    name: str  # denyAssignmentName, for messages
    scope: str
    permissions: tuple[PermissionBlock, ...] = ()
    principals: tuple[str, ...] = ()  # object ids; EVERYONE for all principals
    exclude_principals: tuple[str, ...] = ()
    do_not_apply_to_child_scopes: bool = False

    def applies_to(self, principal_id: str, scope: str) -> bool:
        a = self.scope.rstrip("/").lower()
        s = scope.rstrip("/").lower()
        at = s == a or (not self.do_not_apply_to_child_scopes and (a in ("", "/") or s.startswith(a + "/")))
        if not at:
            return False
        pid = principal_id.lower()
        if pid in {p.lower() for p in self.exclude_principals}:
            return False
        return any(p.lower() in (pid, EVERYONE) for p in self.principals)

    def denies(self, action: str) -> bool:
        return any(block_grants(b, action) for b in self.permissions)


def denied_by(action: str, scope: str, principal_id: str, denies: Iterable[DenyAssignment]) -> list[DenyAssignment]:
    """The deny assignments that block ``action`` at ``scope`` for the principal."""
    return [d for d in denies if d.applies_to(principal_id, scope) and d.denies(action)]


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
