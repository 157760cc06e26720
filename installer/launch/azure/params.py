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
                          env: Mapping[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """(ARM ``parameters`` body ``{name: {value}}``, the secret values it holds — for redaction).

    Raises ``UsageError`` naming the missing value before anything is deployed."""
    env = os.environ if env is None else env
    declared = template.get("parameters") or {}
    out: dict[str, Any] = {}
    secret_values: list[str] = []
    missing: list[str] = []
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
        value = env.get(var) if var == PUBLIC_DOMAIN_ENV else secrets.get(var)
        if not value:
            missing.append(var)
            continue
        out[name] = {"value": value}
        if str(declared[name].get("type", "")).lower() == "securestring":
            secret_values.append(value)
    if missing:
        hint = (f"export {PUBLIC_DOMAIN_ENV}=<the DNS domain browsers will use> and re-run"
                if missing == [PUBLIC_DOMAIN_ENV] else
                "re-run `fabrix render` (it generates every secret the plan needs) or restore the install's secrets.env")
        raise UsageError(f"values missing for the deployment: {', '.join(missing)}", hint)
    return out, secret_values
