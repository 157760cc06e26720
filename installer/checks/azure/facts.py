"""ARM facts several checks read, each fetched once per run (see ``run.AzureRun.fact``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from installer.azure import rbac
from installer.azure.subscriptions import RegionIndex, SubscriptionInfo, location_info, subscription_info
from installer.checks.azure.run import AzureRun, text


def subscription(run: AzureRun) -> SubscriptionInfo:
    sub = run.require_subscription()
    return run.fact("subscription", lambda: subscription_info(run.clients.subscriptions().subscriptions.get(sub)))


def regions(run: AzureRun) -> RegionIndex:
    sub = run.require_subscription()

    def fetch() -> RegionIndex:
        client = run.clients.subscriptions()
        return RegionIndex(location_info(loc) for loc in client.subscriptions.list_locations(sub))

    return run.fact("regions", fetch)


@dataclass(frozen=True)
class Provider:
    namespace: str
    state: str
    types: dict[str, list[str]]  # lower-case resource type → locations as listed (display names)


def providers(run: AzureRun) -> dict[str, Provider]:
    """Every provider namespace of the subscription, keyed by lower-case namespace (one call)."""
    sub = run.require_subscription()

    def fetch() -> dict[str, Provider]:
        out: dict[str, Provider] = {}
        for p in run.clients.resources(sub).providers.list():
            types = {
                str(t.resource_type).lower(): [str(loc) for loc in (t.locations or [])]
                for t in (p.resource_types or [])
                if t.resource_type
            }
            out[str(p.namespace).lower()] = Provider(str(p.namespace), text(p.registration_state), types)
        return out

    return run.fact("providers", fetch)


@dataclass(frozen=True)
class Rbac:
    assignments: list[rbac.RoleAssignment]
    definitions: dict[str, rbac.RoleDefinition]

    def grant(self, action: str, scope: str) -> rbac.Grant:
        return rbac.evaluate(action, scope, self.assignments, self.definitions)


def _definition(d: Any) -> rbac.RoleDefinition:
    blocks = tuple(
        rbac.PermissionBlock(tuple(p.actions or ()), tuple(p.not_actions or ())) for p in (d.permissions or [])
    )
    builtin = text(getattr(d, "role_type", None) or getattr(d, "type_properties_type", None)).lower() == "builtinrole"
    return rbac.RoleDefinition(rbac.role_id(str(d.id)), str(d.role_name or d.name or d.id), blocks, builtin)


def role_facts(run: AzureRun) -> Rbac:
    """The caller's role assignments (group memberships included: ``assignedTo``) and the
    definitions they use. Definitions are listed in the same round trip as the assignments; only
    a custom role defined elsewhere costs one more call."""
    sub = run.require_subscription()
    oid = run.session().principal.object_id

    def fetch() -> Rbac:
        client = run.clients.authorization(sub)
        scope = f"/subscriptions/{sub}"
        raw_assignments, raw_definitions = run.parallel(
            lambda: list(client.role_assignments.list_for_subscription(filter=f"assignedTo('{oid}')")),
            lambda: list(client.role_definitions.list(scope)),
        )
        definitions = {d.id: d for d in (_definition(x) for x in raw_definitions)}
        assignments = [
            rbac.RoleAssignment(
                scope=str(a.scope or ""),
                role_definition_id=str(a.role_definition_id or ""),
                condition=getattr(a, "condition", None) or None,
                principal_type=text(getattr(a, "principal_type", None)),
            )
            for a in raw_assignments
        ]
        missing = {a.role_definition_id for a in assignments if rbac.role_id(a.role_definition_id) not in definitions}
        if missing:
            for d in run.parallel(*[(lambda rid=rid: client.role_definitions.get_by_id(rid)) for rid in sorted(missing)]):
                definition = _definition(d)
                definitions[definition.id] = definition
        return Rbac(assignments, definitions)

    return run.fact("rbac", fetch)


def _deny(d: Any) -> rbac.DenyAssignment:
    blocks = tuple(
        rbac.PermissionBlock(tuple(p.actions or ()), tuple(p.not_actions or ())) for p in (d.permissions or [])
    )
    return rbac.DenyAssignment(
        id=str(d.id or ""),
        name=str(getattr(d, "deny_assignment_name", None) or d.name or d.id),
        scope=str(d.scope or ""),
        permissions=blocks,
        principals=tuple(str(p.id) for p in (d.principals or []) if getattr(p, "id", None)),
        exclude_principals=tuple(str(p.id) for p in (getattr(d, "exclude_principals", None) or []) if getattr(p, "id", None)),
        do_not_apply_to_child_scopes=bool(getattr(d, "do_not_apply_to_child_scopes", False)),
    )


def deny_assignments(run: AzureRun) -> list[rbac.DenyAssignment]:
    """Every deny assignment of the subscription — at it, above it (management groups) and below
    it (the list without ``atScope()``) — in one call that needs nothing else first; which ones
    cover the deployment's scope is decided locally (``rbac.DenyAssignment.applies_to``).
    Deployment stacks, managed applications and Blueprints create them; no role can override one."""
    sub = run.require_subscription()
    return run.fact("deny_assignments", lambda: [_deny(d) for d in run.clients.authorization(sub).deny_assignments.list()])


def resource_group_exists(run: AzureRun) -> bool:
    sub = run.require_subscription()
    return run.fact("rg_exists", lambda: bool(run.clients.resources(sub).resource_groups.check_existence(run.names.resource_group)))
