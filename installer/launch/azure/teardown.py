"""Undo and inspect an Azure install: rollback from the journal, ``down``, ``status``.

Rollback reads what the run recorded and undoes only that, in this order:
1. the stack, if this run submitted it: a deployment still running is cancelled first (ARM cannot
   delete a running one), then the stack is deleted *with* its managed resources
   (``unmanageAction.Resources=delete``; without it ARM only detaches them);
2. the resource group, only if this run created it (its ``created`` record, or its run tag);
3. verification: nothing the stack managed, and nothing tagged with this run, is still there;
   resources that were in the group before the run are never touched;
4. Key Vault: the deleted vault is soft-deleted and its name reserved; it is purged when purge
   protection is off (dev, test, evaluation); a purge-protected one (prod) is recorded with its
   scheduled purge date and the install moves to its next vault name (``installer.azure.vault_names``),
   so the next install is not blocked for up to 90 days.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError

from installer.errors import OperationFailed
from installer.labels import TAG_INSTALL, TAG_RUN
from installer.launch.azure import arm
from installer.launch.azure.arm import Target
from installer.launch.azure.preview import _get
from installer.launch.journal import OUTCOME_ROLLBACK_INCOMPLETE, OUTCOME_ROLLED_BACK, Journal, Phase, first_data
from installer.launch.model import RollbackResult
from installer.plan import InstallPlan
from installer.progress import Clock, ProgressEvent, Reporter, State

TERMINAL = ("succeeded", "failed", "canceled")


def _session(plan: InstallPlan, session: Any) -> Any:
    from installer.azure import SignInOptions, sign_in

    if session is not None and session.serves(plan):
        return session
    return sign_in(SignInOptions.from_plan(plan))


def _wait_terminal(t: Target, reporter: Reporter, clock: Clock, step: str, budget: float = 1800.0) -> Any:
    """Cancel a stack's running deployment and wait until the stack is terminal."""
    import time

    from installer.launch.azure.backend import MAX_POLL, poll_seconds

    end = time.monotonic() + budget
    cancelled = False
    while True:
        stack, retry = arm.stack_get(t)
        if stack is None or arm.stack_state(stack) in TERMINAL:
            return stack
        deployment = arm.stack_deployment_name(stack)
        if deployment and not cancelled:
            reporter(ProgressEvent(step=step, state=State.rolling_back, elapsed=clock.elapsed(),
                                   message=f"cancelling the running deployment {deployment}"))
            arm.cancel_deployment(t, deployment)
            cancelled = True
        if time.monotonic() > end:
            return stack
        time.sleep(min(MAX_POLL, max(poll_seconds(), retry or 0)))


def remove_owned(t: Target, plan: InstallPlan, run_id: str | None, group_created: bool, stack_ours: bool,
                 reporter: Reporter, clock: Clock, step: str) -> tuple[str, str]:
    """Delete the stack's resources (and the group if ``group_created``); (removed, leftovers)."""
    removed: list[str] = []
    managed: list[str] = []
    stack, _ = arm.stack_get(t)
    if stack is not None and stack_ours:
        stack = _wait_terminal(t, reporter, clock, step)
    if stack is not None and stack_ours:
        managed = arm.stack_resource_ids(stack)
        reporter(ProgressEvent(step=step, state=State.rolling_back, elapsed=clock.elapsed(),
                               message=f"deleting the stack {t.stack} and the {len(managed)} resource(s) it manages"))
        try:
            arm.stack_delete(t)
        except HttpResponseError as exc:
            code, message = arm.arm_error(exc)
            return "", f"the stack {t.stack} could not be deleted: {code}: {message}"
        removed.append(f"the stack {t.stack} and {len(managed)} resource(s)")
    if group_created and arm.group_get(t) is not None:
        reporter(ProgressEvent(step=step, state=State.rolling_back, elapsed=clock.elapsed(),
                               message=f"deleting the resource group {t.resource_group} (this run created it)"))
        try:
            arm.group_delete(t)
        except HttpResponseError as exc:
            code, message = arm.arm_error(exc)
            return ", ".join(removed), f"the resource group {t.resource_group} could not be deleted: {code}: {message}"
        removed.append(f"the resource group {t.resource_group}")
    if not group_created and run_id:
        removed += _delete_run_jobs(t, run_id, reporter, clock, step)
    # Verify: nothing the stack managed and nothing tagged with this run is left.
    left: list[str] = []
    if arm.group_get(t) is not None:
        wanted = {m.lower() for m in managed}
        for res in arm.group_resources(t):
            rid = str(getattr(res, "id", "") or "")
            tags = dict(getattr(res, "tags", None) or {})
            if rid.lower() in wanted or (run_id and tags.get(TAG_RUN) == run_id):
                left.append(rid.rsplit("/providers/", 1)[-1])
    _settle_vault(t, plan, managed, run_id, reporter, clock, step)
    return ", ".join(removed) or "nothing", "; ".join(left)


