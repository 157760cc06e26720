"""Validators for the Azure foundation (Bicep + ARM) and the Marketplace package.

``validate_foundation(bundle, inp, prefix="")`` checks the files ``render_foundation`` writes
(under ``prefix``): Bicep parses with pycep and wires up, the tier parameter files are complete,
Bicep and ARM declare the same resources, the ARM template keeps the Marketplace rules, no
generated secret value appears anywhere, and checkov (with fabrix's custom checks) finds nothing
unjustified. ``validate_marketplace`` adds createUiDefinition and the Partner Center zip layout.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from typing import Any

from installer.render import Bundle, RenderInput
from installer.validate import Finding
from installer.validate.postdeploy import postdeploy_findings
from installer.validate.armrules import check_template, rule_api_age
from installer.validate.bicep import (
    arm_resources,
    bicep_resources,
    check_bicepparam,
    module_wiring,
    parity,
    parse_bicep,
)
from installer.validate.checkov import checkov_findings
from installer.validate.memo import files_digest, remembered
from installer.validate.uidef import check_uidef

__all__ = ["validate_foundation", "validate_marketplace", "scan_secrets", "PACKAGE_PATH", "PACKAGE_FILES"]

PACKAGE_PATH = "marketplace/app.zip"
PACKAGE_FILES = ("createUiDefinition.json", "mainTemplate.json")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
FOUNDATION_FOLDERS = ("arm/", "bicep/")


def _json(bundle: Bundle, path: str, validator: str, findings: list[Finding]) -> dict[str, Any] | None:
    if path not in bundle.files:
        findings.append(Finding(validator, path, "missing"))
        return None
    try:
        data = json.loads(bundle.files[path])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        findings.append(Finding(validator, path, f"not valid JSON: {exc}"))
        return None
    if not isinstance(data, dict):
        findings.append(Finding(validator, path, "must be a JSON object"))
        return None
    return data


def scan_secrets(bundle: Bundle, inp: RenderInput, prefix: str = "") -> list[Finding]:
    """Azure bundles must never carry a secret value (DESIGN.md: Secrets)."""
    values = [v for v in inp.secrets.values() if len(v) >= 6]
    out = []
    for path in bundle:
        if not path.startswith(prefix):
            continue
        data = bundle.files[path]
        texts = [data]
        if path.endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    texts += [zf.read(n) for n in zf.namelist()]
            except zipfile.BadZipFile:
                pass
        if any(v.encode() in t for v in values for t in texts):
            out.append(Finding("secrets", path, "contains a generated secret value; Azure blueprints must use "
                                                 "Key Vault references or secureString parameters"))
    return out


def validate_bicep(bundle: Bundle, template: dict[str, Any] | None, prefix: str = "") -> list[Finding]:
    findings: list[Finding] = []
    parsed: dict[str, dict[str, Any]] = {}
    for path in bundle:
        if path.startswith(f"{prefix}bicep/") and path.endswith(".bicep"):
            try:
                parsed[path[len(f"{prefix}bicep/"):]] = parse_bicep(bundle.text(path))
            except Exception as exc:  # pycep raises lark errors of many kinds
                findings.append(Finding("pycep-parser", path, f"does not parse: {str(exc).splitlines()[0]}"))
    main = parsed.get("main.bicep")
    if main is None:
        if not any(f.path == f"{prefix}bicep/main.bicep" for f in findings):
            findings.append(Finding("bicep", f"{prefix}bicep/main.bicep", "missing"))
        return findings
    modules = {p: d for p, d in parsed.items() if p != "main.bicep"}
    findings += [Finding("bicep", f"{prefix}bicep/main.bicep", m) for m in module_wiring(main, modules)]
    for path in bundle:
        if path.startswith(f"{prefix}bicep/params/") and path.endswith(".bicepparam"):
            findings += [Finding("bicepparam", path, m) for m in check_bicepparam(bundle.text(path), main)]
    if template is not None:
        declared = []
        try:
            for rel, data in parsed.items():
                declared += bicep_resources(data, f"bicep/{rel}")
            findings += [Finding("bicep-arm-parity", f"{prefix}bicep/", m) for m in parity(declared, arm_resources(template))]
        except ValueError as exc:
            findings.append(Finding("bicep-arm-parity", f"{prefix}bicep/", str(exc)))
    return findings


def _sub(bundle: Bundle, prefix: str, folders: tuple[str, ...]) -> Bundle:
    part = Bundle()
    for path, data in bundle.files.items():
        rel = path[len(prefix):] if path.startswith(prefix) else None
        if rel is not None and rel.startswith(folders):
            part.add(rel, data)
    return part


def _foundation_checks(part: Bundle, today: date) -> list[Finding]:
    """ARM rules and Bicep checks over a foundation's ``arm/`` and ``bicep/`` (paths relative)."""
    findings: list[Finding] = []
    arm_path = "arm/mainTemplate.json"
    template = _json(part, arm_path, "arm", findings)
    if template is not None:
        findings += [Finding("arm-rules", arm_path, m) for m in check_template(template)]
        findings += [Finding("arm-rules", arm_path, m, "warning") for m in rule_api_age(template, today)]
    findings += validate_bicep(part, template)
    return findings


