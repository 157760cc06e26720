"""``fabrix up / status / down / rollback``: the headless face of ``installer.launch``.

On a TTY ``up`` shows one live table row per service (state, health, elapsed) instead of a scroll
of raw lines; ``--json`` prints one JSON object per event. Ctrl-C and SIGTERM both cancel: the
launch stops Compose, collects diagnostics and rolls back, then we exit 130.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from installer import launch as engine
from installer.errors import Cancelled, OperationFailed, UsageError
from installer.output import Output
from installer.progress import ProgressEvent, State
from installer.state import existing_install, resume_command

_STYLE = {
    State.pending: "dim", State.pulling: "cyan", State.creating: "cyan", State.starting: "cyan",
    State.running: "cyan", State.health_starting: "yellow", State.healthy: "green", State.done: "green",
    State.unhealthy: "red", State.failed: "red", State.rolling_back: "yellow", State.rolled_back: "yellow",
    State.skipped: "dim", State.warning: "yellow",
}


# ---- up ---------------------------------------------------------------------------------------


def up(args: argparse.Namespace, out: Output) -> int:
    from installer.commands.common import load_plan

    plan = load_plan(args)
    _refuse_if_busy(plan.name)  # a launch in progress is not an "unfinished" one to roll back
    if plan.is_azure() or getattr(args, "preview", False):
        from installer.commands.azure_lifecycle import up_azure

        return up_azure(args, out, plan)
    open_run = open_run_or_refuse(args, plan.name)
    count = len(plan.enabled_components())
    verb = "Resume the launch of" if open_run else "Launch"
    if not out.confirm(f"{verb} {plan.name!r} ({count} services) with Docker Compose?"):
        raise Cancelled("nothing was changed", None)
    cancel = threading.Event()
    keep = keep_event(args)
    with _cancel_on_signals(cancel, out):
        if out.is_tty:
            with _LiveView(out) as view:
                result = engine.launch(plan, view.event, cancel=cancel, resume=args.resume,
                                       timeout=args.timeout, keep=keep)
        else:
            result = engine.launch(plan, out.event, cancel=cancel, resume=args.resume,
                                   timeout=args.timeout, keep=keep)
    _report_launch(result, out)
    return result.exit_code


def open_run_or_refuse(args: argparse.Namespace, name: str) -> Any:
    """The install's unfinished run (None if there is none); a UsageError unless ``--resume``
    asks to continue it: a new launch never starts on top of an unfinished one (any backend)."""
    open_run = engine.unfinished_run(name)
    if open_run and not args.resume:
        raise UsageError(
            f"install {name!r} has an unfinished launch: {open_run.describe()}",
            f"continue it: `{resume_command(name, args.answers)}`; or undo it: `fabrix rollback --name {name}`",
        )
    return open_run


def keep_event(args: argparse.Namespace) -> threading.Event:
    """Set when ``--keep-on-failure`` asks to keep everything for debugging instead of rolling back."""
    keep = threading.Event()
    if getattr(args, "keep_on_failure", False):
        keep.set()
    return keep


def _refuse_if_busy(name: str) -> None:
    from installer.launch.lock import busy_holder
    from installer.state import install_dir

    holder = busy_holder(install_dir(name).root)
    if holder:
        raise UsageError(
            f"install {name!r} is busy: {holder} is working on it right now",
            "wait for it to finish (or stop it with Ctrl-C in its terminal), then run this command again",
        )


def _report_launch(result: engine.LaunchResult, out: Output) -> None:
    if out.json_mode:
        out.emit_json({"type": "result", **result.to_json()})
        return
    if result.ok and result.summary:
        s = result.summary
        table = Table(title=Text(f"{s.name} is up"), show_header=True, expand=False)
        table.add_column("service")
        table.add_column("open")
        if s.front_door_urls:
            table.add_column("front door")
        for svc, url in s.urls.items():
            # Text cells: an IPv6 URL (http://[::1]:8080/) is not markup.
            table.add_row(Text(svc), Text(url), *([Text(s.front_door_urls.get(svc, ""))] if s.front_door_urls else []))
        out.rich(table)
        out.info(f"Admin user: {s.admin_user} ({s.admin_email}). Passwords: {s.secrets_file} (private, never printed).")
        out.info(f"Compose files: {s.bundle_dir}. Status: `fabrix status --name {s.name}`; "
                 f"stop: `fabrix down --name {s.name}`.")
        return
    with out._lock:
        out.err_console.print(Text(result.message, style="red" if result.failed else "yellow"))
        diag = result.diagnostics
        if diag and diag.log_lines:
            out.err_console.print(Text(f"last log lines of {diag.service}:", style="bold"))
            for line in diag.log_lines[-10:]:
                out.err_console.print(Text("  " + line, style="dim"))


class _LiveView:
    """A tidy per-service table (service, state, health, elapsed) plus the current step."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.rows: dict[str, dict[str, Any]] = {}
        self.step = "starting"
        self.step_text = ""
        self.started = time.monotonic()
        self.live = Live(self._render(), console=out.console, refresh_per_second=8, transient=False)
        self._lock = threading.Lock()

    def __enter__(self) -> _LiveView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.live.update(self._render())
        self.live.__exit__(None, None, None)

    def event(self, ev: ProgressEvent) -> None:
        with self._lock:
            if ev.service and ev.step in ("up", "pull", "probe", "rollback", "diagnostics"):
                row = self.rows.setdefault(ev.service, {"since": time.monotonic(), "state": ev.state, "health": ""})
                if ev.step == "up" or ev.state in (State.failed, State.unhealthy):
                    row["state"] = ev.state
                    # The clock of a service stops when it settles (healthy or failed).
                    settled = ev.state in (State.healthy, State.failed, State.unhealthy)
                    row["until"] = time.monotonic() if settled else None
                if ev.state in (State.health_starting, State.healthy, State.unhealthy):
                    row["health"] = ev.message
                elif ev.step == "pull" and ev.total:
                    row["health"] = f"pulling {100 * (ev.current or 0) // max(ev.total, 1)}%"
                elif ev.step == "pull":
                    row["health"] = ev.message
                elif ev.step == "rollback":
                    row["state"], row["health"] = State.rolled_back, ev.message
            else:
                self.step, self.step_text = ev.step, ev.message
                if ev.state in (State.failed, State.warning, State.rolled_back) or ev.step in ("checks",):
                    glyph, style = {State.failed: ("✖", "red"), State.warning: ("⚠", "yellow"),
                                    State.done: ("✔", "green")}.get(ev.state, ("•", "cyan"))
                    # Text, not markup: a message may contain "[" (paths, JSON, image refs).
                    self.live.console.print(Text.assemble((glyph, style), " ", (ev.step, "bold"), " ", ev.message),
                                            highlight=False)
            self.live.update(self._render())

    def _render(self) -> Group:
        table = Table(expand=False, show_edge=False, pad_edge=False)
        for col in ("service", "state", "health", "elapsed"):
            table.add_column(col)
        now = time.monotonic()
        for name in sorted(self.rows):
            row = self.rows[name]
            state: State = row["state"]
            table.add_row(Text(name), Text(state.value.replace("_", " "), style=_STYLE.get(state, "")),
                          Text(str(row["health"])[:70]), f"{(row.get('until') or now) - row['since']:5.0f}s")
        head = Text(f"{now - self.started:5.0f}s  {self.step}: {self.step_text}"[:110], style="bold")
        return Group(head, table)


