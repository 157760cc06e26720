"""Post-deploy operations of the fake ARM: Container Apps jobs, revision restart, AKS run command,
Key Vault purge.

Plugged into the deploy plane (``arm.deploy.jobs``, ``arm.deploy.aks``, ``arm.deploy.vaults``);
simulated time as there. Shapes (azure-rest-api-specs paths):
- jobs: ``specification/app/resource-manager/Microsoft.App/ContainerApps/stable/2026-07-01/examples/
  Job_Executions_Get.json`` (execution list), ``Job_Start`` per notes/azure-launch.md §4 (202 +
  Location with ``{id, name}``; the Location answers 200 ``JobExecutionBase``), execution
  ``properties{status Running|Succeeded|Failed, startTime, endTime, template}``. There is no stable
  ARM API for job logs (notes §4), so the fake keeps each execution's output for tests only
  (``arm.deploy.jobs.logs(job, execution)``).
- run command: ``specification/containerservice/resource-manager/Microsoft.ContainerService/aks/
  examples/2026-08-01/RunCommandRequest.json`` (202 + ``location: .../commandResults/{id}``) and
  ``RunCommandResultFailed.json`` (200 ``{id, properties{provisioningState "failed", reason}}``);
  success ``{exitCode, startedAt, finishedAt, logs, provisioningState "succeeded"}``. Tools in the
  command pod: kubectl, helm, jq, xargs, grep, awk (MicrosoftDocs/azure-aks-docs
  ``articles/aks/access-private-cluster.md``): anything else exits 127 like a shell would.
  ``kubectl apply -f F`` needs F inside the base64 zip ``context``; ``rollout status`` / ``wait``
  need what was applied before — kubectl's own messages.
- deleted vaults: ``GET .../locations/{loc}/deletedVaults/{name}``, ``GET .../deletedVaults``,
  ``POST .../deletedVaults/{name}/purge`` (202 + Location) per notes §6; purge protection refuses
  the purge until the retention ends (the 409 code is unverified); a new vault with a soft-deleted
  vault's name fails with the ``ConflictError`` Azure gives ("A vault with the same name already
  exists in deleted state ...", MicrosoftDocs/azure-security-docs key-vault soft-delete docs).
"""

from __future__ import annotations

import base64
import io
import re
import shlex
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from tests.azure.fake_arm_state import ArmRuleError, Reply, Resource, iso

if TYPE_CHECKING:
    from tests.azure.fake_arm_deploy import DeployPlane

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = rf"{SUB}/resourcegroups/(?P<rg>[^/]+)"


# ---------------------------------------------------------------------------------------------
# Container Apps jobs
# ---------------------------------------------------------------------------------------------


@dataclass
class JobScript:
    """How the next executions of a job end (the fake cannot run the image)."""

    duration: float = 30.0
    exit_code: int = 0
    logs: str = ""


@dataclass
class Execution:
    name: str
    job_id: str
    start: float
    end: float
    exit_code: int
    logs: str
    template: dict[str, Any]
    stopped_at: float | None = None


