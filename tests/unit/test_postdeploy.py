"""The Azure post-deploy database script: in every Azure bundle that has databases, valid bash, the
same SQL as the Compose init script, every database/extension of the enabled components, role
passwords read from Key Vault by name (never a value), and a real run on a local PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from installer.catalog import load_catalog
from installer.render import RenderInput
from installer.render.aca import render_aca
from installer.render.aks import render_aks
from installer.render.compose import INITDB_SCRIPT, render_compose
from installer.render.development import render_development
from installer.render.hybrid import RUNNER, render_hybrid
from installer.render.multicloud import render_multicloud
from installer.render.marketplace import render_marketplace
from installer.render.postdeploy import DATABASES_SCRIPT
from installer.render.runbook import render_runbook
from installer.render.workload import azure_names, kv_secret_name
from installer.secrets import env_name
from tests.unit.blueprint_plans import inp, plan

CATALOG = load_catalog()
KINDS = {
    "aca": (lambda: plan(model="container", target="aca"), render_aca),
    "aks": (lambda: plan(model="container", target="aks"), render_aks),
    "marketplace": (lambda: plan(model="marketplace"), render_marketplace),
    "manual": (lambda: plan(model="manual"), render_runbook),
    "hybrid": (lambda: plan(model="hybrid"), render_hybrid),
    "multicloud": (lambda: plan(model="multicloud"), render_multicloud),
    "development": (lambda: plan(model="development"), render_development),
}
# Components whose databases live on-prem, not on the Azure server (hybrid: the runner's).
ON_PREM = {"hybrid": {RUNNER}}


def _render(kind: str, **patch: Any) -> tuple[RenderInput, Any]:
    make_plan, render = KINDS[kind]
    p = make_plan() if not patch else plan(**{"model": "container", "target": "aca", **patch})
    i = inp(p)  # with generated secret values, so a leak would be found
    return i, render(i)


def _sql(script: str) -> str:
    return script.split("<<'SQL'\n", 1)[1].split("\nSQL\n", 1)[0]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_azure_bundle_ships_a_valid_databases_script(kind: str, tmp_path: Path) -> None:
    i, bundle = _render(kind)
    script = bundle.text(DATABASES_SCRIPT)
    path = tmp_path / "10-databases.sh"
    path.write_text(script)
    run = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script
    # It says where it must run: the server and the vault are private.
    assert "inside the virtual network" in script and "jump host" in script
    assert not any(v in script for v in i.secrets.values())  # names only


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_script_covers_every_database_role_and_extension_of_the_enabled_components(kind: str) -> None:
    i, bundle = _render(kind)
    script = bundle.text(DATABASES_SCRIPT)
    on_prem = ON_PREM.get(kind, set())
    dbs = [db for c in i.plan.enabled_components(CATALOG) if c not in on_prem for db in CATALOG.components[c].databases]
    assert {db.name for db in dbs} >= {"keycloak", "flowise", "miso"}
    for c in on_prem:  # created by the on-prem init script instead
        assert all(f"-- database {db.name} (" not in script for db in CATALOG.components[c].databases)
    for db in dbs:
        assert f"format('CREATE DATABASE %I OWNER %I', '{db.name}', '{db.user}')" in script
        assert f'ALTER DATABASE "{db.name}" OWNER TO "{db.user}";' in script
        section = script.split(f"-- database {db.name} (", 1)[1].split("-- database", 1)[0]
        for ext in db.extensions:
            assert f'CREATE EXTENSION IF NOT EXISTS "{ext}";' in section, (db.name, ext)
        # The role's password: read from Key Vault by its secret name, into the env var psql reads.
        var = env_name(db.password_secret)
        assert f'{var}="$(vault_secret {kv_secret_name(db.password_secret)})"' in script
        assert f"\\set pw_{db.user} `printenv {var}`" in script
        assert f'GRANT "{db.user}" TO CURRENT_USER;' in script  # the Azure admin is not a superuser
    assert 'PGPASSWORD="$(vault_secret postgres-password)"' in script
    assert "az keyvault secret show --vault-name \"$KEY_VAULT\" --name \"$1\" --query value -o tsv" in script
    names = azure_names(i.plan)
    if kind == "marketplace":  # names carry a per-deployment suffix: from the deployment outputs
        assert 'KEY_VAULT="${KEY_VAULT:?' in script and "outputs.postgresFqdn" in script
        assert names.key_vault not in script
    else:
        assert f'KEY_VAULT="${{KEY_VAULT:-{names.key_vault}}}"' in script
        assert names.postgres_host(i.plan.azure.cloud) in script


def test_the_sql_is_the_compose_init_scripts(tmp_path: Path) -> None:
    """One SQL source: the Azure script is the Compose one plus the admin's role grants."""
    i, bundle = _render("aca")
    local = render_compose(RenderInput(plan=plan(model="container", target="compose"), secrets={}))
    azure_sql = _sql(bundle.text(DATABASES_SCRIPT))
    compose_sql = _sql(local.text(INITDB_SCRIPT))
    without_grants = "\n".join(line for line in azure_sql.splitlines() if not re.match(r'GRANT ".*" TO CURRENT_USER;', line))
    assert without_grants == compose_sql


def test_no_script_without_databases() -> None:
    _, bundle = _render("aca", components=["redis"])  # every app has a database now
    assert DATABASES_SCRIPT not in bundle.files
    assert "10-databases.sh" not in bundle.text("aca/README.md")


