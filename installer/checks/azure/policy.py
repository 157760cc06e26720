"""Azure Policy: assignments that restrict regions or resource types, plus a deny dry-run.

Two sources, because neither is complete alone:
- the assignments at the deployment's scope, read like Azure Policy reads them: enforcement mode,
  ``notScopes``, ``resourceSelectors`` (the assignment covers only matching resources), the
  *effect* resolved from the definition's default, the assignment's parameter or — inside an
  initiative — the initiative's parameter, and ``overrides`` of kind ``policyEffect``. Only an
  effect of Deny blocks a deployment; Audit and Disabled do not. Well-known built-ins (allowed
  locations, (not) allowed resource types) then give findings that name the assignment;
- ``checkPolicyRestrictions``: Azure Policy's own dry run for each resource type in the region.
  At resource-group scope when the group exists (it then honours a ``notScopes`` exclusion of the
  group), at subscription scope otherwise — and the finding says which.

Sources of the body shapes: Azure/azure-rest-api-specs Microsoft.Authorization 2023-04-01 examples
getPolicyAssignmentWithOverrides.json, getPolicyAssignmentWithResourceSelectors.json,
getBuiltinPolicyDefinition.json (see tests/azure/bodies/SOURCES.json).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from azure.core.rest import HttpRequest

from installer.azure import requirements
from installer.azure.clients import sdk_import
from installer.azure.subscriptions import normalize_region
from installer.checks.azure import facts
from installer.checks.azure.run import AzureRun, azure_check, missing_is_none, result, text
from installer.checks.base import CheckResult, Status

ALLOWED_LOCATIONS = {"e56962a6-4747-49cd-b67b-bf8b01975c4c", "e765b5de-1225-4ba3-bd56-1ac6695af988"}
RG_LOCATIONS = {"e765b5de-1225-4ba3-bd56-1ac6695af988"}  # applies to resource groups only
NOT_ALLOWED_TYPES = {"6c112d4e-5bc7-47ae-a041-ea2d9dccd749"}
ALLOWED_TYPES = {"a08ec900-254a-4555-9bf5-e42af04b5c5c"}
KNOWN = ALLOWED_LOCATIONS | NOT_ALLOWED_TYPES | ALLOWED_TYPES
DEFINITION_API = "2023-04-01"
# The effect of the built-ins we interpret, so a direct assignment costs no definition fetch:
# Azure/azure-policy built-in-policies/policyDefinitions/General/AllowedLocations_Deny.json
# (v1.0.0: "deny", no parameter), ResourceGroupAllowedLocations_Deny.json ("deny"),
# InvalidResourceTypes_Deny.json (v2.0.0: "[parameters('effect')]", default "Deny").
# Others (Allowed resource types) are fetched.
BUILTIN_EFFECTS: dict[str, tuple[str, dict[str, Any]]] = {
    "e56962a6-4747-49cd-b67b-bf8b01975c4c": ("deny", {}),
    "e765b5de-1225-4ba3-bd56-1ac6695af988": ("deny", {}),
    "6c112d4e-5bc7-47ae-a041-ea2d9dccd749": ("[parameters('effect')]", {"effect": "Deny"}),
}
_PARAM = re.compile(r"^\[parameters\('([^']+)'\)\]$", re.IGNORECASE)


def _get(obj: Any, key: str, attr: str | None = None) -> Any:
    """A field of an SDK model or of a plain JSON dict."""
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, attr or key, None)


def _param_values(params: Any) -> dict[str, Any]:
    """{name (lower case): value} of an assignment's or a member's ``parameters``."""
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        out[str(key).lower()] = value.get("value") if isinstance(value, dict) else getattr(value, "value", value)
    return out


def _defaults(definition: dict[str, Any]) -> dict[str, Any]:
    params = (definition.get("properties") or {}).get("parameters") or {}
    return {k.lower(): v.get("defaultValue") for k, v in params.items() if isinstance(v, dict) and "defaultValue" in v}


def _resolve(value: Any, given: dict[str, Any], defaults: dict[str, Any]) -> Any:
    """A literal, or ``[parameters('x')]`` looked up in ``given`` then ``defaults``."""
    if isinstance(value, str):
        m = _PARAM.match(value.strip())
        if m:
            name = m.group(1).lower()
            return given.get(name, defaults.get(name))
    return value


def _guid(definition_id: str) -> str:
    return definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@dataclass
class Member:
    """One policy definition an assignment applies (itself, or one member of its initiative)."""

    definition_id: str
    reference_id: str = ""
    effect: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # resolved parameter values (lower-case names)


def _fetch(run: AzureRun, definition_id: str) -> dict[str, Any] | None:
    sub = run.require_subscription()
    guid = _guid(definition_id)
    if definition_id.lower().startswith("/providers/microsoft.authorization/policydefinitions/") and guid in BUILTIN_EFFECTS:
        effect, defaults = BUILTIN_EFFECTS[guid]
        return {"properties": {"policyRule": {"then": {"effect": effect}},
                               "parameters": {k: {"defaultValue": v} for k, v in defaults.items()}}}

    def get() -> dict[str, Any] | None:
        def call() -> dict[str, Any]:
            response = run.clients.resources(sub).send_request(HttpRequest("GET", f"{definition_id}?api-version={DEFINITION_API}"))
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]

        return missing_is_none(call)()

    return run.fact(f"policydef:{definition_id.lower()}", get)


def _members(run: AzureRun, props: Any) -> list[Member]:
    """The assignment's definitions that we interpret, with effect and parameters resolved."""
    definition_id = str(_get(props, "policyDefinitionId", "policy_definition_id") or "")
    given = _param_values(_get(props, "parameters"))
    if "/policysetdefinitions/" not in definition_id.lower():
        if _guid(definition_id) not in KNOWN:
            return []
        d = _fetch(run, definition_id) or {}
        defaults = _defaults(d)
        rule_effect = (((d.get("properties") or {}).get("policyRule") or {}).get("then") or {}).get("effect", "deny")
        params = {**defaults, **given}
        return [Member(definition_id, "", str(_resolve(rule_effect, given, defaults) or "deny"), params)]
    s = _fetch(run, definition_id) or {}
    set_defaults = _defaults(s)
    chosen = [m for m in ((s.get("properties") or {}).get("policyDefinitions") or []) if _guid(str(m.get("policyDefinitionId", ""))) in KNOWN]
    out: list[Member] = []
    fetched = run.parallel(*[(lambda m=m: _fetch(run, str(m["policyDefinitionId"])) or {}) for m in chosen])
    for m, d in zip(chosen, fetched, strict=True):
        defaults = _defaults(d)
        # A member's parameter is a literal or "[parameters('x')]" of the initiative.
        member_params = {k: _resolve(v, given, set_defaults) for k, v in _param_values(m.get("parameters")).items()}
        params = {**defaults, **{k: v for k, v in member_params.items() if v is not None}}
        rule_effect = (((d.get("properties") or {}).get("policyRule") or {}).get("then") or {}).get("effect", "deny")
        effect = _resolve(rule_effect, params, defaults)
        out.append(Member(str(m["policyDefinitionId"]), str(m.get("policyDefinitionReferenceId", "")), str(effect or "deny"), params))
    return out


