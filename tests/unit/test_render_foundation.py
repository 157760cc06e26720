"""The Azure foundation (Bicep + flat ARM) and the Marketplace package, as rendered from one model."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from installer.catalog import load_catalog
from installer.labels import TAG_INSTALL
from installer.plan import InstallPlan
from installer.render import RenderInput
from installer.render.azure.api import PRIVATE_DNS_ZONES
from installer.render.azure.build import PRIVATE_LINK, ROLES, secret_params
from installer.render.azure.sizing import SKUS, size_for_tier
from installer.render.foundation import TIER_FILES, render_foundation
from installer.render.marketplace import render_marketplace
from installer.render.workload import azure_apps, azure_names
from installer.secrets import SecretStore, env_name, secrets_for
from installer.validate import errors_only
from installer.validate.arm import validate_bicep, validate_foundation
from tests.support.arm_eval import ArmEval

MODULES = ["compute", "dns", "frontdoor", "identity", "keyvault", "monitoring", "network", "postgres", "redis",
           "registry", "storage"]


def _plan(**kw: Any) -> InstallPlan:
    base: dict[str, Any] = {"name": "demo", "model": "container", "target": "aca"}
    base.update(kw)
    return InstallPlan(**base)


def _template(bundle: Any) -> dict[str, Any]:
    return json.loads(bundle.files["arm/mainTemplate.json"])


def _of_type(template: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in template["resources"] if r["type"] == rtype]


@pytest.fixture(scope="module")
def aca() -> tuple[RenderInput, Any]:
    inp = RenderInput(plan=_plan())
    return inp, render_foundation(inp, "aca")


@pytest.fixture(scope="module")
def aks() -> tuple[RenderInput, Any]:
    inp = RenderInput(plan=_plan(target="aks", size="l", tier="prod"))
    return inp, render_foundation(inp, "aks")


@pytest.fixture(scope="module")
def market() -> tuple[RenderInput, Any]:
    inp = RenderInput(plan=_plan(model="marketplace", images={"registry": "contosoacr.azurecr.io"}))
    return inp, render_marketplace(inp)


def test_foundation_files_are_the_documented_layout(aca: Any, aks: Any) -> None:
    for _, bundle in (aca, aks):
        expected = {"bicep/main.bicep", "arm/mainTemplate.json", *TIER_FILES.values()}
        expected |= {f"bicep/modules/{m}.bicep" for m in MODULES}
        assert set(bundle) == expected


def test_compute_decides_container_apps_or_aks(aca: Any, aks: Any) -> None:
    t_aca, t_aks = _template(aca[1]), _template(aks[1])
    assert _of_type(t_aca, "Microsoft.App/managedEnvironments") and not _of_type(t_aca, "Microsoft.ContainerService/managedClusters")
    assert _of_type(t_aks, "Microsoft.ContainerService/managedClusters") and not _of_type(t_aks, "Microsoft.App/containerApps")
    with pytest.raises(ValueError, match="compute"):
        render_foundation(aca[0], "compose")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "plan",
    [
        _plan(),
        _plan(target="aks"),
        _plan(size="xl", tier="prod", images={"registry": "contosoacr.azurecr.io"}),
        _plan(components=["postgres", "keycloak"]),
        _plan(components=["postgres"]),
        _plan(components=["redis", "openwebui"], target="aks"),
    ],
    ids=["aca", "aks", "aca-xl-private", "aca-keycloak-only", "aca-no-apps", "aks-redis-only"],
)
def test_bicep_and_arm_declare_the_same_resources(plan: InstallPlan) -> None:
    inp = RenderInput(plan=plan)
    bundle = render_foundation(inp, plan.target.value)  # type: ignore[arg-type]
    assert validate_bicep(bundle, _template(bundle)) == []
    assert errors_only(validate_foundation(bundle, inp, checkov=False)) == []
    # The check is not vacuous: every ARM resource has a Bicep declaration counted.
    bicep_text = "".join(bundle.text(p) for p in bundle if p.endswith(".bicep"))
    assert bicep_text.count("\nresource ") - bicep_text.count(" existing = ") == len(_template(bundle)["resources"])


def test_marketplace_bicep_and_arm_agree_with_unique_names(market: Any) -> None:
    _, bundle = market
    template = _template(bundle)
    assert validate_bicep(bundle, template) == []
    kv = _of_type(template, "Microsoft.KeyVault/vaults")[0]
    assert "parameters('namePrefix')" in kv["name"] and "variables('suffix')" in kv["name"]
    assert template["variables"]["suffix"] == "[take(uniqueString(resourceGroup().id), 6)]"


def test_render_is_deterministic(aca: Any, market: Any) -> None:
    again = render_foundation(aca[0], "aca")
    assert again.files == aca[1].files
    market_again = render_marketplace(market[0])
    assert market_again.files == market[1].files  # the zip too, byte for byte


def test_plan_names_match_the_workload_view(aca: Any, aks: Any) -> None:
    """ACA YAML and AKS manifests reference these resources by name: they must be the same."""
    for inp, bundle in (aca, aks):
        names = azure_names(inp.plan)
        t = _template(bundle)
        assert _of_type(t, "Microsoft.KeyVault/vaults")[0]["name"] == names.key_vault
        assert _of_type(t, "Microsoft.ManagedIdentity/userAssignedIdentities")[0]["name"] == names.identity
        assert _of_type(t, "Microsoft.DBforPostgreSQL/flexibleServers")[0]["name"] == names.postgres
    assert _of_type(_template(aca[1]), "Microsoft.App/managedEnvironments")[0]["name"] == azure_names(aca[0].plan).aca_environment
    assert _of_type(_template(aks[1]), "Microsoft.ContainerService/managedClusters")[0]["name"] == azure_names(aks[0].plan).aks_cluster


def test_every_private_endpoint_has_the_right_group_and_zone(aca: Any, aks: Any, market: Any) -> None:
    # (target type, groupId) → zone kind; the storage account has a blob endpoint, plus a file one
    # where Container Apps mount Azure Files shares (ACA and Marketplace, not AKS).
    kinds = {
        ("Microsoft.KeyVault/vaults", "vault"): "keyvault",
        ("Microsoft.Storage/storageAccounts", "blob"): "blob",
        ("Microsoft.Storage/storageAccounts", "file"): "file",
        ("Microsoft.DBforPostgreSQL/flexibleServers", "postgresqlServer"): "postgres",
        ("Microsoft.Cache/redisEnterprise", "redisEnterprise"): "redis",
        ("Microsoft.ContainerRegistry/registries", "registry"): "registry",
    }
    # Microsoft's table (private-endpoint-dns.md), commercial cloud; Azure Managed Redis, not the
    # legacy Azure Cache for Redis zone (privatelink.redis.cache.windows.net).
    assert PRIVATE_DNS_ZONES["AzureCloud"] == {
        "keyvault": "privatelink.vaultcore.azure.net", "blob": "privatelink.blob.core.windows.net",
        "file": "privatelink.file.core.windows.net", "postgres": "privatelink.postgres.database.azure.com",
        "redis": "privatelink.redis.azure.net", "registry": "privatelink.azurecr.io",
    }
    assert {g for g, _ in PRIVATE_LINK.values()} == {g for _, g in kinds}
    for label, (_, bundle) in (("aca", aca), ("aks", aks), ("market", market)):
        t = _template(bundle)
        endpoints = _of_type(t, "Microsoft.Network/privateEndpoints")
        groups = _of_type(t, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups")
        wanted = set(kinds) - ({("Microsoft.Storage/storageAccounts", "file")} if label == "aks" else set())
        assert len(endpoints) == len(wanted) == len(groups), label
        # The same template in every cloud: each zone's name is evaluated with that cloud's environment().
        for cloud, table in PRIVATE_DNS_ZONES.items():
            ev = ArmEval(t, cloud)
            seen = set()
            for pe in endpoints:
                conn = pe["properties"]["privateLinkServiceConnections"][0]["properties"]
                target_type = re.match(r"\[resourceId\('([^']+)'", conn["privateLinkServiceId"]).group(1)  # type: ignore[union-attr]
                (group,) = conn["groupIds"]
                seen.add((target_type, group))
                kind = kinds[(target_type, group)]
                key = pe["name"][1:-1] if pe["name"].startswith("[") else f"'{pe['name']}'"
                zone_ids = [
                    ev.value(g["properties"]["privateDnsZoneConfigs"][0]["properties"]["privateDnsZoneId"])
                    for g in groups
                    if any(key + ")" in d or key + "]" in d for d in g["dependsOn"])
                ]
                if kind in table:  # Azure Managed Redis has no sovereign zone (see api.PRIVATE_DNS_ZONES)
                    assert zone_ids == [f"Microsoft.Network/privateDnsZones/{table[kind]}"], (cloud, pe["name"])
            assert seen == wanted, label
            zones = {ev.value(z["name"]) for z in _of_type(t, "Microsoft.Network/privateDnsZones")}
            assert zones >= {table[kinds[k]] for k in wanted if kinds[k] in table}, cloud
        assert len(_of_type(t, "Microsoft.Network/privateDnsZones/virtualNetworkLinks")) == len(wanted)


def test_zone_names_come_from_environment_not_hard_coded_hosts(aca: Any, aks: Any, market: Any) -> None:
    # ARM-TTK "DeploymentTemplate Must Not Contain Hardcoded Uri": no cloud host suffix in the
    # template text; every zone but Managed Redis (public cloud only) is derived from environment().
    for _, bundle in (aca, aks, market):
        text = bundle.text("arm/mainTemplate.json")
        for host in ("core.windows.net", "vaultcore.azure.net", "database.azure.com", "privatelink.azurecr.io"):
            assert host not in text, host
        for z in _of_type(_template(bundle), "Microsoft.Network/privateDnsZones"):
            assert "environment()" in z["name"] or z["name"] == "privatelink.redis.azure.net", z["name"]


def test_data_services_refuse_public_access(aca: Any, aks: Any, market: Any) -> None:
    for _, bundle in (aca, aks, market):
        t = _template(bundle)
        for rtype in ("Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts",
                      "Microsoft.ContainerRegistry/registries", "Microsoft.Cache/redisEnterprise"):
            assert _of_type(t, rtype)[0]["properties"]["publicNetworkAccess"] == "Disabled", rtype
        pg = _of_type(t, "Microsoft.DBforPostgreSQL/flexibleServers")[0]["properties"]
        assert pg["network"]["publicNetworkAccess"] == "Disabled"
        storage = _of_type(t, "Microsoft.Storage/storageAccounts")[0]["properties"]
        assert storage["allowBlobPublicAccess"] is False
        # Shared keys only where Container Apps mount Azure Files (SMB takes the account key only).
        has_shares = bool(_of_type(t, "Microsoft.Storage/storageAccounts/fileServices/shares"))
        assert storage["allowSharedKeyAccess"] is has_shares
        assert _of_type(t, "Microsoft.ContainerRegistry/registries")[0]["properties"]["adminUserEnabled"] is False
    env = _of_type(_template(aca[1]), "Microsoft.App/managedEnvironments")[0]["properties"]
    assert env["publicNetworkAccess"] == "Disabled" and env["vnetConfiguration"]["infrastructureSubnetId"]


def test_pgvector_is_allowed_and_tls_required(aca: Any) -> None:
    server = _of_type(_template(aca[1]), "Microsoft.DBforPostgreSQL/flexibleServers")[0]
    assert f"pg{server['properties']['version']}" in load_catalog().components["postgres"].image  # same major as Compose
    configs = {c["name"].split("/")[-1]: c for c in _of_type(_template(aca[1]), "Microsoft.DBforPostgreSQL/flexibleServers/configurations")}
    assert "VECTOR" in configs["azure.extensions"]["properties"]["value"].split(",")
    assert configs["azure.extensions"]["properties"]["source"] == "user-override"
    assert configs["require_secure_transport"]["properties"]["value"] == "ON"
    dbs = {d["name"].split("/")[-1] for d in _of_type(_template(aca[1]), "Microsoft.DBforPostgreSQL/flexibleServers/databases")}
    catalog = load_catalog()
    expected = {db.name for c in aca[0].plan.enabled_components() for db in catalog.components[c].databases}
    assert dbs == expected


def test_secrets_are_secure_parameters_without_defaults_stored_in_key_vault(aca: Any) -> None:
    inp, bundle = aca
    t = _template(bundle)
    sps = secret_params(inp, "aca")
    assert {sp.secret for sp in sps} >= {"postgres_password", "keycloak_db_password", "flowise_secret_key"}
    vault_secrets = {s["name"].split("/")[-1]: s for s in _of_type(t, "Microsoft.KeyVault/vaults/secrets")}
    for sp in sps:
        spec = t["parameters"][sp.param]
        assert spec["type"] == "secureString" and "defaultValue" not in spec
        assert vault_secrets[sp.vault_name]["properties"]["value"] == f"[parameters('{sp.param}')]"
    # The Redis key goes from listKeys() straight into Key Vault, never a parameter or output.
    assert "listKeys(" in vault_secrets["redis-access-key"]["properties"]["value"]
    assert all("list" not in json.dumps(o["value"]) for o in t["outputs"].values())


def test_container_apps_read_secrets_from_key_vault_through_the_identity(aca: Any) -> None:
    inp, bundle = aca
    t = _template(bundle)
    uami = "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', '%s')]" % azure_names(inp.plan).identity
    apps = _of_type(t, "Microsoft.App/containerApps")
    vault_secrets = {s["name"].split("/")[-1] for s in _of_type(t, "Microsoft.KeyVault/vaults/secrets")}
    assert apps
    for app in apps:
        config = app["properties"]["configuration"]
        assert app["identity"]["userAssignedIdentities"] == {uami: {}}
        for secret in config.get("secrets", []):
            assert set(secret) == {"name", "keyVaultUrl", "identity"} and secret["identity"] == uami
        refs = {e["secretRef"] for c in app["properties"]["template"]["containers"] for e in c["env"] if "secretRef" in e}
        assert refs == {s["name"] for s in config.get("secrets", [])}
        # Every secret an app reads is written by this template, and exists before the app starts.
        for name in refs:
            assert name in vault_secrets, name
            assert any(f"'{name}')]" in d and "vaults/secrets" in d for d in app["dependsOn"]), name
        assert any("roleAssignments" in d for d in app["dependsOn"])


def test_images_and_ports_come_from_the_catalog(aca: Any, market: Any) -> None:
    catalog = load_catalog()
    for inp, bundle in (aca, market):
        apps = {a["name"]: a for a in _of_type(_template(bundle), "Microsoft.App/containerApps")}
        assert set(apps) == {a.name for a in azure_apps(inp, "aca")}
        for name, app in apps.items():
            container = app["properties"]["template"]["containers"][0]
            assert container["image"] == inp.plan.image_for(name, catalog)
            assert app["properties"]["configuration"]["ingress"]["targetPort"] == catalog.components[name].port
    private = [a for a in _of_type(_template(market[1]), "Microsoft.App/containerApps")
               if a["properties"]["template"]["containers"][0]["image"].startswith("contosoacr.azurecr.io/")]
    assert private, "the private images (miso, dataplane) pull from the registry"
    for app in private:
        assert app["properties"]["configuration"]["registries"][0]["server"] == "contosoacr.azurecr.io"
        assert "identity" in app["properties"]["configuration"]["registries"][0]


def test_identity_gets_least_roles_with_deterministic_names(aca: Any, aks: Any) -> None:
    allowed = set(ROLES.values())
    for _, bundle in (aca, aks):
        assignments = _of_type(_template(bundle), "Microsoft.Authorization/roleAssignments")
        assert assignments
        for ra in assignments:
            assert ra["name"].startswith("[guid(") and "newGuid" not in ra["name"]
            role = ra["properties"]["roleDefinitionId"]
            assert any(r in role for r in allowed), role
            assert ra["properties"]["principalType"] == "ServicePrincipal"
    roles = {ra["properties"]["roleDefinitionId"] for ra in _of_type(_template(aca[1]), "Microsoft.Authorization/roleAssignments")}
    assert any(ROLES["Key Vault Secrets User"] in r for r in roles) and any(ROLES["AcrPull"] in r for r in roles)


def test_aks_has_oidc_workload_identity_network_policy_and_federated_credentials(aks: Any) -> None:
    from installer.render.aks import federated_subjects

    inp, bundle = aks
    t = _template(bundle)
    cluster = _of_type(t, "Microsoft.ContainerService/managedClusters")[0]["properties"]
    assert cluster["oidcIssuerProfile"]["enabled"] is True
    assert cluster["securityProfile"]["workloadIdentity"]["enabled"] is True
    assert cluster["networkProfile"]["networkPolicy"] == "cilium"
    assert cluster["disableLocalAccounts"] is True
    creds = _of_type(t, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")
    assert sorted(c["properties"]["subject"] for c in creds) == sorted(federated_subjects(inp))
    assert all(c["properties"]["audiences"] == ["api://AzureADTokenExchange"] for c in creds)


def test_front_door_premium_with_waf_and_private_link_origins(aca: Any) -> None:
    t = _template(aca[1])
    assert _of_type(t, "Microsoft.Cdn/profiles")[0]["sku"]["name"] == "Premium_AzureFrontDoor"
    waf = _of_type(t, "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")[0]
    assert waf["properties"]["policySettings"]["mode"] == "Prevention"
    origins = _of_type(t, "Microsoft.Cdn/profiles/originGroups/origins")
    published = [a for a in azure_apps(aca[0], "aca") if a.frontdoor]
    assert len(origins) == len(published) > 0
    for origin in origins:
        link = origin["properties"]["sharedPrivateLinkResource"]
        assert link["groupId"] == "managedEnvironments" and "Microsoft.App/managedEnvironments" in link["privateLink"]["id"]
    routes = _of_type(t, "Microsoft.Cdn/profiles/afdEndpoints/routes")
    assert all(r["properties"]["supportedProtocols"] == ["Https"] for r in routes)
    policy = _of_type(t, "Microsoft.Cdn/profiles/securityPolicies")[0]["properties"]["parameters"]
    assert len(policy["associations"][0]["domains"]) == len(_of_type(t, "Microsoft.Cdn/profiles/afdEndpoints"))


def test_every_taggable_resource_carries_the_install_tag(aca: Any, aks: Any) -> None:
    for inp, bundle in (aca, aks):
        t = _template(bundle)
        assert t["variables"]["tags"] == {TAG_INSTALL: inp.plan.name}
        for res in t["resources"]:
            if "location" in res:  # every top-level tracked resource
                assert res.get("tags") == "[variables('tags')]", res["type"]


def test_tier_parameter_files_use_the_size_presets_and_read_secrets_from_env(aks: Any) -> None:
    inp, bundle = aks
    for tier, path in TIER_FILES.items():
        text = bundle.text(path)
        skus = SKUS[size_for_tier(inp.plan, tier)]
        assert text.splitlines()[2] == "using '../main.bicep'"
        assert f"param postgresSkuName = '{skus.postgres_sku}'" in text
        assert f"param aksNodeVmSize = '{skus.aks_vm_size}'" in text
        for sp in secret_params(inp, "aks"):
            assert f"param {sp.param} = readEnvironmentVariable('{env_name(sp.secret)}')" in text
    assert "Burstable" in bundle.text(TIER_FILES[next(t for t in TIER_FILES if t.value == "dev")])
    assert "ZoneRedundant" in bundle.text(TIER_FILES[next(t for t in TIER_FILES if t.value == "prod")])


def test_no_generated_secret_appears_anywhere_in_azure_bundles(tmp_path: Path) -> None:
    for plan in (_plan(), _plan(target="aks"), _plan(model="marketplace")):
        store = SecretStore(tmp_path / f"{plan.model}-{plan.target}.env")
        store.ensure(secrets_for(load_catalog().names()))
        values = [v for v in store.values().values()]
        inp = RenderInput(plan=plan, secrets=store.values())
        bundle = render_marketplace(inp) if plan.model.value == "marketplace" else render_foundation(inp, plan.target.value)  # type: ignore[arg-type]
        blobs = list(bundle.files.values())
        if "marketplace/app.zip" in bundle.files:
            with zipfile.ZipFile(io.BytesIO(bundle.files["marketplace/app.zip"])) as zf:
                blobs += [zf.read(n) for n in zf.namelist()]
        assert len(values) >= 10
        for value in values:
            assert all(value.encode() not in blob for blob in blobs)


def test_marketplace_zip_has_the_partner_center_layout(market: Any) -> None:
    _, bundle = market
    with zipfile.ZipFile(io.BytesIO(bundle.files["marketplace/app.zip"])) as zf:
        assert zf.namelist() == ["createUiDefinition.json", "mainTemplate.json"]
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        assert zf.read("mainTemplate.json") == bundle.files["arm/mainTemplate.json"]
        assert zf.read("createUiDefinition.json") == bundle.files["arm/createUiDefinition.json"]


def test_marketplace_template_is_flat_language_version_1(market: Any) -> None:
    t = _template(market[1])
    assert "languageVersion" not in t and isinstance(t["resources"], list)
    assert not _of_type(t, "Microsoft.Resources/deployments")
    ui = json.loads(market[1].files["arm/createUiDefinition.json"])
    outputs = ui["parameters"]["outputs"]
    assert outputs["postgresPassword"] == "[steps('security').postgresPassword]"
    # Other secrets are generated in the portal at deploy time, never stored in the package.
    assert outputs["flowiseSecretKey"].startswith("[concat(replace(guid()")


def test_fabrix_render_writes_the_marketplace_package_without_secrets(
    tmp_path: Path, fabrix_home: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI path: render, validate, write; the install's generated secrets stay out of the files."""
    from installer.cli import main

    monkeypatch.setenv("FABRIX_CHECKOV", "skip")  # checkov itself runs once per session in test_validate_arm
    answers = tmp_path / "answers.yaml"
    answers.write_text("apiVersion: fabrix/v1\nname: shop\nmodel: marketplace\n")
    out = tmp_path / "out"
    assert main(["render", "--answers", str(answers), "--out", str(out)]) == 0
    assert (out / "marketplace" / "app.zip").is_file() and (out / "arm" / "createUiDefinition.json").is_file()
    secrets_file = next(fabrix_home.rglob("secrets*"))
    values = [line.split("=", 1)[1] for line in secrets_file.read_text().splitlines() if "=" in line and not line.startswith("#")]
    assert len(values) >= 5
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(v.encode() in data for v in values), path