class JobsPlane:
    def __init__(self, plane: DeployPlane) -> None:
        self.plane = plane
        self.scripts: dict[str, list[JobScript]] = {}
        self.default = JobScript()
        self.executions: dict[str, list[Execution]] = {}  # job id (lower) -> executions
        job = rf"{RG}/providers/Microsoft\.App/jobs/(?P<job>[^/]+)"
        plane.add_route("PUT", job, self.put)
        plane.add_route("POST", rf"{job}/start", self.start)
        plane.add_route("GET", rf"{job}/executions", self.list)
        plane.add_route("GET", rf"{job}/executions/(?P<execution>[^/]+)", self.get_execution)
        plane.add_route("POST", rf"{job}/executions/(?P<execution>[^/]+)/stop", self.stop)

    # test API
    def script(self, job: str, *runs: JobScript) -> None:
        """The next executions of ``job`` end as ``runs`` say, in order (then as ``default``)."""
        self.scripts.setdefault(job.lower(), []).extend(runs)

    def logs(self, job: str, execution: str) -> str:
        for runs in self.executions.values():
            for e in runs:
                if e.name == execution and e.job_id.lower().endswith(f"/jobs/{job.lower()}"):
                    return e.logs
        raise KeyError(execution)

    def _job(self, sub: str, rg: str, job: str) -> Resource:
        self.plane._group(rg)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/jobs/{job}"
        res = self.plane.resources.get(rid.lower())
        if res is None:
            raise ArmRuleError(404, "ResourceNotFound", f"The Resource 'Microsoft.App/jobs/{job}' under resource group '{rg}' was not found.")
        return res

    def put(self, sub: str, rg: str, job: str, query: Any, body: Any) -> Reply:
        g = self.plane._group(rg)
        body = body or {}
        if not re.fullmatch(r"[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]", job):
            raise ArmRuleError(400, "ContainerAppJobInvalidName", f"Invalid ContainerApp Job name '{job}'. A name must consist of lower case alphanumeric characters or '-', start with a letter, end with an alphanumeric character, cannot have '--', and must be less than 32 characters.")
        props = body.get("properties") or {}
        cfg = props.get("configuration") or {}
        if not props.get("environmentId"):
            raise ArmRuleError(400, "InvalidRequestContent", "properties.environmentId is required.")
        if props["environmentId"].lower() not in self.plane.resources:
            raise ArmRuleError(404, "ManagedEnvironmentNotFound", f"The environment '{props['environmentId']}' was not found.")
        if cfg.get("triggerType") not in ("Manual", "Schedule", "Event") or not cfg.get("replicaTimeout"):
            raise ArmRuleError(400, "InvalidRequestContent", "properties.configuration.triggerType (Manual|Schedule|Event) and replicaTimeout are required.")
        containers = ((props.get("template") or {}).get("containers")) or []
        if not containers or not all(c.get("image") and c.get("name") for c in containers):
            raise ArmRuleError(400, "InvalidRequestContent", "properties.template.containers needs at least one container with a name and an image.")
        secrets = {s.get("name") for s in cfg.get("secrets") or []}
        for c in containers:
            for env in c.get("env") or []:
                if env.get("secretRef") and env["secretRef"] not in secrets:
                    raise ArmRuleError(400, "ContainerAppSecretRefNotFound", f"Container '{c['name']}': environment variable '{env.get('name')}' references secret '{env['secretRef']}', which is not defined in configuration.secrets.")
        rid = f"/subscriptions/{sub}/resourceGroups/{g.name}/providers/Microsoft.App/jobs/{job}"
        existed = rid.lower() in self.plane.resources
        res = Resource(rid, job, "Microsoft.App/jobs", body.get("location") or g.location, dict(body.get("tags") or {}), {**props, "provisioningState": "Succeeded"}, identity=body.get("identity"))
        self.plane.resources[rid.lower()] = res
        self.plane._sync_resources()
        return (200 if existed else 201), {}, res.json()

    def _exec_json(self, e: Execution) -> dict[str, Any]:
        now = self.plane.clock.now()
        end = e.stopped_at if e.stopped_at is not None else e.end
        if now < end:
            status = "Running"
        elif e.stopped_at is not None:
            status = "Stopped"
        else:
            status = "Succeeded" if e.exit_code == 0 else "Failed"
        props: dict[str, Any] = {"status": status, "startTime": iso(e.start), "template": e.template}
        if now >= end:
            props["endTime"] = iso(end)
        container = (e.template.get("containers") or [{"name": "main"}])[0]["name"]
        props["detailedStatus"] = {
            "replicas": [
                {
                    "name": f"{e.name}-rep1",
                    "containers": [
                        {
                            "name": container,
                            "status": "Running" if status == "Running" else "Terminated",
                            **({"code": e.exit_code} if now >= end and e.stopped_at is None else {}),
                            **({"additionalInformation": "Error" if e.exit_code else "Completed"} if now >= end else {}),
                        }
                    ],
                }
            ]
        }
        return {"id": f"{e.job_id}/executions/{e.name}", "name": e.name, "type": "Microsoft.App/jobs/executions", "properties": props}

    def start(self, sub: str, rg: str, job: str, query: Any, body: Any) -> Reply:
        res = self._job(sub, rg, job)
        trigger = ((res.properties.get("configuration") or {}).get("triggerType")) or "Manual"
        if trigger != "Manual":
            raise ArmRuleError(400, "JobTriggerTypeNotManual", f"Job '{job}' has trigger type '{trigger}'; only Manual jobs can be started.")
        queue = self.scripts.get(job.lower()) or []
        run = queue.pop(0) if queue else self.default
        now = self.plane.clock.now()
        template = (body or {}) or {k: v for k, v in (res.properties.get("template") or {}).items() if k in ("containers", "initContainers")}
        e = Execution(f"{job}-{uuid.uuid4().hex[:7]}", res.id, now, now + run.duration, run.exit_code, run.logs, template)
        self.executions.setdefault(res.id.lower(), []).append(e)
        base = {"id": f"{res.id}/executions/{e.name}", "name": e.name}
        return 202, self.plane._location(lambda: (200, {}, base)), base

    def list(self, sub: str, rg: str, job: str, query: Any, body: Any) -> Reply:
        res = self._job(sub, rg, job)
        items = [self._exec_json(e) for e in reversed(self.executions.get(res.id.lower(), []))]
        return 200, {}, self.plane.arm.page(items, f"{res.id}/executions", query)

    def _execution(self, sub: str, rg: str, job: str, execution: str) -> Execution:
        res = self._job(sub, rg, job)
        for e in self.executions.get(res.id.lower(), []):
            if e.name.lower() == execution.lower():
                return e
        raise ArmRuleError(404, "ResourceNotFound", f"The job execution '{execution}' of job '{job}' was not found.")

    def get_execution(self, sub: str, rg: str, job: str, execution: str, query: Any, body: Any) -> Reply:
        return 200, {}, self._exec_json(self._execution(sub, rg, job, execution))

    def stop(self, sub: str, rg: str, job: str, execution: str, query: Any, body: Any) -> Reply:
        e = self._execution(sub, rg, job, execution)
        now = self.plane.clock.now()
        if now < e.end and e.stopped_at is None:
            e.stopped_at = now
        return 202, self.plane._location(lambda: (200, {}, None)), None