def _selector_matches(selector: Any, location: str, rtype: str | None, reference_id: str = "") -> bool:
    kind = text(_get(selector, "kind")).lower()
    ins = [str(x).lower() for x in (_get(selector, "in", "in_property") or [])]
    not_in = [str(x).lower() for x in (_get(selector, "notIn", "not_in") or [])]
    value = {"resourcelocation": normalize_region(location), "resourcetype": (rtype or "").lower(),
             "policydefinitionreferenceid": reference_id.lower()}.get(kind)
    if value is None:  # resourceWithoutLocation and kinds we do not know: assume it applies
        return True
    if kind == "resourcelocation":
        ins, not_in = [normalize_region(x) for x in ins], [normalize_region(x) for x in not_in]
    if ins and value not in ins:
        return False
    return not (not_in and value in not_in)


def _covers(props: Any, location: str, rtype: str | None) -> bool:
    """``resourceSelectors``: the assignment covers a resource only when one selector set matches it."""
    selectors = _get(props, "resourceSelectors", "resource_selectors") or []
    if not selectors:
        return True
    return any(all(_selector_matches(s, location, rtype) for s in (_get(rs, "selectors") or [])) for rs in selectors)


def _effect(props: Any, member: Member, location: str, rtype: str | None) -> str:
    """The member's effect after the assignment's ``overrides`` (kind policyEffect)."""
    effect = member.effect
    for o in _get(props, "overrides") or []:
        if text(_get(o, "kind")).lower() != "policyeffect":
            continue
        if all(_selector_matches(s, location, rtype, member.reference_id) for s in (_get(o, "selectors") or [])):
            effect = str(_get(o, "value") or effect)
    return effect


