"""Typed progress events: the one stream the TUI and the CLI both render.

A launch never prints; it hands ``ProgressEvent``s to a ``Reporter`` callback. The TUI posts
them as messages; the CLI prints them (rich on a TTY, JSON Lines with ``--json``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    pending = "pending"
    running = "running"
    pulling = "pulling"
    creating = "creating"
    starting = "starting"
    health_starting = "health_starting"
    healthy = "healthy"
    unhealthy = "unhealthy"
    done = "done"
    skipped = "skipped"
    warning = "warning"
    failed = "failed"
    rolling_back = "rolling_back"
    rolled_back = "rolled_back"
    log = "log"


@dataclass(frozen=True)
class ProgressEvent:
    step: str  # e.g. checks, render, validate, login, pull, up, probe, summary, rollback
    state: State
    message: str = ""
    service: str | None = None
    elapsed: float = 0.0  # seconds since the operation started
    current: int | None = None  # bytes/items done, when known (pull)
    total: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        return {k: v for k, v in out.items() if v not in (None, {}, "")} | {
            "step": self.step,
            "state": self.state.value,
            "elapsed": round(self.elapsed, 3),
        }


Reporter = Callable[[ProgressEvent], None]


def null_reporter(_event: ProgressEvent) -> None:
    """A reporter that drops events (for callers that only want the result)."""


class Clock:
    """Elapsed time since the operation started, for ``ProgressEvent.elapsed``."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._start
