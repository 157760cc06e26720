"""Azure Policy: assignments that restrict regions or resource types, plus a deny dry-run.

Two sources, because neither is complete alone: well-known built-in definitions are read from the
assignments' parameters (clear findings naming the assignment), and ``checkPolicyRestrictions``
asks Azure Policy itself what it would deny for each resource type in the region — which also
covers initiatives and custom definitions we cannot interpret.
"""

from __future__ import annotations

from typing import Any

from installer.azure import requirements
from installer.azure.subscriptions import normalize_region
from installer.azure.clients import sdk_import
from installer.checks.azure.run import AzureRun, azure_check, result, text
from installer.checks.base import CheckResult, Status

ALLOWED_LOCATIONS = {"e56962a6-4747-49cd-b67b-bf8b01975c4c", "e765b5de-1225-4ba3-bd56-1ac6695af988"}
NOT_ALLOWED_TYPES = {"6c112d4e-5bc7-47ae-a041-ea2d9dccd749"}
ALLOWED_TYPES = {"a08ec900-254a-4555-9bf5-e42af04b5c5c"}


def _props(pa: Any) -> Any:
    return getattr(pa, "properties", None) or pa


def _param(props: Any, name: str) -> list[str] | None:
    params = getattr(props, "parameters", None) or {}
    for key, value in params.items():
        if key.lower() == name.lower():
            raw = getattr(value, "value", value)
            return [str(v) for v in raw] if isinstance(raw, list) else None
    return None


def _applies(props: Any, rg_scope: str) -> bool:
    if (text(getattr(props, "enforcement_mode", None)) or "Default").lower() == "donotenforce":
        return False
    for excluded in getattr(props, "not_scopes", None) or []:
        ex = str(excluded).rstrip("/").lower()
        if rg_scope.lower() == ex or rg_scope.lower().startswith(ex + "/"):
            return False
    return True


@azure_check("azure.policy", "Azure Policy allows the region and resource types")
def check_policy(run: AzureRun) -> CheckResult:
    cid, title = "azure.policy", "Azure Policy allows the region and resource types"
    sub, loc = run.require_subscription(), normalize_region(run.require_location())
    CheckRestrictionsRequest = sdk_import("azure.mgmt.policyinsights.models", "CheckRestrictionsRequest")
    CheckRestrictionsResourceDetails = sdk_import("azure.mgmt.policyinsights.models", "CheckRestrictionsResourceDetails")
    PendingField = sdk_import("azure.mgmt.policyinsights.models", "PendingField")

    types = [t for t in requirements.resource_types(run.plan) if t.regional]
    insights = run.clients.policy_insights(sub)

    def dry_run(rtype: requirements.ResourceType) -> Any:
        body = CheckRestrictionsRequest(
            resource_details=CheckRestrictionsResourceDetails(resource_content={"type": rtype.full, "name": f"fabrix-{run.plan.name}"}),
            pending_fields=[PendingField(field="location", values=[loc])],
        )
        return insights.policy_restrictions.check_at_subscription_scope(body)

    assignments, *dry = run.parallel(
        lambda: list(run.clients.policy(sub).policy_assignments.list(filter="atScope()")),
        *[(lambda t=t: dry_run(t)) for t in types],
    )
    findings: list[str] = []
    assignment_ids: list[str] = []
    allowed_regions: set[str] | None = None
    initiatives = 0
    for pa in assignments:
        props = _props(pa)
        definition = str(getattr(props, "policy_definition_id", "") or "")
        guid = definition.rstrip("/").rsplit("/", 1)[-1].lower()
        name = str(getattr(props, "display_name", None) or getattr(pa, "name", "") or guid)
        if "/policysetdefinitions/" in definition.lower():
            initiatives += 1
        if not _applies(props, run.resource_group_scope):
            continue
        if guid in ALLOWED_LOCATIONS:
            allowed = [normalize_region(x) for x in (_param(props, "listOfAllowedLocations") or [])]
            if allowed and loc not in allowed and "global" not in allowed:
                findings.append(f"'{name}' allows only {', '.join(allowed)}")
                assignment_ids.append(str(getattr(pa, "id", "")))
                allowed_regions = set(allowed) if allowed_regions is None else allowed_regions & set(allowed)
        elif guid in NOT_ALLOWED_TYPES:
            blocked = {x.lower() for x in (_param(props, "listOfResourceTypesNotAllowed") or [])}
            hit = [t.full for t in requirements.resource_types(run.plan) if t.full.lower() in blocked]
            if hit:
                findings.append(f"'{name}' forbids {', '.join(hit)}")
                assignment_ids.append(str(getattr(pa, "id", "")))
        elif guid in ALLOWED_TYPES:
            permitted = {x.lower() for x in (_param(props, "listOfResourceTypesAllowed") or [])}
            hit = [t.full for t in requirements.resource_types(run.plan) if permitted and t.full.lower() not in permitted]
            if hit:
                findings.append(f"'{name}' does not allow {', '.join(hit)}")
                assignment_ids.append(str(getattr(pa, "id", "")))
    denied_by_dry_run: list[str] = []
    for rtype, res in zip(types, dry, strict=True):
        for fr in getattr(res, "field_restrictions", None) or []:
            if text(fr.field).lower() != "location":
                continue
            for r in fr.restrictions or []:
                values = [normalize_region(v) for v in (r.values or [])]
                if text(r.result).lower() == "deny" and (not values or loc in values):
                    denied_by_dry_run.append(f"{rtype.full} in {loc}")
                    pid = getattr(getattr(r, "policy", None), "policy_assignment_id", None)
                    if pid:
                        assignment_ids.append(str(pid))
        for ev in getattr(getattr(res, "content_evaluation_result", None), "policy_evaluations", None) or []:
            if text(ev.evaluation_result).lower() == "noncompliant":
                denied_by_dry_run.append(rtype.full)
                pid = getattr(getattr(ev, "policy_info", None), "policy_assignment_id", None)
                if pid:
                    assignment_ids.append(str(pid))
    denied_by_dry_run = list(dict.fromkeys(denied_by_dry_run))
    assignment_ids = [a for a in dict.fromkeys(assignment_ids) if a]
    details = {"assignments": len(assignments), "initiatives": initiatives, "denied": denied_by_dry_run, "assignment_ids": assignment_ids}
    if findings or denied_by_dry_run:
        found = "; ".join(findings + ([f"policy dry-run denies: {', '.join(denied_by_dry_run)}"] if denied_by_dry_run else []))
        choose = f"choose an allowed region ({', '.join(sorted(allowed_regions))}) or " if allowed_regions else ""
        exemption = (f"`az policy exemption create --name fabrix-{run.plan.name} --policy-assignment {assignment_ids[0]} "
                     f"--exemption-category Waiver --scope {run.resource_group_scope}`") if assignment_ids else "a policy exemption"
        return result(cid, title, Status.fail, found,
                      f"{choose}ask a Resource Policy Contributor or Owner at the assignment's scope for {exemption}", **details)
    return result(cid, title, Status.passed,
                  f"{len(assignments)} assignment(s) ({initiatives} initiative(s)); none denies {loc} or the {len(types)} regional resource types (dry-run clean)",
                  **details)
