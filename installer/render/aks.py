"""Container → AKS: the foundation (compute "aks") plus Kubernetes manifests per app under ``k8s/``.

``k8s/namespace.yaml`` holds the install's namespace (Pod Security "restricted" enforced) and the
default-deny NetworkPolicy; ``k8s/<component>.yaml`` holds everything one app needs: a
ServiceAccount for workload identity, a SecretProviderClass for its Key Vault secrets, the
Deployment (restricted security context, probes, requests/limits), Service, Ingress (only for
Front-Door-facing apps), NetworkPolicy allows derived from the catalog's ``depends_on`` graph,
PodDisruptionBudget, HorizontalPodAutoscaler and data volume claims.
"""

from __future__ import annotations

from typing import Any

from installer.labels import LABEL_COMPONENT, LABEL_INSTALL, LABEL_MANAGED
from installer.plan import AzureCloud
from installer.render import Bundle, RenderInput
from installer.render.aca import foundation
from installer.render.azure.build import SUBNETS as FOUNDATION_SUBNETS
from installer.render.azure.frontdoor import AKS_INGRESS_IP, PRIVATE_LINK_READY, aks_ingress_host, aks_private_link_service
from installer.render.azure.sizing import SKUS
from installer.render.templating import render_template
from installer.render.workload import (
    CPU_TARGET_PERCENT,
    DEPLOY_VALUES,
    KUBERNETES_VERSION,
    AzureApp,
    AzureNames,
    azure_apps,
    azure_names,
    data_volume_name,
    placeholder,
)
from installer.render.yamlout import dump_all

__all__ = ["KUBERNETES_VERSION", "render_aks", "render_k8s", "federated_subjects"]

# AKS application routing add-on (managed NGINX). The foundation turns its default controller off
# (defaultIngressControllerType None: it would get a public load balancer, around the WAF);
# k8s/ingress.yaml declares ours: internal load balancer at a fixed IP plus a Private Link service
# Front Door reaches (learn aks/app-routing-nginx-configuration, aks/internal-lb#create-a-private-link-service-connection).
INGRESS_CLASS = "fabrix-internal"
INGRESS_NAMESPACE = "app-routing-system"  # where the add-on runs every controller's pods
# Azure Files through the built-in CSI class: ReadWriteMany, so every replica sees the same data.
# Sized per preset by ``sizing.SKUS[size].app_data_gb`` (the ACA file share quota uses the same).
STORAGE_CLASS = "azurefile-csi-premium"
SECRETS_MOUNT = "/mnt/secrets-store"
# Images that write outside their data volume at start (Keycloak's build step in /opt/keycloak,
# Open WebUI's static files under /app): a read-only root file system would stop them.
WRITABLE_ROOT = {
    "keycloak": "Keycloak rebuilds its Quarkus application under /opt/keycloak at start (start-dev); a read-only root stops it",
    "openwebui": "Open WebUI writes its static assets and secret-key file under /app at start; a read-only root stops it",
}
# Group that owns the data volumes (fsGroup); every pod's process also gets it as a supplementary
# group, so volumes stay writable whatever the component's own group (catalog ``run_as``).
FS_GROUP = 10001

_CLOUD_NAME = {
    AzureCloud.public: "AzurePublicCloud",
    AzureCloud.usgov: "AzureUSGovernmentCloud",
    AzureCloud.china: "AzureChinaCloud",
    AzureCloud.custom: "AzureStackCloud",
}


def _labels(plan_name: str, app: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/part-of": "ai-fabrix",
        LABEL_INSTALL: plan_name,
        LABEL_COMPONENT: app,
        LABEL_MANAGED: "true",
    }