def _delete_run_jobs(t: Target, run_id: str, reporter: Reporter, clock: Clock, step: str) -> list[str]:
    """The post-deploy jobs (databases, dataplane registration) are not in the stack: a job that
    failed stays for its diagnostics, tagged with its run. Delete this run's."""
    out: list[str] = []
    for res in arm.group_resources(t):
        tags = dict(getattr(res, "tags", None) or {})
        if str(getattr(res, "type", "")).lower() != "microsoft.app/jobs" or tags.get(TAG_RUN) != run_id:
            continue
        name = str(getattr(res, "name", "") or str(getattr(res, "id", "")).rsplit("/", 1)[-1])
        reporter(ProgressEvent(step=step, state=State.rolling_back, elapsed=clock.elapsed(),
                               message=f"deleting the post-deploy job {name}"))
        try:
            t.clients.container_apps(t.subscription_id).jobs.begin_delete(
                t.resource_group, name, polling_interval=arm.WHATIF_POLL).result()
            out.append(f"the job {name}")
        except HttpResponseError:
            pass  # reported below as left over
    return out


def _vault_names(plan: InstallPlan, managed: list[str]) -> list[str]:
    """The vaults the stack managed (by id: right for every naming), else the plan's vault name."""
    from installer.render.workload import azure_names

    marker = "/providers/microsoft.keyvault/vaults/"
    found = [rid.rsplit("/", 1)[-1] for rid in managed if marker in rid.lower() and "/" not in rid.lower().split(marker, 1)[1]]
    return found or [azure_names(plan).key_vault]


def _settle_vault(t: Target, plan: InstallPlan, managed: list[str], run_id: str | None,
                  reporter: Reporter, clock: Clock, step: str) -> None:
    """A removed vault is soft-deleted and keeps its name: purge it when purge protection is off;
    otherwise record it and move the install to the next vault name (``vault_names.retire``), so
    the next install's name check passes instead of waiting up to 90 days."""
    from installer.azure.vault_names import LeftVault, retire

    for name in _vault_names(plan, managed):
        deleted = arm.deleted_vault(t, name)
        if deleted is None:
            continue
        props = getattr(deleted, "properties", None)
        if not bool(getattr(props, "purge_protection_enabled", True)):
            try:
                arm.purge_vault(t, name)
                reporter(ProgressEvent(step=step, state=State.rolling_back, elapsed=clock.elapsed(),
                                       message=f"purged the soft-deleted Key Vault {name}"))
                continue
            except HttpResponseError:
                pass  # purge not allowed for this principal: the name is kept by Azure, handled below
        left = LeftVault(name=name, location=str(getattr(props, "location", "") or t.location),
                         deletion_date=_iso(getattr(props, "deletion_date", None)),
                         scheduled_purge_date=_iso(getattr(props, "scheduled_purge_date", None)),
                         run=run_id or "down")
        retire(plan.name, left)
        reporter(ProgressEvent(step=step, state=State.log, elapsed=clock.elapsed(),
                               message=f"{left.describe()}. The next install of {plan.name} {_next_names(plan)}; to keep "
                                       f"the old vault and its secrets, recover it before then "
                                       f"(`az keyvault recover --name {name} --location {left.location}`)"))


def _next_names(plan: InstallPlan) -> str:
    """What the next install of ``plan`` is named after a generation step (vault_names)."""
    from installer.plan import DeploymentModel
    from installer.render.workload import azure_names

    if plan.model is DeploymentModel.marketplace:  # every name derives from namePrefix there
        return "deploys with another namePrefix (every name changes, the vault's included)"
    return f"uses the Key Vault name {azure_names(plan).key_vault}"


def _iso(value: object) -> str:
    if value is None:
        return ""
    iso = getattr(value, "isoformat", None)
    return str(iso()) if callable(iso) else str(value)