def _applies(props: Any, rg_scope: str) -> bool:
    if (text(_get(props, "enforcementMode", "enforcement_mode")) or "Default").lower() == "donotenforce":
        return False
    for excluded in _get(props, "notScopes", "not_scopes") or []:
        ex = str(excluded).rstrip("/").lower()
        if rg_scope.lower() == ex or rg_scope.lower().startswith(ex + "/"):
            return False
    return True


def _list_param(params: dict[str, Any], name: str) -> list[str] | None:
    value = params.get(name.lower())
    return [str(v) for v in value] if isinstance(value, list) else None


def _dry_run_denials(types: list[requirements.ResourceType], dry: list[Any], loc: str) -> tuple[list[str], list[str]]:
    """(what the dry runs deny, the assignment ids they name)."""
    denied: list[str] = []
    ids: list[str] = []
    for rtype, res in zip(types, dry, strict=True):
        for fr in getattr(res, "field_restrictions", None) or []:
            if text(fr.field).lower() != "location":
                continue
            for r in fr.restrictions or []:
                values = [normalize_region(v) for v in (r.values or [])]
                if text(r.result).lower() == "deny" and (not values or loc in values):
                    denied.append(f"{rtype.full} in {loc}")
                    pid = getattr(getattr(r, "policy", None), "policy_assignment_id", None)
                    if pid:
                        ids.append(str(pid))
        for ev in getattr(getattr(res, "content_evaluation_result", None), "policy_evaluations", None) or []:
            if text(ev.evaluation_result).lower() == "noncompliant":
                denied.append(rtype.full)
                pid = getattr(getattr(ev, "policy_info", None), "policy_assignment_id", None)
                if pid:
                    ids.append(str(pid))
    return list(dict.fromkeys(denied)), ids