def _meta(name: str, names: AzureNames, labels: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": names.namespace, "labels": labels, **extra}


def federated_subjects(inp: RenderInput) -> list[str]:
    """Workload-identity subjects the identity's federated credentials must trust (one per app)."""
    names = azure_names(inp.plan)
    return [f"system:serviceaccount:{names.namespace}:{a.name}" for a in azure_apps(inp, "aks")]


def namespace_docs(plan_name: str, names: AzureNames) -> list[dict[str, Any]]:
    labels = {LABEL_INSTALL: plan_name, LABEL_MANAGED: "true"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": names.namespace,
                "labels": {
                    **labels,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": f"v{KUBERNETES_VERSION}",
                },
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("default-deny", names, labels),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            # Every pod may resolve names (CoreDNS in kube-system); nothing else is implied.
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("allow-dns", names, labels),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }],
            },
        },
    ]


def checkov_skips(app: AzureApp) -> dict[str, str]:
    """checkov suppressions for one Deployment, each with the reason it is accepted, written on
    the resource itself (``checkov.io/skipN: CHECK=reason``) so a reviewer reads both together."""
    reasons: list[tuple[str, str]] = []
    image = app.image
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if "@sha256:" not in image:
        reasons.append(("CKV_K8S_43", f"{image} is referenced by tag as the catalog publishes it; pin a digest with images.overrides.{app.name} (the development pipeline prints the digest of each image it builds)"))
    if tag in ("", "latest"):
        reasons.append(("CKV_K8S_14", f"the vendor publishes {image.split('@')[0]} only as :latest; set images.overrides.{app.name} to a fixed tag or digest for production"))
    if app.secrets:
        reasons.append(("CKV_K8S_35", "the AI Fabrix images read configuration from environment variables only; the values come from Key Vault through the CSI driver's synced Secret, never from this manifest"))
    if app.name in WRITABLE_ROOT:
        reasons.append(("CKV_K8S_22", WRITABLE_ROOT[app.name]))
    return {f"checkov.io/skip{i}": f"{check}={why}" for i, (check, why) in enumerate(reasons, 1)}


