"""ARM template and Marketplace rules (ARM-TTK and the quickstart best practices, notes/azure.md §3).

ARM-TTK needs PowerShell, which CI does not have, so the rules we rely on are re-implemented here
over the template JSON. Each rule returns plain messages; ``installer.validate.arm`` turns them
into findings.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
LOCATION_DEFAULTS = ("[resourceGroup().location]", "[deployment().location]", "global")
MAX_AGE_DAYS = 730
LIMITS = {"parameters": 256, "variables": 256, "resources": 800, "outputs": 64}
MAX_TEMPLATE_BYTES = 4 * 1024 * 1024

# API versions that are the newest GA version of their type even though older than 730 days
# (ARM-TTK accepts the newest version whatever its age). Checked against the resource providers.
NEWEST_KNOWN = {
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.Insights/diagnosticSettings": "2021-05-01-preview",
    # Newest stable Azure Monitor data collection API (azure-rest-api-specs monitor DataCollection).
    "Microsoft.Insights/dataCollectionRules": "2024-03-11",
    "Microsoft.Insights/dataCollectionRuleAssociations": "2024-03-11",
    "Microsoft.Network/privateDnsZones": "2024-06-01",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2024-11-30",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials": "2024-11-30",
}

_API = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(-preview)?$")
_SECURE = ("securestring", "secureobject")
_SECRET_FUNCS = re.compile(r"\blist(Keys|Secrets|ConnectionStrings|AccountSas|ServiceSas|Credentials?)?\s*\(", re.I)
_HARDCODED_URI = re.compile(
    r"https://[^'\"\s]*(management\.azure\.com|core\.windows\.net|vault\.azure\.net|azurecr\.io|"
    r"database\.azure\.com|login\.microsoftonline\.com|azurewebsites\.net)",
    re.I,
)
# ARM-TTK flags cloud host names in private DNS zone names too: derive them from environment() so
# the template deploys in Government and China (the zones differ per cloud).
_HARDCODED_ZONE = re.compile(
    r"privatelink\.[a-z0-9.-]*(core\.windows\.net|vaultcore\.azure\.net|database\.azure\.com|azurecr\.io)", re.I,
)


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(json path, string) for every string in a JSON value."""
    out: list[tuple[str, str]] = []
    if isinstance(value, str):
        out.append((path, value))
    elif isinstance(value, dict):
        for k, v in value.items():
            out += _strings(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _strings(v, f"{path}[{i}]")
    return out


def _is_expr(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and not value.startswith("[[") and value.endswith("]")


def _resources(template: dict[str, Any]) -> list[dict[str, Any]]:
    resources = template.get("resources", [])
    return resources if isinstance(resources, list) else []


def rule_structure(t: dict[str, Any]) -> list[str]:
    out = []
    if t.get("$schema") != SCHEMA:
        out.append(f"$schema must be {SCHEMA}")
    if "contentVersion" not in t:
        out.append("contentVersion is missing")
    if t.get("languageVersion", "1.0") != "1.0":
        out.append(
            f"languageVersion {t.get('languageVersion')!r}: Managed Applications accept only languageVersion 1.0"
        )
    if not isinstance(t.get("resources"), list):
        out.append("resources must be an array (symbolic names need languageVersion 2.0)")
    for res in _resources(t):
        if res.get("type") == "Microsoft.Resources/deployments":
            out.append(f"{res.get('name')}: nested deployment; the Marketplace template must stay flat")
    for section, limit in LIMITS.items():
        count = len(t.get(section, {}) or {})
        if count > limit:
            out.append(f"{count} {section}: ARM allows at most {limit}")
    size = len(json.dumps(t).encode())
    if size > MAX_TEMPLATE_BYTES:
        out.append(f"template is {size} bytes; ARM allows at most 4 MB")
    return out


def rule_location(t: dict[str, Any]) -> list[str]:
    out = []
    loc = t.get("parameters", {}).get("location")
    if loc is None:
        out.append("parameter 'location' is missing")
    else:
        if loc.get("type", "").lower() != "string":
            out.append("parameter 'location' must be a string")
        if loc.get("defaultValue") not in LOCATION_DEFAULTS:
            out.append(
                f"parameter 'location' default {loc.get('defaultValue')!r} must be one of {', '.join(LOCATION_DEFAULTS)}"
            )
    for res in _resources(t):
        where = res.get("location")
        if where is None:
            continue
        if not (_is_expr(where) or str(where).lower() == "global"):
            out.append(f"{res.get('type')} {res.get('name')}: location {where!r} is hard-coded; use parameters('location')")
    return out


def rule_api_versions(t: dict[str, Any]) -> list[str]:
    """API versions are literal GA dates (the newest known version of a type may be a preview)."""
    out = []
    for res in _resources(t):
        rtype, api = str(res.get("type")), res.get("apiVersion")
        if not isinstance(api, str) or _is_expr(api):
            out.append(f"{rtype}: apiVersion must be a literal, not {api!r}")
            continue
        m = _API.match(api)
        if not m:
            out.append(f"{rtype}: apiVersion {api!r} is not YYYY-MM-DD[-preview]")
            continue
        if NEWEST_KNOWN.get(rtype) == api:
            continue
        if m.group(4):
            out.append(f"{rtype}: preview apiVersion {api} (use a GA version)")
    return out


def rule_api_age(t: dict[str, Any], today: date | None = None) -> list[str]:
    """API versions older than 730 days (and not the newest): Partner Center rejects them.

    Reported as warnings by ``fabrix render`` (the template still deploys); the test suite keeps
    them at zero so a new fabrix release moves to newer versions in time.
    """
    today = today or date.today()
    oldest = today - timedelta(days=MAX_AGE_DAYS)
    out = []
    for res in _resources(t):
        rtype, api = str(res.get("type")), res.get("apiVersion")
        m = _API.match(api) if isinstance(api, str) else None
        if not m or m.group(4) or NEWEST_KNOWN.get(rtype) == api:
            continue
        if date(int(m.group(1)), int(m.group(2)), int(m.group(3))) < oldest:
            out.append(f"{rtype}: apiVersion {api} is older than {MAX_AGE_DAYS} days; use a newer one")
    return out


def _secure_params(t: dict[str, Any]) -> set[str]:
    return {n for n, p in t.get("parameters", {}).items() if str(p.get("type", "")).lower() in _SECURE}


def rule_secure_params(t: dict[str, Any]) -> list[str]:
    out = []
    for name, spec in t.get("parameters", {}).items():
        if str(spec.get("type", "")).lower() in _SECURE and "defaultValue" in spec:
            out.append(f"secure parameter {name!r} has a default value; secrets must be supplied at deploy time")
        elif re.search(r"password|secret|key$", name, re.I) and str(spec.get("type", "")).lower() not in _SECURE:
            out.append(f"parameter {name!r} looks like a secret but is not secureString")
    return out


def rule_outputs(t: dict[str, Any]) -> list[str]:
    out = []
    secure = _secure_params(t)
    for name, spec in (t.get("outputs") or {}).items():
        if str(spec.get("type", "")).lower() in _SECURE:
            out.append(f"output {name!r} is a secure type; outputs are visible in the deployment history")
        text = json.dumps(spec.get("value"))
        if _SECRET_FUNCS.search(text):
            out.append(f"output {name!r} calls a list*() function: it would publish a key")
        for param in secure:
            if f"parameters('{param}')" in text:
                out.append(f"output {name!r} returns the secure parameter {param!r}")
        if re.search(r"password|secret|connectionstring", name, re.I):
            out.append(f"output {name!r} is named like a secret")
    return out


def rule_usage(t: dict[str, Any]) -> list[str]:
    """Every parameter and variable is referenced (outside its own declaration)."""
    out = []
    body = json.dumps({k: v for k, v in t.items() if k not in ("parameters", "variables")})
    variables_text = json.dumps(t.get("variables", {}))
    for name in t.get("parameters", {}):
        if f"parameters('{name}')" not in body and f"parameters('{name}')" not in variables_text:
            out.append(f"parameter {name!r} is never used")
    for name in t.get("variables", {}):
        others = json.dumps({k: v for k, v in t.get("variables", {}).items() if k != name})
        if f"variables('{name}')" not in body and f"variables('{name}')" not in others:
            out.append(f"variable {name!r} is never used")
    return out


def rule_literals(t: dict[str, Any]) -> list[str]:
    """No hard-coded endpoint URIs or resource ids, no providers().apiVersions, no blank values."""
    out = []
    for path, text in _strings({"resources": t.get("resources"), "outputs": t.get("outputs"), "variables": t.get("variables")}):
        if _HARDCODED_URI.search(text):
            out.append(f"{path}: hard-coded endpoint URI {text!r}; use environment() or a reference()")
        if _HARDCODED_ZONE.search(text):
            out.append(f"{path}: hard-coded private DNS zone {text!r}; derive it from environment().suffixes")
        if text.startswith("/subscriptions/"):
            out.append(f"{path}: hard-coded resource id; use resourceId()")
        if re.search(r"providers\([^)]*\)\.apiVersions", text):
            out.append(f"{path}: providers().apiVersions makes the template change under you; use a literal apiVersion")
        if text == "":
            out.append(f"{path}: empty string value")
    out += _blanks(t.get("resources"), "resources")
    return out


def _blanks(value: Any, path: str) -> list[str]:
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}"
            if (v == [] or v == {}) and not path.endswith("userAssignedIdentities"):
                out.append(f"{here}: empty {'array' if v == [] else 'object'}; leave the property out")
            out += _blanks(v, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _blanks(v, f"{path}[{i}]")
    return out


def rule_ids(t: dict[str, Any]) -> list[str]:
    """Properties holding resource ids are built with resourceId()/reference(), never literal text."""
    out = []
    for path, text in _strings(t.get("resources")):
        leaf = path.rsplit(".", 1)[-1]
        if (leaf == "id" or leaf.endswith("Id") or leaf.endswith("ID")) and text and not _is_expr(text):
            if "/" in text:
                out.append(f"{path}: resource id {text!r} must come from resourceId()")
    return out


def rule_account_keys(t: dict[str, Any]) -> list[str]:
    """A storage account key (Azure Files environment storage) is read with listKeys() inside the
    deployment: never a parameter (it would sit in the deployment's inputs) or a literal."""
    out = []
    for res in _resources(t):
        for path, text in _strings(res.get("properties"), "properties"):
            if path.rsplit(".", 1)[-1] == "accountKey" and not re.match(r"^\[listKeys\(", text):
                out.append(f"{res.get('type')} {res.get('name')}: {path} must be listKeys() of the storage account, "
                           f"not {('a parameter' if 'parameters(' in text else 'a literal')}")
    return out


ALL_RULES = (rule_structure, rule_location, rule_api_versions, rule_secure_params, rule_outputs, rule_usage,
             rule_literals, rule_ids, rule_account_keys)


def check_template(t: dict[str, Any]) -> list[str]:
    """Every rule that makes a template wrong (errors); ``rule_api_age`` is separate (warnings)."""
    out: list[str] = []
    for rule in ALL_RULES:
        out += rule(t)
    return out
