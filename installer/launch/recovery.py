"""Undo and inspect: rollback from the journal, ``down``, ``status``, unfinished runs.

Rollback replays what the journal says a run did and undoes only that: if the run reached
``up``, the project's containers and networks go; its volumes go only when the project did not
exist before the run (an earlier install's data survives a failed upgrade). Then it checks that
nothing it was meant to remove still carries the project label.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from installer.errors import FabrixError, OperationFailed
from installer.labels import project_name
from installer.launch import registry_auth
from installer.launch.dockercli import plain_docker_cmd
from installer.launch.journal import (
    OUTCOME_OK,
    OUTCOME_ROLLBACK_INCOMPLETE,
    OUTCOME_ROLLED_BACK,
    Journal,
    Phase,
    first_data,
    run_backend,
    step_state,
)
from installer.launch.lock import install_lock
from installer.launch.model import RollbackResult, RunInfo, ServiceStatus
from installer.launch.status import project_status
from installer.launch.teardown import remove_project
from installer.progress import Clock, ProgressEvent, Reporter, State
from installer.state import InstallDir, existing_install, install_dir


def _docker(name: str) -> list[str]:
    del name  # by project label only: no compose file, no client configuration needed
    return plain_docker_cmd()


def unfinished_run(name: str) -> RunInfo | None:
    """The launch of ``name`` that began but never ended (killed installer), if any."""
    folder = install_dir(name)
    if not folder.exists():
        return None
    journal = Journal(folder.journal)
    run_id = journal.unfinished()
    if run_id is None:
        return None
    records = journal.run_records(run_id)
    acting = [r for r in records if r.step != "run"] or records
    last = acting[-1]
    return RunInfo(
        name=name,
        run_id=run_id,
        started_at=records[0].ts if records else "",
        last_step=last.step,
        last_phase=last.phase.value,
        project_existed=bool(first_data(records, "preflight", "project_existed", True)),
    )


def rollback(name: str, reporter: Reporter, cancel: threading.Event | None = None) -> RollbackResult:
    """Undo the unfinished run of ``name`` (``fabrix rollback``). Nothing to undo → a result
    whose ``run_id`` is None. ``cancel`` is accepted for symmetry but a rollback, once started,
    runs to the end: stopping half-way would leave exactly the mess it exists to clean."""
    del cancel
    folder = existing_install(name)
    with install_lock(folder.root, name, "rollback"):
        journal = Journal(folder.journal)
        run_id = journal.unfinished()
        if run_id is None:
            return RollbackResult(name=name, run_id=None, message=f"{name} has no unfinished launch to roll back.")
        if run_backend(journal.run_records(run_id)) == "azure":
            from installer.answers import load_answers
            from installer.launch.azure.teardown import rollback_run as azure_rollback_run

            return azure_rollback_run(load_answers(folder.answers), journal, run_id, reporter)
        return rollback_run(name, journal, run_id, reporter)


def rollback_run(name: str, journal: Journal, run_id: str, reporter: Reporter) -> RollbackResult:
    """Undo what run ``run_id`` did, as its journal records it (the lock is already held)."""
    clock = Clock()
    records = journal.run_records(run_id)
    steps = step_state(records)
    project = project_name(name)
    journal.append(run_id, "rollback", Phase.begin)
    reporter(ProgressEvent(step="rollback", state=State.rolling_back, message=f"rolling back run {run_id}",
                           elapsed=clock.elapsed()))
    removed, leftovers, volumes = "nothing", "", False
    stop_orphaned_compose(records)
    registry_auth.remove(install_dir(name).root)  # a login that a killed pull left behind
    restored = False
    try:
        if "up" in steps:
            existed = bool(first_data(records, "preflight", "project_existed", True))
            volumes = not existed
            if existed and first_data(records, "preflight", "previous_running") is True:
                # A failed update of a running install: bring the previous version back rather
                # than leave the platform offline (its data volumes were never touched).
                restored = restore_previous(name, str(first_data(records, "preflight", "previous_label", "") or ""),
                                            reporter, clock)
            if restored:
                removed = "this run's changes (the previous version runs again)"
            else:
                services = first_data(records, "validate", "services", []) or []
                services = [s for s in services if isinstance(s, str)] if isinstance(services, list) else []
                removed_text, left = remove_project(_docker(name), project, volumes, reporter, clock, "rollback",
                                                    services)
                removed = removed_text
                leftovers = "" if left.empty() else left.describe()
    except FabrixError as exc:  # could not remove, or not ours to remove (Refused)
        leftovers = exc.message
    outcome = OUTCOME_ROLLBACK_INCOMPLETE if leftovers else OUTCOME_ROLLED_BACK
    journal.append(run_id, "rollback", Phase.failed if leftovers else Phase.end,
                   removed=removed, volumes_removed=volumes, leftovers=leftovers)
    if not leftovers:
        journal.append(run_id, "run", Phase.end, outcome=outcome)
    if "up" not in steps:
        message = "Nothing had been started yet, so there was nothing to remove."
    elif leftovers:
        message = f"Rollback is incomplete; still there: {leftovers}. Run `fabrix rollback --name {name}` again."
    elif restored:
        message = "Rolled back: the previous version is running again, with its data."
    else:
        kept = ("" if volumes else " The data volumes of the earlier install were kept.")
        message = f"Rolled back: removed {removed}.{kept}"
    reporter(ProgressEvent(step="rollback", state=State.failed if leftovers else State.rolled_back,
                           message=message, elapsed=clock.elapsed()))
    return RollbackResult(name=name, run_id=run_id, removed=removed, volumes_removed=volumes,
                          leftovers=leftovers, message=message)


PREVIOUS_BUNDLE = "bundle.previous"
RESTORE_TIMEOUT = 300  # seconds the previous version may take to be healthy again


def keep_previous_bundle(folder: InstallDir, journal: Journal, run_id: str) -> None:
    """Before a new render replaces the bundle: if the last launch that ended succeeded, its
    bundle is what runs now, so keep a copy a failed update can restore (``restore_previous``).
    After a failed (rolled back) update the copy from before it is kept as it is."""
    last = None
    for rec in journal.records():
        if rec.step == "run" and rec.phase is not Phase.begin and rec.run != run_id:
            last = rec.data.get("outcome")
    if last != OUTCOME_OK or not (folder.bundle / "compose.yaml").is_file():
        return
    import shutil
    import tempfile

    target = folder.root / PREVIOUS_BUNDLE
    staging = Path(tempfile.mkdtemp(dir=folder.root, prefix=".bundle.previous."))
    try:
        shutil.copytree(folder.bundle, staging / "b", symlinks=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / "b", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def restore_previous(name: str, label: str, reporter: Reporter, clock: Clock) -> bool:
    """``compose up`` the kept previous bundle (same project, same volumes, the running stack's
    run label): Compose converges the project back to it. True when it is healthy again."""
    from installer.launch.dockercli import last_line, project_objects, refuse_foreign, run

    folder = install_dir(name)
    previous = folder.root / PREVIOUS_BUNDLE
    if not label or not (previous / "compose.yaml").is_file():
        return False
    project = project_name(name)
    refuse_foreign(project_objects(_docker(name), project), project, "restore")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k != "DOCKER_CONFIG"}
    env_file = previous / ".env"
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8", errors="replace").splitlines():
            if "=" in line and not line.startswith("#"):
                env.pop(line.split("=", 1)[0].strip(), None)  # the file's values, not the shell's
    env["FABRIX_RUN_ID"] = label
    reporter(ProgressEvent(step="rollback", state=State.rolling_back, elapsed=clock.elapsed(),
                           message="restoring the previous version (its containers, on the same data)"))
    cmd = _docker(name) + ["compose", "--project-name", project, "--project-directory", str(previous),
                           "-f", str(previous / "compose.yaml")]
    if env_file.is_file():
        cmd += ["--env-file", str(env_file)]
    cmd += ["up", "--detach", "--wait", "--wait-timeout", str(RESTORE_TIMEOUT), "--remove-orphans", "--pull", "never"]
    res = run(cmd, env=env, cwd=previous, timeout=RESTORE_TIMEOUT + 60)
    if res.rc != 0:
        reporter(ProgressEvent(step="rollback", state=State.warning, elapsed=clock.elapsed(),
                               message=f"the previous version did not come back: {last_line(res.stderr)[:300]}; "
                                       "removing this run's containers instead (data kept)"))
        return False
    reporter(ProgressEvent(step="rollback", state=State.done, elapsed=clock.elapsed(),
                           message="the previous version is running again"))
    return True


def down(name: str, volumes: bool, reporter: Reporter) -> None:
    """Stop and remove the install's containers and networks (and its volumes with ``volumes``).

    Raises ``OperationFailed`` if something with the install's project label is still there."""
    folder = existing_install(name)
    with install_lock(folder.root, name, "down"):
        clock = Clock()
        journal = Journal(folder.journal)
        ref = f"down-{clock_stamp()}"
        journal.append(ref, "down", Phase.begin, volumes=volumes)
        reporter(ProgressEvent(step="down", state=State.running,
                               message=f"removing {name}" + (" and its data" if volumes else ""), elapsed=0.0))
        removed, left = remove_project(_docker(name), project_name(name), volumes, reporter, clock, "down")
        registry_auth.remove(folder.root)
        if not left.empty():
            journal.append(ref, "down", Phase.failed, leftovers=left.describe())
            raise OperationFailed(f"{name}: still there after down: {left.describe()}",
                                  f"remove them by hand: docker compose -p {project_name(name)} down")
        journal.append(ref, "down", Phase.end, removed=removed)
        kept = "" if volumes else " (data volumes kept; `--volumes` deletes them)"
        reporter(ProgressEvent(step="down", state=State.done, message=f"removed {removed}{kept}",
                               elapsed=clock.elapsed()))