# ---------------------------------------------------------------------------------------------
# AKS run command
# ---------------------------------------------------------------------------------------------

POD_TOOLS = {"kubectl", "helm", "jq", "xargs", "grep", "awk"}


@dataclass
class Command:
    id: str
    cluster: str
    start: float
    end: float
    exit_code: int
    logs: str
    failed_reason: str | None = None


@dataclass
class ClusterState:
    applied: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (kind, namespace, name) -> manifest
    restarts: list[tuple[str, str, str]] = field(default_factory=list)  # kubectl rollout restart, in order


class AksPlane:
    def __init__(self, plane: DeployPlane) -> None:
        self.plane = plane
        self.duration = 5.0  # simulated seconds a command runs
        self.commands: dict[str, Command] = {}
        self.clusters: dict[str, ClusterState] = {}
        self.fail_reasons: list[str] = []
        self.job_failures: dict[str, str] = {}  # Job name -> its logs: that Job fails (fail_job)
        self.requests: list[dict[str, Any]] = []  # what was submitted (command, files), for assertions
        # Called after a command that ran (cluster resource, its state, when the command ends):
        # what the applied manifests make Azure create (the ingress's Private Link service).
        self.after_command: list[Any] = []
        mc = rf"{RG}/providers/Microsoft\.ContainerService/managedClusters/(?P<cluster>[^/]+)"
        plane.add_route("POST", rf"{mc}/runCommand", self.run)
        plane.add_route("GET", rf"{mc}/commandResults/(?P<command>[^/]+)", self.result)

    def fail_next(self, reason: str = "ImagePullBackoff") -> None:
        """The next command does not run: the command pod fails with ``reason`` (provisioningState failed)."""
        self.fail_reasons.append(reason)

    def fail_job(self, name: str, logs: str = "") -> None:
        """Every run of the Kubernetes Job ``name`` fails: ``kubectl wait --for=condition=complete``
        times out as kubectl says it, ``kubectl logs job/<name>`` prints ``logs``."""
        self.job_failures[name] = logs

    def cluster(self, rid: str) -> ClusterState:
        return self.clusters.setdefault(rid.lower(), ClusterState())

    def run(self, sub: str, rg: str, cluster: str, query: Any, body: Any) -> Reply:
        self.plane._group(rg)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{cluster}"
        res = self.plane.resources.get(rid.lower())
        if res is None:
            raise ArmRuleError(404, "ResourceNotFound", f"The Resource 'Microsoft.ContainerService/managedClusters/{cluster}' under resource group '{rg}' was not found.")
        if ((res.properties.get("apiServerAccessProfile") or {}).get("disableRunCommand")) is True:
            raise ArmRuleError(400, "RunCommandDisabled", f"Run command is disabled on managed cluster '{cluster}' (apiServerAccessProfile.disableRunCommand).")
        body = body or {}
        command = body.get("command")
        if not command:
            raise ArmRuleError(400, "InvalidParameter", "The value of parameter requestPayload.command is invalid: it is required.")
        files = _unzip(body.get("context") or "")
        self.requests.append({"command": command, "files": files})
        now = self.plane.clock.now()
        cmd_id = uuid.uuid4().hex
        if self.fail_reasons:
            c = Command(cmd_id, rid, now, now + self.duration, 0, "", self.fail_reasons.pop(0))
        else:
            code, logs = run_kubectl_like(command, files, self.cluster(rid), self.job_failures)
            c = Command(cmd_id, rid, now, now + self.duration, code, logs)
            for hook in self.after_command:
                hook(res, self.cluster(rid), c.end)
        self.commands[cmd_id] = c
        location = self.plane.url(f"{rid}/commandResults/{cmd_id}?api-version=2026-08-01")
        return 202, {"location": location, **self.plane.retry_after()}, None

    def result(self, sub: str, rg: str, cluster: str, command: str, query: Any, body: Any) -> Reply:
        c = self.commands.get(command)
        if c is None or not c.cluster.lower().endswith(f"/managedclusters/{cluster.lower()}"):
            raise ArmRuleError(404, "NotFound", f"Command result '{command}' was not found.")
        now = self.plane.clock.now()
        if now < c.end:
            return 202, {"location": self.plane.url(f"{c.cluster}/commandResults/{c.id}?api-version=2026-08-01"), **self.plane.retry_after()}, None
        if c.failed_reason:
            return 200, {}, {"id": c.id, "properties": {"provisioningState": "failed", "reason": c.failed_reason}}
        return 200, {}, {
            "id": c.id,
            "properties": {"provisioningState": "succeeded", "exitCode": c.exit_code, "startedAt": iso(c.start)[:19] + "Z", "finishedAt": iso(c.end)[:19] + "Z", "logs": c.logs},
        }


