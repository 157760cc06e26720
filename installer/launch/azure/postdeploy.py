"""Post-deploy inside the network: what ARM cannot do, run where the private endpoints answer.

- ACA (and Marketplace, development, hybrid, multi-cloud — they all run on Container Apps): a
  Container Apps job in the install's environment runs ``postdeploy/10-databases.sh`` (roles,
  databases, extensions; passwords read from Key Vault by the install's managed identity). fabrix
  creates the job, starts one execution, waits for it (``Microsoft.App/jobs``: PUT, ``start``,
  ``executions/{name}``; notes/azure-launch.md §4) and deletes the job after it succeeded. The job
  is tagged with the install and run, so a rollback that keeps the group still finds it.
- AKS: the manifests and a database Job go to the cluster through the AKS run-command API
  (``managedClusters/{c}/runCommand``, §5): it works on a private cluster without a kubeconfig or
  a path into the VNet. The command applies the namespace, then the apps, waits for the Job, then
  ``kubectl rollout status`` for every Deployment.

The script holds names only (no secret value), so passing it to the job in its environment is
safe; the job's container reads the passwords from Key Vault itself.

Not verified against real Azure (this machine reaches only the fake ARM): the job image
(``DB_JOB_IMAGE``, the Azure CLI image with psql installed at start) and the in-cluster identity of
the AKS Job are design choices, stated here and in the README.
"""

from __future__ import annotations

import base64
import io
import time
import zipfile
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from installer import yamlread
from installer.labels import TAG_INSTALL, TAG_RUN
from installer.launch.azure import arm
from installer.launch.azure.arm import Target
from installer.launch.azure.preview import _get
from installer.launch.journal import Phase
from installer.launch.runner import Stop
from installer.progress import State

if TYPE_CHECKING:
    from installer.launch.azure.backend import AzureBackend

DB_JOB_IMAGE = "mcr.microsoft.com/azure-cli:2.67.0"
DATABASES_SCRIPT = "postdeploy/10-databases.sh"
JOB_TIMEOUT = 1800  # seconds the database step may take (replicaTimeout)
TERMINAL_JOB = {"succeeded", "failed", "stopped"}
_WRAPPER = (
    'set -euo pipefail; command -v psql >/dev/null || tdnf install -y postgresql >/dev/null; '
    'az login --identity --client-id "$AZURE_CLIENT_ID" --output none; '
    'printf %s "$FABRIX_SCRIPT_B64" | base64 -d > /tmp/databases.sh; bash /tmp/databases.sh'
)


def _text(bundle: Any, path: str) -> str | None:
    raw = bundle.files.get(path)
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _resource(ids: list[str], rtype: str) -> str | None:
    """The first managed resource of ``rtype`` (``Microsoft.App/managedEnvironments``), by id."""
    marker = f"/providers/{rtype}/".lower()
    for rid in ids:
        low = rid.lower()
        if marker in low and "/" not in low.split(marker, 1)[1]:
            return rid
    return None


def run(b: AzureBackend, t: Target) -> None:
    from installer.azure.requirements import compute_target

    r = b.r
    script = _text(b.bundle, DATABASES_SCRIPT)
    # The stack lists its managed resources once it has settled; the deployment's operations
    # name them as soon as they succeed: take both.
    ids = arm.stack_resource_ids(b.stack) + [row.resource_id for row in b.tracker.rows.values() if row.resource_id]
    if compute_target(b.plan) == "aks":
        r.journal_step("postdeploy", Phase.begin, kind="aks-run-command")
        _aks(b, t, ids, script)
    elif script:
        r.journal_step("postdeploy", Phase.begin, kind="aca-job")
        _aca_job(b, t, ids, script)
    else:
        r.emit("postdeploy", State.skipped, "no databases to set up")
    r.journal_step("postdeploy", Phase.end)


# ---- Container Apps job -------------------------------------------------------------------------


