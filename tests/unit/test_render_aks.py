"""AKS manifests: strict Kubernetes schemas, custom resources, workload identity, network policy,
restricted security context, and checkov with written suppressions."""

from __future__ import annotations

import copy

import pytest
import yaml

from installer.render.aks import checkov_skips, render_k8s
from installer.render.workload import KUBERNETES_VERSION, azure_apps
from installer.validate.kubernetes import custom_findings, load_docs, schema_findings, skip_findings, validate_manifests
from tests.unit.blueprint_plans import inp, plan


@pytest.fixture(scope="module")
def rendered():
    i = inp(plan(model="container", target="aks"))
    return i, render_k8s(i)


def _by_kind(bundle, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for _, d in load_docs(bundle) if d["kind"] == kind}


def test_kubernetes_version_is_pinned_once() -> None:
    assert KUBERNETES_VERSION == "1.31"


def test_every_manifest_passes_strict_kubernetes_validate(rendered) -> None:
    i, bundle = rendered
    docs = load_docs(bundle)
    kinds = {d["kind"] for _, d in docs}
    assert kinds >= {"Namespace", "NetworkPolicy", "ServiceAccount", "SecretProviderClass", "Deployment",
                     "Service", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler"}
    assert validate_manifests(bundle, i) == []


def test_strict_validation_catches_a_broken_manifest(rendered) -> None:
    _, bundle = rendered
    dep = copy.deepcopy(_by_kind(bundle, "Deployment")["flowise"])
    dep["spec"]["replicas"] = "two"
    assert "replicas" in schema_findings("k8s/flowise.yaml", dep)[0].message
    dep = copy.deepcopy(_by_kind(bundle, "Deployment")["flowise"])
    dep["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNoRoot"] = True  # typo
    assert schema_findings("k8s/flowise.yaml", dep), "strict mode must reject unknown fields"
    hpa = copy.deepcopy(_by_kind(bundle, "HorizontalPodAutoscaler")["flowise"])
    hpa["apiVersion"] = "autoscaling/v2beta1"  # removed in 1.25
    assert schema_findings("k8s/flowise.yaml", hpa)


def test_custom_resources_and_workload_identity_are_checked(rendered) -> None:
    i, bundle = rendered
    docs = load_docs(bundle)
    assert custom_findings(docs, i) == []

    def broken(kind: str, name: str, change) -> list[str]:
        copied = copy.deepcopy(docs)
        for _, d in copied:
            if d["kind"] == kind and d["metadata"]["name"] == name:
                change(d)
        return [f.message for f in custom_findings(copied, i)]

    assert any("clientID is required" in m for m in broken(
        "SecretProviderClass", "flowise-kv", lambda d: d["spec"]["parameters"].pop("clientID")))
    assert any("'array:' YAML" in m or "objectName" in m for m in broken(
        "SecretProviderClass", "flowise-kv", lambda d: d["spec"]["parameters"].update(objects="array: [42]")))
    assert any("must use workload identity" in m for m in broken(
        "SecretProviderClass", "flowise-kv", lambda d: d["spec"]["parameters"].update(usePodIdentity="true")))
    assert any("azure.workload.identity/client-id" in m for m in broken(
        "ServiceAccount", "flowise", lambda d: d["metadata"].pop("annotations")))
    assert any("azure.workload.identity/use" in m for m in broken(
        "Deployment", "flowise", lambda d: d["spec"]["template"]["metadata"]["labels"].pop("azure.workload.identity/use")))
    assert any("drop ALL" in m for m in broken(
        "Deployment", "flowise", lambda d: d["spec"]["template"]["spec"]["containers"][0]["securityContext"].pop("capabilities")))
    assert any("not synced from Key Vault" in m for m in broken(
        "SecretProviderClass", "flowise-kv", lambda d: d["spec"].update(secretObjects=[])))
    assert any("default-deny" in m for m in broken(
        "NetworkPolicy", "default-deny", lambda d: d["spec"].update(podSelector={"matchLabels": {"a": "b"}})))


def test_service_accounts_and_pods_use_workload_identity(rendered) -> None:
    i, bundle = rendered
    sas = _by_kind(bundle, "ServiceAccount")
    for name, dep in _by_kind(bundle, "Deployment").items():
        pod = dep["spec"]["template"]
        assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        sa = sas[pod["spec"]["serviceAccountName"]]
        assert sa["metadata"]["annotations"]["azure.workload.identity/client-id"] == "${IDENTITY_CLIENT_ID}"
        assert sa["metadata"]["annotations"]["azure.workload.identity/tenant-id"] == i.plan.azure.tenant_id
        c = pod["spec"]["containers"][0]
        assert c["securityContext"] == {
            "runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": name not in ("keycloak", "openwebui"), "seccompProfile": {"type": "RuntimeDefault"}}
        assert c["image"] == i.plan.image_for(name)
        assert c["resources"]["limits"]["memory"] == c["resources"]["requests"]["memory"]
    spc = _by_kind(bundle, "SecretProviderClass")["miso-controller-kv"]
    assert spc["apiVersion"] == "secrets-store.csi.x-k8s.io/v1" and spc["spec"]["parameters"]["keyvaultName"].startswith("kv-fx-review-")


def test_network_policies_follow_the_dependency_graph(rendered) -> None:
    _, bundle = rendered
    pols = _by_kind(bundle, "NetworkPolicy")
    assert pols["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    def peers(rules: list[dict], key: str) -> set[str]:
        return {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                for r in rules for p in r[key] if "podSelector" in p and "namespaceSelector" not in p}

    keycloak = pols["keycloak-allow"]["spec"]
    assert peers(keycloak["ingress"], "from") == {"miso-controller", "dataplane"}
    assert any("namespaceSelector" in p for r in keycloak["ingress"] for p in r["from"])  # ingress controller
    dataplane = pols["dataplane-allow"]["spec"]
    assert peers(dataplane["egress"], "to") == {"keycloak", "miso-controller"}
    assert {port["port"] for r in dataplane["egress"] if "ipBlock" in r["to"][0] for port in r["ports"]} == {5432, 10000}
    assert dataplane["ingress"] == []  # nothing calls the dataplane and it is not on Front Door
    assert "Ingress" not in {d["kind"] for _, d in load_docs(bundle) if d["metadata"]["name"] == "dataplane"}


def test_hpa_and_pdb(rendered) -> None:
    _, bundle = rendered
    hpa = _by_kind(bundle, "HorizontalPodAutoscaler")["flowise"]
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert _by_kind(bundle, "PodDisruptionBudget")["flowise"]["spec"]["maxUnavailable"] == 1


def test_every_checkov_suppression_carries_a_reason(rendered) -> None:
    i, bundle = rendered
    docs = load_docs(bundle)
    assert skip_findings(docs) == []
    apps = {a.name: a for a in azure_apps(i, "aks")}
    assert set(checkov_skips(apps["keycloak"]).values()) >= {
        v for v in checkov_skips(apps["keycloak"]).values() if v.startswith("CKV_K8S_22=")}
    assert not any(v.startswith("CKV_K8S_14=") for v in checkov_skips(apps["keycloak"]).values())  # fixed tag
    dep = copy.deepcopy(_by_kind(bundle, "Deployment")["flowise"])
    dep["metadata"]["annotations"]["checkov.io/skip1"] = "CKV_K8S_43"
    assert skip_findings([("k8s/flowise.yaml", dep)])


def test_checkov_passes_with_only_the_written_suppressions(rendered) -> None:
    from installer.validate.kubernetes import checkov_findings

    _, bundle = rendered
    assert checkov_findings(bundle) == []
    # Without the suppressions the same manifests fail: they are real, not decoration.
    stripped = render_k8s(rendered[0])
    for path in list(stripped):
        if path.endswith(".yaml"):
            docs = list(yaml.safe_load_all(stripped.text(path)))
            for d in docs:
                if d and "annotations" in d.get("metadata", {}) and d["kind"] == "Deployment":
                    d["metadata"].pop("annotations")
            stripped.add(path, yaml.safe_dump_all(docs))
    assert any("CKV_K8S" in f.message for f in checkov_findings(stripped))


def test_pods_run_as_their_images_need(rendered) -> None:
    """User, group and writable paths per image (catalog run_as; e2e: tests/e2e/test_restricted_context.py)."""
    _, bundle = rendered
    deps = _by_kind(bundle, "Deployment")

    def pod(name: str) -> dict:
        return deps[name]["spec"]["template"]["spec"]

    # Keycloak writes /opt/keycloak, which its image lets gid 0 write; never root.
    kc = pod("keycloak")["securityContext"]
    assert (kc["runAsUser"], kc["runAsGroup"], kc["runAsNonRoot"]) == (10001, 0, True)
    # Every pod: data volumes owned by the fsGroup, no root anywhere.
    for name in deps:
        sc = pod(name)["securityContext"]
        assert sc["fsGroup"] == 10001 and sc["runAsUser"] != 0 and sc["runAsNonRoot"] is True
    # Flowise: HOME fixed, $HOME a scratch dir, the data claim at $HOME/.flowise.
    fl = pod("flowise")
    c = fl["containers"][0]
    assert {"name": "HOME", "value": "/home/flowise"} in c["env"]
    vols = {v["name"]: v for v in fl["volumes"]}
    mounts = {m["mountPath"]: vols[m["name"]] for m in c["volumeMounts"]}
    assert "emptyDir" in mounts["/home/flowise"] and "persistentVolumeClaim" in mounts["/home/flowise/.flowise"]
    # Open WebUI: /root scratch, the static folder seeded from the image by an init container.
    ow = pod("openwebui")
    c = ow["containers"][0]
    vols = {v["name"]: v for v in ow["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert "emptyDir" in vols[mounts["/root"]] and "emptyDir" in vols[mounts["/app/backend/open_webui/static"]]
    (init,) = ow["initContainers"]
    assert init["image"] == c["image"] and init["securityContext"] == c["securityContext"]
    assert init["command"] == ["sh", "-c", "cp -R /app/backend/open_webui/static/. /seed/0/"]
    assert init["volumeMounts"] == [{"name": mounts["/app/backend/open_webui/static"], "mountPath": "/seed/0"}]
