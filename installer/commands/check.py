"""``fabrix check --answers F``: run the plan's prerequisite checks concurrently and report.

``--json``: one ``{"type": "check", …}`` line per check as it finishes, then
``{"type": "result", "summary": …, "exit_code": …}``. Otherwise one block per check, in a stable
order, with the remedy under anything that is not a pass (long commands stay on one line so
they can be copied), and a footer saying what the exit code means.
"""

from __future__ import annotations

import argparse

from rich.markup import escape

from installer.checks import CheckContext, Status, checks_for, exit_code_for, run_checks
from installer.checks.base import CheckResult, summarize
from installer.commands.common import load_plan
from installer.errors import EXIT_FAILED, EXIT_TOOL_MISSING, EXIT_UNVERIFIED
from installer.output import Output

_GLYPH = {Status.passed: "[green]✔ pass   [/]", Status.warn: "[yellow]⚠ warn   [/]",
          Status.fail: "[red]✖ fail   [/]", Status.unknown: "[magenta]? unknown[/]"}


def run(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args)
    ctx = CheckContext(plan=plan)
    checks = checks_for(plan)
    results: list[CheckResult] = []
    for result in run_checks(checks, ctx):
        results.append(result)
        if out.json_mode:
            out.emit_json({"type": "check", **result.to_json()})
    order = {c.id: i for i, c in enumerate(checks)}
    results.sort(key=lambda r: (order.get(r.id, len(order)), r.id))
    code = exit_code_for(results)
    if out.json_mode:
        out.emit_json({"type": "result", "summary": summarize(results), "exit_code": code})
        return code
    where = "Azure" if plan.is_azure() else "this machine"
    # The target only where the model offers a choice: a development plan has no Compose part.
    target = plan.effective_target()
    model = plan.model.value + (f"/{target.value}" if target else "")
    out.rich(f"[bold]Prerequisites for {escape(plan.name)}[/] ({escape(model)}, size {plan.size.value}) on {where}")
    blocked = group_blocked(results)
    for r in results:
        if r.details.get("blocked_by") in blocked:
            continue  # listed once, under the check that is their cause
        out.rich(f"{_GLYPH[r.status]} [bold]{escape(r.title)}[/]: {escape(r.found)}")
        if r.status is not Status.passed and r.remedy:
            out.rich(f"          [cyan]fix:[/] {escape(r.remedy)}")
        dependents = blocked.get(r.id)
        if dependents:
            out.rich(f"          [magenta]not verified until this is fixed ({len(dependents)}):[/] "
                     + escape(", ".join(d.title for d in dependents)))
    counts = summarize(results)
    tally = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no checks apply"
    out.info(f"{tally} · {_footer(code, counts)}")
    return code


def group_blocked(results: list[CheckResult]) -> dict[str, list[CheckResult]]:
    """Checks that could not run because another failed (``details["blocked_by"]``), by that
    check's id — only where the cause is itself in the report, so nothing is ever hidden."""
    present = {r.id for r in results}
    groups: dict[str, list[CheckResult]] = {}
    for r in results:
        cause = r.details.get("blocked_by")
        if cause in present and cause != r.id:
            groups.setdefault(cause, []).append(r)
    return groups


def _footer(code: int, counts: dict[str, int]) -> str:
    if code == EXIT_TOOL_MISSING:
        return ("exit 3: a required tool (Docker Engine or Compose v2) is missing or unreachable; "
                "follow its fix above, then re-run `fabrix check`")
    if code == EXIT_FAILED:
        return "exit 1: a check failed; follow the fix under each ✖, then re-run `fabrix check`"
    if code == EXIT_UNVERIFIED:
        return ("exit 4: nothing failed, but some checks could not be verified (? unknown); "
                "follow their fix, then re-run `fabrix check` — do not treat this as ready")
    if counts.get(Status.warn.value):
        return "exit 0: nothing failed; read the warnings above before `fabrix up`"
    return "exit 0: ready for `fabrix up`"