def _aca_job(b: AzureBackend, t: Target, ids: list[str], script: str) -> None:
    env = [{"name": "FABRIX_SCRIPT_B64", "value": base64.b64encode(script.encode()).decode()}]
    for key, out in (("KEY_VAULT", "keyVaultName"), ("PGHOST", "postgresFqdn")):
        if b.outputs.get(out):
            env.append({"name": key, "value": str(b.outputs[out])})
    job = f"fx-db-{b.plan.name}"[:31].rstrip("-")
    took = run_aca_job(b, t, ids, step="postdeploy", job=job, container="databases",
                       command=["/bin/bash", "-c", _WRAPPER], env=env, what="database")
    b.r.emit("postdeploy", State.done, f"database step succeeded in {took:.0f}s", service=job)


def run_aca_job(b: AzureBackend, t: Target, ids: list[str], *, step: str, job: str, container: str,
                command: list[str], env: list[dict[str, str]], what: str) -> float:
    """Create the Container Apps job ``job`` in the install's environment (the install's identity,
    ``AZURE_CLIENT_ID`` set), start one execution, wait for it, delete the job after it succeeded.
    Its seconds; a failure is a ``Stop`` naming the status, the exit codes and where the logs are
    (``b.postdeploy_detail`` for the diagnostics)."""
    r = b.r
    env_id = _resource(ids, "Microsoft.App/managedEnvironments")
    if env_id is None:
        raise Stop(f"the stack has no Container Apps environment to run the {what} step in")
    identity = str(b.outputs.get("identityResourceId") or _resource(ids, "Microsoft.ManagedIdentity/userAssignedIdentities") or "")
    client_id = str(b.outputs.get("identityClientId") or "")
    apps = t.clients.container_apps(t.subscription_id)
    body = {
        "location": t.location,
        "tags": {TAG_INSTALL: b.plan.name, TAG_RUN: r.run_id},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}} if identity else {"type": "None"},
        "properties": {
            "environmentId": env_id,
            "configuration": {"triggerType": "Manual", "replicaTimeout": JOB_TIMEOUT, "replicaRetryLimit": 0,
                              "manualTriggerConfig": {"replicaCompletionCount": 1, "parallelism": 1}},
            "template": {"containers": [{"name": container, "image": DB_JOB_IMAGE, "command": command,
                                         "env": [{"name": "AZURE_CLIENT_ID", "value": client_id}, *env],
                                         "resources": {"cpu": 0.5, "memory": "1Gi"}}]},
        },
    }
    r.journal_step(step, Phase.begin, job=job)
    r.emit(step, State.creating, f"creating the {what} job {job} in the Container Apps environment", service=job)
    try:
        apps.jobs.begin_create_or_update(t.resource_group, job, body, polling_interval=arm.WHATIF_POLL).result()
        started = apps.jobs.begin_start(t.resource_group, job, polling=False).result()
    except HttpResponseError as exc:
        code, message = arm.arm_error(exc)
        raise Stop(f"the {what} job could not be started: {code}: {message}", service=job) from exc
    execution = str(getattr(started, "name", "") or "")
    r.journal_step(step, Phase.begin, job=job, execution=execution)
    r.emit(step, State.running, f"running the {what} step ({execution})", service=job)
    clock0 = time.monotonic()
    status = ""
    from installer.launch.azure.backend import poll_seconds

    while True:
        try:
            ex = apps.job_execution(t.resource_group, job, execution)
        except ResourceNotFoundError:
            ex = None
        props = getattr(ex, "properties", None) if ex is not None else None
        status = str(_get(props, "status") or _get(ex, "status") or "")
        if status.lower() in TERMINAL_JOB:
            break
        if time.monotonic() - clock0 > JOB_TIMEOUT:
            status = "Timeout"
            break
        if arm.sleep(max(0.05, poll_seconds()), r.cancel):
            raise Stop(f"cancelled during the {what} step", cancelled=True, service=job)
    took = time.monotonic() - clock0
    if status.lower() != "succeeded":
        detail = _execution_detail(ex)
        b.postdeploy_detail = {"job": job, "execution": execution, "status": status, **detail}
        raise Stop(f"the {what} step ended {status or 'without a status'} after {took:.0f}s"
                   + (f": {detail.get('reason')}" if detail.get("reason") else "")
                   + f" (its output: {job_log_query(execution)})",
                   service=job)
    try:
        apps.jobs.begin_delete(t.resource_group, job, polling_interval=arm.WHATIF_POLL).result()
    except HttpResponseError:
        pass  # tagged: a later rollback or down finds it
    return took


