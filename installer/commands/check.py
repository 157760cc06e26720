"""``fabrix check --answers F``: run the plan's prerequisite checks concurrently and report."""

from __future__ import annotations

import argparse

from rich.table import Table

from installer.checks import CheckContext, Status, checks_for, exit_code_for, run_checks
from installer.checks.base import CheckResult, summarize
from installer.commands.common import load_plan
from installer.output import Output

_GLYPH = {Status.passed: "[green]✔ pass[/]", Status.warn: "[yellow]⚠ warn[/]",
          Status.fail: "[red]✖ fail[/]", Status.unknown: "[magenta]? unknown[/]"}


def run(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args)
    ctx = CheckContext(plan=plan)
    results: list[CheckResult] = []
    for result in run_checks(checks_for(plan), ctx):
        results.append(result)
        if out.json_mode:
            out.emit_json({"type": "check", **result.to_json()})
    results.sort(key=lambda r: r.id)
    code = exit_code_for(results)
    if out.json_mode:
        out.emit_json({"type": "result", "summary": summarize(results), "exit_code": code})
        return code
    table = Table(title=f"Prerequisites for {plan.name}", show_lines=False, expand=False)
    for column in ("check", "status", "found", "remedy"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(r.title, _GLYPH[r.status], r.found, r.remedy if r.status is not Status.passed else "")
    out.rich(table)
    counts = summarize(results)
    out.info(", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no checks apply")
    return code
