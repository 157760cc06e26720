"""The launch journal: append-only JSON Lines under the install folder, fsync'd per record.

Every step writes a ``begin`` record before it acts and an ``end`` (or ``failed``) record after,
with what it created (did the Compose project exist before, which images it pulled …). A run
that has a ``run/begin`` but no ``run/end`` was interrupted (``kill -9``, power loss): the next
``fabrix status``/``fabrix up`` reports it, ``fabrix rollback`` undoes it from these records, and
``fabrix up --resume`` continues it. Secret values never go in here — only names and facts.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any


MAX_LINE = 256 * 1024  # longest journal line read back (ours are a few hundred bytes)


class Phase(StrEnum):
    begin = "begin"
    end = "end"
    failed = "failed"


# Outcomes written in the data of a run's ``end`` record.
OUTCOME_OK = "ok"
OUTCOME_ROLLED_BACK = "rolled_back"
OUTCOME_ROLLBACK_INCOMPLETE = "rollback_incomplete"


@dataclass(frozen=True)
class Record:
    run: str
    step: str
    phase: Phase
    ts: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"ts": self.ts, "run": self.run, "step": self.step, "phase": self.phase.value, "data": self.data},
            sort_keys=True,
            default=str,
        )


def new_run_id() -> str:
    """Sortable and unique: UTC timestamp plus a short random suffix (also a Docker label value)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


class Journal:
    """One install's journal file. Appends are atomic per line and durable (fsync) before return."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, run: str, step: str, phase: Phase, **data: Any) -> Record:
        record = Record(run=run, step=step, phase=phase, ts=_now(), data=data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (record.to_json() + "\n").encode("utf-8")
        # O_NOFOLLOW: a journal swapped for a link is refused, never appended to through it.
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a crash tore the last record: start ours on a fresh line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def records(self) -> list[Record]:
        """Every readable record, in order. A torn last line (crash mid-write) is ignored."""
        if not self.path.exists():
            return []
        out: list[Record] = []
        for raw in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            if len(raw) > MAX_LINE:
                continue  # no record of ours is this long: damage, not data
            try:
                obj = json.loads(raw)
                if not isinstance(obj, dict) or not isinstance(obj.get("data", {}), (dict, type(None))):
                    continue
                out.append(
                    Record(
                        run=str(obj["run"]),
                        step=str(obj["step"]),
                        phase=Phase(obj["phase"]),
                        ts=str(obj.get("ts", "")),
                        data=dict(obj.get("data") or {}),
                    )
                )
            except (ValueError, KeyError, TypeError, RecursionError):
                continue  # a torn or damaged line (even one nested 100,000 deep) is skipped
        return out

    def run_records(self, run: str) -> list[Record]:
        return [r for r in self.records() if r.run == run]

    def runs(self) -> list[str]:
        """Run ids that started (``run/begin``), oldest first."""
        seen: list[str] = []
        for r in self.records():
            if r.step == "run" and r.phase is Phase.begin and r.run not in seen:
                seen.append(r.run)
        return seen

    def unfinished(self) -> str | None:
        """The latest run that began but never ended, if any."""
        ended = {r.run for r in self.records() if r.step == "run" and r.phase is not Phase.begin}
        open_runs = [run for run in self.runs() if run not in ended]
        return open_runs[-1] if open_runs else None


def step_state(records: list[Record]) -> dict[str, Record]:
    """The last record of each step of one run (what each step got to before the run stopped)."""
    last: dict[str, Record] = {}
    for r in records:
        last[r.step] = r
    return last


def first_data(records: list[Record], step: str, key: str, default: Any = None) -> Any:
    """A fact a step recorded (the first record of ``step`` carrying ``key``)."""
    for r in records:
        if r.step == step and key in r.data:
            return r.data[key]
    return default


def run_backend(records: list[Record]) -> str:
    """Which backend ran a run (runs journaled before the runner existed were Compose's)."""
    for r in records:
        if r.step == "run" and r.phase is Phase.begin:
            return str(r.data.get("backend") or "compose")
    return "compose"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
