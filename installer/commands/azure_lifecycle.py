"""``fabrix up / status / down`` for Azure installs (the Compose ones live in ``lifecycle``).

``up --preview`` prints ARM's what-if (counts, then every modify/delete) and stops; ``up`` asks,
then deploys with one line per resource state change (JSON Lines with ``--json``). A change to a
resource the install does not own needs ``--allow-foreign-changes``: ``--yes`` only answers
"launch?". ``manual`` is a runbook: ``up`` says so and exits 2 (usage: nothing to launch).
"""

from __future__ import annotations

import argparse
import threading

from installer.errors import Cancelled, FabrixError
from installer.output import Output
from installer.plan import DeploymentModel, InstallPlan
from installer.state import resume_command


def azure_plan_of(name: str) -> InstallPlan | None:
    """The install's saved plan when it targets Azure (None for Compose or an unknown install)."""
    try:
        from installer.launch.azure.teardown import plan_of

        return plan_of(name)
    except FabrixError:
        return None


def up_azure(args: argparse.Namespace, out: Output, plan: InstallPlan) -> int:
    from installer import launch as engine
    from installer.commands.lifecycle import _cancel_on_signals, _report_launch, keep_event, open_run_or_refuse
    from installer.launch.dispatch import manual_is_a_runbook

    if plan.model is DeploymentModel.manual:
        raise manual_is_a_runbook(plan)
    if getattr(args, "preview", False):
        from installer.launch.azure.backend import preview

        result = preview(plan, out.event)
        out.result({"name": plan.name, "preview": result.to_json()},
                   f"Preview of {plan.name}: {result.headline()}."
                   + (f" {len(result.foreign)} change(s) touch resources this install does not own: "
                      "the launch needs --allow-foreign-changes for them." if result.foreign else "")
                   + " Nothing was changed.")
        return 0
    open_run = open_run_or_refuse(args, plan.name)
    verb = "Resume the deployment of" if open_run else "Deploy"
    where = f"{plan.model.value}" + (f"/{plan.target.value}" if plan.model is DeploymentModel.container else "")
    if not out.confirm(f"{verb} {plan.name!r} ({where}, tier {plan.tier.value}) to Azure subscription "
                       f"{plan.azure.subscription_id} in {plan.azure.location}?"):
        raise Cancelled("nothing was changed", None)
    cancel = threading.Event()
    keep = keep_event(args)
    with _cancel_on_signals(cancel, out):
        result = engine.launch(plan, out.event, cancel=cancel, resume=args.resume, keep=keep,
                               allow_foreign=bool(getattr(args, "allow_foreign_changes", False)))
    _report_launch(result, out)
    return result.exit_code


def status_azure(args: argparse.Namespace, out: Output, plan: InstallPlan) -> int:
    from installer import launch as engine
    from installer.launch.azure.teardown import status

    open_run = engine.unfinished_run(args.name)
    now = status(plan)
    if out.json_mode:
        out.emit_json({"type": "result", "name": args.name, "azure": now,
                       "unfinished_run": open_run.to_json() if open_run else None})
        return 0
    if open_run:
        out.err_console.print(
            f"[yellow]⚠ unfinished launch:[/] {open_run.describe()}\n"
            f"  undo it: `fabrix rollback --name {args.name}`; continue it: `{resume_command(args.name)}`",
            markup=True, highlight=False)
    for vault in now.get("key_vaults_left", []):
        out.info(f"{args.name}: Key Vault {vault['name']} (removed by run {vault['run']}) is soft-deleted with purge "
                 f"protection until {vault['scheduled_purge_date'] or 'its scheduled purge date'}; this install now "
                 "uses another vault name")
    if now.get("stack_state") is None:
        out.info(f"{args.name}: no deployment stack {now['stack']} in {now['resource_group']} (not deployed).")
        return 0
    line = (f"{args.name}: stack {now['stack']} in {now['resource_group']} is {now['stack_state']} "
            f"({now.get('resources', 0)} resources)")
    if now.get("deployment"):
        line += f"; deployment {now['deployment']} is {now.get('deployment_state') or 'unknown'}"
    if now.get("error"):
        line += f"; error: {now['error']}"
    out.info(line)
    return 0


def down_azure(args: argparse.Namespace, out: Output, plan: InstallPlan) -> int:
    from installer.launch.azure.teardown import down, what_down_deletes
    from installer.launch.lock import install_lock
    from installer.state import existing_install

    folder = existing_install(args.name)
    with install_lock(folder.root, args.name, "down"):
        t, ids, group_too = what_down_deletes(plan)
        listing = "\n".join(f"  - {rid.rsplit('/providers/', 1)[-1]}" for rid in ids) or "  (no managed resources)"
        if not out.json_mode:
            out.info(f"`fabrix down` deletes the deployment stack {t.stack} and the {len(ids)} resource(s) it manages:\n"
                     f"{listing}" + (f"\nand the resource group {t.resource_group} (fabrix created it)." if group_too
                                     else f"\nResources in {t.resource_group} that the stack does not manage are kept."))
        if not out.confirm(f"Delete {args.name!r} from Azure ({len(ids)} resources{', and its resource group' if group_too else ''})?"):
            raise Cancelled("nothing was changed", None)
        removed = down(plan, out.event)
    out.result({"name": args.name, "removed": removed, "ok": True}, f"{args.name} is removed from Azure: {removed}.")
    return 0
