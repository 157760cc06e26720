"""Every secret the Azure template takes as a parameter ends up somewhere an Azure-side reader uses
it, and every database it creates gets its role from the post-deploy step.

armrules.rule_usage only checks that a parameter is referenced; hybrid's dataplane passwords passed
it for months because a Key Vault secret referenced them — a secret nothing in Azure read (the
runner and its databases are on-prem). This follows the chain one step further: parameter → Key
Vault secret → a Container App's Key Vault reference (template or ACA YAML), an AKS
SecretProviderClass object, or the post-deploy script."""

from __future__ import annotations

import json
from typing import Any

import pytest

from installer.render import RenderInput, render_plan, renderer_keys
from tests.unit.blueprint_plans import plan

PLANS = {
    "aca": dict(model="container", target="aca"),
    "aks": dict(model="container", target="aks"),
    "hybrid": dict(model="hybrid"),
    "multicloud": dict(model="multicloud"),
}
KV_SECRET = "Microsoft.KeyVault/vaults/secrets"
PG_DATABASE = "Microsoft.DBforPostgreSQL/flexibleServers/databases"


def _bundle(kind: str) -> Any:
    p = plan(**PLANS[kind])
    return render_plan(RenderInput(plan=p, secrets={}), renderer_keys(p))


def _readers(bundle: Any, arm: dict[str, Any]) -> str:
    """Text of everything that can read a Key Vault secret: the template's other resources (app
    secrets with keyVaultUrl), the ACA YAML, the Kubernetes manifests and the post-deploy script."""
    others = [r for r in arm["resources"] if r["type"] != KV_SECRET]
    files = [bundle.text(p) for p in bundle if p.startswith(("aca/", "k8s/", "postdeploy/")) and not p.endswith(".md")]
    return json.dumps(others) + "\n".join(files)


@pytest.mark.parametrize("kind", list(PLANS))
def test_every_secret_parameter_reaches_an_azure_reader(kind: str) -> None:
    bundle = _bundle(kind)
    arm = json.loads(bundle.text("arm/mainTemplate.json"))
    readers = _readers(bundle, arm)
    secure = [n for n, spec in arm["parameters"].items() if spec["type"] == "secureString"]
    assert secure
    for param in secure:
        ref = f"parameters('{param}')"
        holders = [r["name"].rsplit("/", 1)[-1] for r in arm["resources"] if r["type"] == KV_SECRET and ref in json.dumps(r)]
        used_directly = ref in json.dumps([r for r in arm["resources"] if r["type"] != KV_SECRET])
        read = [h for h in holders if f"/secrets/{h}" in readers or f"'{h}'" in readers or f'"{h}"' in readers
                or f"objectName: {h}" in readers or f" {h} " in readers or f" {h}\n" in readers]
        assert used_directly or read, f"{kind}: parameter {param} is stored in Key Vault as {holders} but nothing in Azure reads it"


@pytest.mark.parametrize("kind", list(PLANS))
def test_every_database_gets_its_role_from_the_post_deploy_step(kind: str) -> None:
    bundle = _bundle(kind)
    arm = json.loads(bundle.text("arm/mainTemplate.json"))
    script = "\n".join(bundle.text(p) for p in bundle if p.startswith("postdeploy/"))
    databases = [r["name"].rsplit("/", 1)[-1] for r in arm["resources"] if r["type"] == PG_DATABASE]
    assert databases
    for db in databases:
        assert db in script, f"{kind}: database {db} is created but the post-deploy step gives it no role"


def test_hybrid_keeps_the_runner_s_secrets_and_databases_on_prem() -> None:
    bundle = _bundle("hybrid")
    arm = json.loads(bundle.text("arm/mainTemplate.json"))
    assert not [n for n in arm["parameters"] if n.startswith("dataplane")]
    assert not [r for r in arm["resources"] if "dataplane" in r["name"] and r["type"] in (KV_SECRET, PG_DATABASE)]
    params = "\n".join(bundle.text(p) for p in bundle if p.endswith(".bicepparam"))
    assert "dataplaneDbPassword" not in params and "DATAPLANE_DB_PASSWORD" not in params
    # The runner still gets them on-prem.
    assert "DATAPLANE_DB_PASSWORD" in bundle.text("onprem/.env.example")