@azure_check("azure.policy", "Azure Policy allows the region and resource types")
def check_policy(run: AzureRun) -> CheckResult:
    cid, title = "azure.policy", "Azure Policy allows the region and resource types"
    sub, loc = run.require_subscription(), normalize_region(run.require_location())
    CheckRestrictionsRequest = sdk_import("azure.mgmt.policyinsights.models", "CheckRestrictionsRequest")
    CheckRestrictionsResourceDetails = sdk_import("azure.mgmt.policyinsights.models", "CheckRestrictionsResourceDetails")
    PendingField = sdk_import("azure.mgmt.policyinsights.models", "PendingField")

    all_types = requirements.resource_types(run.plan)
    types = [t for t in all_types if t.regional]
    insights = run.clients.policy_insights(sub)

    def request(rtype: requirements.ResourceType) -> Any:
        return CheckRestrictionsRequest(
            resource_details=CheckRestrictionsResourceDetails(resource_content={"type": rtype.full, "name": f"fabrix-{run.plan.name}"}),
            pending_fields=[PendingField(field="location", values=[loc])],
        )

    def group_dry_run(rtype: requirements.ResourceType) -> Any:
        """At the resource group (honours a notScopes exclusion of it); None when it does not exist."""
        return missing_is_none(lambda: insights.policy_restrictions.check_at_resource_group_scope(run.names.resource_group, request(rtype)))()

    def subscription_dry_run(rtype: requirements.ResourceType) -> Any:
        return insights.policy_restrictions.check_at_subscription_scope(request(rtype))

    # One round: the assignments, whether the group exists, and the dry runs at the group (ARM
    # answers 404 when it does not exist; then they are repeated at subscription scope).
    rg_exists, assignments, *dry = run.parallel(
        lambda: facts.resource_group_exists(run),
        lambda: list(run.clients.policy(sub).policy_assignments.list(filter="atScope()")),
        *[(lambda t=t: group_dry_run(t)) for t in types],
    )
    if not rg_exists or any(d is None for d in dry):
        rg_exists = False
        dry = run.parallel(*[(lambda t=t: subscription_dry_run(t)) for t in types])
    initiatives = 0
    relevant = []
    for pa in assignments:
        props = getattr(pa, "properties", None) or pa
        definition = str(_get(props, "policyDefinitionId", "policy_definition_id") or "")
        if "/policysetdefinitions/" in definition.lower():
            initiatives += 1
        if _applies(props, run.resource_group_scope):
            relevant.append((pa, props))
    denied_by_dry_run, dry_ids = _dry_run_denials(types, dry, loc)
    # Initiatives are read (one more round) only when the dry run denies something, to name the
    # assignment and what it forbids; the dry run itself already resolved their effects.
    interpret = [(pa, props) for pa, props in relevant
                 if denied_by_dry_run or "/policysetdefinitions/" not in str(_get(props, "policyDefinitionId", "policy_definition_id") or "").lower()]
    member_lists = run.parallel(*[(lambda p=p: _members(run, p)) for _, p in interpret])
    relevant = interpret
    findings: list[str] = []
    notes: list[str] = []
    assignment_ids: list[str] = []
    allowed_regions: set[str] | None = None
    for (pa, props), members in zip(relevant, member_lists, strict=True):
        name = str(_get(props, "displayName", "display_name") or getattr(pa, "name", "") or "")
        pid = str(getattr(pa, "id", "") or "")
        for m in members:
            guid = _guid(m.definition_id)
            if guid in ALLOWED_LOCATIONS:
                if guid in RG_LOCATIONS and rg_exists:
                    continue  # only a resource group's own location, and ours exists already
                if not _covers(props, loc, None):
                    notes.append(f"'{name}' does not cover {loc} (resourceSelectors)")
                    continue
                effect = _effect(props, m, loc, None)
                allowed = [normalize_region(x) for x in (_list_param(m.params, "listOfAllowedLocations") or [])]
                # "global" in the list admits global resources; regional ones still need their region.
                if allowed and loc not in allowed:
                    if effect.lower() != "deny":
                        notes.append(f"'{name}' allows only {', '.join(allowed)} but its effect is {effect} (not enforced as deny)")
                        continue
                    findings.append(f"'{name}' allows only {', '.join(allowed)}")
                    assignment_ids.append(pid)
                    regional = {a for a in allowed if a != "global"}
                    allowed_regions = regional if allowed_regions is None else allowed_regions & regional
            elif guid in NOT_ALLOWED_TYPES or guid in ALLOWED_TYPES:
                listed = {x.lower() for x in (_list_param(m.params, "listOfResourceTypesNotAllowed" if guid in NOT_ALLOWED_TYPES else "listOfResourceTypesAllowed") or [])}
                if not listed:
                    continue
                hit = [t.full for t in all_types if (t.full.lower() in listed) == (guid in NOT_ALLOWED_TYPES)
                       and _covers(props, loc if t.regional else "global", t.full)]
                denied = [t for t in hit if _effect(props, m, loc, t).lower() == "deny"]
                if len(denied) < len(hit):
                    notes.append(f"'{name}' lists {', '.join(sorted(set(hit) - set(denied)))} with a non-deny effect")
                if denied:
                    verb = "forbids" if guid in NOT_ALLOWED_TYPES else "does not allow"
                    findings.append(f"'{name}' {verb} {', '.join(denied)}")
                    assignment_ids.append(pid)
    assignment_ids += dry_ids
    denied_by_dry_run = list(dict.fromkeys(denied_by_dry_run))
    assignment_ids = [a for a in dict.fromkeys(assignment_ids) if a]
    scope_note = (f"dry run at resource group {run.names.resource_group}" if rg_exists else
                  "dry run at subscription scope (the resource group does not exist yet, so an exclusion of it is not seen)")
    details = {"assignments": len(assignments), "initiatives": initiatives, "denied": denied_by_dry_run,
               "assignment_ids": assignment_ids, "dry_run_scope": "resourceGroup" if rg_exists else "subscription", "notes": notes}
    if findings or denied_by_dry_run:
        found = "; ".join(findings + ([f"policy dry-run denies: {', '.join(denied_by_dry_run)}"] if denied_by_dry_run else []))
        choose = f"choose an allowed region ({', '.join(sorted(allowed_regions))}) or " if allowed_regions else ""
        exemption = (f"`az policy exemption create --name fabrix-{run.plan.name} --policy-assignment {assignment_ids[0]} "
                     f"--exemption-category Waiver --scope {run.resource_group_scope}`") if assignment_ids else "a policy exemption"
        return result(cid, title, Status.fail, f"{found} ({scope_note})",
                      f"{choose}ask a Resource Policy Contributor or Owner at the assignment's scope for {exemption}", **details)
    extra = f"; {'; '.join(notes)}" if notes else ""
    return result(cid, title, Status.passed,
                  f"{len(assignments)} assignment(s) ({initiatives} initiative(s)); none denies {loc} or the {len(types)} regional "
                  f"resource types ({scope_note}: clean){extra}", **details)
