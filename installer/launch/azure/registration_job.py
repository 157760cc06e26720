"""The dataplane registration on Azure, run inside the network after the database step.

The vendor's order (esystemsdev/aifabrix-builder ``lib/commands/up-dataplane.js``; see
``installer/launch/registration.py``): the controller is healthy → the dataplane is registered (or
its secret rotated) → its client id/secret are kept → the dataplane runs with them. On Azure the
controller has internal ingress and Key Vault a private endpoint, so fabrix cannot make these calls
from here. Instead:

1. the bundle's ``postdeploy/register-dataplane/`` (installer/render/registration.py) runs as a job
   in the network, as the install's managed identity: it reads the controller's client secret from
   Key Vault, calls the controller's internal URL, and writes the issued credentials to the Key
   Vault secrets the dataplane reads as Key Vault references (``dataplane-client-id``,
   ``dataplane-client-secret``; the identity may write those two and no other, see
   ``installer/render/azure/data.py`` registration_writer);
   - ACA (and Marketplace, development, multi-cloud): a Container Apps job (``fx-reg-<name>``);
   - AKS: a Kubernetes Job applied through the AKS run command, like the database Job;
2. the dataplane restarts so it reads the new values: on ACA fabrix restarts its active revision
   through ARM (``containerApps/{app}/revisions/{rev}/restart``); on AKS ``kubectl rollout restart``
   in the same run command. The dataplane was deployed with fabrix's generated placeholders and
   cannot authenticate to the controller before this step.

A re-run (``fabrix up`` again, ``--resume``) runs the job again: the controller already knows the
dataplane, so its secret is rotated, as the vendor's CLI does. A failed job stops the launch
(diagnostics: the execution's status and exit code, or the Job's logs on AKS) and the runner rolls
back. Not verified against real Azure (this machine reaches only the fake ARM): that the job image
(``postdeploy.DB_JOB_IMAGE``) offers ``python3`` (the wrapper installs it with tdnf otherwise).
"""

from __future__ import annotations

import base64
import io
import time
import zipfile
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import HttpResponseError

from installer.launch.azure import arm
from installer.launch.azure.arm import Target
from installer.launch.azure.postdeploy import DB_JOB_IMAGE, JOB_TIMEOUT, run_aca_job, run_command
from installer.launch.journal import Phase
from installer.launch.runner import Stop
from installer.progress import State
from installer.render.registration import DATAPLANE, REGISTRATION_DIR

if TYPE_CHECKING:
    from installer.launch.azure.backend import AzureBackend

STEP = "register"
K8S_NAME = "fabrix-register-dataplane"
PYZ = "register-dataplane.pyz"
_WRAPPER = (
    'set -euo pipefail; command -v python3 >/dev/null || tdnf install -y python3 >/dev/null; '
    f'printf %s "$FABRIX_SCRIPT_B64" | base64 -d > /tmp/{PYZ}; python3 /tmp/{PYZ}'
)


def program(bundle: Any) -> bytes | None:
    """The bundle's registration program as one zip Python runs directly (``python3 x.pyz`` runs
    its ``__main__.py``); None when the bundle has none. Deterministic (fixed timestamps)."""
    prefix = REGISTRATION_DIR + "/"
    files = sorted(p for p in bundle.files if p.startswith(prefix))
    if not files:
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            raw = bundle.files[path]
            info = zipfile.ZipInfo(path[len(prefix):], date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, raw if isinstance(raw, bytes) else str(raw).encode())
    return buf.getvalue()


def run(b: AzureBackend, t: Target) -> None:
    from installer.azure.requirements import compute_target

    r = b.r
    pyz = program(b.bundle)
    if pyz is None:
        r.emit(STEP, State.skipped, "no dataplane runs in Azure here: nothing to register")
        return
    ids = arm.stack_resource_ids(b.stack) + [row.resource_id for row in b.tracker.rows.values() if row.resource_id]
    if compute_target(b.plan) == "aks":
        r.journal_step(STEP, Phase.begin, kind="aks-job", app=DATAPLANE)
        _aks(b, t, ids, pyz)
    else:
        r.journal_step(STEP, Phase.begin, kind="aca-job", app=DATAPLANE)
        _aca(b, t, ids, pyz)
    r.journal_step(STEP, Phase.end)


