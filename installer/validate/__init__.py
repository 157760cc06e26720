"""Offline validators for each blueprint kind. A finding with severity ``error`` stops a render.

Each kind registers ``module:function`` taking ``(Bundle, RenderInput)`` and returning findings.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

from installer.render import Bundle, RenderInput


@dataclass(frozen=True)
class Finding:
    validator: str  # e.g. "compose-spec", "docker compose config", "kubernetes-validate"
    path: str  # bundle file the finding is about
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.path}: [{self.validator}] {self.message}"


VALIDATORS: dict[str, str] = {
    "compose": "installer.validate.compose:validate_compose",
    "marketplace": "installer.validate.arm:validate_marketplace",
    "aca": "installer.validate.aca:validate_aca",
    "aks": "installer.validate.kubernetes:validate_aks",
    "manual": "installer.validate.runbook:validate_runbook",
    "hybrid": "installer.validate.models:validate_hybrid",
    "multicloud": "installer.validate.models:validate_multicloud",
    "development": "installer.validate.models:validate_development",
}


def validate_bundle(bundle: Bundle, inp: RenderInput, key: str) -> list[Finding]:
    module_name, func = VALIDATORS[key].split(":")
    return list(getattr(importlib.import_module(module_name), func)(bundle, inp))


def errors_only(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]
