"""createUiDefinition.json rules (ARM-TTK's createUiDefinition tests, notes/azure.md §3)."""

from __future__ import annotations

import re
from typing import Any

SCHEMA = "https://schema.management.azure.com/schemas/0.1.2-preview/CreateUIDefinition.MultiVm.json#"
_NO_TOOLTIP = {"Microsoft.Common.Section", "Microsoft.Common.InfoBox", "Microsoft.Common.TextBlock"}
_REF = re.compile(r"(basics|steps)\('([^']+)'\)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
_MIN_LEN = re.compile(r"\{(\d+),")


def _elements(ui: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, element) for basics and every step, nested sections included."""
    params = ui.get("parameters", {})
    out: list[tuple[str, dict[str, Any]]] = []

    def walk(where: str, elements: list[Any]) -> None:
        for el in elements or []:
            if isinstance(el, dict):
                out.append((where, el))
                if el.get("type") == "Microsoft.Common.Section":
                    walk(where, el.get("elements", []))

    walk("basics", params.get("basics", []))
    for step in params.get("steps", []) or []:
        walk(f"steps('{step.get('name')}')", step.get("elements", []))
    return out


def check_uidef(ui: dict[str, Any], template: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if ui.get("$schema") != SCHEMA:
        out.append(f"$schema must be {SCHEMA}")
    if ui.get("version") != "0.1.2-preview":
        out.append("version must be 0.1.2-preview")
    if ui.get("handler") != "Microsoft.Azure.CreateUIDef":
        out.append("handler must be Microsoft.Azure.CreateUIDef")
    params = ui.get("parameters", {})
    outputs: dict[str, Any] = params.get("outputs", {}) or {}
    if outputs.get("location") != "[location()]":
        out.append("outputs.location must be [location()]")
    tparams: dict[str, Any] = template.get("parameters", {})
    for name in outputs:
        if name not in tparams:
            out.append(f"output {name!r} is not a parameter of mainTemplate.json")
    for name, spec in tparams.items():
        if "defaultValue" not in spec and name not in outputs:
            out.append(f"template parameter {name!r} has no default and no createUiDefinition output")
    elements = _elements(ui)
    seen: dict[str, set[str]] = {}
    for where, el in elements:
        name, etype = str(el.get("name")), str(el.get("type", ""))
        if name in seen.setdefault(where, set()):
            out.append(f"{where}: element name {name!r} is used twice")
        seen[where].add(str(name))
        if etype not in _NO_TOOLTIP and not el.get("toolTip"):
            out.append(f"{where}.{name}: controls need a toolTip")
        constraints = el.get("constraints", {}) or {}
        if etype == "Microsoft.Common.TextBox":
            if not constraints.get("regex") or not constraints.get("validationMessage"):
                out.append(f"{where}.{name}: text boxes need constraints.regex and constraints.validationMessage")
        if etype == "Microsoft.Common.PasswordBox":
            m = _MIN_LEN.search(str(constraints.get("regex", "")))
            if not m or int(m.group(1)) < 12:
                out.append(f"{where}.{name}: password boxes need a regex with a minimum length of at least 12")
        if re.search(r"user(name)?$", str(name), re.I) and "defaultValue" in el:
            out.append(f"{where}.{name}: user name fields must not have a default")
    known = {(where, str(el.get("name"))) for where, el in elements}
    for name, value in outputs.items():
        for m in _REF.finditer(str(value)):
            kind, first, rest = m.groups()
            if kind == "basics":
                target = ("basics", first)
            else:
                element = rest.split(".")[1] if rest else ""
                target = (f"steps('{first}')", element)
            if target not in known:
                out.append(f"output {name!r} refers to {m.group(0)}, which is not an element")
    return out
