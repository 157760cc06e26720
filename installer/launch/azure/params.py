"""Deployment parameters from the rendered tier file, secrets from the install's secret store.

The person reviewed ``bicep/params/<tier>.bicepparam``; the launch deploys exactly those values
into ``arm/mainTemplate.json``. Literal values are copied; ``readEnvironmentVariable('NAME')``
(how the blueprint keeps secrets out of files) is resolved from the secret store — or, for the
public domain, from ``PUBLIC_DOMAIN`` in the environment — and sent as the value of a
``secureString`` parameter: ARM never echoes those back, and we never log them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from installer.errors import UsageError

PUBLIC_DOMAIN_ENV = "PUBLIC_DOMAIN"
_PARAM = re.compile(r"^param\s+(?P<name>\w+)\s*=\s*(?P<value>.+?)\s*$")
_ENV = re.compile(r"^readEnvironmentVariable\('(?P<env>[A-Z0-9_]+)'\)$")


def _literal(text: str) -> Any:
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("\\'", "'")
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


def deployment_parameters(bicepparam: str, template: dict[str, Any], secrets: Mapping[str, str],
                          env: Mapping[str, str] | None = None,
                          install: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """(ARM ``parameters`` body ``{name: {value}}``, the secret values it holds — for redaction).

    ``install``: a template named from ``namePrefix`` (Marketplace) gets the install's Key Vault
    name generation in it (``installer.azure.vault_names``), as the plan-named ones get it in
    their vault name: a purge-protected vault a rollback left keeps its name, the next launch
    deploys under new names.

    Raises ``UsageError`` naming the missing value before anything is deployed."""
    env = os.environ if env is None else env
    declared = template.get("parameters") or {}
    out: dict[str, Any] = {}
    secret_values: list[str] = []
    missing: list[str] = []
    secret_names: set[str] = set()
    for line in bicepparam.splitlines():
        m = _PARAM.match(line.strip())
        if not m or m.group("name") not in declared:
            continue
        name, raw = m.group("name"), m.group("value")
        ref = _ENV.match(raw)
        if ref is None:
            out[name] = {"value": _literal(raw)}
            continue
        var = ref.group("env")
        # Secrets come from the store only (an exported variable must not replace them); the
        # other values the blueprint reads from the environment (PUBLIC_DOMAIN, the hybrid
        # model's ONPREM_EGRESS_CIDR …) come from fabrix's environment.
        is_secret = str(declared[name].get("type", "")).lower() == "securestring"
        value = secrets.get(var) if is_secret else env.get(var)
        if not value:
            missing.append(var)
            if is_secret:
                secret_names.add(var)
            continue
        out[name] = {"value": value}
        if is_secret:
            secret_values.append(value)
    if missing:
        secret_missing = [v for v in missing if v in secret_names]
        hint = ("re-run `fabrix render` (it generates every secret the plan needs) or restore the install's secrets.env"
                if secret_missing else
                f"export {' and '.join(f'{v}=…' for v in missing)} (see the bundle's README for what each means) and re-run")
        raise UsageError(f"values missing for the deployment: {', '.join(missing)}", hint)
    if install and "namePrefix" in declared:
        from installer.azure.vault_names import name_prefix_for

        current = str((out.get("namePrefix") or {}).get("value") or declared["namePrefix"].get("defaultValue") or "")
        shifted = name_prefix_for(install, current)
        if shifted != current:
            out["namePrefix"] = {"value": shifted}
    return out, secret_values
