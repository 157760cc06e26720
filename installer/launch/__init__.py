"""Launch an install and undo it: the public API the CLI and the TUI share.

- ``launch(plan, reporter, cancel=None, resume=False, timeout=600, keep=None) -> LaunchResult``
  checks → render → validate → registry login → pull → ``compose up --wait`` → smoke probes →
  summary; on failure/timeout/cancel: diagnostics, then rollback. Runs in any thread, never
  prints; ``reporter`` receives ``installer.progress.ProgressEvent``s (from the calling thread).
  Set ``cancel`` to stop it (SIGINT to Compose, then rollback → ``Outcome.cancelled``); set
  ``keep`` too (or before a failure) to skip the rollback and leave everything for debugging.
- ``rollback(name, reporter, cancel=None) -> RollbackResult``: undo an unfinished run.
- ``status(name) -> list[ServiceStatus]``; ``down(name, volumes, reporter) -> None``;
  ``unfinished_run(name) -> RunInfo | None``.
An Azure plan (every model but ``container/compose`` and ``manual``) goes to the Azure backend
(``installer.launch.azure``); ``manual`` is a runbook, never launched (``UsageError``, exit 2).
Errors before anything changes are raised as ``FabrixError`` subclasses (``UsageError``: busy
install, unfinished run without ``resume``, unknown install; ``ToolMissing``: no Docker/Compose).
"""

from __future__ import annotations

from typing import Any

from installer.launch.model import (
    Diagnostics,
    LaunchResult,
    Outcome,
    RollbackResult,
    RunInfo,
    ServiceStatus,
    Summary,
)
from installer.launch.recovery import down, rollback, status, unfinished_run

__all__ = [
    "Diagnostics",
    "LaunchResult",
    "Outcome",
    "RollbackResult",
    "RunInfo",
    "ServiceStatus",
    "Summary",
    "down",
    "launch",
    "rollback",
    "status",
    "unfinished_run",
]


def __getattr__(name: str) -> Any:
    # `launch` pulls in render, checks and the plan machinery; `fabrix status/down/rollback`
    # do not need them, so they load only when someone asks for `launch`.
    if name == "launch":
        from installer.launch.dispatch import launch

        return launch
    raise AttributeError(f"module 'installer.launch' has no attribute {name!r}")