def status(name: str) -> list[ServiceStatus]:
    """Per-service state and health of ``name`` (empty when nothing is running)."""
    from installer.secrets import SecretStore  # (pulls in the catalog: only status needs it)

    folder = existing_install(name)
    secrets = SecretStore(folder.secrets).values().values() if os.path.lexists(folder.secrets) else []
    return project_status(_docker(name), project_name(name), secrets, strict=True)


def clock_stamp() -> str:
    from installer.launch.journal import new_run_id

    return new_run_id()


# Journaled long-running Compose processes → the sub-command their command line must still show.
_PROCESS_STEPS = {"up-process": b"up", "pull-process": b"pull"}


def stop_orphaned_compose(records: list) -> None:
    """Kill the ``docker compose up`` or ``pull`` a killed launcher left running (pid journaled).

    Compose runs in its own process group (pgid == pid), so a ``kill -9`` of fabrix leaves it
    converging the stack behind our back; rollback or resume must stop it first. Only a process
    that still looks like ``docker compose … up`` is touched (pids get reused)."""
    import os
    import signal
    import time

    for rec in records:
        if rec.step not in _PROCESS_STEPS or "pid" not in rec.data:
            continue
        try:
            pid = int(rec.data["pid"])
        except (TypeError, ValueError, OverflowError):
            continue  # a damaged record: nothing we can safely signal
        if pid <= 1:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone (or not Linux: nothing we can verify, leave it)
        if b"compose" not in cmdline or _PROCESS_STEPS[rec.step] not in cmdline:
            continue
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                break
            time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return True