@pytest.mark.parametrize("target", ["aca", "aks"])
def test_front_door_endpoint_names_fit_the_dns_label_for_the_longest_install_name(target: str) -> None:
    # Install names are up to 40 characters; Front Door appends "-<16-character hash>" to the
    # endpoint name in its azurefd.net host, and a DNS label holds 63: names stay within 46.
    longest = "a" * 19 + "-" + "b" * 20
    assert len(longest) == 40
    bundle = render_foundation(RenderInput(plan=_plan(name=longest, target=target)), target)  # type: ignore[arg-type]
    endpoints = _of_type(_template(bundle), "Microsoft.Cdn/profiles/afdEndpoints")
    assert endpoints
    leaves = [e["name"].split("/")[-1] for e in endpoints]
    assert len(set(leaves)) == len(leaves)
    for leaf in leaves:
        assert re.fullmatch(r"[a-zA-Z0-9]+(-*[a-zA-Z0-9])*", leaf), leaf
        assert 2 <= len(leaf) <= 46 and len(leaf) + 1 + 16 <= 63, leaf


def test_registry_builds_through_acr_tasks_without_deprecated_or_stranding_policies(aca: Any, aks: Any) -> None:
    for _, bundle in (aca, aks):
        acr = _of_type(_template(bundle), "Microsoft.ContainerRegistry/registries")[0]["properties"]
        assert acr["publicNetworkAccess"] == "Disabled" and acr["networkRuleBypassAllowedForTasks"] is True
        assert "trustPolicy" not in acr["policies"]  # Docker Content Trust (Notary v1) is deprecated
        assert acr["policies"]["quarantinePolicy"]["status"] == "disabled"  # nothing would mark images