def test_the_runbook_and_the_readmes_reference_the_script() -> None:
    _, manual = _render("manual")
    runbook = manual.text("RUNBOOK.md")
    step2 = runbook.split("## Step 2:", 1)[1].split("## Step 3:", 1)[0]
    assert f"bash {DATABASES_SCRIPT}" in step2 and "inside the VNet" in step2
    assert "printenv" not in runbook and "CREATE ROLE" not in runbook  # the SQL lives in the script only
    _, aca = _render("aca")
    assert f"bash {DATABASES_SCRIPT}" in aca.text("aca/README.md")
    # The guides of the other Azure bundles say when and where to run it.
    for kind, guide in (("hybrid", "HYBRID.md"), ("multicloud", "MULTICLOUD.md"), ("development", "DEVELOPMENT.md")):
        _, other = _render(kind)
        assert f"bash {DATABASES_SCRIPT}" in other.text(guide), kind
    _, aks = _render("aks")
    assert f"bash {DATABASES_SCRIPT}" in aks.text("k8s/README.md")


def _pg_tools() -> str | None:
    return shutil.which("pg_virtualenv") if any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) else None


def test_the_script_runs_twice_on_a_real_postgres_as_a_non_superuser_admin(tmp_path: Path) -> None:
    """Debian's PostgreSQL (throwaway pg_virtualenv cluster) plays the Flexible Server: the admin is a
    CREATEROLE/CREATEDB login, not a superuser, one database already exists (the template creates
    them), and a stub `az` on PATH answers `az keyvault secret show` from files."""
    if _pg_tools() is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but PostgreSQL server binaries are missing (run scripts/test-deps.sh)")
        pytest.skip("PostgreSQL server binaries (postgresql, pg_virtualenv) are not installed")
    # Debian has no pgvector package: render from a catalog copy without it; the rest is real.
    raw = CATALOG.model_dump()
    for comp in raw["components"].values():
        for db in comp["databases"]:
            db["extensions"] = [e for e in db["extensions"] if e != "vector"]
    catalog = type(CATALOG).model_validate(raw)
    p = plan(model="container", target="aca")
    i = RenderInput(plan=p, secrets={}, catalog=catalog)
    script = tmp_path / "10-databases.sh"
    script.write_bytes(render_aca(i).files[DATABASES_SCRIPT])
    vault = tmp_path / "vault"
    vault.mkdir()
    values: dict[str, str] = {"postgres-password": "Adm1n-" + os.urandom(8).hex()}
    for c in p.enabled_components(catalog):
        for db in catalog.components[c].databases:
            values.setdefault(kv_secret_name(db.password_secret), "R0le-" + os.urandom(8).hex())
    for name, value in values.items():
        (vault / name).write_text(value + "\n")
    stub = tmp_path / "bin" / "az"
    stub.parent.mkdir()
    stub.write_text(
        "#!/bin/bash\n"
        "# stub: az keyvault secret show --vault-name V --name N --query value -o tsv\n"
        '[ "$1 $2 $3" = "keyvault secret show" ] || { echo "stub az: unexpected $*" >&2; exit 2; }\n'
        'while [ $# -gt 0 ]; do [ "$1" = --name ] && name=$2; shift; done\n'
        f'cat "{vault}/$name"\n'
    )
    stub.chmod(0o755)
    checks = tmp_path / "run.sh"
    checks.write_text(
        "set -e\n"
        # The Flexible Server's admin: not a superuser; the template already created one database.
        f"psql -q -c \"CREATE ROLE fxadmin LOGIN CREATEROLE CREATEDB PASSWORD '{values['postgres-password']}'\"\n"
        "psql -q -c 'CREATE DATABASE keycloak OWNER fxadmin'\n"
        f'export PATH="{stub.parent}:$PATH" PGUSER=fxadmin PGSSLMODE=disable KEY_VAULT=kv-test\n'
        f"bash {script} && bash {script}\n"  # idempotent: the second run must pass as well
        f'export PGPASSWORD="$(cat {vault}/postgres-password)"\n'
        'psql -d postgres -Atc "select datname || \':\' || pg_get_userbyid(datdba) from pg_database order by 1"\n'
        'psql -d flowise -Atc "select \'ext:\' || extname from pg_extension order by 1"\n'
        f'PGPASSWORD="$(cat {vault}/dataplane-db-password)" psql -U dataplane_user -d dataplane-records -Atc "select \'login:\' || current_user"\n'
    )
    run = subprocess.run(["pg_virtualenv", "-t", "bash", str(checks)], capture_output=True, text=True,
                         env={**os.environ}, timeout=180)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    lines = set(run.stdout.split())
    for c in p.enabled_components(catalog):
        for db in catalog.components[c].databases:
            assert f"{db.name}:{db.user}" in lines  # also the pre-existing keycloak database
    assert {"ext:pgcrypto", "ext:uuid-ossp", "ext:btree_gin", "ext:btree_gist"} <= lines
    assert "login:dataplane_user" in lines
    assert not any(v in run.stdout + run.stderr for v in values.values())


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_bundle_validators_check_the_script(kind: str) -> None:
    from installer.validate.postdeploy import postdeploy_findings

    i, bundle = _render(kind)
    on_prem = ON_PREM.get(kind, set())
    azure = [c for c in i.plan.enabled_components(CATALOG) if c not in on_prem]
    assert postdeploy_findings(bundle, i, azure) == []
    broken = type(bundle)(files=dict(bundle.files), private=set(bundle.private))
    text = bundle.text(DATABASES_SCRIPT)
    broken.add(DATABASES_SCRIPT, text.replace('CREATE EXTENSION IF NOT EXISTS "pgcrypto";\n', "") + "fi\n")
    messages = " | ".join(f.message for f in postdeploy_findings(broken, i, azure))
    assert "no CREATE EXTENSION pgcrypto" in messages and "bash -n" in messages
    del broken.files[DATABASES_SCRIPT]
    assert "missing" in " | ".join(f.message for f in postdeploy_findings(broken, i, azure))
