"""The Azure validators: each one passes the rendered output and catches a deliberately broken copy.

checkov is slow (~20 s a run), so it runs once per session over good and broken bundles together.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from installer.plan import InstallPlan
from installer.render import Bundle, RenderInput
from installer.render.foundation import render_foundation
from installer.render.marketplace import package_zip, render_marketplace
from installer.validate import VALIDATORS, Finding, errors_only, validate_bundle
from installer.validate.arm import validate_foundation, validate_marketplace
from installer.validate.armrules import check_template, rule_api_age
from installer.validate.checkov import (
    CheckovRun,
    Failure,
    apply_suppressions,
    checkov_executable,
    checkov_findings,
    load_suppressions,
    run_checkov,
)

TODAY = date(2026, 11, 26)


def _inp(**kw: Any) -> RenderInput:
    base: dict[str, Any] = {"name": "demo", "model": "container", "target": "aca"}
    base.update(kw)
    return RenderInput(plan=InstallPlan(**base))


MARKET = _inp(model="marketplace", images={"registry": "contosoacr.azurecr.io"})
AKS = _inp(target="aks")


@pytest.fixture(scope="module")
def market_bundle() -> Bundle:
    return render_marketplace(MARKET)


@pytest.fixture(scope="module")
def aks_bundle() -> Bundle:
    return render_foundation(AKS, "aks")


def _copy(bundle: Bundle) -> Bundle:
    return Bundle(files=dict(bundle.files), private=set(bundle.private))


def _with_template(bundle: Bundle, change: Callable[[dict[str, Any]], None], path: str = "arm/mainTemplate.json") -> Bundle:
    out = _copy(bundle)
    doc = json.loads(out.files[path])
    change(doc)
    out.add(path, json.dumps(doc, indent=2))
    return out


def _messages(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in errors_only(findings))


def _resource(doc: dict[str, Any], rtype: str) -> dict[str, Any]:
    return next(r for r in doc["resources"] if r["type"] == rtype)


# ---------- the rendered output passes ----------

def test_rendered_foundations_and_package_pass_every_offline_rule(market_bundle: Bundle, aks_bundle: Bundle) -> None:
    assert errors_only(validate_marketplace(market_bundle, MARKET, today=TODAY, checkov=False)) == []
    assert errors_only(validate_foundation(aks_bundle, AKS, today=TODAY, checkov=False)) == []
    aca = _inp()
    assert errors_only(validate_foundation(render_foundation(aca, "aca"), aca, today=TODAY, checkov=False)) == []


def test_marketplace_validator_is_registered() -> None:
    assert VALIDATORS["marketplace"] == "installer.validate.arm:validate_marketplace"


def test_api_versions_are_recent_today() -> None:
    """Fails once an API version ages past 730 days: time to move to a newer one (ARM-TTK rule)."""
    doc = json.loads(render_foundation(AKS, "aks").files["arm/mainTemplate.json"])
    assert check_template(doc) == []
    assert rule_api_age(doc) == []
    assert rule_api_age(doc, date(2031, 1, 1)), "the rule is not vacuous"


# ---------- each rule catches a broken template ----------

def _secure_default(d: dict[str, Any]) -> None:
    d["parameters"]["postgresPassword"]["defaultValue"] = "Sup3r-Secret-Default!"


def _unused_param(d: dict[str, Any]) -> None:
    d["parameters"]["unusedThing"] = {"type": "string", "defaultValue": "x"}


def _unused_var(d: dict[str, Any]) -> None:
    d["variables"]["leftover"] = "x"


def _secret_output(d: dict[str, Any]) -> None:
    d["outputs"]["adminPassword"] = {"type": "string", "value": "[parameters('postgresPassword')]"}


def _keys_output(d: dict[str, Any]) -> None:
    d["outputs"]["cacheKey"] = {"type": "string", "value": "[listKeys(resourceId('Microsoft.Cache/redisEnterprise/databases', 'r', 'default'), '2025-07-01').primaryKey]"}


def _hardcoded_location(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.KeyVault/vaults")["location"] = "westeurope"


def _location_default(d: dict[str, Any]) -> None:
    d["parameters"]["location"]["defaultValue"] = "westeurope"


def _old_api(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.KeyVault/vaults")["apiVersion"] = "2019-09-01"


def _expr_api(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.KeyVault/vaults")["apiVersion"] = "[variables('api')]"


def _preview_api(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.KeyVault/vaults")["apiVersion"] = "2026-02-01-preview"


def _language_2(d: dict[str, Any]) -> None:
    d["languageVersion"] = "2.0"


def _nested(d: dict[str, Any]) -> None:
    d["resources"].append({"type": "Microsoft.Resources/deployments", "apiVersion": "2025-04-01", "name": "nested",
                           "properties": {"mode": "Incremental"}})


def _hardcoded_id(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.Insights/components")["properties"]["WorkspaceResourceId"] = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w"
    )


def _hardcoded_uri(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.App/containerApps")["properties"]["configuration"]["secrets"][0]["keyVaultUrl"] = (
        "https://kv.vault.azure.net/secrets/x"
    )


def _hardcoded_zone(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.Network/privateDnsZones")["name"] = "privatelink.vaultcore.azure.net"


def _plain_secret_param(d: dict[str, Any]) -> None:
    d["parameters"]["adminPassword"] = {"type": "string"}
    d["outputs"]["x"] = {"type": "string", "value": "[parameters('adminPassword')]"}


def _key_as_parameter(d: dict[str, Any]) -> None:
    d["parameters"]["filesKey"] = {"type": "secureString"}
    _resource(d, "Microsoft.App/managedEnvironments/storages")["properties"]["azureFile"]["accountKey"] = "[parameters('filesKey')]"


def _key_as_literal(d: dict[str, Any]) -> None:
    _resource(d, "Microsoft.App/managedEnvironments/storages")["properties"]["azureFile"]["accountKey"] = "bm90LWEta2V5Cg=="


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (_secure_default, "secure parameter 'postgresPassword' has a default"),
        (_unused_param, "parameter 'unusedThing' is never used"),
        (_unused_var, "variable 'leftover' is never used"),
        (_secret_output, "returns the secure parameter 'postgresPassword'"),
        (_keys_output, "calls a list*() function"),
        (_hardcoded_location, "location 'westeurope' is hard-coded"),
        (_location_default, "parameter 'location' default 'westeurope'"),
        (_expr_api, "apiVersion must be a literal"),
        (_preview_api, "preview apiVersion"),
        (_language_2, "Managed Applications accept only languageVersion 1.0"),
        (_nested, "nested deployment"),
        (_hardcoded_id, "must come from resourceId()"),
        (_hardcoded_uri, "hard-coded endpoint URI"),
        (_hardcoded_zone, "hard-coded private DNS zone"),
        (_plain_secret_param, "looks like a secret but is not secureString"),
        (_key_as_parameter, "accountKey must be listKeys() of the storage account, not a parameter"),
        (_key_as_literal, "accountKey must be listKeys() of the storage account, not a literal"),
    ],
)
def test_arm_rules_catch_a_broken_template(market_bundle: Bundle, breaker: Callable[[dict[str, Any]], None], expected: str) -> None:
    broken = _with_template(market_bundle, breaker)
    text = _messages(validate_foundation(broken, MARKET, today=TODAY, checkov=False))
    assert expected in text


def test_an_old_api_version_is_a_warning_not_an_error(market_bundle: Bundle) -> None:
    """Partner Center rejects it, but the template still deploys: render warns instead of failing."""
    findings = validate_foundation(_with_template(market_bundle, _old_api), MARKET, today=TODAY, checkov=False)
    assert [f.severity for f in findings if "older than 730 days" in f.message] == ["warning"]
    assert "apiVersion 2019-09-01" in next(f.message for f in findings if "older than" in f.message)


def test_parity_catches_bicep_and_arm_drifting_apart(aks_bundle: Bundle) -> None:
    renamed = _with_template(aks_bundle, lambda d: _resource(d, "Microsoft.KeyVault/vaults").update(name="kv-other"))
    text = _messages(validate_foundation(renamed, AKS, today=TODAY, checkov=False))
    assert "in the ARM template but not in Bicep: microsoft.keyvault/vaults@2025-05-01 kv-other" in text
    drifted = _copy(aks_bundle)
    module = drifted.text("bicep/modules/keyvault.bicep").replace(
        "'Microsoft.KeyVault/vaults@2025-05-01' = {", "'Microsoft.KeyVault/vaults@2024-11-01' = {"
    )
    drifted.add("bicep/modules/keyvault.bicep", module)
    text = _messages(validate_foundation(drifted, AKS, today=TODAY, checkov=False))
    assert "in Bicep but not in the ARM template: microsoft.keyvault/vaults@2024-11-01" in text


def test_pycep_catches_bicep_that_does_not_parse(aks_bundle: Bundle) -> None:
    broken = _copy(aks_bundle)
    broken.add("bicep/modules/redis.bicep", broken.text("bicep/modules/redis.bicep").replace("resource redis ", "resource redis = {", 1))
    text = _messages(validate_foundation(broken, AKS, today=TODAY, checkov=False))
    assert "bicep/modules/redis.bicep: [pycep-parser] does not parse" in text


def test_module_wiring_and_parameter_files_are_checked(aks_bundle: Bundle) -> None:
    broken = _copy(aks_bundle)
    main = broken.text("bicep/main.bicep").replace("    logRetentionDays: logRetentionDays\n", "", 1)
    broken.add("bicep/main.bicep", main)
    params = broken.text("bicep/params/prod.bicepparam")
    params = params.replace("readEnvironmentVariable('POSTGRES_PASSWORD')", "'Literal-Password-123!'")
    params = params.replace("param keycloakDbPassword = readEnvironmentVariable('KEYCLOAK_DB_PASSWORD')\n", "")
    broken.add("bicep/params/prod.bicepparam", params + "param notAParam = 1\n")
    text = _messages(validate_foundation(broken, AKS, today=TODAY, checkov=False))
    assert "requires 'logRetentionDays', which main.bicep does not pass" in text
    assert "secure param 'postgresPassword' must come from readEnvironmentVariable()" in text
    assert "required param 'keycloakDbPassword' is not set" in text
    assert "param 'notAParam' is not a parameter of main.bicep" in text


def test_a_secret_value_in_any_azure_file_is_an_error(aks_bundle: Bundle) -> None:
    inp = RenderInput(plan=AKS.plan, secrets={"POSTGRES_PASSWORD": "S3cretValueThatMustNotLeak"})
    assert errors_only(validate_foundation(aks_bundle, inp, today=TODAY, checkov=False)) == []
    leaked = _copy(aks_bundle)
    leaked.add("bicep/params/dev.bicepparam", leaked.text("bicep/params/dev.bicepparam") + "// S3cretValueThatMustNotLeak\n")
    text = _messages(validate_foundation(leaked, inp, today=TODAY, checkov=False))
    assert "bicep/params/dev.bicepparam: [secrets] contains a generated secret value" in text


def test_a_secret_inside_the_compressed_package_is_found(market_bundle: Bundle) -> None:
    inp = RenderInput(plan=MARKET.plan, secrets={"FLOWISE_SECRET_KEY": "c0ffee" * 8})
    leaked = _copy(market_bundle)
    leaked.add("marketplace/app.zip", package_zip({
        "createUiDefinition.json": market_bundle.files["arm/createUiDefinition.json"],
        "mainTemplate.json": market_bundle.files["arm/mainTemplate.json"] + b"c0ffee" * 8,
    }))
    assert ("c0ffee" * 8).encode() not in leaked.files["marketplace/app.zip"]  # compressed: a plain scan misses it
    text = _messages(validate_marketplace(leaked, inp, today=TODAY, checkov=False))
    assert "marketplace/app.zip: [secrets] contains a generated secret value" in text


# ---------- createUiDefinition and the package ----------

def _ui_missing_output(d: dict[str, Any]) -> None:
    del d["parameters"]["outputs"]["postgresPassword"]


def _ui_unknown_output(d: dict[str, Any]) -> None:
    d["parameters"]["outputs"]["notATemplateParam"] = "[basics('namePrefix')]"


def _ui_schema(d: dict[str, Any]) -> None:
    d["$schema"] = "https://example.com/ui.json"


def _ui_location(d: dict[str, Any]) -> None:
    d["parameters"]["outputs"]["location"] = "westeurope"


def _ui_textbox(d: dict[str, Any]) -> None:
    del d["parameters"]["basics"][0]["constraints"]["regex"]


def _ui_password(d: dict[str, Any]) -> None:
    d["parameters"]["steps"][0]["elements"][0]["constraints"]["regex"] = "^.{4,}$"


def _ui_tooltip(d: dict[str, Any]) -> None:
    del d["parameters"]["basics"][0]["toolTip"]


def _ui_dangling(d: dict[str, Any]) -> None:
    d["parameters"]["outputs"]["postgresPassword"] = "[steps('security').adminPwd]"


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (_ui_missing_output, "template parameter 'postgresPassword' has no default and no createUiDefinition output"),
        (_ui_unknown_output, "output 'notATemplateParam' is not a parameter of mainTemplate.json"),
        (_ui_schema, "$schema must be"),
        (_ui_location, "outputs.location must be [location()]"),
        (_ui_textbox, "text boxes need constraints.regex"),
        (_ui_password, "minimum length of at least 12"),
        (_ui_tooltip, "controls need a toolTip"),
        (_ui_dangling, "refers to steps('security').adminPwd, which is not an element"),
    ],
)
def test_create_ui_definition_rules_catch_a_broken_form(market_bundle: Bundle, breaker: Callable[[dict[str, Any]], None], expected: str) -> None:
    broken = _with_template(market_bundle, breaker, "arm/createUiDefinition.json")
    text = _messages(validate_marketplace(broken, MARKET, today=TODAY, checkov=False))
    assert expected in text


def test_package_layout_is_checked(market_bundle: Bundle) -> None:
    nested = _copy(market_bundle)
    nested.add("marketplace/app.zip", package_zip({
        "app/mainTemplate.json": market_bundle.files["arm/mainTemplate.json"],
        "createUiDefinition.json": market_bundle.files["arm/createUiDefinition.json"],
    }))
    assert "must hold exactly createUiDefinition.json, mainTemplate.json at its root" in _messages(
        validate_marketplace(nested, MARKET, today=TODAY, checkov=False))
    stale = _copy(market_bundle)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("createUiDefinition.json", market_bundle.files["arm/createUiDefinition.json"])
        zf.writestr("mainTemplate.json", b"{}")
    stale.add("marketplace/app.zip", buf.getvalue())
    text = _messages(validate_marketplace(stale, MARKET, today=TODAY, checkov=False))
    assert "timestamp not fixed" in text and "mainTemplate.json differs from arm/mainTemplate.json" in text


# ---------- checkov (one run per session) ----------

def _break_for_checkov(doc: dict[str, Any]) -> None:
    """One violation per fabrix custom check, on the resources they guard."""
    env = _resource(doc, "Microsoft.App/managedEnvironments")
    env["properties"]["publicNetworkAccess"] = "Enabled"  # CKV_FABRIX_1
    app = _resource(doc, "Microsoft.App/containerApps")
    app["properties"]["configuration"]["secrets"] = [{"name": "inline", "value": "[parameters('postgresPassword')]"}]  # 2
    pg = _resource(doc, "Microsoft.DBforPostgreSQL/flexibleServers")
    pg["properties"]["network"]["publicNetworkAccess"] = "Enabled"  # 3
    pg["properties"]["authConfig"]["activeDirectoryAuth"] = "Disabled"  # 4
    tls = next(r for r in doc["resources"] if str(r["name"]).endswith("require_secure_transport')]") or str(r["name"]).endswith("/require_secure_transport"))
    tls["properties"]["value"] = "OFF"  # 5
    _resource(doc, "Microsoft.Cdn/profiles")["sku"]["name"] = "Standard_AzureFrontDoor"  # 6
    _resource(doc, "Microsoft.Cdn/profiles/afdEndpoints/routes")["properties"]["supportedProtocols"] = ["Http", "Https"]  # 7
    del _resource(doc, "Microsoft.Cdn/profiles/originGroups/origins")["properties"]["sharedPrivateLinkResource"]  # 8
    _resource(doc, "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")["properties"]["policySettings"]["mode"] = "Detection"  # 9
    _resource(doc, "Microsoft.Cache/redisEnterprise")["properties"]["minimumTlsVersion"] = "1.0"  # 10
    _resource(doc, "Microsoft.Cache/redisEnterprise/databases")["properties"]["clientProtocol"] = "Plaintext"  # 11
    # 14: the Azure Files key as a parameter instead of listKeys() inside the deployment.
    _resource(doc, "Microsoft.App/managedEnvironments/storages")["properties"]["azureFile"]["accountKey"] = "[parameters('postgresPassword')]"


@pytest.fixture(scope="session")
def checkov_run(tmp_path_factory: pytest.TempPathFactory) -> CheckovRun:
    if checkov_executable() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("checkov is not installed: run scripts/test-deps.sh (creates .venv-checkov)")
        pytest.skip("checkov is not installed (scripts/test-deps.sh creates .venv-checkov)")
    root = tmp_path_factory.mktemp("checkov")
    render_marketplace(MARKET).write(root / "market")
    render_foundation(AKS, "aks").write(root / "aks")
    broken = Bundle()
    doc = json.loads(render_marketplace(MARKET).files["arm/mainTemplate.json"])
    _break_for_checkov(doc)
    broken.add("arm/mainTemplate.json", json.dumps(doc, indent=2))
    broken.write(root / "broken")
    return run_checkov(root, ["arm", "bicep"])


def _under(run: CheckovRun, folder: str) -> CheckovRun:
    return CheckovRun([f for f in run.failures if f.path.startswith(f"{folder}/")], run.passed, run.parsing_errors, run.version)


def test_checkov_passes_the_rendered_output_with_only_justified_suppressions(checkov_run: CheckovRun) -> None:
    assert checkov_run.parsing_errors == []
    suppressions = load_suppressions()
    for folder in ("market", "aks"):
        assert apply_suppressions(_under(checkov_run, folder), suppressions) == [], folder
    used = {f.check_id for folder in ("market", "aks") for f in _under(checkov_run, folder).failures}
    # No stale suppressions, and each carries a specific written reason.
    assert used == set(suppressions)
    for check_id, reason in suppressions.items():
        assert len(reason) >= 80 and reason.lower() not in ("n/a", "false positive"), check_id


def test_fabrix_custom_checks_catch_each_broken_resource(checkov_run: CheckovRun) -> None:
    failed = {f.check_id for f in _under(checkov_run, "broken").failures}
    expected = {f"CKV_FABRIX_{n}" for n in [*range(1, 12), 14]}  # 12 and 13 are suppressed with reasons
    assert expected <= failed, sorted(expected - failed)
    good = {f.check_id for f in _under(checkov_run, "market").failures}
    assert not (expected & good), "the rendered template passes every fabrix check it was broken for"


def test_unsuppressed_failures_become_errors_naming_the_fix() -> None:
    run = CheckovRun([Failure("CKV_AZURE_999", "Something", "arm/mainTemplate.json", "Microsoft.X/y.z"),
                      Failure("CKV_AZURE_41", "Secret expiry", "arm/mainTemplate.json", "Microsoft.KeyVault/vaults/secrets.a")])
    findings = apply_suppressions(run, load_suppressions(), prefix="aca/")
    assert [f.path for f in findings] == ["aca/arm/mainTemplate.json"]
    assert "CKV_AZURE_999" in findings[0].message and "suppressions.yaml" in findings[0].message


def test_missing_checkov_is_a_warning_not_a_crash(monkeypatch: pytest.MonkeyPatch, aks_bundle: Bundle) -> None:
    monkeypatch.setenv("FABRIX_CHECKOV", "/nonexistent/checkov")
    findings = checkov_findings(aks_bundle, ["arm", "bicep"])
    assert len(findings) == 1 and findings[0].severity == "warning"
    assert "checkov not installed" in findings[0].message
    findings = validate_bundle(aks_bundle, AKS, "marketplace")
    assert [f.severity for f in findings if f.validator == "checkov"] == ["warning"]
