"""Azure Policy for the fake ARM: definitions, initiatives, and ``checkPolicyRestrictions``.

The dry run enforces what Azure Policy enforces for the rules our scenarios use (learn
governance/policy/concepts/assignment-structure and effect-basics):
- ``enforcementMode: DoNotEnforce`` denies nothing;
- ``notScopes`` exclude a scope and everything below it — seen only when the request is made at
  that scope (``/resourceGroups/{rg}/…/checkPolicyRestrictions``), not at the subscription;
- ``resourceSelectors`` limit the assignment to matching resources (location / type, in / notIn);
- the effect comes from the definition (literal or ``[parameters('x')]`` with its default), the
  assignment's parameters, or for an initiative member the initiative's parameters, then the
  assignment's ``overrides`` of kind policyEffect; only Deny denies;
- the two built-in rules the scenarios assign: Allowed locations (location not in the list and not
  ``global``) and Not allowed resource types (type in the list).
Bodies: tests/azure/bodies/policy_definitions.json (from Azure/azure-policy built-ins).
"""

from __future__ import annotations

import re
from typing import Any

_PARAM = re.compile(r"^\[parameters\('([^']+)'\)\]$", re.IGNORECASE)
ALLOWED_LOCATIONS = "e56962a6-4747-49cd-b67b-bf8b01975c4c"
NOT_ALLOWED_TYPES = "6c112d4e-5bc7-47ae-a041-ea2d9dccd749"


def _guid(definition_id: str) -> str:
    return definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def find_definition(sc: dict[str, Any], definition_id: str) -> dict[str, Any] | None:
    for d in sc.get("policy_definitions", []):
        if d["id"].lower() == definition_id.lower():
            return d  # type: ignore[no-any-return]
    return None


def _resolve(value: Any, given: dict[str, Any], defaults: dict[str, Any]) -> Any:
    if isinstance(value, str):
        m = _PARAM.match(value.strip())
        if m:
            name = m.group(1).lower()
            return given.get(name, defaults.get(name))
    return value


def _defaults(d: dict[str, Any]) -> dict[str, Any]:
    return {k.lower(): v["defaultValue"] for k, v in (d["properties"].get("parameters") or {}).items() if "defaultValue" in v}


def _members(sc: dict[str, Any], pa: dict[str, Any]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(definition, reference id, resolved parameters) for each definition the assignment applies."""
    given = {k.lower(): v for k, v in (pa.get("parameters") or {}).items()}
    top = find_definition(sc, pa["policyDefinitionId"])
    if top is None:
        return []
    if top["type"].lower().endswith("policysetdefinitions"):
        set_defaults = _defaults(top)
        out = []
        for m in top["properties"].get("policyDefinitions", []):
            d = find_definition(sc, m["policyDefinitionId"])
            if d is None:
                continue
            params = {k.lower(): _resolve(v.get("value"), given, set_defaults) for k, v in (m.get("parameters") or {}).items()}
            out.append((d, m.get("policyDefinitionReferenceId", ""), {**_defaults(d), **params}))
        return out
    return [(top, "", {**_defaults(top), **given})]


def _selector_ok(sel: dict[str, Any], location: str, rtype: str, ref: str) -> bool:
    value = {"resourcelocation": location.lower(), "resourcetype": rtype.lower(), "policydefinitionreferenceid": ref.lower()}.get(sel["kind"].lower())
    if value is None:
        return True
    ins = [x.lower().replace(" ", "") for x in sel.get("in", [])]
    not_in = [x.lower().replace(" ", "") for x in sel.get("notIn", [])]
    return (not ins or value in ins) and not (not_in and value in not_in)


def restrictions(sc: dict[str, Any], sub: str, body: dict[str, Any], rg: str | None) -> dict[str, Any]:
    content = (body or {}).get("resourceDetails", {}).get("resourceContent", {})
    rtype = str(content.get("type", ""))
    pending = {f["field"]: f.get("values", []) for f in (body or {}).get("pendingFields", [])}
    request_scope = f"/subscriptions/{sub}" + (f"/resourcegroups/{rg}" if rg else "")
    field_restrictions, evaluations = [], []
    for i, pa in enumerate(sc.get("policy_assignments", [])):
        if pa.get("enforcementMode", "Default") != "Default":
            continue
        if any(request_scope.lower() == ns.lower().rstrip("/") or request_scope.lower().startswith(ns.lower().rstrip("/") + "/")
               for ns in pa.get("notScopes", [])):
            continue
        ref = {"policyDefinitionId": pa["policyDefinitionId"], "policyAssignmentId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/policyAssignments/pa{i}"}
        for d, ref_id, params in _members(sc, pa):
            raw_effect = d["properties"]["policyRule"]["then"]["effect"]
            for location in pending.get("location", [None]) or [None]:
                loc = (location or "").lower()
                selectors = pa.get("resourceSelectors", [])
                if selectors and not any(all(_selector_ok(s, loc, rtype, "") for s in rs["selectors"]) for rs in selectors):
                    continue
                effect = str(_resolve(raw_effect, params, _defaults(d)))
                for o in pa.get("overrides", []):
                    if o["kind"].lower() == "policyeffect" and all(_selector_ok(s, loc, rtype, ref_id) for s in o.get("selectors", [])):
                        effect = o["value"]
                if effect.lower() != "deny":
                    continue
                guid = _guid(d["id"])
                if guid == ALLOWED_LOCATIONS and location is not None:
                    allowed = {a.lower() for a in params.get("listofallowedlocations") or []}
                    if loc not in allowed and loc != "global":
                        field_restrictions.append({"field": "location", "restrictions": [{"result": "Deny", "values": [location], "policy": ref}]})
                elif guid == NOT_ALLOWED_TYPES:
                    if rtype.lower() in {t.lower() for t in params.get("listofresourcetypesnotallowed") or []}:
                        evaluations.append({"policyInfo": ref, "evaluationResult": "NonCompliant", "evaluationDetails": {}})
    return {"fieldRestrictions": field_restrictions, "contentEvaluationResult": {"policyEvaluations": evaluations}}
