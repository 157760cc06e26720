"""Manual installation: a Markdown runbook with the product's five manual steps.

Provision the network and data services → deploy the containers → Entra SSO and Key Vault
references → connectors → audit (notes/platform-stack.md §3). Every command carries this plan's
names, region and sizes; the Container App files it deploys ship beside it (``aca/``), so the
runbook and the ACA target cannot drift. Secret values never appear: commands read them from
the install's secret store into environment variables the shell never echoes.
"""

from __future__ import annotations

from installer.plan import InstallPlan
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


POSTGRES_VERSION = "15"  # the catalog's pgvector/pgvector:pg15 locally
# Subnets as the foundation lays them out (the runbook builds the same network by hand).
SUBNETS = {
    "snet-pe": (FOUNDATION_SUBNETS["pe"], None),
    "snet-aca": (FOUNDATION_SUBNETS["aca"], "Microsoft.App/environments"),
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
        "pg_version": POSTGRES_VERSION,
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