def job_log_query(execution: str) -> str:
    """Where a job execution's output is: the environment sends its logs through Azure Monitor
    diagnostic settings (``appLogsConfiguration.destination: azure-monitor``, all logs, to the
    install's workspace: installer/render/azure/compute.py), which land in the resource-specific
    table ``ContainerAppConsoleLogs`` (columns ``ContainerGroupName`` = the replica, named after
    the execution, and ``Log``; MicrosoftDocs/azure-reference-other
    azure-monitor-ref/tables/containerappconsolelogs.md). fabrix cannot read it through ARM, and
    ingestion takes minutes, so it names the query."""
    return (f"Log Analytics workspace of the install, ContainerAppConsoleLogs | where ContainerGroupName "
            f"startswith '{execution}' | project TimeGenerated, Log")


def _execution_detail(ex: Any) -> dict[str, Any]:
    if ex is None:
        return {}
    props = getattr(ex, "properties", None) or ex
    out: dict[str, Any] = {}
    for key in ("reason", "message"):
        value = getattr(props, key, None)
        if value:
            out[key] = str(value)
    detailed = getattr(props, "detailed_status", None)
    replicas = getattr(detailed, "replicas", None) or []
    codes = []
    for rep in replicas:
        for c in getattr(rep, "containers", None) or []:
            codes.append(f"{getattr(c, 'name', '')} exit {getattr(c, 'code', '?')} "
                         f"{getattr(c, 'additional_information', '') or ''}".strip())
    if codes:
        out["containers"] = "; ".join(codes)
    return out


# ---- AKS run command ----------------------------------------------------------------------------


def _manifests(b: AzureBackend) -> list[tuple[str, str]]:
    """The k8s files in apply order (namespace first), placeholders filled (no secret among them)."""
    values = {
        "${IDENTITY_CLIENT_ID}": str(b.outputs.get("identityClientId") or ""),
        "${PUBLIC_DOMAIN}": str(b.parameters.get("publicDomain", {}).get("value") or ""),
        "${AZURE_TENANT_ID}": str(b.plan.azure.tenant_id or getattr(b.session.principal, "tenant_id", "")),
        "${AZURE_SUBSCRIPTION_ID}": str(b.plan.azure.subscription_id or ""),
    }
    import os

    values["${PUBLIC_DOMAIN}"] = values["${PUBLIC_DOMAIN}"] or os.environ.get("PUBLIC_DOMAIN", "")
    files = sorted(p for p in b.bundle.files if p.startswith("k8s/") and p.endswith(".yaml"))
    files.sort(key=lambda p: (p != "k8s/namespace.yaml", p))
    out = []
    for path in files:
        text = _text(b.bundle, path) or ""
        for k, v in values.items():
            text = text.replace(k, v)
        out.append((path.split("/", 1)[1], text))
    return out


def _db_job(namespace: str, service_account: str, client_id: str, script: str, outputs: dict[str, Any]) -> str:
    from installer.launch.azure.k8s_job import workload_job

    env = {"AZURE_CLIENT_ID": client_id}
    for key, out in (("KEY_VAULT", "keyVaultName"), ("PGHOST", "postgresFqdn")):
        if outputs.get(out):
            env[key] = str(outputs[out])
    return workload_job(
        name="fabrix-databases", namespace=namespace, service_account=service_account, container="databases",
        image=DB_JOB_IMAGE,
        command=('command -v psql >/dev/null || tdnf install -y postgresql >/dev/null; '
                 'az login --federated-token "$(cat $AZURE_FEDERATED_TOKEN_FILE)" --service-principal '
                 '-u $AZURE_CLIENT_ID -t $AZURE_TENANT_ID --output none; bash /scripts/databases.sh'),
        env=env, files={"databases.sh": script}, mount="/scripts", deadline_seconds=JOB_TIMEOUT)


