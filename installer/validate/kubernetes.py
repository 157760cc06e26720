"""Offline checks for the AKS bundle's manifests.

``kubernetes-validate`` (strict, bundled schemas, for the pinned Kubernetes version) covers the
built-in kinds; it cannot see custom resources, so the SecretProviderClass shape and the
workload-identity wiring are checked here. Then the restricted security posture, the network
policy baseline, agreement with the catalog, checkov (framework kubernetes) and the foundation.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

import jsonschema
import yaml
from kubernetes_validate.utils import all_versions, major_minor, schema_contents
from referencing import Registry, Resource

from installer import yamlread
from installer.render import Bundle, RenderInput
from installer.render.workload import KUBERNETES_VERSION, azure_apps, azure_names
from installer.validate import Finding
from installer.validate.postdeploy import postdeploy_findings
from installer.validate.foundation_link import foundation_findings
from installer.validate.memo import files_digest, identity, remembered
from installer.validate.secretscan import scan_bundle

V = "kubernetes"
WI_CLIENT = "azure.workload.identity/client-id"
WI_USE = "azure.workload.identity/use"
SPC_API = "secrets-store.csi.x-k8s.io/v1"


def load_docs(bundle: Bundle) -> list[tuple[str, dict[str, Any]]]:
    docs: list[tuple[str, dict[str, Any]]] = []
    for path in bundle:
        if path.startswith("k8s/") and path.endswith(".yaml"):
            for doc in yamlread.safe_load_all(bundle.text(path)):
                if doc is not None:
                    docs.append((path, doc))
    return docs


@cache
def _schema_dir(version: str) -> str:
    """kubernetes-validate's strict schema folder for ``version``: the newest schema set not newer
    than it (the same choice, and the same string comparison, as ``kubernetes_validate.validate``)."""
    return "v%s-local-strict" % [v for v in all_versions() if major_minor(v) <= major_minor(version)][-1]


@cache
def _definitions(schema_dir: str) -> Resource:
    # 1.3 MB of JSON: reading it for every manifest was a third of the AKS validation time.
    return Resource.from_contents(schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", schema_dir))


@lru_cache(maxsize=256)
def _validator(version: str, kind: str, api_version: str) -> jsonschema.Draft202012Validator | None:
    """The strict validator for one kind, built once per process from kubernetes-validate's bundled
    schemas (package data: they cannot change under a running process). None: no schema."""
    schema_dir = _schema_dir(version)
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # rbac.authorization.k8s.io/v1 → rbac-v1
    try:
        schema = schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        return None
    registry: Registry = Resource.from_contents(schema) @ Registry()
    registry = _definitions(schema_dir) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def schema_findings(path: str, doc: dict[str, Any], version: str = KUBERNETES_VERSION) -> list[Finding]:
    """kubernetes-validate's schemas in strict mode; custom kinds are left to ``custom_findings``."""
    kind = doc.get("kind", "?")
    name = (doc.get("metadata") or {}).get("name", "?")
    api = doc.get("apiVersion")
    if not isinstance(api, str) or not isinstance(doc.get("kind"), str):
        return [Finding("kubernetes-validate", path, f"{kind}/{name}: apiVersion and kind must be strings")]
    validator = _validator(version, doc["kind"], api)
    if validator is None:
        if api not in (SPC_API, NGINX_API, CILIUM_API):
            return [Finding("kubernetes-validate", path, f"{kind}/{name}: no schema for {api} in Kubernetes {version}")]
        return []
    error = next(iter(validator.iter_errors(doc)), None)  # the first, as Validator.validate raises
    if error is not None:
        where = "/".join(str(p) for p in error.path) or "(top)"
        return [Finding("kubernetes-validate", path, f"{kind}/{name}: {where}: {error.message}")]
    return []


def _spc_findings(path: str, doc: dict[str, Any]) -> list[Finding]:
    name = doc.get("metadata", {}).get("name", "?")
    out: list[Finding] = []

    def bad(msg: str) -> None:
        out.append(Finding("secretproviderclass", path, f"SecretProviderClass/{name}: {msg}"))

    spec = doc.get("spec")
    if not isinstance(spec, dict):
        bad("spec is missing")
        return out
    unknown = set(spec) - {"provider", "parameters", "secretObjects"}
    if unknown:
        bad(f"unknown spec fields {sorted(unknown)}")
    if spec.get("provider") != "azure":
        bad("spec.provider must be 'azure'")
    params = spec.get("parameters")
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        bad("spec.parameters must be a map of strings")
        return out
    for key in ("clientID", "keyvaultName", "tenantId", "objects"):
        if not params.get(key):
            bad(f"spec.parameters.{key} is required for workload identity")
    if params.get("usePodIdentity", "false") != "false" or params.get("useVMManagedIdentity", "false") != "false":
        bad("must use workload identity (usePodIdentity/useVMManagedIdentity 'false')")
    try:
        objects = yamlread.safe_load(params.get("objects", "")) or {}
        entries = [yamlread.safe_load(e) for e in objects.get("array", [])]
    except (yaml.YAMLError, AttributeError):
        bad("spec.parameters.objects is not the 'array:' YAML the Azure provider expects")
        return out
    names = set()
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("objectName") or entry.get("objectType") not in ("secret", "key", "cert"):
            bad(f"objects entry {entry!r} needs objectName and objectType secret|key|cert")
        else:
            names.add(entry["objectName"])
    if not names:
        bad("objects lists no Key Vault object")
    for sobj in spec.get("secretObjects", []):
        for item in sobj.get("data", []):
            if item.get("objectName") not in names:
                bad(f"secretObjects {sobj.get('secretName')}: {item.get('objectName')} is not in objects")
    return out