def rollback_run(plan: InstallPlan, journal: Journal, run_id: str, reporter: Reporter, session: Any = None) -> RollbackResult:
    """Undo what Azure run ``run_id`` did, as its journal records it (the lock is already held)."""
    clock = Clock()
    records = journal.run_records(run_id)
    journal.append(run_id, "rollback", Phase.begin)
    reporter(ProgressEvent(step="rollback", state=State.rolling_back, message=f"rolling back run {run_id}",
                           elapsed=clock.elapsed()))
    touched = first_data(records, "group", "resource_group") is not None
    removed, leftovers = "nothing", ""
    if touched:
        try:
            from installer.launch.azure.backend import target_for

            s = _session(plan, session)
            t = target_for(plan, s.clients)
            created = bool(first_data(records, "group", "created", False))
            if first_data(records, "group", "created") is None:
                group = arm.group_get(t)  # killed between the PUT and its record: the tag says
                created = group is not None and dict(getattr(group, "tags", None) or {}).get(TAG_RUN) == run_id
            stack, _ = arm.stack_get(t)
            stack_ours = stack is not None and dict(getattr(stack, "tags", None) or {}).get(TAG_RUN) == run_id
            removed, leftovers = remove_owned(t, plan, run_id, created, stack_ours, reporter, clock, "rollback")
        except HttpResponseError as exc:
            code, message = arm.arm_error(exc)
            leftovers = f"ARM error during rollback: {code}: {message}"
        except OperationFailed as exc:
            leftovers = exc.message
    from installer.azure.vault_names import left_behind

    vaults = [v for v in left_behind(plan.name) if v.run == run_id]
    journal.append(run_id, "rollback", Phase.failed if leftovers else Phase.end, removed=removed, leftovers=leftovers,
                   **({"key_vaults_left": [{"name": v.name, "scheduled_purge_date": v.scheduled_purge_date}
                                           for v in vaults]} if vaults else {}))
    if not leftovers:
        journal.append(run_id, "run", Phase.end, outcome=OUTCOME_ROLLBACK_INCOMPLETE if leftovers else OUTCOME_ROLLED_BACK)
    if not touched:
        message = "Nothing had been created in Azure yet, so there was nothing to remove."
    elif leftovers:
        message = f"Rollback is incomplete; still there: {leftovers}. Run `fabrix rollback --name {plan.name}` again."
    else:
        message = f"Rolled back: removed {removed}. Resources that were in the group before were not touched."
    if vaults:
        message += " " + "; ".join(v.describe() for v in vaults) + f"; the next install {_next_names(plan)}."
    reporter(ProgressEvent(step="rollback", state=State.failed if leftovers else State.rolled_back,
                           message=message, elapsed=clock.elapsed()))
    return RollbackResult(name=plan.name, run_id=run_id, removed=removed, leftovers=leftovers, message=message)


def plan_of(name: str) -> InstallPlan | None:
    """The saved answers of an install, when it is an Azure one."""
    from installer.answers import load_answers
    from installer.state import install_dir

    path = install_dir(name).answers
    if not path.exists():
        return None
    plan = load_answers(path)
    return plan if plan.is_azure() else None


def what_down_deletes(plan: InstallPlan, session: Any = None) -> tuple[Target, list[str], bool]:
    """(target, the managed resource ids, whether the group goes too) for ``fabrix down``."""
    from installer.launch.azure.backend import target_for

    s = _session(plan, session)
    t = target_for(plan, s.clients)
    stack, _ = arm.stack_get(t)
    ids = arm.stack_resource_ids(stack) if stack is not None else []
    group = arm.group_get(t)
    tags = dict(getattr(group, "tags", None) or {}) if group is not None else {}
    return t, ids, tags.get(TAG_INSTALL) == plan.name


def down(plan: InstallPlan, reporter: Reporter, session: Any = None) -> str:
    """Delete the install's stack and what it manages, and the group if fabrix created it."""
    clock = Clock()
    t, ids, group_ours = what_down_deletes(plan, session)
    stack, _ = arm.stack_get(t)
    ours = stack is not None and dict(getattr(stack, "tags", None) or {}).get(TAG_INSTALL) == plan.name
    removed, leftovers = remove_owned(t, plan, None, group_ours, ours, reporter, clock, "down")
    if leftovers:
        raise OperationFailed(f"{plan.name}: still there after down: {leftovers}",
                              f"delete them in the portal, or re-run `fabrix down --name {plan.name}`")
    return removed


def status(plan: InstallPlan, session: Any = None) -> dict[str, Any]:
    """What ARM says now about the install's stack and its deployment."""
    from installer.launch.azure.backend import target_for

    s = _session(plan, session)
    t = target_for(plan, s.clients)
    stack, _ = arm.stack_get(t)
    out: dict[str, Any] = {"resource_group": t.resource_group, "stack": t.stack,
                           "group_exists": arm.group_get(t) is not None}
    from installer.azure.vault_names import left_behind

    left = left_behind(plan.name)
    if left:
        out["key_vaults_left"] = [{"name": v.name, "location": v.location, "deletion_date": v.deletion_date,
                                   "scheduled_purge_date": v.scheduled_purge_date, "run": v.run} for v in left]
    if stack is None:
        out["stack_state"] = None
        return out
    out["stack_state"] = arm.stack_state(stack)
    out["resources"] = len(arm.stack_resource_ids(stack))
    out["run"] = dict(getattr(stack, "tags", None) or {}).get(TAG_RUN)
    deployment = arm.stack_deployment_name(stack)
    if deployment:
        dep = arm.deployment_get(t, deployment)
        out["deployment"] = deployment
        props = getattr(dep, "properties", None)
        out["deployment_state"] = str(_get(props, "provisioning_state") or "") if props else None
    code, message = arm.stack_error(stack)
    if code:
        out["error"] = f"{code}: {message}"
    return out
