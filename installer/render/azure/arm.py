"""The foundation as one flat ARM template: languageVersion 1.0, no nested deployments.

Managed Applications accept only languageVersion 1.0 (notes/azure.md §0.3), and a template
without ``Microsoft.Resources/deployments`` lets Partner Center inject customer usage attribution.
"""

from __future__ import annotations

import json
from typing import Any

from installer.render.azure.expr import to_arm
from installer.render.azure.model import Foundation, Resource

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def _param(spec: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ("secureString" if spec.secure else spec.type)}
    if spec.default is not None:
        out["defaultValue"] = to_arm(spec.default)
    if spec.allowed is not None:
        out["allowedValues"] = spec.allowed
    if spec.min_length is not None:
        out["minLength"] = spec.min_length
    if spec.max_length is not None:
        out["maxLength"] = spec.max_length
    if spec.min_value is not None:
        out["minValue"] = spec.min_value
    if spec.max_value is not None:
        out["maxValue"] = spec.max_value
    out["metadata"] = {"description": spec.description}
    return out


def _resource(res: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {"type": res.type, "apiVersion": res.api, "name": to_arm(res.arm_name())}
    if res.condition is not None:
        out["condition"] = to_arm(res.condition)
    if res.scope is not None:
        out["scope"] = f"[{res.scope.arm_id()}]"
    if res.location is not None:
        out["location"] = to_arm(res.location)
    if res.tags:
        out["tags"] = "[variables('tags')]"
    out.update(to_arm(res.body))
    deps = [f"[{dep.arm_id()}]" for dep in res.referenced()]
    if deps:
        out["dependsOn"] = deps
    if res.comment:
        out["metadata"] = {"comments": res.comment}
    return out


def arm_template(f: Foundation, version: str) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {
            "_generator": {"name": "fabrix", "version": version},
            "description": f"AI Fabrix foundation for install {f.install} (compute: {f.compute})",
        },
        "parameters": {name: _param(spec) for name, spec in f.params.items()},
        "variables": {name: to_arm(spec.value) for name, spec in f.variables.items()},
        "resources": [_resource(r) for r in f.resources],
        "outputs": {
            name: {"type": spec.type, "value": to_arm(spec.value), "metadata": {"description": spec.description}}
            for name, spec in f.outputs.items()
        },
    }


def dumps(doc: dict[str, Any]) -> str:
    """Stable JSON text: same model → same bytes."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
