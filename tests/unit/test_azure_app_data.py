"""App data on Azure survives restarts: every catalog data volume is an Azure Files share on Container
Apps (foundation share + environment storage + AzureFile volume, in ARM, Bicep and the ACA YAML) and
a PersistentVolumeClaim on AKS; the storage account key never leaves the deployment."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml

from installer.catalog import load_catalog
from installer.plan import Size
from installer.render.aca import render_aca
from installer.render.aks import STORAGE_CLASS, render_aks
from installer.render.azure.sizing import SKUS, size_for_tier
from installer.render.foundation import TIER_FILES
from installer.render.marketplace import render_marketplace
from installer.render.runbook import render_runbook
from installer.render.workload import data_volume_name
from installer.validate.aca import check_app
from installer.validate.kubernetes import load_docs
from tests.support.arm_eval import ArmEval
from tests.unit.blueprint_plans import inp, plan

CATALOG = load_catalog()


def _catalog_volumes(p: Any) -> dict[str, list[str]]:
    """app → its data volume paths, straight from the catalog (the source the renderers must follow)."""
    return {
        name: [v.path for v in CATALOG.components[name].volumes]
        for name in p.enabled_components(CATALOG)
        if CATALOG.components[name].kind == "app" and CATALOG.components[name].volumes
    }


def _of_type(t: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in t["resources"] if r["type"] == rtype]


def _leaf(name: str) -> str:
    """The last name segment, from a literal ``a/b`` or an ARM ``format('{0}/{1}', …, 'leaf')``."""
    m = re.search(r"'([^']*)'\)\]$", name)
    return m.group(1) if name.startswith("[") and m else name.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def aca_plan() -> Any:
    return plan(model="container", target="aca", size="m", tier="prod")


@pytest.fixture(scope="module")
def aca_bundle(aca_plan: Any) -> Any:
    return render_aca(inp(aca_plan, with_secrets=False))


def test_the_catalog_has_app_data_volumes_to_cover(aca_plan: Any) -> None:
    vols = _catalog_volumes(aca_plan)
    # Open WebUI, Flowise, the Miso controller and the dataplane keep files on disk.
    assert {"openwebui", "flowise", "miso-controller", "dataplane"} <= set(vols)
    assert "/app/backend/data" in vols["openwebui"] and "/home/flowise/.flowise" in vols["flowise"]


@pytest.mark.parametrize("kind", ["aca", "marketplace"])
def test_every_app_data_volume_is_an_azure_files_share_mounted_by_its_container_app(kind: str, aca_plan: Any) -> None:
    p = aca_plan if kind == "aca" else plan(model="marketplace")
    bundle = render_aca(inp(p, with_secrets=False)) if kind == "aca" else render_marketplace(inp(p, with_secrets=False))
    t = json.loads(bundle.files["arm/mainTemplate.json"])
    shares = {_leaf(s["name"]): s for s in _of_type(t, "Microsoft.Storage/storageAccounts/fileServices/shares")}
    env_storages = {_leaf(s["name"]): s for s in _of_type(t, "Microsoft.App/managedEnvironments/storages")}
    apps = {_leaf(a["name"]): a for a in _of_type(t, "Microsoft.App/containerApps")}
    expected_shares = set()
    for app, paths in _catalog_volumes(p).items():
        props = apps[app]["properties"]["template"]
        volumes = {v["name"]: v for v in props["volumes"]}
        mounts = {m["mountPath"]: m["volumeName"] for m in props["containers"][0]["volumeMounts"]}
        for i, path in enumerate(paths):
            share = data_volume_name(app, i)
            expected_shares.add(share)
            assert volumes[mounts[path]] == {"name": mounts[path], "storageType": "AzureFile", "storageName": share}
            assert shares[share]["properties"]["shareQuota"] == "[parameters('appDataShareGB')]"
            assert shares[share]["properties"]["enabledProtocols"] == "SMB"
            azure_file = env_storages[share]["properties"]["azureFile"]
            assert azure_file["shareName"] == share and azure_file["accessMode"] == "ReadWrite"
            assert azure_file["accountKey"].startswith("[listKeys(resourceId('Microsoft.Storage/storageAccounts'")
            # The app waits for its storage; the storage waits for its share.
            assert any(share in d for d in apps[app]["dependsOn"] if "managedEnvironments/storages" in d)
            assert any(share in d for d in env_storages[share]["dependsOn"] if "fileServices/shares" in d)
    assert set(shares) == set(env_storages) == expected_shares
    # The share is reached over the file private endpoint; the account stays off the internet.
    account = _of_type(t, "Microsoft.Storage/storageAccounts")[0]["properties"]
    assert account["publicNetworkAccess"] == "Disabled" and account["networkAcls"]["defaultAction"] == "Deny"
    groups = [pe["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"]
              for pe in _of_type(t, "Microsoft.Network/privateEndpoints")]
    assert ["file"] in groups and ["blob"] in groups
    assert "privatelink.file.core.windows.net" in {
        ArmEval(t, "AzureCloud").value(z["name"]) for z in _of_type(t, "Microsoft.Network/privateDnsZones")}
    # Bicep declares the same storages, with the key from listKeys() on the existing account.
    compute = bundle.text("bicep/modules/compute.bicep")
    assert compute.count("accountKey: storage.listKeys().keys[0].value") == len(expected_shares)


def test_the_aca_yaml_mounts_the_same_environment_storage(aca_plan: Any, aca_bundle: Any) -> None:
    for app, paths in _catalog_volumes(aca_plan).items():
        doc = yaml.safe_load(aca_bundle.text(f"aca/{app}.yaml"))
        tmpl = doc["properties"]["template"]
        volumes = {v["name"]: v for v in tmpl["volumes"]}
        mounts = {m["mountPath"]: volumes[m["volumeName"]] for m in tmpl["containers"][0]["volumeMounts"]}
        assert {path: mounts[path]["storageName"] for path in paths} == {
            path: data_volume_name(app, i) for i, path in enumerate(paths)}
        assert {v["storageType"] for v in volumes.values()} == {"AzureFile"}  # no EmptyDir: data would be lost


def test_the_aca_validator_rejects_a_data_volume_on_emptydir(aca_plan: Any, aca_bundle: Any) -> None:
    doc = yaml.safe_load(aca_bundle.text("aca/openwebui.yaml"))
    expected = {"image": doc["properties"]["template"]["containers"][0]["image"], "port": 8080, "frontdoor": True,
                "probes": True, "volumes": ["/app/backend/data"]}
    assert check_app("aca/openwebui.yaml", doc, expected) == []
    scratch = copy.deepcopy(doc)
    scratch["properties"]["template"]["volumes"] = [{"name": "data0", "storageType": "EmptyDir"}]
    assert any("would not survive a restart" in f.message for f in check_app("x", scratch, expected))
    unnamed = copy.deepcopy(doc)
    del unnamed["properties"]["template"]["volumes"][0]["storageName"]
    assert any("storageName" in f.message for f in check_app("x", unnamed, expected))
    unmounted = copy.deepcopy(doc)
    del unmounted["properties"]["template"]["containers"][0]["volumeMounts"]
    assert any("/app/backend/data is not mounted" in f.message for f in check_app("x", unmounted, expected))


def test_share_quota_follows_the_size_preset_in_every_tier_file(aca_plan: Any, aca_bundle: Any) -> None:
    t = json.loads(aca_bundle.files["arm/mainTemplate.json"])
    assert t["parameters"]["appDataShareGB"]["defaultValue"] == SKUS[aca_plan.size].app_data_gb
    for tier, path in TIER_FILES.items():
        want = SKUS[size_for_tier(aca_plan, tier)].app_data_gb
        assert f"param appDataShareGB = {want}\n" in aca_bundle.text(path), path


def p_catalog():  # noqa: ANN201
    from installer.catalog import load_catalog

    return load_catalog()


@pytest.mark.parametrize("size", list(Size))
def test_aks_claims_an_azure_files_volume_per_app_data_volume_sized_per_preset(size: Size) -> None:
    p = plan(model="container", target="aks", size=size.value, tier="prod")
    bundle = render_aks(inp(p, with_secrets=False))
    docs = [d for _, d in load_docs(bundle)]
    claims = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    expected = set()
    for app, paths in _catalog_volumes(p).items():
        pod = deployments[app]["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in pod["containers"][0]["volumeMounts"]}
        for i, path in enumerate(paths):
            claim = data_volume_name(app, i)
            expected.add(claim)
            assert mounts[path] == {"name": mounts[path]["name"], "persistentVolumeClaim": {"claimName": claim}}
            spec = claims[claim]["spec"]
            assert spec["storageClassName"] == STORAGE_CLASS and STORAGE_CLASS.startswith("azurefile-csi")
            assert spec["accessModes"] == ["ReadWriteMany"]  # every replica sees the same files
            gb = SKUS[size].app_data_gb
            assert spec["resources"]["requests"]["storage"] == f"{gb}Gi" and gb >= 100  # premium Files minimum
        # Scratch space: /tmp plus the paths the catalog says the image writes outside its data.
        run_as = p_catalog().components[app].run_as
        scratch = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"] if "emptyDir" in volumes[m["name"]]}
        assert scratch == {"/tmp", *run_as.scratch, *run_as.seeded}
    assert set(claims) == expected
    # The AKS foundation needs no shares of its own, so its storage account keeps shared keys off.
    t = json.loads(bundle.files["arm/mainTemplate.json"])
    assert _of_type(t, "Microsoft.Storage/storageAccounts")[0]["properties"]["allowSharedKeyAccess"] is False
    assert not _of_type(t, "Microsoft.App/managedEnvironments/storages")


@pytest.mark.parametrize("kind", ["aca", "marketplace", "manual"])
def test_no_storage_key_is_a_parameter_output_or_plain_value(kind: str) -> None:
    p = plan(model="container", target="aca") if kind == "aca" else plan(model=kind)
    i = inp(p, with_secrets=False)
    bundle = {"aca": render_aca, "marketplace": render_marketplace, "manual": render_runbook}[kind](i)
    if "arm/mainTemplate.json" in bundle.files:
        t = json.loads(bundle.files["arm/mainTemplate.json"])
        keys = [r["properties"]["azureFile"]["accountKey"] for r in _of_type(t, "Microsoft.App/managedEnvironments/storages")]
        account_id = _of_type(t, "Microsoft.Storage/storageAccounts")[0]["name"]
        account_id = f"resourceId('Microsoft.Storage/storageAccounts', {account_id[1:-1] if account_id.startswith('[') else repr(account_id)})"
        assert keys and set(keys) == {f"[listKeys({account_id}, '2025-06-01').keys[0].value]"}
        for name, spec in t["parameters"].items():
            assert not re.search(r"storage|account|share", name, re.I) or spec["type"] == "int", name
            assert "storage account key" not in spec["metadata"]["description"].lower()
        for name, out in t["outputs"].items():
            assert "listKeys" not in json.dumps(out) and not re.search(r"storage|account|shared", name, re.I), name
        params = "".join(bundle.text(path) for path in TIER_FILES.values())
        assert "accountKey" not in params and "listKeys" not in params
    for path in bundle:
        if path.endswith((".zip", ".json")):
            continue
        text = bundle.text(path)
        # Wherever an account key is written, it is computed inside the deployment (or the shell).
        for line in text.splitlines():
            if "accountKey" in line:
                assert "listKeys()" in line, (path, line)
        assert not re.search(r"AccountKey=|[A-Za-z0-9+/]{86}==", text), path  # no connection string, no key-shaped value


def test_review_tells_the_reviewer_about_the_storage_key_and_the_post_deploy_step() -> None:
    from installer.commands.export import build_entries
    from tests.unit.blueprint_plans import secrets_of

    aca = plan(model="container", target="aca")
    review = build_entries(aca, b"name: review\n", secrets_of(aca), None)[0]["REVIEW.md"].decode()
    assert "Azure Files shares that Container\nApps mounts over SMB with the storage account key" in review
    assert "`listKeys()`\ninside the deployment" in review
    assert "Post-deploy step: `blueprints/postdeploy/10-databases.sh`" in review
    aks = plan(model="container", target="aks")
    review = build_entries(aks, b"name: review\n", secrets_of(aks), None)[0]["REVIEW.md"].decode()
    assert "storage account key" not in review and "Post-deploy step" in review
