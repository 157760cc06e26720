"""The backend-neutral launch runner: one step machine for every way fabrix launches an install.

A backend (Docker Compose, Azure …) supplies its ordered steps, its diagnostics, its rollback and
its summary; the runner supplies everything they share:

- the install lock (one launch, rollback or down of an install at a time, released on ``kill -9``);
- the journal: ``run/begin`` (with the backend's name, so ``fabrix rollback`` knows whom to ask)
  before anything acts, each step's own ``begin``/``end``/``failed`` records, ``run/end`` at the end;
- refusal of a second run while one is unfinished, unless ``resume``, which re-uses its run id;
- cancel (checked before every step; a backend checks it inside long steps too);
- events: every ``ProgressEvent`` is redacted, timed, written to ``install.log`` and handed to the
  reporter;
- on failure, cancel or a bug: diagnostics first (while everything is still there), then the
  backend's rollback — or, with ``keep`` set, nothing removed and the run left open for
  ``fabrix rollback`` / ``up --resume``.

Runs in any thread and never prints.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from installer.errors import FabrixError, Refused, ToolMissing, UsageError
from installer.launch.journal import OUTCOME_OK, Journal, Phase, Record, new_run_id, run_backend
from installer.launch.lock import install_lock
from installer.launch.model import Diagnostics, LaunchResult, Outcome, RollbackResult
from installer.plan import InstallPlan
from installer.progress import Clock, ProgressEvent, Reporter, State
from installer.secrets import SecretStore, redact
from installer.state import InstallDir, install_dir, resume_command

OUTCOME_TOOL_MISSING = "tool_missing"
OUTCOME_REFUSED = "refused"

__all__ = ["Backend", "EventLog", "Run", "Step", "Stop", "launch_with", "run_backend"]


class Stop(Exception):
    """A step failed or the person cancelled: carries what to tell them (and whom to blame)."""

    def __init__(self, reason: str, cancelled: bool = False, service: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cancelled = cancelled
        self.service = service


@dataclass(frozen=True)
class Step:
    """One step of a launch. ``do`` journals its own ``begin``/``end`` records (with the facts a
    rollback or a resume needs) through ``Run.journal_step``; undoing is the backend's
    ``rollback``, which reads those records — so a run killed mid-step can still be undone."""

    name: str
    do: Callable[[], None]


class Backend(Protocol):
    """What differs between launch targets. Bound to one ``Run`` by ``attach``."""

    kind: str  # recorded in run/begin: "compose", "azure"

    def attach(self, run: Run) -> None: ...

    def run_data(self) -> dict[str, Any]:
        """Facts for the ``run/begin`` record (e.g. the Compose project, the resource group)."""
        ...

    def steps(self) -> Sequence[Step]: ...

    def summary_message(self) -> tuple[Any, str]:
        """After the last step: (the backend's summary object, one sentence saying it is up)."""
        ...

    def diagnose(self, stop: Stop) -> Diagnostics: ...

    def rollback(self, reporter: Reporter) -> RollbackResult:
        """Undo what this run did, from its journal records (the lock is held)."""
        ...

    def failure_message(self, stop: Stop, diagnostics: Diagnostics, rollback: RollbackResult | None) -> str: ...


def launch_with(plan: InstallPlan, backend: Backend, reporter: Reporter, cancel: threading.Event | None = None,
                resume: bool = False, keep: threading.Event | None = None) -> LaunchResult:
    """Take the install's lock and run ``backend``'s launch of ``plan`` to an outcome."""
    folder = install_dir(plan.name).create()
    with install_lock(folder.root, plan.name, "up"):
        return Run(plan, backend, reporter, cancel or threading.Event(), folder, keep or threading.Event()).run(resume)


class Run:
    """One launch of one install, through one backend. The backend reads and writes the shared
    state here (``run_id``, ``secret_values``, ``clock``, ``cancel``) and reports through ``emit``."""

    def __init__(self, plan: InstallPlan, backend: Backend, reporter: Reporter, cancel: threading.Event,
                 folder: InstallDir, keep: threading.Event) -> None:
        self.plan = plan
        self.backend = backend
        self.cancel = cancel
        self.keep = keep
        self.folder = folder
        self.journal = Journal(folder.journal)
        self.clock = Clock()
        self.run_id = ""
        self.resumed = False
        self.secret_values: list[str] = []
        self._log = EventLog(folder.log)
        self._reporter = reporter
        self._report_failed = False
        backend.attach(self)

    # ---- what backends use ----------------------------------------------------------------

    def emit(self, step: str, state: State, message: str = "", service: str | None = None, **extra: Any) -> None:
        ev = ProgressEvent(step=step, state=state, message=redact(message, self.secret_values),
                           service=service, elapsed=self.clock.elapsed(), **extra)
        self._log.write(ev)
        self._report(ev)

    def _report(self, ev: ProgressEvent) -> None:
        """Hand ``ev`` to the reporter. A reporter that fails (a closed terminal after SIGHUP, a
        display bug) never stops the launch or skips its rollback: the event is still in
        install.log, and the first failure is noted there."""
        try:
            self._reporter(ev)
        except Exception as exc:  # noqa: BLE001 - reporting is never worth a half-installed stack
            if self._report_failed:
                return
            self._report_failed = True
            self._log.write(ProgressEvent(step="run", state=State.warning, elapsed=ev.elapsed,
                                          message=f"progress display failed ({type(exc).__name__}); "
                                                  "continuing, events go to install.log only"))

    def emit_event(self, ev: ProgressEvent) -> None:
        """Pass on an event built elsewhere (rollback, teardown): re-timed and redacted."""
        ev = ProgressEvent(**{**ev.__dict__, "elapsed": self.clock.elapsed(),
                              "message": redact(ev.message, self.secret_values)})
        self._log.write(ev)
        self._report(ev)

    def journal_step(self, step: str, phase: Phase, **data: Any) -> None:
        self.journal.append(self.run_id, step, phase, **data)

    def report_checks(self, results: Sequence[Any]) -> None:
        """One event per prerequisite check, then the verdict: a missing tool (Docker, Compose v2)
        raises ToolMissing (exit 3), any other failure stops the launch with every fix named."""
        from installer.checks import Status

        failed, tool_missing = [], []
        for result in results:
            state = {Status.passed: State.done, Status.warn: State.warning,
                     Status.fail: State.failed, Status.unknown: State.warning}[result.status]
            self.emit("checks", state, f"{result.title}: {result.found}")
            if result.status is Status.fail:
                (tool_missing if result.tool_missing else failed).append(result)
        if tool_missing:
            first = tool_missing[0]
            self.journal_step("checks", Phase.failed, failed=[r.id for r in tool_missing])
            raise ToolMissing(f"{first.title}: {first.found}", first.remedy)
        if failed:
            self.journal_step("checks", Phase.failed, failed=[r.id for r in failed])
            listing = "; ".join(f"{r.title}: {r.found} (fix: {r.remedy})" for r in failed)
            raise Stop(f"{len(failed)} prerequisite check(s) failed: {listing}")
        self.journal_step("checks", Phase.end)
        self.emit("checks", State.done, "prerequisites met")

    def records(self) -> list[Record]:
        return self.journal.run_records(self.run_id)

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Stop("cancelled before the step could start", cancelled=True)

    def reload_secrets(self) -> None:
        """Re-read the secret store (rendering may have generated new secrets) for redaction."""
        self.secret_values = list(SecretStore(self.folder.secrets).values().values())

    # ---- the run ------------------------------------------------------------------------

    def run(self, resume: bool) -> LaunchResult:
        from installer.launch import recovery

        open_run = self.journal.unfinished()
        if open_run and not resume:
            info = recovery.unfinished_run(self.plan.name)
            described = info.describe() if info else f"run {open_run}"
            raise UsageError(
                f"install {self.plan.name!r} has an unfinished launch: {described}",
                f"continue it: `{resume_command(self.plan.name)}`; or undo it: `fabrix rollback --name {self.plan.name}`",
            )
        self.resumed = bool(open_run and resume)
        self.run_id = open_run if self.resumed and open_run else new_run_id()
        self.reload_secrets()
        self.journal_step("run", Phase.begin, backend=self.backend.kind, resumed=self.resumed,
                          **self.backend.run_data())
        self.emit("run", State.running,
                  f"{'resuming' if self.resumed else 'starting'} run {self.run_id} of {self.plan.name}")
        try:
            for step in self.backend.steps():
                self.check_cancel()
                step.do()
            summary, message = self.backend.summary_message()
        except ToolMissing as exc:
            # Nothing was created yet when the tool itself is missing: close the run and say so.
            self.journal_step("run", Phase.end, outcome=OUTCOME_TOOL_MISSING)
            self.emit("run", State.failed, exc.message)
            raise
        except Refused as exc:
            # A step refused before changing anything (e.g. someone else's project under our
            # name): close the run, roll nothing back (there is nothing of ours), say why.
            self.journal_step("run", Phase.end, outcome=OUTCOME_REFUSED)
            self.emit("run", State.failed, exc.message)
            raise
        except Stop as stop:
            return self.fail(stop)
        except FabrixError as exc:
            return self.fail(Stop(str(exc)))
        except Exception as exc:  # a bug must still leave nothing half-installed behind
            return self.fail(Stop(f"internal error: {type(exc).__name__}: {exc}"))
        self.journal_step("run", Phase.end, outcome=OUTCOME_OK)
        self.emit("summary", State.done, message)
        return LaunchResult(Outcome.ok, self.plan.name, self.run_id, redact(message, self.secret_values),
                            summary=summary, elapsed=self.clock.elapsed())

    def fail(self, stop: Stop) -> LaunchResult:
        cancelled = stop.cancelled
        self.cancel.clear()  # the rollback below must run to the end
        self.emit("run", State.failed, ("cancelled: " if cancelled else "failed: ") + stop.reason)
        try:
            diagnostics = self.backend.diagnose(stop)
        except Exception as exc:  # diagnostics are best effort: never skip the rollback for them
            diagnostics = Diagnostics(reason=redact(f"{stop.reason} (diagnostics failed: {exc})", self.secret_values))
        outcome = Outcome.cancelled if cancelled else Outcome.failed
        if self.keep.is_set():
            # Asked to keep it for debugging: remove nothing and leave the run open in the
            # journal, so `fabrix rollback` (or `up --resume`) can still finish it later.
            kept = (f"Everything was kept for debugging; undo it with `fabrix rollback --name {self.plan.name}`"
                    f" or continue with `{resume_command(self.plan.name)}`.")
            self.emit("rollback", State.skipped, kept)
            message = f"{self.backend.failure_message(stop, diagnostics, None)} {kept}"
            self.emit("summary", State.failed, message)
            return LaunchResult(outcome, self.plan.name, self.run_id, redact(message, self.secret_values),
                                diagnostics=diagnostics, rollback=None, elapsed=self.clock.elapsed())
        rollback = self.backend.rollback(self.emit_event)
        message = self.backend.failure_message(stop, diagnostics, rollback)
        self.emit("summary", State.failed, message)
        return LaunchResult(outcome, self.plan.name, self.run_id, redact(message, self.secret_values),
                            diagnostics=diagnostics, rollback=rollback, elapsed=self.clock.elapsed())


class EventLog:
    """The install's operator log (install.log): one JSON line per event, never a secret."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, ev: ProgressEvent) -> None:
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(ev.to_json(), default=str) + "\n")
        except OSError:
            pass  # the log is a convenience; it never fails the launch
