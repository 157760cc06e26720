"""One Kubernetes Job that runs a post-deploy program inside an AKS cluster as the install's
workload identity, with its files in a ConfigMap beside it.

The database step and the dataplane registration both run this way (applied through the AKS
run-command API, so a private cluster needs no kubeconfig): the same run-once settings
(``backoffLimit: 0``, a deadline, ``restartPolicy: Never``), the workload-identity label the
mutating webhook looks for, and the ConfigMap mounted read-only. Emitted with a YAML dumper
rather than string templates so a value is always quoted the way YAML needs.
"""

from __future__ import annotations

import base64

import yaml

WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"  # Azure Workload Identity's webhook opts pods in by this label


def workload_job(*, name: str, namespace: str, service_account: str, container: str, image: str,
                 command: str, env: dict[str, str], files: dict[str, str | bytes], mount: str,
                 deadline_seconds: int) -> str:
    """A ConfigMap holding ``files`` (text as ``data``, bytes as ``binaryData``) and a Job that
    mounts it at ``mount`` and runs ``command`` with bash, once."""
    config_map: dict[str, object] = {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": name, "namespace": namespace}}
    text = {k: v for k, v in files.items() if isinstance(v, str)}
    binary = {k: base64.b64encode(v).decode() for k, v in files.items() if isinstance(v, bytes)}
    if text:
        config_map["data"] = text
    if binary:
        config_map["binaryData"] = binary
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_seconds,
            "template": {
                "metadata": {"labels": {WORKLOAD_IDENTITY_LABEL: "true"}},
                "spec": {
                    "serviceAccountName": service_account,
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": container,
                        "image": image,
                        "command": ["/bin/bash", "-c", command],
                        "env": [{"name": k, "value": v} for k, v in env.items()],
                        "volumeMounts": [{"name": "files", "mountPath": mount}],
                    }],
                    "volumes": [{"name": "files", "configMap": {"name": name}}],
                },
            },
        },
    }
    return yaml.safe_dump_all([config_map, job], sort_keys=False, width=1 << 16)
