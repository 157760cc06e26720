"""May the signed-in principal deploy *this* blueprint: every action it needs, at the right scope?

The actions come from the rendered foundation (``installer.azure.actions``): each resource type's
write, the deployment actions, role assignments for the install's identities, the resource group
when it must be created, and the launch's post-deploy calls. They are evaluated from the
actions/notActions of every role assignment that applies at that scope (``installer.azure.rbac``),
never from role names — "Application Owners"-style roles grant ``*`` but notAction
``virtualNetworks/write`` — and then against the deny assignments at that scope, which win over
any grant.
"""

from __future__ import annotations

from installer.azure import rbac
from installer.azure.actions import SUGGESTED_ROLES, NeededAction, needed_actions
from installer.checks.azure import facts
from installer.checks.azure.run import AzureRun, azure_check, result
from installer.checks.base import CheckResult, Status

CID, TITLE = "azure.permissions", "Permissions to deploy the blueprint and assign roles"
PIM_NOTE = "inactive PIM-eligible roles are not visible here: activate them in Privileged Identity Management first"


def _suggest(missing: list[str], definitions: dict[str, rbac.RoleDefinition]) -> list[tuple[str, list[str]]]:
    """Built-in roles that would grant ``missing``: one role if one does, else the fewest in order."""
    by_id = {d.id: d for d in definitions.values()}
    roles = [(name, by_id.get(rid)) for name, rid in SUGGESTED_ROLES]
    known = [(name, d) for name, d in roles if d is not None]
    for name, d in known:
        if all(d.grants(a) for a in missing):
            return [(name, list(missing))]
    left, picks = list(missing), []
    for name, d in known:
        covered = [a for a in left if d.grants(a)]
        if covered:
            picks.append((name, covered))
            left = [a for a in left if a not in covered]
    if left:
        picks.append(("a custom role", left))
    return picks


@azure_check(CID, TITLE)
def check_permissions(run: AzureRun) -> CheckResult:
    roles, rg_exists, denies = run.parallel(
        lambda: facts.role_facts(run), lambda: facts.resource_group_exists(run), lambda: facts.deny_assignments(run)
    )
    principal = run.session().principal
    scopes = {"resourceGroup": run.resource_group_scope, "subscription": run.subscription_scope}
    needed: list[NeededAction] = needed_actions(run.plan, rg_exists)
    grants = [(n, roles.grant(n.action, scopes[n.scope])) for n in needed]
    blocked = [(n, rbac.denied_by(n.action, scopes[n.scope], principal.object_id, denies)) for n in needed]
    blocked = [(n, ds) for n, ds in blocked if ds]
    missing = [(n, g) for n, g in grants if not g.allowed]
    where = f"resource group {run.names.resource_group}" + ("" if rg_exists else " (to be created)")
    via = sorted({d for _, g in grants for d in g.via})
    details = {
        "scope": run.resource_group_scope,
        "resource_group_exists": rg_exists,
        "needed": [n.action for n in needed],
        "missing": [n.action for n, _ in missing],
        "denied": {n.action: [d.name for d in ds] for n, ds in blocked},
        "roles": via,
        "deny_assignments_seen": len(denies),
    }
    findings: list[str] = []
    remedies: list[str] = []
    if missing:
        names = ", ".join(f"{n.action} (for {n.why})" for n, _ in missing)
        findings.append(f"{principal.name} lacks {names} on {where}; roles that apply: {', '.join(via) or 'none'}")
        for role, actions in _suggest([n.action for n, _ in missing], roles.definitions):
            scope = scopes["subscription"] if any(n.scope == "subscription" and n.action in actions for n, _ in missing) else scopes["resourceGroup"]
            if role == "a custom role":
                remedies.append(f"a custom role granting {', '.join(actions)}")
            else:
                remedies.append(f"`az role assignment create --assignee {principal.object_id} --role \"{role}\" --scope {scope}` "
                                f"(grants {', '.join(actions)})")
        details["suggested_roles"] = [r for r in remedies]
    if blocked:
        by_deny: dict[str, list[str]] = {}
        for n, ds in blocked:
            for d in ds:
                by_deny.setdefault(f"'{d.name}' at {d.scope}", []).append(n.action)
        findings.append("deny assignments block " + "; ".join(f"{', '.join(a)} ({k})" for k, a in by_deny.items()))
        remedies.append("a deny assignment overrides every role: deploy to a resource group it does not cover, or ask "
                        "its owner (the deployment stack, managed application or Blueprint that created it) to exclude you")
    if findings:
        return result(CID, TITLE, Status.fail, f"{'; '.join(findings)}; {PIM_NOTE}",
                      "an Owner or User Access Administrator grants it: " + " and ".join(remedies), **details)
    conditional = [g for _, g in grants if g.conditional_only]
    if conditional:
        conds = "; ".join(dict.fromkeys(c for g in conditional for c in g.conditions))
        return result(CID, TITLE, Status.warn,
                      f"allowed on {where}, but {', '.join(g.action for g in conditional)} only through role assignments "
                      f"with ABAC conditions ({conds[:400]}) — they may forbid the roles the install assigns (Key Vault Secrets User, AcrPull)",
                      "ask the assignment's owner to allow those roles in the condition, or to grant an unconditioned "
                      "Role Based Access Control Administrator on the resource group", **details)
    return result(CID, TITLE, Status.passed,
                  f"all {len(needed)} actions the blueprint needs are allowed on {where} via {', '.join(via)}; "
                  f"no deny assignment applies ({len(denies)} seen). Note: {PIM_NOTE}", **details)
