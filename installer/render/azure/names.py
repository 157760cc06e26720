"""Resource names as template values, and the secure parameters that carry generated secrets.

``plan`` naming uses ``installer.render.workload.azure_names`` (the same literal names the ACA YAML
and AKS manifests use); ``unique`` naming (Marketplace) derives every name from a ``namePrefix``
parameter and a suffix of ``uniqueString(resourceGroup().id)``, because one offer is deployed by
many customers and Key Vault, Storage, ACR and Front Door names are global.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from installer.azure import naming
from installer.plan import InstallPlan
from installer.render import RenderInput
from installer.render.azure.expr import Fmt, Param, Var
from installer.render.azure.hybrid_ingress import azure_components
from installer.render.workload import azure_apps, azure_names, kv_secret_name
from installer.secrets import env_name

Compute = Literal["aca", "aks"]
Naming = Literal["plan", "unique"]

SECRET_PARAM_SUFFIX = ""


def secret_param(secret: str) -> str:
    """``flowise_db_password`` → ``flowiseDbPassword`` (the secureString parameter's name)."""
    head, *rest = secret.split("_")
    return head + "".join(p.capitalize() for p in rest) + SECRET_PARAM_SUFFIX


@dataclass(frozen=True)
class SecretParam:
    secret: str  # catalog secret name
    param: str  # template parameter
    vault_name: str  # Key Vault secret name
    env: str  # environment variable the .bicepparam files read (the SecretStore's env name)


def secret_params(inp: RenderInput, compute: Compute) -> list[SecretParam]:
    """Every generated secret the Azure workloads read, plus the Postgres administrator password."""
    names = {"postgres_password"}
    in_azure = set(azure_components(inp.plan, compute, inp.catalog))
    for app in (a for a in azure_apps(inp, compute) if a.name in in_azure):
        comp = inp.catalog.components[app.name]
        for value in {**comp.env, **comp.azure_env}.values():
            if isinstance(value, dict) and "secret" in value:
                names.add(str(value["secret"]))
            if isinstance(value, dict) and "database_url" in value:  # composed in Key Vault from it
                names.add(comp.database(str(value["database_url"])).password_secret)
    return [SecretParam(s, secret_param(s), kv_secret_name(s), env_name(s)) for s in sorted(names)]


def short(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class Names:
    """Resource names as template values (literal strings or expressions)."""

    def __init__(self, plan: InstallPlan, naming: Naming) -> None:
        self.naming = naming
        self.lit = azure_names(plan)
        self.plan = plan

    def get(self, key: str) -> Any:
        if self.naming == "plan":
            return {
                "vnet": self.lit.vnet,
                "identity": self.lit.identity,
                "log": self.lit.log_analytics,
                "appi": f"appi-{self.plan.name}",
                "kv": self.lit.key_vault,
                "st": self.lit.storage,
                "acr": self.lit.registry,
                "pg": self.lit.postgres,
                "redis": self.lit.redis,
                "cae": self.lit.aca_environment,
                "aks": self.lit.aks_cluster,
                "afd": self.lit.front_door,
                "waf": "waf" + short(self.plan.name),
            }[key]
        pattern = {
            "vnet": "{0}-vnet",
            "identity": "{0}-id",
            "log": "{0}-log",
            "appi": "{0}-appi",
            "kv": "{0}-kv-{1}",
            "st": "{0}st{1}",
            "acr": "{0}acr{1}",
            "pg": "{0}-pg-{1}",
            "redis": "{0}-redis-{1}",
            "cae": "{0}-cae",
            "aks": "{0}-aks",
            "afd": "{0}-afd",
            "waf": "{0}waf",
            "endpoint": "{0}-{{0}}-{1}",
        }[key]
        return pattern

    def value(self, key: str, *extra: str) -> Any:
        if key == "endpoint" and self.naming == "plan":
            return naming.front_door_endpoint_for(self.plan, extra[0])
        got = self.get(key)
        if self.naming == "plan":
            return got.format(*extra) if extra else got
        template = got.replace("{{0}}", "\0").format("{0}", "{1}").replace("\0", extra[0] if extra else "")
        return Fmt(template, (Param("namePrefix"), Var("suffix")) if "{1}" in template else (Param("namePrefix"),))


def derived(name: Any, template: str) -> Any:
    """A name built from another resource's name: ``pe-{0}``."""
    if isinstance(name, str):
        return template.format(name)
    if isinstance(name, Fmt):
        return Fmt(template.format(name.template), name.args)
    return Fmt(template, (name,))
