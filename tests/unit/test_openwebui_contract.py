"""Open WebUI on every target, checked against its contract (tests/unit/data/vendor_contract/openwebui.yaml,
each setting with its source): Compose, the ACA YAML, the AKS manifests, the flat ARM template and
the Bicep module carry each setting in the expected format, its database and role exist in the
Compose init script and the Azure post-deploy script, and it runs as one replica."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from installer.render import render_plan
from installer.render.aca import render_aca
from installer.render.aks import render_aks
from installer.render.compose import INITDB_SCRIPT
from installer.render.postdeploy import DATABASES_SCRIPT
from installer.validate.bicep import parse_bicep
from tests.unit.blueprint_plans import inp, plan

CONTRACT = yaml.safe_load((Path(__file__).parent / "data/vendor_contract/openwebui.yaml").read_text())
APP = CONTRACT["component"]
SECRET = "<secret>"


def _compose() -> tuple[dict[str, str], int, dict[str, str]]:
    bundle = render_plan(inp(plan(model="container", target="compose")), ["compose"])
    svc = yaml.safe_load(bundle.text("compose.yaml"))["services"][APP]
    dotenv = dict(line.split("=", 1) for line in bundle.text(".env").splitlines() if "=" in line and not line.startswith("#"))
    env = {}
    for k, v in svc["environment"].items():
        m = re.fullmatch(r"\$\{([A-Z0-9_]+):\?[^}]*\}", str(v))
        env[k] = f"{SECRET}{dotenv[m.group(1)]}" if m else str(v)  # a reference to .env: the value it resolves to
    return env, 1, dotenv


def _aca_yaml(bundle: Any) -> tuple[dict[str, str], int]:
    tpl = yaml.safe_load(bundle.text(f"aca/{APP}.yaml"))["properties"]["template"]
    env = {e["name"]: e["value"] if "value" in e else f"{SECRET}{e['secretRef']}" for e in tpl["containers"][0]["env"]}
    return env, tpl["scale"]["maxReplicas"]


def _aks() -> tuple[dict[str, str], int]:
    docs = [d for d in yaml.safe_load_all(render_aks(inp(plan(model="container", target="aks"))).text(f"k8s/{APP}.yaml")) if d]
    dep = next(d for d in docs if d["kind"] == "Deployment")
    assert not [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"], "no autoscaler for a single instance"
    env = {e["name"]: e["value"] if "value" in e else f"{SECRET}{e['valueFrom']['secretKeyRef']['key']}"
           for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    return env, dep["spec"]["replicas"]


def _arm(bundle: Any) -> tuple[dict[str, str], int, dict[str, Any]]:
    arm = json.loads(bundle.text("arm/mainTemplate.json"))
    res = next(r for r in arm["resources"] if r["type"] == "Microsoft.App/containerApps" and r["name"] == APP)
    tpl = res["properties"]["template"]
    env = {e["name"]: e["value"] if "value" in e else f"{SECRET}{e['secretRef']}" for e in tpl["containers"][0]["env"]}
    return env, tpl["scale"]["maxReplicas"], arm


def _bicep(bundle: Any) -> tuple[dict[str, str], int]:
    res = parse_bicep(bundle.text("bicep/modules/compute.bicep"))["resources"]["appOpenwebui"]
    tpl = res["config"]["properties"]["template"]
    env = {e["name"]: e["value"] if "value" in e else f"{SECRET}{e['secretRef']}" for e in tpl["containers"][0]["env"]}
    return env, tpl["scale"]["maxReplicas"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[dict[str, str], int]]:
    aca = render_aca(inp(plan(model="container", target="aca")))
    env, replicas, _ = _compose()
    arm_env, arm_replicas, _ = _arm(aca)
    return {"compose": (env, replicas), "aca-yaml": _aca_yaml(aca), "aks": _aks(), "arm": (arm_env, arm_replicas),
            "bicep": _bicep(aca)}


@pytest.mark.parametrize("target", ["compose", "aca-yaml", "aks", "arm", "bicep"])
def test_every_contract_setting_is_rendered_in_its_format(rendered: dict, target: str) -> None:
    env, replicas = rendered[target]
    for name, (fmt, source) in CONTRACT["env"].items():
        assert name in env, f"{target}: {name} missing ({source})"
        value = str(env[name])
        if fmt in ("secret", "postgres_url"):
            assert value.startswith(SECRET), f"{target}: {name} must be a secret reference, not a plain value ({source})"
        else:
            assert value == fmt, f"{target}: {name}={value!r}, the contract says {fmt!r} ({source})"
    assert replicas <= CONTRACT["max_replicas"], f"{target}: more than one Open WebUI replica"


def test_compose_database_url_names_its_own_role_and_database() -> None:
    env, _, _ = _compose()
    url = urlsplit(env["DATABASE_URL"].removeprefix(SECRET))
    db = CONTRACT["database"]
    assert (url.scheme, url.username, url.hostname, url.port, url.path) == (
        "postgresql", db["user"], "postgres", 5432, f"/{db['name']}")
    assert url.password  # the generated role password


def test_azure_database_url_is_a_key_vault_secret_the_template_composes() -> None:
    aca = render_aca(inp(plan(model="container", target="aca")))
    env, _, arm = _arm(aca)
    secret = env["DATABASE_URL"].removeprefix(SECRET)
    # The template writes that Key Vault secret from the role's password, with TLS required.
    kv = [r for r in arm["resources"] if r["type"] == "Microsoft.KeyVault/vaults/secrets" and secret in json.dumps(r["name"])]
    assert len(kv) == 1, secret
    value = kv[0]["properties"]["value"]
    db = CONTRACT["database"]
    m = re.fullmatch(r"\[format\('postgresql://\{0\}:\{1\}@\{2\}:5432/\{3\}\?sslmode=require', '([^']+)', "
                     r"uriComponent\(parameters\('(\w+)'\)\), reference\(.*flexibleServers.*\)\.fullyQualifiedDomainName, '([^']+)'\)\]",
                     value)
    assert m, value
    assert (m.group(1), m.group(2), m.group(3)) == (db["user"], "openwebuiDbPassword", db["name"])


def test_its_database_and_role_exist_on_every_target() -> None:
    db = CONTRACT["database"]
    compose = render_plan(inp(plan(model="container", target="compose")), ["compose"])
    aca = render_aca(inp(plan(model="container", target="aca")))
    for text in (compose.text(INITDB_SCRIPT), aca.text(DATABASES_SCRIPT)):
        assert f"format('CREATE DATABASE %I OWNER %I', '{db['name']}', '{db['user']}')" in text
