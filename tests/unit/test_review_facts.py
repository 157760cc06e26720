"""REVIEW.md says only what is there: its exposure table and identity facts are read back from the
rendered resources, so a change in the templates (not in the catalog) changes what it says."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from installer.commands.export import Review, build_entries, review_context
from installer.render import RenderInput, render_plan, renderer_keys
from installer.render.templating import render_template
from tests.unit.blueprint_plans import plan, secrets_of

PLANS = {
    "aca": lambda: plan(model="container", target="aca"),
    "aks": lambda: plan(model="container", target="aks"),
    "hybrid": lambda: plan(model="hybrid"),
}


def _rows(review: str) -> dict[str, tuple[str, str]]:
    section = review.split("## What is exposed to which network", 1)[1].split("## Identities", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("Workload", "---"):
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def _review(kind: str) -> tuple[str, dict]:
    p = PLANS[kind]()
    entries, _ = build_entries(p, b"apiVersion: fabrix/v1\n", secrets_of(p), None)
    arm = json.loads(entries["blueprints/arm/mainTemplate.json"])
    return entries["REVIEW.md"].decode(), arm


@pytest.mark.parametrize("kind", list(PLANS))
def test_every_workload_row_is_a_deployed_workload_with_its_port(kind: str) -> None:
    review, arm = _review(kind)
    rows = _rows(review)
    if kind == "aks":
        p = PLANS[kind]()
        bundle = render_plan(RenderInput(plan=p, secrets={}), renderer_keys(p))
        docs = [d for path in bundle if path.startswith("k8s/") and path.endswith(".yaml") for d in yaml.safe_load_all(bundle.text(path)) if d]
        deployed = {d["metadata"]["name"]: str(next(s for s in docs if s["kind"] == "Service" and s["metadata"]["name"] == d["metadata"]["name"])["spec"]["ports"][0]["port"])
                    for d in docs if d["kind"] == "Deployment"}
        published = {b["backend"]["service"]["name"] for d in docs if d["kind"] == "Ingress"
                     for r in d["spec"]["rules"] for b in r["http"]["paths"]}
    else:
        apps = [r for r in arm["resources"] if r["type"] == "Microsoft.App/containerApps"]
        deployed = {r["name"]: str(r["properties"]["configuration"]["ingress"]["targetPort"]) for r in apps}
        published = {r["name"] for r in apps if r["properties"]["configuration"]["ingress"]["external"]}
    workloads = {k: v for k, v in rows.items() if "`" not in k and not k.startswith("on-prem")}
    assert {k: v[0] for k, v in workloads.items()} == deployed
    for name, (_, reach) in workloads.items():
        assert ("Internet" in reach or "private endpoint" in reach) == (name in published), (name, reach)
    if kind == "hybrid":  # the runner is on-prem: not a row of its own, the on-prem row says how it dials out
        assert "dataplane" not in workloads and any(k.startswith("on-prem runner") for k in rows)
        assert "client certificate" in rows["miso-controller"][1] and "onpremEgressCidr" in rows["miso-controller"][1]


@pytest.mark.parametrize("kind", ["aca", "aks"])
def test_every_service_row_matches_its_public_access_and_private_endpoints(kind: str) -> None:
    review, arm = _review(kind)
    rows = _rows(review)
    pes = [r for r in arm["resources"] if r["type"] == "Microsoft.Network/privateEndpoints"]
    services = [r for r in arm["resources"] if r["type"] in (
        "Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts", "Microsoft.ContainerRegistry/registries",
        "Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.Cache/redisEnterprise")]
    assert services
    for res in services:
        (key,) = [k for k in rows if f"`{res['name']}`" in k]
        reach = rows[key][1]
        props = res["properties"]
        public = props.get("publicNetworkAccess") or props.get("network", {}).get("publicNetworkAccess")
        assert f"public network access {public.lower()}" in reach, (key, reach)
        n = sum(1 for pe in pes if f"'{res['type']}', '{res['name']}'" in json.dumps(pe["properties"]))
        assert reach.startswith(f"{n} private endpoint(s)" if n else "no private endpoint"), (key, reach)


def test_the_review_follows_the_template_not_the_catalog() -> None:
    """Change the rendered template only: REVIEW.md changes with it."""
    p = PLANS["aca"]()
    inp = RenderInput(plan=p, secrets={})
    bundle = render_plan(inp, renderer_keys(p))
    arm = json.loads(bundle.text("arm/mainTemplate.json"))
    for res in arm["resources"]:
        if res["type"] == "Microsoft.App/containerApps" and res["name"] == "miso-controller":
            res["properties"]["configuration"]["ingress"]["external"] = True  # published by mistake
            res["properties"]["configuration"]["registries"] = [{"server": "x.azurecr.io", "passwordSecretRef": "pw"}]
        if res["type"] == "Microsoft.KeyVault/vaults":
            res["properties"]["publicNetworkAccess"] = "Enabled"
    arm["resources"] = [r for r in arm["resources"] if r["type"] != "Microsoft.Cdn/profiles/securityPolicies"]
    bundle.add("arm/mainTemplate.json", json.dumps(arm))
    text = render_template("runbook/REVIEW.md.j2", **review_context(Review(p, bundle, [], None), inp))
    rows = _rows(text)
    assert rows["miso-controller"][1].startswith("outside the environment")
    assert "no WAF policy" in rows["keycloak"][1]
    (kv,) = [v for k, v in rows.items() if k.startswith("Key Vault")]
    assert "public network access enabled" in kv[1]
    assert re.search(r"\b1 with a registry password", text)


def _aks_identity_paragraph(text: str) -> str:
    section = text.split("## Identities and their roles", 1)[1].split("## Images", 1)[0]
    return " ".join(section.split("Read back from the Kubernetes manifests", 1)[1].split())


def test_aks_identity_statement_is_read_back_from_the_manifests() -> None:
    """The AKS identity paragraph counts what the manifests and template hold; change them and it
    changes (it was fixed text that stayed true whatever the templates said)."""
    p = PLANS["aks"]()
    inp = RenderInput(plan=p, secrets={})
    bundle = render_plan(inp, renderer_keys(p))
    docs = {path: [d for d in yaml.safe_load_all(bundle.text(path)) if d] for path in bundle
            if path.startswith("k8s/") and path.endswith(".yaml")}
    deployments = sum(1 for ds in docs.values() for d in ds if d["kind"] == "Deployment")
    before = _aks_identity_paragraph(render_template("runbook/REVIEW.md.j2", **review_context(Review(p, bundle, [], None), inp)))
    assert f"{deployments} of {deployments} Deployment(s) use the identity through Kubernetes workload identity" in before
    assert f"{deployments} of them with a federated credential" in before
    assert "no other Secret is read or mounted" in before

    # Flowise loses its workload-identity label and reads a password from a hand-made Secret,
    # keycloak mounts a Secret, and the template loses dataplane's federated credential.
    for d in docs["k8s/flowise.yaml"]:
        if d["kind"] == "Deployment":
            del d["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"]
            d["spec"]["template"]["spec"]["containers"][0]["env"].append(
                {"name": "EXTRA_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "hand-made", "key": "pw"}}})
    for d in docs["k8s/keycloak.yaml"]:
        if d["kind"] == "Deployment":
            d["spec"]["template"]["spec"]["volumes"].append({"name": "tls", "secret": {"secretName": "keycloak-tls"}})
    for path, ds in docs.items():
        bundle.add(path, yaml.safe_dump_all(ds))
    arm = json.loads(bundle.text("arm/mainTemplate.json"))
    arm["resources"] = [r for r in arm["resources"] if not r["name"].endswith("/fc-dataplane")]
    bundle.add("arm/mainTemplate.json", json.dumps(arm))
    after = _aks_identity_paragraph(render_template("runbook/REVIEW.md.j2", **review_context(Review(p, bundle, [], None), inp)))
    assert f"{deployments - 1} of {deployments} Deployment(s) use the identity" in after
    assert f"{deployments - 2} of them with a federated credential" in after
    assert "flowise: EXTRA_PASSWORD from Secret hand-made" in after
    assert "mounted keycloak: Secret keycloak-tls" in after
    assert "no other Secret" not in after
