"""Runbook, hybrid, multi-cloud and development bundles; every model renders through the CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from installer.cli import main
from installer.render.development import render_development
from installer.render.hybrid import onprem_compose
from installer.render.multicloud import egress_rules
from installer.render.runbook import render_runbook
from installer.validate.models import workflow_findings
from installer.validate.runbook import validate_runbook
from tests.unit.blueprint_plans import BASE, inp, plan


# ---------------------------------------------------------------- runbook

def test_runbook_follows_the_five_steps_with_this_plans_names() -> None:
    i = inp(plan(model="manual", size="m"))
    bundle = render_runbook(i)
    text = bundle.text("RUNBOOK.md")
    assert validate_runbook(bundle, i) == []
    for needle in ("rg-fx-review", "westeurope", "az keyvault create -g rg-fx-review -n kv-fx-review-",
                   "--sku-name Standard_D2ds_v5", "--high-availability ZoneRedundant", "--sku Balanced_B3",
                   "az containerapp env create", "aca/miso-controller.yaml", i.plan.azure.subscription_id):
        assert needle in text, needle
    assert text.count("- [ ] ") >= 15
    assert not any(v in text for v in i.secrets.values())


def test_runbook_validator_catches_a_missing_step() -> None:
    i = inp(plan(model="manual"))
    bundle = render_runbook(i)
    bundle.add("RUNBOOK.md", bundle.text("RUNBOOK.md").replace("## Step 4: Connectors", "## Connectors"))
    assert any("five manual steps" in f.message for f in validate_runbook(bundle, i))


# ---------------------------------------------------------------- hybrid

def test_hybrid_runner_keeps_data_on_prem_and_dials_out_through_mtls() -> None:
    i = inp(plan(model="hybrid"))
    doc, env_names = onprem_compose(i)
    assert set(doc["services"]) == {"postgres", "redis", "dataplane", "mtls-proxy"}
    assert not any(s.get("ports") for s in doc["services"].values())
    assert doc["services"]["dataplane"]["environment"]["MISO_CONTROLLER_URL"] == "http://mtls-proxy:8443"
    assert "CONTROL_PLANE_HOST" in env_names and "DATAPLANE_DB_PASSWORD" in env_names


def test_hybrid_control_plane_requires_client_certificates() -> None:
    from installer.render.hybrid import control_plane_body

    ingress = control_plane_body(inp(plan(model="hybrid")), "miso-controller")["properties"]["configuration"]["ingress"]
    assert ingress["clientCertificateMode"] == "require"
    assert ingress["ipSecurityRestrictions"][0]["action"] == "Allow"


def test_hybrid_control_plane_ingress_is_one_design_in_arm_bicep_and_the_aca_yaml() -> None:
    """External on the environment's private endpoint, mTLS, the runner's range only; the runner
    itself is not deployed to Azure by any of the three."""
    import json

    import yaml

    from installer.render.hybrid import render_hybrid
    from installer.validate.bicep import parse_bicep

    bundle = render_hybrid(inp(plan(model="hybrid")))
    yaml_ingress = yaml.safe_load(bundle.text("aca/miso-controller.yaml"))["properties"]["configuration"]["ingress"]
    arm = json.loads(bundle.text("arm/mainTemplate.json"))
    arm_apps = {r["name"]: r for r in arm["resources"] if r["type"] == "Microsoft.App/containerApps"}
    arm_ingress = arm_apps["miso-controller"]["properties"]["configuration"]["ingress"]
    compute = parse_bicep(bundle.text("bicep/modules/compute.bicep"))["resources"]
    bicep_ingress = compute["appMisoController"]["config"]["properties"]["configuration"]["ingress"]
    source = {"yaml": "${ONPREM_EGRESS_CIDR}", "arm": "[parameters('onpremEgressCidr')]", "bicep": "onpremEgressCidr"}
    for kind, ingress in (("yaml", yaml_ingress), ("arm", arm_ingress), ("bicep", bicep_ingress)):
        assert ingress["external"] is True and ingress["clientCertificateMode"] == "require", kind
        assert [(r["ipAddressRange"], r["action"]) for r in ingress["ipSecurityRestrictions"]] == [(source[kind], "Allow")], kind
    assert "dataplane" not in arm_apps and "appDataplane" not in compute and "aca/dataplane.yaml" not in bundle.files
    # The private path: the environment (no public access) has a private endpoint and its DNS zone.
    env = next(r for r in arm["resources"] if r["type"] == "Microsoft.App/managedEnvironments")
    assert env["properties"]["publicNetworkAccess"] == "Disabled"
    pes = [r for r in arm["resources"] if r["type"] == "Microsoft.Network/privateEndpoints"
           and r["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"] == ["managedEnvironments"]]
    assert len(pes) == 1 and "containerAppsEnvironmentPe" in compute
    assert any("azurecontainerapps.io" in r["name"] for r in arm["resources"] if r["type"] == "Microsoft.Network/privateDnsZones")
    assert "controlPlaneHost" in arm["outputs"]
    assert "param onpremEgressCidr = readEnvironmentVariable('ONPREM_EGRESS_CIDR')" in bundle.text("bicep/params/prod.bicepparam")


def test_hybrid_runner_urls_land_on_the_right_services() -> None:
    from installer.validate.models import validate_hybrid

    i = inp(plan(model="hybrid"))
    doc, env_names = onprem_compose(i)
    env = doc["services"]["dataplane"]["environment"]
    assert env["MISO_CONTROLLER_URL"] == "http://mtls-proxy:8443"  # the proxy leads to the controller only
    for key in ("KEYCLOAK_SERVER_URL", "KEYCLOAK_INTERNAL_SERVER_URL"):  # Keycloak on Front Door, not Miso
        assert env[key].startswith("https://auth.${PUBLIC_DOMAIN:?"), key
    assert "PUBLIC_DOMAIN" in env_names
    from installer.render.hybrid import render_hybrid

    bundle = render_hybrid(i)
    assert [f for f in validate_hybrid(bundle, i) if f.validator == "hybrid"] == []
    text = bundle.text("onprem/compose.yaml")
    broken = text.replace("KEYCLOAK_INTERNAL_SERVER_URL: " + env["KEYCLOAK_INTERNAL_SERVER_URL"],
                          "KEYCLOAK_INTERNAL_SERVER_URL: http://mtls-proxy:8443")
    assert broken != text
    bundle.add("onprem/compose.yaml", broken)
    assert any("KEYCLOAK_INTERNAL_SERVER_URL must reach keycloak" in f.message for f in validate_hybrid(bundle, i))


def test_hybrid_guide_names_only_files_the_bundle_ships_or_its_steps_create() -> None:
    import re

    from installer.render.hybrid import render_hybrid

    bundle = render_hybrid(inp(plan(model="hybrid")))
    guide = bundle.text("HYBRID.md")
    path = re.compile(r"(?:^|[\s=])((?:[\w.-]+/)*[\w.-]+\.(?:yaml|md|sh|crt|key|json|template|example|env))(?=$|\s)")
    named = {m for span in re.findall(r"`([^`]*)`", guide) for m in path.findall(span)}
    created = {"certs/runner-ca.key", "certs/runner.key", "certs/runner-ca.crt", "certs/runner.crt",
               "onprem/certs/control-plane-ca.crt", "secrets.env"}
    script = bundle.text("onprem/certs/make-certs.sh")
    assert all(name.split("/")[-1] in script for name in created if name.startswith("certs/"))
    missing = {n for n in named - created if n not in bundle.files and f"onprem/{n}" not in bundle.files}
    assert missing == set() and {"aca/README.md", "aca/miso-controller.yaml", "postdeploy/10-databases.sh"} <= named


def test_hybrid_without_the_core_says_what_is_missing() -> None:
    from installer.errors import UsageError
    from installer.render.hybrid import render_hybrid

    with pytest.raises(UsageError) as err:
        render_hybrid(inp(plan(model="hybrid", components=["postgres", "redis", "keycloak"])))
    assert "miso-controller" in str(err.value) and "dataplane" in str(err.value)


def test_hybrid_certificate_script_issues_a_client_certificate(tmp_path: Path) -> None:
    from installer.render.hybrid import render_hybrid

    assert shutil.which("openssl"), "openssl is required (scripts/test-deps.sh installs it)"
    bundle = render_hybrid(inp(plan(model="hybrid")))
    script = tmp_path / "make-certs.sh"
    script.write_bytes(bundle.files["onprem/certs/make-certs.sh"])
    run = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    text = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "runner.crt"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "TLS Web Client Authentication" in text
    assert (tmp_path / "runner.key").stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------- multi-cloud

def test_multicloud_egress_is_an_allowlist_per_region_ending_in_deny() -> None:
    rules = egress_rules(inp(plan(model="multicloud")))["regions"]["westeurope"]["rules"]
    assert rules[-1]["access"] == "Deny" and rules[-1]["destinationAddressPrefix"] == "Internet"
    assert all(r["access"] == "Allow" and r["destinationPortRange"] == "443" for r in rules[:-1])
    assert "AzureKeyVault.westeurope" in {r["destinationAddressPrefix"] for r in rules}


# ---------------------------------------------------------------- development

@pytest.mark.parametrize("target", ["aca", "aks"])
def test_development_has_dev_and_test_sets_and_a_gated_pipeline(target: str) -> None:
    i = inp(plan(model="development", target=target, size="l"))
    bundle = render_development(i)
    dev = yaml.safe_load(bundle.text("environments/dev.yaml"))
    test = yaml.safe_load(bundle.text("environments/test.yaml"))
    assert dev["parameters"] in bundle.files and test["parameters"] in bundle.files
    assert dev["sizePreset"] == "s" and test["sizePreset"] == "m"  # smaller than prod (l)
    infra = yaml.safe_load(bundle.text(".github/workflows/infra.yml"))
    assert infra["jobs"]["test-deploy"]["needs"] == ["test-plan", "dev-deploy"]
    for path in (".github/workflows/infra.yml", ".github/workflows/images.yml"):
        assert workflow_findings(path, yaml.safe_load(bundle.text(path))) == []
    assert ("k8s/namespace.yaml" in bundle.files) is (target == "aks")
    assert not any(v in bundle.text(".github/workflows/infra.yml") for v in i.secrets.values())
    # The foundation's registry is private: the runner scans, ACR Tasks builds and pushes.
    images = yaml.safe_load(bundle.text(".github/workflows/images.yml"))
    steps = yaml.safe_dump(images["jobs"]["build"]["steps"])
    assert "az acr build" in steps and "docker push" not in steps and "trivy" in steps
    assert steps.index("trivy") < steps.index("az acr build")
    for app in ("flowise", "openwebui"):
        dockerfile = bundle.text(f"images/{app}/Dockerfile")
        assert "ARG BASE=" in dockerfile and "FROM ${BASE}" in dockerfile and "pinned" not in dockerfile
        assert "floats" in dockerfile  # :latest / :main are mutable tags, and the file says so


def test_workflow_validator_catches_mistakes() -> None:
    bad = {"name": "x", True: {"push": {}}, "permissions": {"contents": "write"},
           "jobs": {"a": {"runs-on": "ubuntu-24.04", "needs": "zzz",
                          "steps": [{"uses": "actions/checkout@v4", "run": "echo"},
                                    {"uses": "azure/login@v2", "with": {"creds": "${{ secrets.AZURE_CREDENTIALS }}"}}]}}}
    messages = " | ".join(f.message for f in workflow_findings("w.yml", bad))
    for needle in ("id-token: write", "unknown job 'zzz'", "exactly one of uses/run", "stored Azure credentials"):
        assert needle in messages


# ---------------------------------------------------------------- CLI: every model renders and validates

MODELS = [
    {"model": "container", "target": "compose"},
    {"model": "container", "target": "aca"},
    {"model": "container", "target": "aks"},
    {"model": "marketplace"},
    {"model": "manual"},
    {"model": "hybrid"},
    {"model": "multicloud"},
    {"model": "development"},
]


def _answers(tmp_path: Path, patch: dict) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump({**BASE, **patch}))
    return path


@pytest.mark.parametrize("patch", MODELS, ids=lambda p: "-".join(p.values()))
def test_every_model_renders_and_validates_through_the_cli(tmp_path: Path, patch: dict) -> None:
    out = tmp_path / "out"
    assert main(["render", "--answers", str(_answers(tmp_path, patch)), "--out", str(out)]) == 0
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    expected = {"container": {"compose": "compose.yaml", "aca": "aca/flowise.yaml", "aks": "k8s/flowise.yaml"}}
    key = expected.get(patch["model"], {}).get(patch.get("target", ""), None) or {
        "marketplace": "mainTemplate.json", "manual": "RUNBOOK.md", "hybrid": "onprem/compose.yaml",
        "multicloud": "multicloud/egress-rules.yaml", "development": ".github/workflows/infra.yml"}[patch["model"]]
    assert any(f.endswith(key) for f in files), (key, sorted(files)[:20])


def test_all_targets_renders_every_kind_into_its_folder(tmp_path: Path) -> None:
    out = tmp_path / "all"
    assert main(["render", "--answers", str(_answers(tmp_path, {"model": "container", "target": "aks"})),
                 "--out", str(out), "--all-targets"]) == 0
    top = {p.name for p in out.iterdir()} - {".fabrix-bundle"}  # the marker a later render checks
    assert top == {"compose", "aca", "aks", "marketplace", "manual", "hybrid", "multicloud", "development"}
