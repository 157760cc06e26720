"""Post-deploy steps for every Azure bundle that deploys PostgreSQL (ACA, AKS, Marketplace, manual,
hybrid, multi-cloud, development): what ARM cannot do.

``postdeploy/10-databases.sh`` creates the per-app roles (passwords from Key Vault), hands each
database to its role and runs the ``CREATE EXTENSION``s the catalog lists — data-plane SQL that no
template can run. The SQL is the Compose init script's (``blueprints/common/databases.sql.j2``),
so the local and the Azure databases cannot drift. The script holds names only; it must run from
inside the VNet (the server and the vault have no public endpoint), which its header says.
"""

from __future__ import annotations

from typing import Any

from installer.render import Bundle, RenderInput
from installer.render.azure.data import POSTGRES_ADMIN
from installer.render.compose import initdb_context
from installer.render.templating import render_template
from installer.render.workload import azure_names, kv_secret_name
from installer.secrets import env_name

__all__ = ["DATABASES_SCRIPT", "databases_context", "add_postdeploy"]

DATABASES_SCRIPT = "postdeploy/10-databases.sh"
ADMIN_SECRET = "postgres_password"


def databases_context(inp: RenderInput, unique_names: bool = False,
                      components: list[str] | None = None) -> dict[str, Any] | None:
    """Template context for the databases script, or None when no enabled component has a database.

    ``components``: the ones whose databases live on the Azure server (default: every enabled one;
    hybrid keeps the on-prem runner's databases on its own PostgreSQL)."""
    plan, cat = inp.plan, inp.catalog
    enabled = components if components is not None else plan.enabled_components(cat)
    ctx = initdb_context(cat, enabled)
    if not ctx["databases"]:
        return None
    # initdb_context names each role's password by env var; Key Vault holds it under the secret's name.
    by_env = {env_name(db.password_secret): db.password_secret
              for c in enabled for db in cat.components[c].databases}
    for role in ctx["roles"]:
        role["kv"] = kv_secret_name(by_env[role["env"]])
    names = azure_names(plan)
    return {
        **ctx,
        "plan": plan,
        "unique": unique_names,
        "vnet": "of the foundation" if unique_names else names.vnet,
        "key_vault": names.key_vault,
        "pg_host": names.postgres_host(plan.azure.cloud),
        "admin_user": POSTGRES_ADMIN,
        "admin_secret": kv_secret_name(ADMIN_SECRET),
        # The server admin is azure_pg_admin, not a superuser: it joins each role to give it a database.
        "grant_to_admin": True,
    }


def add_postdeploy(bundle: Bundle, inp: RenderInput, unique_names: bool = False,
                   components: list[str] | None = None) -> str | None:
    """Add ``postdeploy/10-databases.sh`` when the plan has databases; its path, or None. When the
    Azure part runs the controller and the dataplane, also the registration program
    (``postdeploy/register-dataplane/``, installer.render.registration)."""
    from installer.azure.requirements import compute_target
    from installer.render.registration import DATAPLANE, add_registration

    ctx = databases_context(inp, unique_names, components)
    if ctx is None:
        return None
    bundle.add(DATABASES_SCRIPT, render_template("postdeploy/databases.sh.j2", **ctx))
    if components is None or DATAPLANE in components:
        add_registration(bundle, inp, "aks" if compute_target(inp.plan) == "aks" else "aca", unique_names)
    return DATABASES_SCRIPT