def _vault(b: AzureBackend) -> str:
    from installer.render.workload import azure_names

    return str(b.outputs.get("keyVaultName") or azure_names(b.plan).key_vault)


# ---- Container Apps ------------------------------------------------------------------------------


def _aca(b: AzureBackend, t: Target, ids: list[str], pyz: bytes) -> None:
    r = b.r
    env = [{"name": "FABRIX_SCRIPT_B64", "value": base64.b64encode(pyz).decode()},
           {"name": "KEY_VAULT", "value": _vault(b)}]
    if b.outputs.get("keyVaultUri"):  # the vault's own URI: right in every cloud
        env.append({"name": "KEY_VAULT_URL", "value": str(b.outputs["keyVaultUri"])})
    job = f"fx-reg-{b.plan.name}"[:31].rstrip("-")
    try:
        took = run_aca_job(b, t, ids, step=STEP, job=job, container="register-dataplane",
                           command=["/bin/bash", "-c", _WRAPPER], env=env, what="dataplane registration")
    except Stop as stop:
        meaning = exit_meaning(str(b.postdeploy_detail.get("containers", "")))
        if meaning is None or stop.cancelled:
            raise
        b.postdeploy_detail["meaning"] = meaning
        raise Stop(f"{stop.reason}; {meaning}", service=stop.service) from None
    revision = restart_app(b, t, DATAPLANE)
    r.emit(STEP, State.done, f"dataplane registered with the Miso controller in {took:.0f}s; its client id and secret "
                             f"are in Key Vault {_vault(b)}; restarted revision {revision} to read them", service=DATAPLANE)


# What the program's exit code says (installer/jobs/register_dataplane.py EXIT): the job's output is
# in Log Analytics only, its exit code in the execution's status.
_MEANING = {
    "config": "the program had no Key Vault name or URL (KEY_VAULT / the keyVaultUri output)",
    "identity": "the job's managed identity gave no token for Key Vault (identity not assigned to the job?)",
    "vault-read": "the controller's client secret could not be read from Key Vault (Key Vault Secrets User "
                  "on the vault, the private endpoint's DNS)",
    "controller": "the Miso controller was not healthy, refused its own client, or refused the registration",
    "vault-write": "the issued client id/secret could not be written to Key Vault (Key Vault Secrets Officer "
                   "on the two dataplane secrets)",
}


def exit_meaning(containers: str) -> str | None:
    """``register-dataplane exit 5 Error`` → what exit 5 means; None for a code the program does not use."""
    import re

    from installer.jobs.register_dataplane import EXIT

    found = re.search(r"exit (\d+)", containers)
    if not found:
        return None
    by_code = {code: part for part, code in EXIT.items()}
    part = by_code.get(int(found.group(1)))
    return f"exit {found.group(1)}: {_MEANING[part]}" if part else None


def restart_app(b: AzureBackend, t: Target, app: str) -> str:
    """Restart the active revision of Container App ``app``: its Key Vault references are read
    again at start (an unversioned secret URL resolves to the newest version)."""
    apps = t.clients.container_apps(t.subscription_id)
    try:
        current = apps.container_apps.get(t.resource_group, app)
        revision = str(getattr(current, "latest_ready_revision_name", None) or getattr(current, "latest_revision_name", None) or "")
        if not revision:
            raise Stop(f"the Container App {app} has no revision to restart", service=app)
        b.r.journal_step(STEP, Phase.begin, restart=revision)
        apps.container_apps_revisions.restart_revision(t.resource_group, app, revision)
    except HttpResponseError as exc:
        code, message = arm.arm_error(exc)
        raise Stop(f"the {app} app could not be restarted after its registration: {code}: {message}", service=app) from exc
    return revision


# ---- AKS -----------------------------------------------------------------------------------------


