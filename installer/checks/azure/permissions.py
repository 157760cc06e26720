"""Can the signed-in principal deploy, and create the role assignments the managed identity needs?

Evaluated from the actions/notActions of every role assignment that applies (``installer.azure.rbac``),
never from role names: a custom role can grant what Owner grants, and Contributor cannot assign roles.
"""

from __future__ import annotations

from installer.checks.azure import facts
from installer.checks.azure.run import AzureRun, azure_check, result
from installer.checks.base import CheckResult, Status

DEPLOY = "Microsoft.Resources/deployments/write"
ASSIGN = "Microsoft.Authorization/roleAssignments/write"
CREATE_RG = "Microsoft.Resources/subscriptions/resourceGroups/write"
PIM_NOTE = "inactive PIM-eligible roles are not visible here: activate them in Privileged Identity Management first"


@azure_check("azure.permissions", "Permissions to deploy and assign roles")
def check_permissions(run: AzureRun) -> CheckResult:
    cid, title = "azure.permissions", "Permissions to deploy and assign roles"
    roles, rg_exists = run.parallel(lambda: facts.role_facts(run), lambda: facts.resource_group_exists(run))
    principal = run.session().principal
    rg_scope = run.resource_group_scope
    wanted = [(DEPLOY, rg_scope), (ASSIGN, rg_scope)]
    if not rg_exists:
        wanted.insert(0, (CREATE_RG, run.subscription_scope))
    grants = [(roles.grant(action, scope), scope) for action, scope in wanted]
    missing = [(g, scope) for g, scope in grants if not g.allowed]
    where = f"resource group {run.names.resource_group}" + ("" if rg_exists else " (to be created)")
    details = {
        "scope": rg_scope,
        "resource_group_exists": rg_exists,
        "grants": {g.action: {"allowed": g.allowed, "via": list(g.via), "conditions": list(g.conditions)} for g, _ in grants},
    }
    if missing:
        lines = []
        for g, scope in missing:
            role = "Role Based Access Control Administrator" if g.action == ASSIGN else "Contributor"
            lines.append(f"`az role assignment create --assignee {principal.object_id} --role \"{role}\" --scope {scope}`")
        found = (f"{principal.name} lacks {', '.join(g.action for g, _ in missing)} on {where}; "
                 f"roles that apply: {', '.join(sorted({d for g, _ in grants for d in g.via})) or 'none'}; {PIM_NOTE}")
        remedy = ("an Owner or User Access Administrator of the subscription grants it: " + " and ".join(lines)
                  + " (role assignments are needed for the install's managed identity: Key Vault secrets, registry pull)")
        return result(cid, title, Status.fail, found, remedy, **details)
    conditional = [g for g, _ in grants if g.conditional_only]
    summary = "; ".join(f"{g.action.split('/')[-2]}/{g.action.split('/')[-1]} via {', '.join(g.via)}" for g, _ in grants)
    if conditional:
        conds = "; ".join(c for g in conditional for c in g.conditions)
        return result(cid, title, Status.warn,
                      f"allowed on {where}, but only through role assignments with ABAC conditions ({conds[:400]}) — "
                      "they may forbid the roles the install assigns (Key Vault Secrets User, AcrPull)",
                      "ask the assignment's owner to allow those roles in the condition, or to grant an unconditioned "
                      "Role Based Access Control Administrator on the resource group", **details)
    return result(cid, title, Status.passed, f"allowed on {where}: {summary}. Note: {PIM_NOTE}", **details)
