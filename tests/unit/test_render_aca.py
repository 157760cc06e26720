"""Container Apps YAML: exposure, Key Vault references through the identity, sizes, validation."""

from __future__ import annotations

import copy

import pytest
import yaml

from installer.plan import Size
from installer.render.aca import render_aca_apps
from installer.render.workload import aca_resources
from installer.validate.aca import check_app, validate_aca_apps
from installer.validate.secretscan import scan_bundle
from tests.unit.blueprint_plans import inp, plan

FRONT_DOOR = {"keycloak", "flowise", "openwebui"}
INTERNAL = {"miso-controller", "dataplane"}


def _docs(bundle) -> dict:
    return {p.removeprefix("aca/").removesuffix(".yaml"): yaml.safe_load(bundle.text(p))
            for p in bundle if p.startswith("aca/") and p.endswith(".yaml")}


def test_one_file_per_app_and_only_front_door_apps_external() -> None:
    docs = _docs(render_aca_apps(inp(plan(model="container", target="aca"))))
    assert set(docs) == FRONT_DOOR | INTERNAL  # data services are Azure managed services, not apps
    for name, doc in docs.items():
        assert doc["properties"]["configuration"]["ingress"]["external"] is (name in FRONT_DOOR), name
        assert doc["properties"]["configuration"]["ingress"]["allowInsecure"] is False


def test_secrets_and_registry_go_through_the_user_assigned_identity() -> None:
    p = plan(model="container", target="aca")
    docs = _docs(render_aca_apps(inp(p)))
    miso = docs["miso-controller"]
    uami = next(iter(miso["identity"]["userAssignedIdentities"]))
    assert uami.endswith("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-fx-review")
    assert p.azure.subscription_id in uami
    secrets = miso["properties"]["configuration"]["secrets"]
    assert {s["name"] for s in secrets} >= {"databases-miso-controller-0-url", "miso-jwt-secret", "redis-url"}
    for s in secrets:
        assert s["identity"] == uami and s["keyVaultUrl"].startswith("https://kv-fx-review-")
        assert s["keyVaultUrl"].endswith(f".vault.azure.net/secrets/{s['name']}") and "value" not in s
    assert miso["properties"]["configuration"]["registries"] == [{"server": "contosoacr.azurecr.io", "identity": uami}]
    # Public images need no registry entry (and so no credential at all).
    assert "registries" not in docs["flowise"]["properties"]["configuration"]
    env = {e["name"]: e for e in miso["properties"]["template"]["containers"][0]["env"]}
    # Connection URLs hold passwords: composed in Key Vault by the foundation, referenced here.
    assert env["DATABASE_URL"] == {"name": "DATABASE_URL", "secretRef": "databases-miso-controller-0-url"}
    assert env["DATABASELOG_URL"] == {"name": "DATABASELOG_URL", "secretRef": "databases-miso-controller-1-url"}
    assert env["REDIS_URL"] == {"name": "REDIS_URL", "secretRef": "redis-url"}


@pytest.mark.parametrize("size", list(Size))
def test_resources_are_valid_container_apps_pairs_and_scale_with_the_preset(size: Size) -> None:
    docs = _docs(render_aca_apps(inp(plan(model="container", target="aca", size=size.value, tier="prod"))))
    for doc in docs.values():
        res = doc["properties"]["template"]["containers"][0]["resources"]
        assert (res["cpu"] * 4).is_integer() and res["memory"] == f"{res['cpu'] * 2:g}Gi"
        scale = doc["properties"]["template"]["scale"]
        assert 1 <= scale["minReplicas"] <= scale["maxReplicas"]
    # The preset's maximum, except the single-instance apps (catalog max_replicas 1): Keycloak (local
    # cache) and Open WebUI (sessions and uploads in the process and its data folder).
    single = {"keycloak", "openwebui"}
    assert {n: d["properties"]["template"]["scale"]["maxReplicas"] for n, d in docs.items() if n not in single} == {
        n: {"s": 2, "m": 4, "l": 6, "xl": 10}[size.value] for n in docs if n not in single}
    for n in single:
        assert docs[n]["properties"]["template"]["scale"] | {"rules": None} == {
            "minReplicas": 1, "maxReplicas": 1, "rules": None}


def test_aca_resource_rounding() -> None:
    assert aca_resources(0.5, 768) == (0.5, 1.0)
    assert aca_resources(0.1, 128) == (0.25, 0.5)
    assert aca_resources(1.0, 4096) == (2.0, 4.0)  # memory drives the pair
    assert aca_resources(8.0, 1024) == (4.0, 8.0)  # capped at the Consumption maximum


def test_probes_come_from_the_catalog_health_endpoint() -> None:
    docs = _docs(render_aca_apps(inp(plan(model="container", target="aca"))))
    probes = docs["keycloak"]["properties"]["template"]["containers"][0]["probes"]
    assert {p["type"] for p in probes} == {"Liveness", "Readiness", "Startup"}
    by_type = {p["type"]: p["httpGet"] for p in probes}
    ready = {"path": "/health/ready", "port": 9000, "scheme": "HTTP"}
    # Liveness on /health/live: a database outage makes Keycloak unready, not worth a restart.
    assert by_type == {"Startup": ready, "Readiness": ready, "Liveness": {**ready, "path": "/health/live"}}


def test_validator_passes_rendered_files_and_holds_no_secret() -> None:
    i = inp(plan(model="container", target="aca"))
    bundle = render_aca_apps(i)
    assert validate_aca_apps(bundle, i) == []
    assert scan_bundle(bundle, i.secrets) == []
    assert "&id" not in bundle.text("aca/keycloak.yaml")  # no YAML aliases for reviewers to chase


def test_validator_catches_broken_files() -> None:
    i = inp(plan(model="container", target="aca"))
    doc = _docs(render_aca_apps(i))["miso-controller"]
    expected = {"image": "contosoacr.azurecr.io/aifabrix/miso-controller:latest", "port": 3000,
                "frontdoor": False, "probes": True}
    assert check_app("x.yaml", doc, expected) == []
    cases = {
        "ingress.external is true": lambda d: d["properties"]["configuration"]["ingress"].update(external=True),
        "not a valid Container Apps combination": lambda d: d["properties"]["template"]["containers"][0]["resources"].update(cpu=0.3),
        "identity is not the app's user-assigned identity": lambda d: d["properties"]["configuration"]["secrets"][0].update(identity="/other"),
        "'keyVaultUrl' is a required property": lambda d: d["properties"]["configuration"]["secrets"][0].pop("keyVaultUrl"),
        "Additional properties are not allowed ('value'": lambda d: d["properties"]["configuration"]["secrets"][0].update(value="plain"),
        "!= plan image": lambda d: d["properties"]["template"]["containers"][0].update(image="evil/miso:1"),
    }
    for message, breaker in cases.items():
        broken = copy.deepcopy(doc)
        breaker(broken)
        found = check_app("x.yaml", broken, expected)
        assert any(message in f.message for f in found), (message, found)


def test_a_leaked_secret_is_found() -> None:
    i = inp(plan(model="container", target="aca"))
    bundle = render_aca_apps(i)
    value = next(iter(i.secrets.values()))
    bundle.add("aca/flowise.yaml", bundle.text("aca/flowise.yaml") + f"# {value}\n")
    assert [f.path for f in scan_bundle(bundle, i.secrets)] == ["aca/flowise.yaml"]