@contextmanager
def _cancel_on_signals(cancel: threading.Event, out: Output) -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP set ``cancel`` (the launch rolls back and returns) instead of killing us."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        if not cancel.is_set():
            cancel.set()
            if not out.json_mode:
                try:  # after SIGHUP the terminal may be gone: the rollback matters, not this line
                    out.err_console.print(Text("cancelling: stopping Compose, then rolling back…", style="yellow"))
                except (OSError, ValueError):
                    pass

    # SIGHUP is a closed terminal: the person is gone, so cancel and roll back as for SIGTERM.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ---- status / down / rollback -----------------------------------------------------------------


def status(args: argparse.Namespace, out: Output) -> int:
    from installer.commands.azure_lifecycle import azure_plan_of, status_azure
    from installer.launch.lock import busy_holder
    from installer.state import install_dir

    if (plan := azure_plan_of(args.name)) is not None:
        return status_azure(args, out, plan)
    services = engine.status(args.name)
    holder = busy_holder(install_dir(args.name).root)
    open_run = None if holder else engine.unfinished_run(args.name)
    if holder and not out.json_mode:
        out.err_console.print(Text(f"⏳ in progress: {holder}", style="yellow"), highlight=False)
    if out.json_mode:
        out.emit_json({"type": "result", "name": args.name, "services": [s.to_json() for s in services],
                       "unfinished_run": open_run.to_json() if open_run else None, "busy": holder})
        return 0
    if open_run:
        out.err_console.print(Text.assemble(
            ("⚠ unfinished launch:", "yellow"), f" {open_run.describe()}\n"
            f"  undo it: `fabrix rollback --name {args.name}`; continue it: `{resume_command(args.name)}`"),
            highlight=False)
    if not services:
        out.info(f"{args.name}: no containers (not running).")
        return 0
    table = Table(title=Text(args.name), expand=False)
    for col in ("service", "state", "health", "ports", "last health output"):
        table.add_column(col, overflow="fold")
    for s in services:
        health = s.health or "-"
        if s.failing_streak:
            health += f" (failing {s.failing_streak})"
        style = {"healthy": "green", "unhealthy": "red", "starting": "yellow"}.get(s.health or "", "")
        # Text cells: a health output or a port list is data, never markup ("[/x]" must not crash).
        table.add_row(Text(s.component), Text(s.state), Text(health, style=style), Text(", ".join(s.ports)),
                      Text((s.last_health_output if s.health != "healthy" else "")[-120:]))
    out.rich(table)
    return 0


def down(args: argparse.Namespace, out: Output) -> int:
    from installer.commands.azure_lifecycle import azure_plan_of, down_azure

    if (plan := azure_plan_of(args.name)) is not None:
        return down_azure(args, out, plan)
    question = (f"Remove {args.name!r} and DELETE its data volumes (databases, uploads)?" if args.volumes
                else f"Stop and remove {args.name!r} (containers and networks; data volumes are kept)?")
    existing_install(args.name)  # fails early (exit 2) for an unknown install, before asking
    if not out.confirm(question):
        raise Cancelled("nothing was changed", None)
    engine.down(args.name, args.volumes, out.event)
    out.result({"name": args.name, "volumes_removed": bool(args.volumes), "ok": True},
               f"{args.name} is down." + ("" if args.volumes else " Its data volumes are kept."))
    return 0


def rollback(args: argparse.Namespace, out: Output) -> int:
    _refuse_if_busy(args.name)
    open_run = engine.unfinished_run(args.name)
    if open_run is None:
        existing_install(args.name)  # unknown install → exit 2 with the list of known ones
        out.result({"name": args.name, "run_id": None, "ok": True},
                   f"{args.name} has no unfinished launch: nothing to roll back.")
        return 0
    if not out.confirm(f"Roll back {open_run.describe()}?"):
        raise Cancelled("nothing was changed", None)
    result = engine.rollback(args.name, out.event)
    out.result(result.to_json(), result.message)
    if not result.ok:
        raise OperationFailed(result.message, f"re-run `fabrix rollback --name {args.name}`")
    return 0