def _container_security(app: AzureApp) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": app.name not in WRITABLE_ROOT,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _probe(app: AzureApp, period: int, failures: int, live: bool = False) -> dict[str, Any]:
    if live:
        get = {"path": app.live_path or app.health_path, "port": app.live_port or app.health_port or app.port}
    else:
        get = {"path": app.health_path, "port": app.health_port or app.port}
    return {
        "httpGet": get,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def _deployment(inp: RenderInput, app: AzureApp, names: AzureNames, labels: dict[str, str]) -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": app.name, LABEL_INSTALL: inp.plan.name}
    env: list[dict[str, Any]] = []
    for var in app.env:
        if var.secret:
            env.append({"name": var.name, "valueFrom": {"secretKeyRef": {"name": f"{app.name}-kv", "key": var.secret}}})
        else:
            env.append({"name": var.name, "value": var.value or ""})
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]
    # Paths the image writes outside its data volumes (catalog run_as): an empty directory each;
    # seeded ones are first filled with the image's own files by an init container.
    for i, path in enumerate(app.run_as.scratch):
        mounts.append({"name": f"scratch{i}", "mountPath": path})
        volumes.append({"name": f"scratch{i}", "emptyDir": {"sizeLimit": "1Gi"}})
    for i, path in enumerate(app.run_as.seeded):
        mounts.append({"name": f"seeded{i}", "mountPath": path})
        volumes.append({"name": f"seeded{i}", "emptyDir": {"sizeLimit": "1Gi"}})
    for i, path in enumerate(app.volumes):
        mounts.append({"name": f"data{i}", "mountPath": path})
        volumes.append({"name": f"data{i}", "persistentVolumeClaim": {"claimName": data_volume_name(app.name, i)}})
    if app.secrets:
        # Mounting the CSI volume is what makes the driver sync the Kubernetes Secret used in env.
        mounts.append({"name": "secrets-store", "mountPath": SECRETS_MOUNT, "readOnly": True})
        volumes.append({"name": "secrets-store", "csi": {
            "driver": "secrets-store.csi.k8s.io", "readOnly": True,
            "volumeAttributes": {"secretProviderClass": f"{app.name}-kv"}}})
    cpu_m = int(app.cpu * 1000)
    mem_mi = int(app.memory_gib * 1024)
    container: dict[str, Any] = {
        "name": app.name,
        "image": app.image,
        "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": app.port, "protocol": "TCP"}],
        "env": env,
        "resources": {
            "requests": {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi"},
            "limits": {"cpu": f"{cpu_m * 2}m", "memory": f"{mem_mi}Mi"},
        },
        "securityContext": _container_security(app),
        "volumeMounts": mounts,
    }
    init: list[dict[str, Any]] = []
    if app.run_as.seeded:
        # Same image, same user: copy what the image ships at each seeded path into its empty dir.
        copies = " && ".join(f"cp -R {path}/. /seed/{i}/" for i, path in enumerate(app.run_as.seeded))
        init.append({
            "name": "seed",
            "image": app.image,
            "imagePullPolicy": "Always",
            "command": ["sh", "-c", copies],
            "resources": container["resources"],
            "securityContext": _container_security(app),
            "volumeMounts": [{"name": f"seeded{i}", "mountPath": f"/seed/{i}"} for i, _ in enumerate(app.run_as.seeded)],
        })
    if app.args:
        container["args"] = list(app.args)  # replaces the image's CMD, keeps its ENTRYPOINT
    if app.health_path:
        container["startupProbe"] = _probe(app, 10, 30)
        container["livenessProbe"] = _probe(app, 30, 3, live=True)
        container["readinessProbe"] = _probe(app, 10, 3)
    pod_labels = {**labels, "azure.workload.identity/use": "true"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(app.name, names, labels, annotations=checkov_skips(app)),
        "spec": {
            "replicas": app.min_replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": app.name,
                    # The workload-identity webhook projects its own token; the API token is not needed.
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": app.run_as.user,
                        "runAsGroup": app.run_as.group,
                        "fsGroup": FS_GROUP,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [{
                        "maxSkew": 1,
                        "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": selector},
                    }],
                    **({"initContainers": init} if init else {}),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def _network_policy(app: AzureApp, apps: list[AzureApp], names: AzureNames, labels: dict[str, str], plan_name: str) -> dict[str, Any]:
    def pods(name: str) -> dict[str, Any]:
        return {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name, LABEL_INSTALL: plan_name}}}

    callers = [a.name for a in apps if app.name in a.depends_on]
    ingress: list[dict[str, Any]] = []
    ports = sorted({app.port, app.health_port or app.port})
    if callers:
        ingress.append({"from": [pods(c) for c in callers], "ports": [{"protocol": "TCP", "port": app.port}]})
    if app.frontdoor:
        ingress.append({
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": INGRESS_NAMESPACE}}}],
            "ports": [{"protocol": "TCP", "port": app.port}],
        })
    egress: list[dict[str, Any]] = []
    by_name = {a.name: a for a in apps}
    for dep in app.depends_on:
        egress.append({"to": [pods(dep)], "ports": [{"protocol": "TCP", "port": by_name[dep].port}]})
    data_ports = {"postgres": 5432, "redis": 10000}  # Flexible Server; Managed Redis TLS port
    for svc in app.data_services:
        egress.append({
            "to": [{"ipBlock": {"cidr": FOUNDATION_SUBNETS["pe"]}}],  # private endpoints live there
            "ports": [{"protocol": "TCP", "port": data_ports[svc]}],
        })
    del ports  # probes come from the node (kubelet), which NetworkPolicy does not filter
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(f"{app.name}-allow", names, labels),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": app.name, LABEL_INSTALL: plan_name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


CILIUM_API = "cilium.io/v2"