def _pod_findings(path: str, dep: dict[str, Any], sas: dict[str, dict[str, Any]],
                  spcs: dict[str, dict[str, Any]], expected_image: str | None) -> list[Finding]:
    name = dep["metadata"]["name"]
    out: list[Finding] = []

    def bad(msg: str) -> None:
        out.append(Finding(V, path, f"Deployment/{name}: {msg}"))

    tmpl = dep["spec"]["template"]
    pod = tmpl["spec"]
    if tmpl.get("metadata", {}).get("labels", {}).get(WI_USE) != "true":
        bad(f'pod label {WI_USE}: "true" is missing')
    sa = sas.get(pod.get("serviceAccountName", ""))
    if sa is None:
        bad(f"serviceAccountName {pod.get('serviceAccountName')!r} is not defined in the bundle")
    elif not sa["metadata"].get("annotations", {}).get(WI_CLIENT):
        bad(f"ServiceAccount {sa['metadata']['name']} lacks the {WI_CLIENT} annotation")
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        bad("pod securityContext.runAsNonRoot must be true")
    synced: dict[str, set[str]] = {}
    for vol in pod.get("volumes", []):
        ref = vol.get("csi", {}).get("volumeAttributes", {}).get("secretProviderClass")
        if ref is not None:
            if ref not in spcs:
                bad(f"volume {vol['name']}: SecretProviderClass {ref} is not defined")
                continue
            for sobj in spcs[ref]["spec"].get("secretObjects", []):
                synced[sobj["secretName"]] = {d["key"] for d in sobj.get("data", [])}
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            bad(f"{c['name']}: allowPrivilegeEscalation must be false")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            bad(f"{c['name']}: capabilities must drop ALL")
        if (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            bad(f"{c['name']}: seccompProfile must be RuntimeDefault")
        res = c.get("resources", {})
        if not res.get("requests", {}).get("cpu") or not res.get("requests", {}).get("memory") or not res.get("limits", {}).get("memory"):
            bad(f"{c['name']}: cpu/memory requests and a memory limit are required")
        if "livenessProbe" not in c or "readinessProbe" not in c:
            bad(f"{c['name']}: liveness and readiness probes are required")
        if expected_image is not None and c["image"] != expected_image:
            bad(f"{c['name']}: image {c['image']} != plan image {expected_image}")
        for env in c.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref.get("key") not in synced.get(ref.get("name"), set()):
                bad(f"env {env['name']}: secret {ref.get('name')}/{ref.get('key')} is not synced from Key Vault")
    return out


# The application routing add-on's controller resource (cluster-scoped; learn aks/app-routing-nginx-configuration).
NGINX_API = "approuting.kubernetes.azure.com/v1alpha1"
CILIUM_API = "cilium.io/v2"  # CiliumNetworkPolicy: the model-API egress allowlist
_LB = "service.beta.kubernetes.io/azure-"


def _ingress_findings(docs: list[tuple[str, dict[str, Any]]]) -> list[Finding]:
    """Front Door is the only way in: every Ingress uses an internal controller that publishes a
    Private Link service, and nothing else asks Azure for a (public) load balancer."""
    out: list[Finding] = []
    controllers = {d["spec"].get("ingressClassName"): (p, d) for p, d in docs if d.get("kind") == "NginxIngressController"}
    for cls, (path, doc) in controllers.items():
        ann = doc["spec"].get("loadBalancerAnnotations") or {}
        for key in ("load-balancer-internal", "pls-create"):
            if ann.get(_LB + key) != "true":
                out.append(Finding(V, path, f"NginxIngressController/{cls}: {_LB}{key} must be \"true\" (internal load balancer behind Front Door's Private Link)"))
    for path, doc in docs:
        if doc.get("kind") == "Ingress" and doc["spec"].get("ingressClassName") not in controllers:
            out.append(Finding(V, path, f"Ingress/{doc['metadata'].get('name')}: class {doc['spec'].get('ingressClassName')!r} is not the internal controller declared here"))
        if doc.get("kind") == "Ingress":
            for rule in doc["spec"].get("rules", []):
                if str(rule.get("host", "")).endswith(".azurefd.net"):
                    out.append(Finding(V, path, f"Ingress/{doc['metadata'].get('name')}: host {rule['host']} is Front Door's, not the cluster's"))
        if doc.get("kind") == "Service" and doc.get("spec", {}).get("type") == "LoadBalancer":
            out.append(Finding(V, path, f"Service/{doc['metadata'].get('name')}: type LoadBalancer bypasses Front Door; use ClusterIP and the Ingress"))
    return out


def custom_findings(docs: list[tuple[str, dict[str, Any]]], inp: RenderInput) -> list[Finding]:
    names = azure_names(inp.plan)
    apps = {a.name: a for a in azure_apps(inp, "aks")}
    out: list[Finding] = []
    sas = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "ServiceAccount"}
    spcs = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "SecretProviderClass"}
    for path, doc in docs:
        kind = doc.get("kind")
        meta = doc.get("metadata", {})
        if kind not in ("Namespace", "NginxIngressController") and meta.get("namespace") != names.namespace:
            out.append(Finding(V, path, f"{kind}/{meta.get('name')}: must live in namespace {names.namespace}, not {meta.get('namespace')!r}"))
        if kind == "SecretProviderClass":
            out += _spc_findings(path, doc)
        elif kind == "ServiceAccount" and not meta.get("annotations", {}).get(WI_CLIENT):
            out.append(Finding(V, path, f"ServiceAccount/{meta.get('name')}: {WI_CLIENT} annotation is required"))
        elif kind == "Deployment":
            app = apps.get(meta.get("name", ""))
            if app is None:
                out.append(Finding(V, path, f"Deployment/{meta.get('name')} is not an enabled app"))
                continue
            ports = {p["containerPort"] for c in doc["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
            if app.port not in ports:
                out.append(Finding(V, path, f"Deployment/{app.name}: catalog port {app.port} is not exposed"))
            out += _pod_findings(path, doc, sas, spcs, app.image)
    deny = [d for _, d in docs if d.get("kind") == "NetworkPolicy" and d["spec"].get("podSelector") == {}
            and set(d["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} and not d["spec"].get("ingress")
            and not d["spec"].get("egress")]
    if not deny:
        out.append(Finding(V, "k8s/namespace.yaml", "no default-deny NetworkPolicy (ingress and egress) in the namespace"))
    out += _ingress_findings(docs)
    for path, doc in docs:
        if doc.get("kind") == "CiliumNetworkPolicy":
            for rule in doc["spec"].get("egress", []):
                named = {f.get("matchName") or f.get("matchPattern") for f in rule.get("toFQDNs", [])}
                if named - set(inp.plan.azure.model_endpoints):
                    out.append(Finding(V, path, f"CiliumNetworkPolicy/{doc['metadata']['name']}: egress to {sorted(named - set(inp.plan.azure.model_endpoints))} is not in azure.model_endpoints"))
                ports = {p["port"] for tp in rule.get("toPorts", []) for p in tp.get("ports", [])}
                if named and ports != {"443"}:
                    out.append(Finding(V, path, f"CiliumNetworkPolicy/{doc['metadata']['name']}: model endpoints are reached on HTTPS (443) only"))
    deployed = {d["metadata"]["name"] for _, d in docs if d.get("kind") == "Deployment"}
    for missing in sorted(set(apps) - deployed):
        out.append(Finding(V, f"k8s/{missing}.yaml", "missing: every enabled app needs a Deployment"))
    return out


def checkov_findings(bundle: Bundle) -> list[Finding]:
    """checkov (framework kubernetes) over the manifests. Accepted failures are suppressed on the
    resource itself (``checkov.io/skipN`` annotations with their reason), so none is global."""
    from installer.validate.checkov import checkov_findings as run

    k8s = Bundle()
    for path in bundle:
        if path.startswith("k8s/") and path.endswith(".yaml"):
            k8s.add(path, bundle.files[path])
    return run(k8s, ["kubernetes"])


def skip_findings(docs: list[tuple[str, dict[str, Any]]]) -> list[Finding]:
    """Every checkov suppression must carry a written reason after its check id."""
    out: list[Finding] = []
    for path, doc in docs:
        for key, value in (doc.get("metadata", {}).get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = str(value).partition("=")
                if not check.startswith("CKV") or len(reason.split()) < 4:
                    out.append(Finding("checkov", path, f"{doc.get('kind')}/{doc['metadata'].get('name')}: suppression {value!r} needs a written, specific reason (CHECK=reason)"))
    return out


def validate_manifests(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    """Schema, custom-resource, posture and suppression checks over ``k8s/*.yaml`` (once per
    distinct set of manifests in a render: AKS and the development model carry the same)."""
    key = ("k8s-manifests", files_digest(bundle, ("k8s/",)), identity(inp))
    return remembered(key, lambda: _manifest_findings(bundle, inp))


def _manifest_findings(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    try:
        docs = load_docs(bundle)
    except yaml.YAMLError as exc:
        return [Finding("yaml", "k8s/", f"not valid YAML: {exc}")]
    findings: list[Finding] = []
    for path, doc in docs:
        findings += schema_findings(path, doc)
    findings += custom_findings(docs, inp)
    findings += skip_findings(docs)
    return findings


def validate_aks(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    findings = validate_manifests(bundle, inp)
    findings += scan_bundle(bundle, inp.secrets)
    findings += checkov_findings(bundle)
    findings += foundation_findings(bundle, inp)
    findings += postdeploy_findings(bundle, inp)
    return findings
