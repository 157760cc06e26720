"""The Miso controller and the dataplane on every target, checked against the vendor's contract.

The contract (tests/unit/data/vendor_contract/{miso-controller,dataplane}.yaml: every setting the
vendor's templates give them, each with its source line) is checked on Compose (the rendered
``compose.yaml`` resolved with its ``.env``), the ACA YAML, the AKS manifests, the flat ARM template
and the Bicep modules. Every connection URL is parsed: its role, password and database must be the
ones the init script (Compose) and the post-deploy script (Azure) create — and the Compose URLs are
used to log in and create a table on a real PostgreSQL after the rendered init script ran."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from installer.catalog import load_catalog
from installer.render.aca import render_aca
from installer.render.aks import render_aks
from installer.render.azure.names import secret_param
from installer.render.compose import INITDB_SCRIPT, render_compose
from installer.render.postdeploy import DATABASES_SCRIPT
from installer.render.workload import kv_secret_name
from installer.secrets import env_name
from tests.unit.blueprint_plans import inp, plan

CATALOG = load_catalog()
CORE = ("miso-controller", "dataplane")
CONTRACTS = {c: yaml.safe_load((Path(__file__).parent / f"data/vendor_contract/{c}.yaml").read_text()) for c in CORE}
AZURE_TARGETS = ("aca-yaml", "aks", "arm", "bicep")


class Value:
    """One rendered setting: a plain value, or a reference to a secret (``ref``: .env variable on
    Compose, Key Vault secret name on Azure) whose value is ``value`` when the test can know it."""

    def __init__(self, value: str | None = None, ref: str | None = None) -> None:
        self.value, self.ref = value, ref


# ---- each target's env of a component ------------------------------------------------------


def _compose() -> tuple[dict[str, dict[str, Value]], dict[str, str]]:
    return _compose_with(render_compose(inp(plan(model="container", target="compose", components=list(CORE)))))


def _aca_yaml() -> dict[str, dict[str, Value]]:
    b = render_aca(inp(plan(model="container", target="aca")))
    out = {}
    for comp in CORE:
        c = yaml.safe_load(b.text(f"aca/{comp}.yaml"))["properties"]["template"]["containers"][0]
        out[comp] = {e["name"]: Value(e.get("value"), e.get("secretRef")) for e in c["env"]}
    return out


def _aks() -> dict[str, dict[str, Value]]:
    b = render_aks(inp(plan(model="container", target="aks")))
    out = {}
    for comp in CORE:
        docs = list(yaml.safe_load_all(b.text(f"k8s/{comp}.yaml")))
        c = next(d for d in docs if d and d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
        out[comp] = {e["name"]: Value(e.get("value"), (e.get("valueFrom") or {}).get("secretKeyRef", {}).get("key"))
                     for e in c["env"]}
    return out


def _arm_template() -> dict[str, Any]:
    return json.loads(render_aca(inp(plan(model="container", target="aca"))).text("arm/mainTemplate.json"))


def _arm() -> dict[str, dict[str, Value]]:
    arm = _arm_template()
    out = {}
    for comp in CORE:
        res = next(r for r in arm["resources"]
                   if r["type"] == "Microsoft.App/containerApps" and f"'{comp}'" in json.dumps(r["name"]).replace('"', "'")
                   or r["type"] == "Microsoft.App/containerApps" and r["name"].endswith(comp))
        c = res["properties"]["template"]["containers"][0]
        out[comp] = {e["name"]: Value(e.get("value"), e.get("secretRef")) for e in c["env"]}
    return out


def _bicep_text() -> str:
    b = render_aca(inp(plan(model="container", target="aca")))
    return "\n".join(b.text(p) for p in b if p.startswith("bicep/") and p.endswith(".bicep"))


def _bicep() -> dict[str, dict[str, Value]]:
    text = _bicep_text()
    out = {}
    for comp in CORE:
        sym = "app" + "".join(w.capitalize() for w in comp.split("-"))
        block = text[text.index(f"resource {sym} "):]
        block = block[:block.index("\nresource ", 1)] if "\nresource " in block[1:] else block
        env = {name: Value(value) for name, value in re.findall(r"name: '([A-Z_]+)'\s+value: '([^']*)'", block)}
        env.update({name: Value(ref=ref) for name, ref in re.findall(r"name: '([A-Z_]+)'\s+secretRef: '([^']+)'", block)})
        env.update({name: Value("<expression>") for name in re.findall(r"name: '([A-Z_]+)'\s+value: [a-z(]", block)})
        out[comp] = env
    return out


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, dict[str, Value]]]:
    compose, _ = _compose()
    return {"compose": compose, "aca-yaml": _aca_yaml(), "aks": _aks(), "arm": _arm(), "bicep": _bicep()}


# ---- the contract ------------------------------------------------------------------------------


def _check_postgres_url(target: str, comp: str, key: str, v: Value, database: str) -> None:
    db = CATALOG.components[comp].database(database)
    index = [d.name for d in CATALOG.components[comp].databases].index(database)
    if target == "compose":
        assert v.ref == env_name(f"databases-{comp}-{index}-url") and v.value, (comp, key)
        u = urlsplit(v.value)
        assert (u.scheme, u.hostname, u.port, unquote(u.path[1:]), unquote(u.username or "")) == \
            ("postgresql", "postgres", 5432, db.name, db.user), (comp, key, v.value)
        assert u.query == "", "no TLS on the local PostgreSQL"
    else:
        # A Key Vault reference, never a value: the URL holds the role's password.
        assert v.value is None and v.ref == f"databases-{comp}-{index}-url", (target, comp, key)


@pytest.mark.parametrize("comp", CORE)
@pytest.mark.parametrize("target", ["compose", *AZURE_TARGETS])
def test_every_contract_setting_is_rendered_in_its_format(rendered: dict, target: str, comp: str) -> None:
    env: dict[str, Value] = rendered[target][comp]
    contract = CONTRACTS[comp]
    for key, (fmt, source) in contract["env"].items():
        assert key in env, f"{target}/{comp}: {key} missing ({source})"
        v = env[key]
        where = f"{target}/{comp}: {key} ({source})"
        if fmt == "secret":
            assert v.ref, f"{where}: must be a secret reference"
            if target == "compose":
                assert v.value, where
        elif fmt.startswith("postgres_url:"):
            _check_postgres_url(target, comp, key, v, fmt.split(":", 1)[1])
        elif fmt == "redis_url":
            if target == "compose":
                assert v.value == "redis://redis:6379", where
            else:
                assert v.value is None and v.ref == "redis-url", where  # rediss:// with the key, in Key Vault
        elif fmt == "url":
            value = re.sub(r"^\[format\('([^']*)', parameters\('publicDomain'\)\)\]$", r"\1", v.value or "")
            value = value.replace("${PUBLIC_DOMAIN}", "x").replace("${publicDomain}", "x").replace("{0}", "x")
            assert value == "<expression>" or re.fullmatch(r"https?://\S+", value), f"{where}: {v.value!r}"
        elif fmt == "origins":
            assert v.value and v.value.split(",")[0] == "http://localhost:*", where
        elif fmt == "any":
            assert v.value or v.ref, where
        else:
            assert v.value == fmt, f"{where}: {v.value!r}, the contract says {fmt!r}"
    for key in contract.get("absent", []):
        assert key not in env, f"{target}/{comp}: {key} is not read by the app"


@pytest.mark.parametrize("target", ["compose", *AZURE_TARGETS])
def test_keys_the_controller_and_dataplane_share_are_one_secret(rendered: dict, target: str) -> None:
    for key in CONTRACTS["dataplane"]["shared_with"]["miso-controller"]:
        a, b = rendered[target]["miso-controller"][key], rendered[target]["dataplane"][key]
        assert a.ref and a.ref == b.ref, (target, key)


def test_the_azure_urls_are_composed_in_key_vault_from_the_role_passwords() -> None:
    """The ARM template writes each URL secret from the role's secure parameter, URL-encoded, with
    sslmode=require; the Redis URL carries the URL-encoded access key (rediss, port 10000)."""
    arm = _arm_template()
    secrets = {r["name"]: r for r in arm["resources"] if r["type"] == "Microsoft.KeyVault/vaults/secrets"}

    def secret(name: str) -> str:
        found = [r for n, r in secrets.items() if n.endswith(f"'{name}')]") or n.endswith(f"/{name}")]
        assert len(found) == 1, name
        return found[0]["properties"]["value"]

    for comp in CORE:
        for i, db in enumerate(CATALOG.components[comp].databases):
            value = secret(f"databases-{comp}-{i}-url")
            m = re.fullmatch(r"\[format\('postgresql://\{0\}:\{1\}@\{2\}:5432/\{3\}\?sslmode=require', '([^']+)', "
                             r"uriComponent\(parameters\('([A-Za-z]+)'\)\), reference\(.*fullyQualifiedDomainName, '([^']+)'\)\]",
                             value)
            assert m, value
            assert (m.group(1), m.group(2), m.group(3)) == (db.user, secret_param(db.password_secret), db.name)
            assert m.group(2) in arm["parameters"] and arm["parameters"][m.group(2)]["type"] == "secureString"
    redis = secret("redis-url")
    assert redis.startswith("[format('rediss://:{0}@{1}:10000', uriComponent(listKeys(")
    bicep = _bicep_text()
    assert "'postgresql://miso_user:${uriComponent(" in bicep and "?sslmode=require'" in bicep
    assert "'rediss://:${uriComponent(" in bicep


def test_every_url_names_a_role_and_database_the_post_deploy_script_creates() -> None:
    for target, render in (("aca", render_aca), ("aks", render_aks)):
        script = render(inp(plan(model="container", target=target))).text(DATABASES_SCRIPT)
        for comp in CORE:
            for db in CATALOG.components[comp].databases:
                # The role's password comes from the Key Vault secret the URL is composed from.
                assert f'="$(vault_secret {kv_secret_name(db.password_secret)})"' in script, (target, db.user)
                assert f"ALTER ROLE \"{db.user}\" WITH LOGIN PASSWORD" in script, (target, db.user)
                assert f"CREATE DATABASE %I OWNER %I', '{db.name}', '{db.user}'" in script, (target, db.name)


def _pg_tools() -> str | None:
    return shutil.which("pg_virtualenv") if any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) else None


def test_every_compose_url_logs_in_and_creates_a_table_after_the_init_script(tmp_path: Path) -> None:
    """Real PostgreSQL (a throwaway pg_virtualenv cluster) runs the rendered init script; then each
    connection URL the apps get logs in as its role, in its database, and creates a table there."""
    if _pg_tools() is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but PostgreSQL server binaries are missing (run scripts/test-deps.sh)")
        pytest.skip("PostgreSQL server binaries (postgresql, pg_virtualenv) are not installed")
    raw = CATALOG.model_dump()  # Debian has no pgvector: drop that extension, the rest is real
    for comp in raw["components"].values():
        for db in comp["databases"]:
            db["extensions"] = [e for e in db["extensions"] if e != "vector"]
    catalog = type(CATALOG).model_validate(raw)
    i = inp(plan(model="container", target="compose", components=list(CORE)))
    from installer.render import RenderInput

    bundle = render_compose(RenderInput(plan=i.plan, secrets=i.secrets, catalog=catalog))
    (tmp_path / "init.sh").write_bytes(bundle.files[INITDB_SCRIPT])
    compose, dotenv = _compose_with(bundle)
    urls = [v.value for comp in CORE for v in compose[comp].values() if v.value and v.value.startswith("postgresql://")]
    assert len(urls) == 6
    lines = ['export POSTGRES_USER="$PGUSER" POSTGRES_DB=postgres', f"bash {tmp_path / 'init.sh'}"]
    for n, url in enumerate(urls):
        local = url.replace("@postgres:5432/", "@${PGHOST}:${PGPORT}/")
        lines.append(f'psql "{local}" -v ON_ERROR_STOP=1 -Atc "create table fabrix_probe_{n} (id int); '
                     f"select 'ok:' || current_user || ':' || current_database()\"")
    (tmp_path / "run.sh").write_text("set -e\n" + "\n".join(lines) + "\n")
    env = {**os.environ, **dict(i.secrets)}
    run = subprocess.run(["pg_virtualenv", "bash", str(tmp_path / "run.sh")], capture_output=True, text=True,
                         env=env, timeout=180)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    got = {ln for ln in run.stdout.split() if ln.startswith("ok:")}
    want = {f"ok:{db.user}:{db.name}" for comp in CORE for db in CATALOG.components[comp].databases}
    assert got == want
    assert not any(v in run.stdout + run.stderr for v in i.secrets.values() if len(v) > 6)


def _compose_with(bundle: Any) -> tuple[dict[str, dict[str, Value]], dict[str, str]]:
    doc = yaml.safe_load(bundle.text("compose.yaml"))
    dotenv = dict(ln.split("=", 1) for ln in bundle.text(".env").splitlines() if "=" in ln and not ln.startswith("#"))
    dotenv = {k: v.strip("'") for k, v in dotenv.items()}
    out: dict[str, dict[str, Value]] = {}
    for comp in CORE:
        env: dict[str, Value] = {}
        for key, raw in doc["services"][comp]["environment"].items():
            m = re.fullmatch(r"\$\{([A-Z0-9_]+):\?[^}]*\}", str(raw))
            env[key] = Value(dotenv[m.group(1)], ref=m.group(1)) if m else Value(str(raw))
        out[comp] = env
    return out, dotenv