def model_egress_doc(app: AzureApp, names: AzureNames, labels: dict[str, str], plan_name: str,
                     hosts: list[str]) -> dict[str, Any]:
    """HTTPS egress to exactly the language-model hosts the person named (azure.model_endpoints).
    Kubernetes NetworkPolicy cannot name hosts; Cilium's toFQDNs can (AKS Advanced Container
    Networking Services, FQDN filtering, which the foundation enables). Cilium learns the names'
    addresses through its DNS proxy, hence the DNS rule. The default deny stays for everything else
    (learn aks/how-to-apply-fqdn-filtering-policies; docs.cilium.io policy/language#dns-based)."""
    return {
        "apiVersion": CILIUM_API,
        "kind": "CiliumNetworkPolicy",
        "metadata": _meta(f"{app.name}-model-egress", names, labels),
        "spec": {
            "endpointSelector": {"matchLabels": {"app.kubernetes.io/name": app.name, LABEL_INSTALL: plan_name}},
            "egress": [
                {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}],
                 "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]},
                {"toFQDNs": [{"matchPattern": h} if h.startswith("*.") else {"matchName": h} for h in hosts],
                 "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]},
            ],
        },
    }


def _secret_provider_class(inp: RenderInput, app: AzureApp, names: AzureNames, labels: dict[str, str]) -> dict[str, Any]:
    objects = "array:\n" + "".join(
        f"  - |\n    objectName: {s}\n    objectType: secret\n" for s in app.secrets
    )
    return {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": _meta(f"{app.name}-kv", names, labels),
        "spec": {
            "provider": "azure",
            "parameters": {
                "usePodIdentity": "false",
                "clientID": placeholder("IDENTITY_CLIENT_ID"),
                "keyvaultName": names.key_vault,
                "cloudName": _CLOUD_NAME[inp.plan.azure.cloud],
                "tenantId": inp.plan.azure.tenant_id or placeholder("AZURE_TENANT_ID"),
                "objects": objects,
            },
            "secretObjects": [{
                "secretName": f"{app.name}-kv",
                "type": "Opaque",
                "data": [{"objectName": s, "key": s} for s in app.secrets],
            }],
        },
    }


def app_docs(inp: RenderInput, app: AzureApp, apps: list[AzureApp], names: AzureNames) -> list[dict[str, Any]]:
    plan = inp.plan
    labels = _labels(plan.name, app.name)
    selector = {"app.kubernetes.io/name": app.name, LABEL_INSTALL: plan.name}
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(app.name, names, labels, annotations={
                "azure.workload.identity/client-id": placeholder("IDENTITY_CLIENT_ID"),
                "azure.workload.identity/tenant-id": plan.azure.tenant_id or placeholder("AZURE_TENANT_ID"),
            }),
            "automountServiceAccountToken": False,
        }
    ]
    if app.secrets:
        docs.append(_secret_provider_class(inp, app, names, labels))
    for i, _ in enumerate(app.volumes):
        docs.append({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta(data_volume_name(app.name, i), names, labels),
            "spec": {
                "accessModes": ["ReadWriteMany"],
                "storageClassName": STORAGE_CLASS,
                "resources": {"requests": {"storage": f"{SKUS[plan.size].app_data_gb}Gi"}},
            },
        })
    docs.append(_deployment(inp, app, names, labels))
    docs.append({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(app.name, names, labels),
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": app.port, "targetPort": "http", "protocol": "TCP"}],
        },
    })
    if app.frontdoor:
        docs.append({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta(app.name, names, labels),
            "spec": {
                "ingressClassName": INGRESS_CLASS,
                "rules": [{
                    # The Host header Front Door's origin sends (never *.azurefd.net, which no
                    # cluster can own); browsers keep using the Front Door or custom domain.
                    "host": aks_ingress_host(app.route_host or app.name),
                    "http": {"paths": [{
                        "path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": app.name, "port": {"number": app.port}}},
                    }]},
                }],
            },
        })
    docs.append(_network_policy(app, apps, names, labels, plan.name))
    if app.model_client and plan.azure.model_endpoints:
        docs.append(model_egress_doc(app, names, labels, plan.name, plan.azure.model_endpoints))
    docs.append({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(app.name, names, labels),
        # maxUnavailable (not minAvailable: 1) so a single-replica app never blocks node drains.
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
    })
    if app.max_replicas > app.min_replicas:
        # No autoscaler for a single-instance component (Keycloak with a local cache): a second
        # replica would split its state.
        docs.append({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(app.name, names, labels),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app.name},
                "minReplicas": app.min_replicas,
                "maxReplicas": app.max_replicas,
                "metrics": [{"type": "Resource", "resource": {
                    "name": "cpu", "target": {"type": "Utilization", "averageUtilization": CPU_TARGET_PERCENT}}}],
            },
        })
    return docs


