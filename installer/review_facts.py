"""What REVIEW.md states about exposure and identities, read back from the rendered resources
(the flat ARM template and the Kubernetes manifests), never from the catalog's intentions: a
reviewer reads exactly what the templates would deploy.

Each fact names the resource property it comes from, so a template change shows up in REVIEW.md
and a test can compare the two (tests/unit/test_review_facts.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

APP_TYPE = "Microsoft.App/containerApps"
ENV_TYPE = "Microsoft.App/managedEnvironments"
ORIGIN_TYPE = "Microsoft.Cdn/profiles/originGroups/origins"
ROUTE_TYPE = "Microsoft.Cdn/profiles/afdEndpoints/routes"
WAF_TYPE = "Microsoft.Cdn/profiles/securityPolicies"
PE_TYPE = "Microsoft.Network/privateEndpoints"
# Services reached through private endpoints, with the title REVIEW.md uses.
PRIVATE_SERVICES = {
    "Microsoft.KeyVault/vaults": "Key Vault",
    "Microsoft.Storage/storageAccounts": "Storage",
    "Microsoft.ContainerRegistry/registries": "Registry",
    "Microsoft.DBforPostgreSQL/flexibleServers": "PostgreSQL (managed)",
    "Microsoft.Cache/redisEnterprise": "Redis (managed)",
}


@dataclass(frozen=True)
class Exposure:
    workload: str
    port: int | str
    reachable_from: str


def _of_type(arm: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in arm.get("resources", []) if r.get("type") == rtype]


def _mentions(resource: dict[str, Any], rtype: str, name: str) -> bool:
    return f"'{rtype}', '{name}'" in json.dumps(resource.get("properties", {}))


def _plain_name(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _source(value: Any) -> str:
    """An allowed source range as a reviewer reads it: a literal, or the template parameter."""
    text = str(value)
    if text.startswith("[parameters('") and text.endswith("')]"):
        return f"the range in template parameter `{text[len('[parameters(' ) + 1:-3]}`"
    return f"`{text}`"


def app_exposure(arm: dict[str, Any]) -> list[Exposure]:
    """One row per Container App, from its ingress, the environment's public network access and
    the Front Door origins, routes and WAF policy that point at it."""
    envs = _of_type(arm, ENV_TYPE)
    env_public = envs[0].get("properties", {}).get("publicNetworkAccess", "Enabled") if envs else "Enabled"
    origins = _of_type(arm, ORIGIN_TYPE)
    routes = _of_type(arm, ROUTE_TYPE)
    waf = bool(_of_type(arm, WAF_TYPE))
    env_pe = any(_mentions(pe, ENV_TYPE, _plain_name(e["name"])) for pe in _of_type(arm, PE_TYPE) for e in envs)
    rows = []
    for app in _of_type(arm, APP_TYPE):
        name = _plain_name(app["name"])
        ingress = app.get("properties", {}).get("configuration", {}).get("ingress") or {}
        port = ingress.get("targetPort", "-")
        if not ingress:
            rows.append(Exposure(name, "-", "nothing (no ingress)"))
            continue
        if not ingress.get("external"):
            rows.append(Exposure(name, port, "other apps in the Container Apps environment only (internal ingress)"))
            continue
        parts: list[str] = []
        via_fd = [o for o in origins if _mentions(o, APP_TYPE, name)]
        if via_fd:
            groups = {o["name"].split("/")[1] for o in via_fd}
            https_only = all(
                r.get("properties", {}).get("supportedProtocols") == ["Https"]
                for r in routes if any(f"'{g}')" in json.dumps(r.get("properties", {})) for g in groups)
            )
            parts.append("the Internet through Front Door" + (" (WAF policy" if waf else " (no WAF policy")
                         + (", HTTPS only)" if https_only else ", HTTP allowed)"))
        if ingress.get("clientCertificateMode") == "require" or ingress.get("ipSecurityRestrictions"):
            allowed = [r.get("ipAddressRange") for r in ingress.get("ipSecurityRestrictions", []) if r.get("action") == "Allow"]
            where = "the environment's private endpoint" if env_pe else "outside the environment"
            cond = []
            if allowed:
                cond.append("from " + ", ".join(_source(a) for a in allowed) + " only")
            if ingress.get("clientCertificateMode") == "require":
                cond.append("with a client certificate (mutual TLS)")
            parts.append(f"{where} {' '.join(cond)}".strip())
        if not parts:
            parts.append("outside the environment")
        access = "environment public network access " + env_public.lower()
        rows.append(Exposure(name, port, "; ".join(parts) + f" ({access})"))
    return rows


def service_exposure(arm: dict[str, Any]) -> list[Exposure]:
    """Data and platform services: their public network access and private endpoints."""
    pes = _of_type(arm, PE_TYPE)
    rows = []
    for rtype, title in PRIVATE_SERVICES.items():
        for res in _of_type(arm, rtype):
            name = _plain_name(res["name"])
            props = res.get("properties", {})
            # PostgreSQL Flexible Server keeps it under network; the others at the top level.
            public = props.get("publicNetworkAccess", (props.get("network") or {}).get("publicNetworkAccess", "Enabled"))
            n_pe = sum(1 for pe in pes if _mentions(pe, rtype, name))
            reach = (f"{n_pe} private endpoint(s) in the VNet" if n_pe else "no private endpoint") + \
                f"; public network access {str(public).lower()}"
            rows.append(Exposure(f"{title} `{name}`", "-", reach))
    return rows


def aks_exposure(manifests: list[dict[str, Any]]) -> list[Exposure]:
    """One row per Deployment, from the Services and Ingresses the manifests create."""
    ingresses = {b["backend"]["service"]["name"]
                 for d in manifests if d.get("kind") == "Ingress"
                 for rule in d["spec"].get("rules", []) for b in rule.get("http", {}).get("paths", [])}
    services = {d["metadata"]["name"]: d for d in manifests if d.get("kind") == "Service"}
    rows = []
    for dep in (d for d in manifests if d.get("kind") == "Deployment"):
        name = dep["metadata"]["name"]
        svc = services.get(name)
        port = svc["spec"]["ports"][0]["port"] if svc else "-"
        if name in ingresses:
            reach = "the Internet through Front Door to the cluster's internal ingress (Ingress object)"
        elif svc and svc["spec"].get("type", "ClusterIP") == "ClusterIP":
            reach = "pods of this install that its NetworkPolicy allows (ClusterIP Service)"
        else:
            reach = "nothing (no Service)" if not svc else f"{svc['spec']['type']} Service"
        rows.append(Exposure(name, port, reach))
    return rows


def app_identity_facts(arm: dict[str, Any]) -> dict[str, int]:
    """How Container Apps read secrets and pull images, counted from the template."""
    facts = {"kv_refs": 0, "plain_secrets": 0, "registry_identity": 0, "registry_password": 0}
    for app in _of_type(arm, APP_TYPE):
        conf = app.get("properties", {}).get("configuration", {})
        for s in conf.get("secrets", []) or []:
            facts["kv_refs" if "keyVaultUrl" in s else "plain_secrets"] += 1
        for r in conf.get("registries", []) or []:
            facts["registry_password" if "passwordSecretRef" in r else "registry_identity"] += 1
    return facts


FEDERATED_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
WI_CLIENT_ID = "azure.workload.identity/client-id"
WI_USE = "azure.workload.identity/use"
CSI_DRIVER = "secrets-store.csi.k8s.io"


@dataclass(frozen=True)
class AksIdentity:
    """How AKS pods get their identity and secrets, counted from the manifests and the template."""

    deployments: int
    workload_identity: int  # pods labelled for workload identity, under an annotated ServiceAccount
    federated: int  # of those ServiceAccounts, how many have a federated credential in the template
    key_vault_values: int  # env values from a Secret a SecretProviderClass syncs from Key Vault
    other_secret_values: tuple[str, ...]  # "<deployment>: <ENV> from Secret <name>" (not from Key Vault)
    secret_volumes: tuple[str, ...]  # "<deployment>: Secret <name>" mounted as a volume


def aks_identity_facts(manifests: list[dict[str, Any]], arm: dict[str, Any]) -> AksIdentity:
    """Workload identity and secret sources of every Deployment: its pod label, its ServiceAccount's
    client-id annotation, the federated credential whose subject names that ServiceAccount, and
    where each secret env value or mounted Secret comes from (a SecretProviderClass's secretObjects
    are synced from Key Vault by the CSI driver; any other Secret is not)."""
    accounts = {(d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in manifests
                if d.get("kind") == "ServiceAccount" and WI_CLIENT_ID in (d["metadata"].get("annotations") or {})}
    synced = {o["secretName"] for d in manifests if d.get("kind") == "SecretProviderClass"
              for o in (d.get("spec", {}).get("secretObjects") or [])}
    subjects = {str(r.get("properties", {}).get("subject", "")) for r in _of_type(arm, FEDERATED_TYPE)}
    deployments = [d for d in manifests if d.get("kind") == "Deployment"]
    wi = federated = kv_values = 0
    others: list[str] = []
    volumes: list[str] = []
    for dep in deployments:
        name, ns = dep["metadata"]["name"], dep["metadata"].get("namespace", "")
        pod = dep["spec"]["template"]
        spec = pod.get("spec", {})
        account = spec.get("serviceAccountName", "default")
        if str((pod.get("metadata", {}).get("labels") or {}).get(WI_USE, "")).lower() == "true" and (ns, account) in accounts:
            wi += 1
            federated += f"system:serviceaccount:{ns}:{account}" in subjects
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            for env in container.get("env", []) or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    if ref.get("name") in synced:
                        kv_values += 1
                    else:
                        others.append(f"{name}: {env['name']} from Secret {ref.get('name')}")
            for source in container.get("envFrom", []) or []:
                if "secretRef" in source and source["secretRef"].get("name") not in synced:
                    others.append(f"{name}: every key of Secret {source['secretRef'].get('name')}")
        for vol in spec.get("volumes", []) or []:
            if "secret" in vol:
                volumes.append(f"{name}: Secret {vol['secret'].get('secretName')}")
    return AksIdentity(len(deployments), wi, federated, kv_values, tuple(others), tuple(volumes))
