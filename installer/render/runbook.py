"""Manual installation: a Markdown runbook with the product's five manual steps.

Provision the network and data services → deploy the containers → Entra SSO and Key Vault
references → connectors → audit (notes/platform-stack.md §3). Every command carries this plan's
names, region and sizes; the Container App files it deploys ship beside it (``aca/``), so the
runbook and the ACA target cannot drift. Secret values never appear: commands read them from
the install's secret store into environment variables the shell never echoes.
"""

from __future__ import annotations

from typing import Any

from installer.plan import InstallPlan
from installer.render.azure.api import PRIVATE_LINK, zone_for
from installer.render.azure.build import build_foundation
from installer.render.azure.model import Foundation, Resource
from installer.render import Bundle, RenderInput
from installer.render.azure.build import SUBNETS as FOUNDATION_SUBNETS
from installer.render.azure.build import VNET_PREFIX
from installer.render.azure.sizing import SKUS
from installer.render.aca import environment_id, identity_id, render_aca_apps
from installer.render.postdeploy import DATABASES_SCRIPT, add_postdeploy
from installer.render.templating import render_template
from installer.render.workload import azure_apps, azure_names, data_services, data_volume_name, kv_secret_name
from installer.secrets import env_name, secrets_for
from installer.state import install_dir


# Subnets as the foundation lays them out (the runbook builds the same network by hand).
SUBNETS = {
    "snet-pe": (FOUNDATION_SUBNETS["pe"], None),
    "snet-aca": (FOUNDATION_SUBNETS["aca"], "Microsoft.App/environments"),
}


def _one(f: Foundation, rtype: str) -> Resource:
    (res,) = [r for r in f.resources if r.type == rtype]
    return res


def _literal(value: Any) -> str:
    """A model name or value as the runbook writes it (plan naming: literal strings)."""
    if isinstance(value, str):
        return value
    raise ValueError(f"the runbook needs a literal, not {value!r}")


def model_values(inp: RenderInput) -> dict[str, Any]:
    """What the runbook's commands take from the foundation model the templates are written from
    (``build_foundation(inp, "aca")``), so the manual path and the template cannot disagree: the
    storage SKU, the environment's internal flag, Key Vault protection, private DNS zones for this
    cloud and Front Door's endpoints, origin groups, routes and WAF security policy."""
    f = build_foundation(inp, "aca")
    params = {k: v.default for k, v in f.params.items()}
    storage = _one(f, "Microsoft.Storage/storageAccounts").body
    env = _one(f, "Microsoft.App/managedEnvironments").body["properties"]
    kv = _one(f, "Microsoft.KeyVault/vaults").body["properties"]
    by_symbol = {r.symbol: r for r in f.resources}
    published = [r for r in f.resources if r.type == "Microsoft.Cdn/profiles/afdEndpoints/routes"]
    frontdoor = []
    for route in published:
        endpoint = route.parent
        assert endpoint is not None
        group = by_symbol["originGroup" + route.symbol.removeprefix("route")]
        props = route.body["properties"]
        frontdoor.append({
            "app": route.name, "endpoint": _literal(endpoint.name), "origin_group": group.name, "route": route.name,
            "patterns": props["patternsToMatch"], "forwarding": props["forwardingProtocol"],
            "protocols": props["supportedProtocols"], "https_redirect": props["httpsRedirect"],
            "link_default": props["linkToDefaultDomain"],
        })
    policy = [r for r in f.resources if r.type == "Microsoft.Cdn/profiles/securityPolicies"]
    waf = _one(f, "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")
    cloud = inp.plan.azure.cloud.value
    kinds = [k for k in PRIVATE_LINK if any(
        r.type == "Microsoft.Network/privateEndpoints/privateDnsZoneGroups" and f"privatelink-{k}" in str(r.body)
        for r in f.resources)]
    pg = [r for r in f.resources if r.type == "Microsoft.DBforPostgreSQL/flexibleServers"]
    return {
        "pg_version": pg[0].body["properties"]["version"] if pg else None,
        "storage_sku": storage["sku"]["name"],
        "aca_internal": env["vnetConfiguration"]["internal"],
        "aca_public_network_access": env["publicNetworkAccess"],
        # Parameters resolved to this plan's tier, as the template's defaults are.
        "kv_purge_protection": params["keyVaultPurgeProtection"] if "enablePurgeProtection" in kv else False,
        "kv_retention_days": params["keyVaultSoftDeleteDays"],
        "zones": {k: zone_for(cloud, k) or PRIVATE_LINK[k][1] for k in kinds},
        "frontdoor": frontdoor,
        "waf": {"name": _literal(waf.name), "mode": waf.body["properties"]["policySettings"]["mode"],
                "security_policy": policy[0].name if policy else None},
        "front_door_profile": _literal(_one(f, "Microsoft.Cdn/profiles").name),
        "params": params,
    }


def runbook_context(inp: RenderInput) -> dict[str, object]:
    plan: InstallPlan = inp.plan
    names = azure_names(plan)
    apps = azure_apps(inp, "aca")
    data = {c.name for c in data_services(inp)}
    databases = [
        (db, comp) for comp_name in plan.enabled_components(inp.catalog)
        for comp in [inp.catalog.components[comp_name]] for db in comp.databases
    ]
    extensions = sorted({e.upper() for db, _ in databases for e in db.extensions}) or ["VECTOR"]
    secret_names = secrets_for(plan.enabled_components(inp.catalog), inp.catalog)
    return {
        "plan": plan,
        "names": names,
        "apps": apps,
        "has_postgres": "postgres" in data,
        "has_redis": "redis" in data,
        "databases": databases,
        "pg_extensions": ",".join(extensions),
        "sizing": SKUS[plan.size],
        "vnet_prefix": VNET_PREFIX,
        "subnets": SUBNETS,
        "secrets": [(s, env_name(s), kv_secret_name(s)) for s in secret_names],
        "secrets_file": str(install_dir(plan.name).secrets),
        "identity_id": identity_id(plan, names),
        "environment_id": environment_id(plan, names),
        "subscription": plan.azure.subscription_id or "<subscription-id>",
        "vault_url": names.vault_url(plan.azure.cloud),
        "frontdoor_apps": [a for a in apps if a.frontdoor],
        "registry": plan.images.registry,
        "model": model_values(inp),
        "databases_script": DATABASES_SCRIPT,
        # The app data shares the ACA files mount (environment storage of the same name).
        "shares": [
            {"name": data_volume_name(app.name, i), "app": app.name, "path": path}
            for app in apps for i, path in enumerate(app.volumes)
        ],
    }


def render_runbook(inp: RenderInput) -> Bundle:
    bundle = Bundle()
    bundle.add("RUNBOOK.md", render_template("runbook/RUNBOOK.md.j2", **runbook_context(inp)))
    script = add_postdeploy(bundle, inp)
    bundle.merge(render_aca_apps(inp, postdeploy=script))
    return bundle