def _unzip(context: str) -> dict[str, bytes]:
    if not context:
        return {}
    try:
        data = base64.b64decode(context, validate=True)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {n: z.read(n) for n in z.namelist()}
    except (ValueError, zipfile.BadZipFile) as err:
        raise ArmRuleError(400, "InvalidParameter", f"The value of parameter requestPayload.context is invalid: a base64-encoded zip is expected ({err}).") from None


def run_kubectl_like(command: str, files: dict[str, bytes], state: ClusterState,
                     job_failures: dict[str, str] | None = None) -> tuple[int, str]:
    """What the command pod prints for the commands a launch sends: ``&&``/``;`` chains of kubectl."""
    out: list[str] = []
    for part in re.split(r"\s*(?:&&|;)\s*", command.strip()):
        if not part:
            continue
        try:
            argv = shlex.split(part)
        except ValueError as err:
            return 2, "\n".join(out + [f"sh: syntax error: {err}"])
        tool = argv[0]
        if tool not in POD_TOOLS:
            return 127, "\n".join(out + [f"sh: {tool}: not found"])
        if tool != "kubectl":
            continue
        code, text = _kubectl(argv[1:], files, state, job_failures or {})
        if text:
            out.append(text)
        if code:
            return code, "\n".join(out)
    return 0, "\n".join(out)