def ingress_controller_doc(names: AzureNames) -> dict[str, Any]:
    """The one ingress controller: internal load balancer, Private Link service for Front Door."""
    lb = "service.beta.kubernetes.io/azure-"
    return {
        "apiVersion": "approuting.kubernetes.azure.com/v1alpha1",
        "kind": "NginxIngressController",
        "metadata": {"name": INGRESS_CLASS},
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "controllerNamePrefix": INGRESS_CLASS,
            "loadBalancerAnnotations": {
                f"{lb}load-balancer-internal": "true",
                f"{lb}load-balancer-internal-subnet": "snet-aks",
                # Fixed, so the foundation's Front Door origin can name it before it exists.
                f"{lb}load-balancer-ipv4": AKS_INGRESS_IP,
                f"{lb}pls-create": "true",
                f"{lb}pls-name": aks_private_link_service(names.aks_cluster),
                f"{lb}pls-ip-configuration-subnet": "snet-aks",
                # Front Door's request arrives from Microsoft's subscription; it still waits for approval.
                f"{lb}pls-visibility": "*",
            },
        },
    }


def render_k8s(inp: RenderInput, postdeploy: str | None = None) -> Bundle:
    """Only the Kubernetes manifests (``k8s/``), without the foundation (``postdeploy``: see render_aca_apps)."""
    names = azure_names(inp.plan)
    apps = azure_apps(inp, "aks")
    header = "# Rendered by fabrix from assets/catalog.yaml for install {name}; Kubernetes {ver}.\n# {what}\n"
    bundle = Bundle()
    bundle.add("k8s/namespace.yaml", header.format(
        name=inp.plan.name, ver=KUBERNETES_VERSION,
        what="Namespace (Pod Security: restricted) and default-deny network policy; apply first.",
    ) + dump_all(namespace_docs(inp.plan.name, names)))
    bundle.add("k8s/ingress.yaml", header.format(
        name=inp.plan.name, ver=KUBERNETES_VERSION,
        what="Ingress controller: internal load balancer + Private Link service for Front Door (no public IP).",
    ) + dump_all([ingress_controller_doc(names)]))
    for app in apps:
        bundle.add(f"k8s/{app.name}.yaml", header.format(
            name=inp.plan.name, ver=KUBERNETES_VERSION, what=f"{app.title}: {app.image}",
        ) + dump_all(app_docs(inp, app, apps, names)))
    bundle.add("k8s/README.md", render_template(
        "aks/README.md.j2", plan=inp.plan, names=names, apps=apps, deploy_values=DEPLOY_VALUES,
        k8s_version=KUBERNETES_VERSION, subjects=federated_subjects(inp), ingress_class=INGRESS_CLASS,
        storage_class=STORAGE_CLASS, data_gb=SKUS[inp.plan.size].app_data_gb, postdeploy=postdeploy,
        pls=aks_private_link_service(names.aks_cluster), node_rg=f"rg-{names.aks_cluster}-nodes",
        ready_param=PRIVATE_LINK_READY, ingress_ip=AKS_INGRESS_IP,
        published=[a for a in apps if a.frontdoor],
    ))
    return bundle


def render_aks(inp: RenderInput) -> Bundle:
    from installer.render.postdeploy import add_postdeploy

    bundle = foundation(inp, "aks")
    script = add_postdeploy(bundle, inp)
    bundle.merge(render_k8s(inp, postdeploy=script))
    return bundle