def _deployments(files: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(namespace, name) of every Deployment in the manifests."""
    out = []
    for _, text in files:
        for doc in yamlread.safe_load_all(text):
            if isinstance(doc, dict) and doc.get("kind") == "Deployment":
                meta = doc.get("metadata") or {}
                out.append((str(meta.get("namespace") or ""), str(meta.get("name"))))
    return out


def _aks(b: AzureBackend, t: Target, ids: list[str], script: str | None) -> None:
    import re

    r = b.r
    cluster_id = _resource(ids, "Microsoft.ContainerService/managedClusters")
    cluster = str(b.outputs.get("aksClusterName") or (cluster_id.rsplit("/", 1)[-1] if cluster_id else ""))
    if not cluster:
        raise Stop("the stack has no AKS cluster to apply the manifests to")
    files = _manifests(b)
    namespace = ""
    service_account = ""
    for _, text in files:
        namespace = namespace or (re.search(r"namespace: (\S+)", text) or [None, ""])[1]
        service_account = service_account or (re.search(r"serviceAccountName: (\S+)", text) or [None, ""])[1]
    if script:
        files.append(("zz-databases-job.yaml", _db_job(namespace, service_account,
                                                        str(b.outputs.get("identityClientId") or ""), script, b.outputs)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files:
            zf.writestr(name, text)
    # One &&-chain of kubectl calls: the command pod offers kubectl, helm, jq, xargs, grep and awk
    # (access-private-cluster.md), so no shell loop is assumed; every Deployment is named.
    steps = [f"kubectl apply -f {name}" for name, _ in files]  # namespace.yaml first (see _manifests)
    if script:
        steps.append(f"kubectl wait job/fabrix-databases -n {namespace} --for=condition=complete --timeout={JOB_TIMEOUT}s")
    # The dataplane cannot authenticate before its registration (step "register", which restarts
    # it and awaits its rollout): the vendor's order is register, then run it.
    registers = any(p.startswith("postdeploy/register-dataplane/") for p in b.bundle.files)
    steps += [f"kubectl rollout status deployment/{name} -n {ns or namespace} --timeout=600s"
              for ns, name in _deployments(files) if not (registers and name == "dataplane")]
    command = " && ".join(steps)
    r.journal_step("postdeploy", Phase.begin, cluster=cluster, files=[n for n, _ in files])
    r.emit("postdeploy", State.running, f"applying {len(files)} manifest file(s) to {cluster} through the AKS run command",
           service=cluster)
    clock0 = time.monotonic()
    props = run_command(t, cluster, command, base64.b64encode(buf.getvalue()).decode())
    state = str(_get(props, "provisioning_state") or "")
    exit_code = getattr(props, "exit_code", None)
    logs = str(getattr(props, "logs", "") or "")
    took = time.monotonic() - clock0
    for line in logs.splitlines()[-20:]:
        r.emit("postdeploy", State.log, line, service=cluster)
    if state.lower() != "succeeded" or (exit_code not in (0, None)):
        b.postdeploy_detail = {"cluster": cluster, "state": state, "exit_code": exit_code,
                               "reason": str(getattr(props, "reason", "") or ""), "logs": logs[-1500:]}
        raise Stop(f"applying the manifests on {cluster} ended {state or '?'} with exit code {exit_code}"
                   + (f": {b.postdeploy_detail['reason']}" if b.postdeploy_detail["reason"] else ""), service=cluster)
    r.emit("postdeploy", State.done, f"manifests applied, database Job complete and rollouts finished in {took:.0f}s",
           service=cluster)


def run_command(t: Target, cluster: str, command: str, context: str | None) -> Any:
    """Run ``command`` on ``cluster`` through the AKS run-command API (a private cluster needs no
    kubeconfig and no path into its network), with ``context`` (a base64 zip of files) beside it;
    the command result's properties. A refused call is a Stop naming ARM's code and message."""
    aks = t.clients.container_service(t.subscription_id)
    payload: dict[str, Any] = {"command": command}
    if context:
        payload["context"] = context
    try:
        result = aks.managed_clusters.begin_run_command(t.resource_group, cluster, payload,
                                                        polling_interval=max(0.05, _poll())).result()
    except HttpResponseError as exc:
        code, message = arm.arm_error(exc)
        raise Stop(f"the AKS run command failed: {code}: {message}", service=cluster) from exc
    return getattr(result, "properties", None) or result


def _poll() -> float:
    from installer.launch.azure.backend import poll_seconds

    return poll_seconds()
