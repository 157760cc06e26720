"""Compose checks about where the stack lives and who can reach it: the data folder is usable
(``installer.datafolder``) and the bind address keeps the ports to this machine (``installer.exposure``)."""

from __future__ import annotations

from installer.checks.base import Check, CheckContext, CheckResult, Status
from installer.datafolder import data_folder, folder_problem
from installer.exposure import FIREWALL_NOTE, bind_exposure


def check_data_folder(ctx: CheckContext, check: Check) -> CheckResult:
    try:
        folder = data_folder(ctx.plan)
        problem = folder_problem(ctx.plan)
    except (OSError, ValueError) as exc:
        return CheckResult(check.id, check.title, Status.unknown, f"could not look at the data folder: {exc}",
                           "check `compose.data_dir`, then re-run `fabrix check`")
    if problem is not None:
        return CheckResult(check.id, check.title, Status.fail, problem.found, problem.fix, details={"folder": str(folder)})
    state = "exists" if folder.is_dir() else "will be created"
    return CheckResult(check.id, check.title, Status.passed, f"{folder} ({state}) is writable here", details={"folder": str(folder)})


def check_bind(ctx: CheckContext, check: Check) -> CheckResult:
    bind = ctx.plan.compose.bind_address
    exposure = bind_exposure(bind)
    if exposure is None:
        return CheckResult(check.id, check.title, Status.passed, f"{bind}: only this machine can connect",
                           details={"bind_address": bind})
    return CheckResult(check.id, check.title, Status.warn, f"{exposure} ({FIREWALL_NOTE})",
                       "set `compose.bind_address: 127.0.0.1` unless other machines must connect "
                       "(then put a TLS proxy with sign-in in front)", details={"bind_address": bind})