def validate_foundation(
    bundle: Bundle, inp: RenderInput, prefix: str = "", today: date | None = None, checkov: bool = True,
) -> list[Finding]:
    """All foundation checks over ``{prefix}bicep/**`` and ``{prefix}arm/mainTemplate.json``."""
    today = today or date.today()
    part = _sub(bundle, prefix, FOUNDATION_FOLDERS)
    # Several targets carry the same foundation: its checks run once per distinct content.
    key = ("foundation", files_digest(part, FOUNDATION_FOLDERS), today)
    findings = [Finding(f.validator, prefix + f.path, f.message, f.severity)
                for f in remembered(key, lambda: _foundation_checks(part, today))]
    findings += scan_secrets(bundle, inp, prefix)
    if checkov:
        findings += checkov_findings(part, ["arm", "bicep"], prefix=prefix)
    return findings


def _check_zip(bundle: Bundle) -> list[Finding]:
    out: list[Finding] = []
    data = bundle.files.get(PACKAGE_PATH)
    if data is None:
        return [Finding("marketplace-package", PACKAGE_PATH, "missing")]
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return [Finding("marketplace-package", PACKAGE_PATH, "not a zip file")]
    with zf:
        names = zf.namelist()
        if sorted(names) != list(PACKAGE_FILES) or names != sorted(names):
            out.append(Finding("marketplace-package", PACKAGE_PATH,
                               f"must hold exactly {', '.join(PACKAGE_FILES)} at its root, sorted; has {names}"))
        for info in zf.infolist():
            if info.date_time != ZIP_TIMESTAMP:
                out.append(Finding("marketplace-package", PACKAGE_PATH, f"{info.filename}: timestamp not fixed"))
            source = f"arm/{info.filename}"
            if source in bundle.files and zf.read(info.filename) != bundle.files[source]:
                out.append(Finding("marketplace-package", PACKAGE_PATH, f"{info.filename} differs from {source}"))
    return out


def validate_marketplace(bundle: Bundle, inp: RenderInput, today: date | None = None, checkov: bool = True) -> list[Finding]:
    findings = validate_foundation(bundle, inp, today=today, checkov=checkov)
    template = _json(bundle, "arm/mainTemplate.json", "arm", [])
    ui = _json(bundle, "arm/createUiDefinition.json", "createUiDefinition", findings)
    if ui is not None and template is not None:
        findings += [Finding("createUiDefinition", "arm/createUiDefinition.json", m) for m in check_uidef(ui, template)]
    findings += _check_zip(bundle)
    findings += postdeploy_findings(bundle, inp)
    return findings