def _flag(argv: list[str], *names: str) -> str | None:
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                return argv[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None


def _kubectl(argv: list[str], files: dict[str, bytes], state: ClusterState, job_failures: dict[str, str]) -> tuple[int, str]:
    if not argv:
        return 1, "error: You must specify the type of resource to get."
    verb = argv[0]
    namespace = _flag(argv, "-n", "--namespace") or "default"
    if verb == "apply":
        path = _flag(argv, "-f", "--filename")
        if path is None:
            return 1, "error: must specify one of -f and -k"
        wanted = [n for n in files if n == path or n.startswith(path.rstrip("/") + "/")]
        if not wanted:
            return 1, f'error: the path "{path}" does not exist'
        lines = []
        for name in sorted(wanted):
            try:
                docs = [d for d in yaml.safe_load_all(files[name]) if d]
            except yaml.YAMLError as err:
                return 1, f"error: error parsing {name}: {err}"
            for doc in docs:
                kind, meta = doc.get("kind"), doc.get("metadata") or {}
                if not kind or not meta.get("name") or not doc.get("apiVersion"):
                    return 1, f"error: error validating \"{name}\": error validating data: [apiVersion not set, kind not set or metadata.name not set]"
                ns = meta.get("namespace") or (None if kind in ("Namespace", "ClusterRole", "ClusterRoleBinding") else namespace)
                key = (kind.lower(), ns or "", meta["name"])
                verb_done = "configured" if key in state.applied else "created"
                state.applied[key] = doc
                group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
                kind_name = kind.lower() + (f".{group}" if group and group not in ("v1",) else "")
                lines.append(f"{kind_name}/{meta['name']} {verb_done}")
        return 0, "\n".join(lines)
    if verb == "rollout" and len(argv) > 2 and argv[1] == "status":
        kind, _, name = argv[2].partition("/")
        kind = {"deploy": "deployment", "deployments": "deployment", "sts": "statefulset"}.get(kind, kind)
        if (kind, namespace, name) not in state.applied:
            return 1, f'Error from server (NotFound): {kind}s.apps "{name}" not found'
        return 0, f'{kind} "{name}" successfully rolled out'
    if verb == "rollout" and len(argv) > 2 and argv[1] == "restart":
        kind, _, name = argv[2].partition("/")
        kind = {"deploy": "deployment", "deployments": "deployment"}.get(kind, kind)
        if (kind, namespace, name) not in state.applied:
            return 1, f'Error from server (NotFound): {kind}s.apps "{name}" not found'
        state.restarts.append((kind, namespace, name))
        return 0, f"{kind}.apps/{name} restarted"
    if verb == "wait":
        target = next((a for a in argv[1:] if "/" in a and not a.startswith("-")), "")
        kind, _, name = target.partition("/")
        if (kind, namespace, name) not in state.applied:
            return 1, f'Error from server (NotFound): {kind}s.batch "{name}" not found'
        if kind == "job" and name in job_failures:
            return 1, f"error: timed out waiting for the condition on jobs/{name}"
        return 0, f"{kind}.batch/{name} condition met"
    if verb == "delete":
        target = next((a for a in argv[1:] if "/" in a and not a.startswith("-")), "")
        kind, _, name = target.partition("/")
        if state.applied.pop((kind, namespace, name), None) is not None:
            return 0, f'{kind}.batch "{name}" deleted'
        if "--ignore-not-found" in argv or "--ignore-not-found=true" in argv:
            return 0, ""
        return 1, f'Error from server (NotFound): {kind}s "{name}" not found'
    if verb == "logs":
        target = next((a for a in argv[1:] if "/" in a and not a.startswith("-")), "")
        kind, _, name = target.partition("/")
        if (kind, namespace, name) not in state.applied:
            return 1, f'error: error from server (NotFound): {kind}s.batch "{name}" not found in namespace "{namespace}"'
        return 0, job_failures.get(name, "")
    if verb in ("get", "describe", "version", "create", "annotate", "label"):
        return 0, ""
    return 1, f'error: unknown command "{verb}" for "kubectl"'


# ---------------------------------------------------------------------------------------------
# Key Vault deleted vaults
# ---------------------------------------------------------------------------------------------


class VaultsPlane:
    def __init__(self, plane: DeployPlane) -> None:
        self.plane = plane
        self.purge_duration = 10.0
        kv = rf"{SUB}/providers/Microsoft\.KeyVault"
        plane.add_route("GET", rf"{kv}/deletedVaults", self.list)
        plane.add_route("GET", rf"{kv}/locations/(?P<loc>[^/]+)/deletedVaults/(?P<name>[^/]+)", self.get)
        plane.add_route("POST", rf"{kv}/locations/(?P<loc>[^/]+)/deletedVaults/(?P<name>[^/]+)/purge", self.purge)

    def _json(self, sub: str, v: dict[str, Any]) -> dict[str, Any]:
        loc = v["location"]
        return {
            "id": f"/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{v['name']}",
            "name": v["name"],
            "type": "Microsoft.KeyVault/deletedVaults",
            "properties": {
                "vaultId": v.get("vaultId", f"/subscriptions/{sub}/resourceGroups/old/providers/Microsoft.KeyVault/vaults/{v['name']}"),
                "location": loc,
                "deletionDate": v.get("deletionDate", "2026-11-01T10:00:00Z"),
                "scheduledPurgeDate": v.get("scheduledPurgeDate", "2027-01-30T10:00:00Z"),
                "purgeProtectionEnabled": bool(v.get("purgeProtectionEnabled", False)),
                "tags": v.get("tags", {}),
            },
        }

    def _find(self, loc: str, name: str) -> dict[str, Any]:
        for v in self.plane.deleted_vaults:
            if v["name"].lower() == name.lower() and v["location"].lower() == loc.lower():
                return v
        raise ArmRuleError(404, "ResourceNotFound", f"The deleted vault '{name}' was not found in location '{loc}'.")

    def list(self, sub: str, query: Any, body: Any) -> Reply:
        return 200, {}, self.plane.arm.page([self._json(sub, v) for v in self.plane.deleted_vaults], f"/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults", query)

    def get(self, sub: str, loc: str, name: str, query: Any, body: Any) -> Reply:
        return 200, {}, self._json(sub, self._find(loc, name))

    def purge(self, sub: str, loc: str, name: str, query: Any, body: Any) -> Reply:
        v = self._find(loc, name)
        if v.get("purgeProtectionEnabled"):
            raise ArmRuleError(
                409,
                "VaultPurgeProtected",
                f"Operation 'DeletedVaultPurge' is not allowed for vault '{name}': purge protection is enabled; the vault can only be recovered until its scheduled purge date {v.get('scheduledPurgeDate', '')}.",
            )
        done = self.plane.clock.now() + self.purge_duration
        v["purging_until"] = done

        def poll() -> Reply:
            if self.plane.clock.now() < done:
                return 202, self.plane._location_again(), None
            if v in self.plane.deleted_vaults:
                self.plane.deleted_vaults.remove(v)
            return 200, {}, None

        return 202, self.plane._location(poll), None


# ---------------------------------------------------------------------------------------------
# Container App revision restart
# ---------------------------------------------------------------------------------------------


class RevisionsPlane:
    """``POST .../containerApps/{app}/revisions/{revision}/restart`` → 200 with no body
    (``specification/app/resource-manager/Microsoft.App/ContainerApps/stable/2025-07-01/examples/
    Revisions_Restart.json``). The revision must be the app's (``latestRevisionName``, which the
    fake gives every app it deploys); restarts are kept in order for assertions."""

    def __init__(self, plane: DeployPlane) -> None:
        self.plane = plane
        self.restarts: list[tuple[str, str]] = []  # (app, revision)
        app = rf"{RG}/providers/Microsoft\.App/containerApps/(?P<app>[^/]+)"
        plane.add_route("POST", rf"{app}/revisions/(?P<revision>[^/]+)/restart", self.restart)

    def restart(self, sub: str, rg: str, app: str, revision: str, query: Any, body: Any) -> Reply:
        self.plane._group(rg)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/containerApps/{app}"
        res = self.plane.resources.get(rid.lower())
        if res is None:
            raise ArmRuleError(404, "ResourceNotFound", f"The Resource 'Microsoft.App/containerApps/{app}' under resource group '{rg}' was not found.")
        if str(res.properties.get("latestRevisionName", "")).lower() != revision.lower():
            raise ArmRuleError(404, "ContainerAppRevisionNotFound", f"Revision '{revision}' of container app '{app}' was not found.")
        self.restarts.append((app, revision))
        return 200, {}, None


def attach(plane: DeployPlane) -> None:
    plane.jobs = JobsPlane(plane)  # type: ignore[attr-defined]
    plane.revisions = RevisionsPlane(plane)  # type: ignore[attr-defined]
    plane.aks = AksPlane(plane)  # type: ignore[attr-defined]
    plane.vaults = VaultsPlane(plane)  # type: ignore[attr-defined]