def job_manifest(namespace: str, service_account: str, pyz: bytes, vault: str, vault_url: str = "") -> str:
    """A ConfigMap with the program and a Job that runs it as the workload identity."""
    from installer.launch.azure.k8s_job import workload_job

    return workload_job(
        name=K8S_NAME, namespace=namespace, service_account=service_account, container="register-dataplane",
        image=DB_JOB_IMAGE,
        command=f"command -v python3 >/dev/null || tdnf install -y python3 >/dev/null; python3 /program/{PYZ}",
        env={"KEY_VAULT": vault, "KEY_VAULT_URL": vault_url}, files={PYZ: pyz}, mount="/program",
        deadline_seconds=JOB_TIMEOUT)


def _aks(b: AzureBackend, t: Target, ids: list[str], pyz: bytes) -> None:
    import re

    from installer.launch.azure.postdeploy import _manifests, _resource

    r = b.r
    cluster_id = _resource(ids, "Microsoft.ContainerService/managedClusters")
    cluster = str(b.outputs.get("aksClusterName") or (cluster_id.rsplit("/", 1)[-1] if cluster_id else ""))
    if not cluster:
        raise Stop("the stack has no AKS cluster to run the dataplane registration on")
    namespace = service_account = ""
    for _, text in _manifests(b):
        namespace = namespace or (re.search(r"namespace: (\S+)", text) or [None, ""])[1]
        service_account = service_account or (re.search(r"serviceAccountName: (\S+)", text) or [None, ""])[1]
    name = "zz-register-dataplane.yaml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, job_manifest(namespace, service_account, pyz, _vault(b), str(b.outputs.get("keyVaultUri") or "")))
    # A Job's template cannot change: the previous run's Job goes first (a re-run rotates the secret).
    command = " && ".join([
        f"kubectl delete job/{K8S_NAME} -n {namespace} --ignore-not-found",
        f"kubectl apply -f {name}",
        f"kubectl wait job/{K8S_NAME} -n {namespace} --for=condition=complete --timeout={JOB_TIMEOUT}s",
        f"kubectl rollout restart deployment/{DATAPLANE} -n {namespace}",
        f"kubectl rollout status deployment/{DATAPLANE} -n {namespace} --timeout=600s",
    ])
    r.journal_step(STEP, Phase.begin, cluster=cluster, job=K8S_NAME)
    r.emit(STEP, State.running, f"running the dataplane registration Job on {cluster} through the AKS run command",
           service=K8S_NAME)
    clock0 = time.monotonic()
    props = run_command(t, cluster, command, base64.b64encode(buf.getvalue()).decode())
    state = str(getattr(props, "provisioning_state", "") or "")
    exit_code = getattr(props, "exit_code", None)
    if state.lower() != "succeeded" or exit_code not in (0, None):
        logs = ""
        if state.lower() == "succeeded":  # the command ran: the Job failed; its own logs say why
            more = run_command(t, cluster, f"kubectl logs job/{K8S_NAME} -n {namespace} --tail=50", None)
            logs = str(getattr(more, "logs", "") or "")
        for line in logs.splitlines()[-20:]:
            r.emit(STEP, State.log, line, service=K8S_NAME)
        b.postdeploy_detail = {"cluster": cluster, "job": K8S_NAME, "state": state, "exit_code": exit_code,
                               "reason": str(getattr(props, "reason", "") or ""),
                               "logs": (logs or str(getattr(props, "logs", "") or ""))[-1500:]}
        raise Stop(f"the dataplane registration Job on {cluster} failed (run command {state or '?'}, exit code {exit_code})"
                   + (f": {b.postdeploy_detail['reason']}" if b.postdeploy_detail["reason"] else ""), service=K8S_NAME)
    r.emit(STEP, State.done, f"dataplane registered with the Miso controller in {time.monotonic() - clock0:.0f}s; its "
                             f"client id and secret are in Key Vault {_vault(b)}; deployment/{DATAPLANE} restarted",
           service=DATAPLANE)
