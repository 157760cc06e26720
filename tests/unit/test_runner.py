"""The backend-neutral launch runner: journal, cancel, keep, diagnostics-then-rollback, resume —
driven by a small in-memory backend (the Compose and Azure backends are tested end to end)."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path
from typing import Any

import pytest

from installer.answers import plan_from_dict, save_answers
from installer.errors import UsageError
from installer.launch.journal import Journal, Phase
from installer.launch.model import Diagnostics, Outcome, RollbackResult
from installer.launch.runner import Run, Step, Stop, launch_with, run_backend
from installer.progress import ProgressEvent, Reporter, State
from installer.state import install_dir, resume_command


class Recorder:
    """A backend whose steps append to ``calls``; ``fail_at`` makes one step fail."""

    kind = "test"

    def __init__(self, fail_at: str | None = None, cancel_at: str | None = None, bug_at: str | None = None) -> None:
        self.fail_at, self.cancel_at, self.bug_at = fail_at, cancel_at, bug_at
        self.calls: list[str] = []
        self.run: Run | None = None

    def attach(self, run: Run) -> None:
        self.run = run

    def run_data(self) -> dict[str, Any]:
        return {"target": "memory"}

    def _step(self, name: str) -> Step:
        def do() -> None:
            assert self.run is not None
            self.run.journal_step(name, Phase.begin)
            self.calls.append(name)
            if name == self.cancel_at:
                self.run.cancel.set()  # what Ctrl-C does: the next step must not start
            if name == self.fail_at:
                self.run.journal_step(name, Phase.failed)
                raise Stop(f"{name} broke", service="svc")
            if name == self.bug_at:
                raise KeyError("oops")
            self.run.journal_step(name, Phase.end, done=True)

        return Step(name, do)

    def steps(self) -> list[Step]:
        return [self._step(n) for n in ("one", "two", "three")]

    def summary_message(self) -> tuple[Any, str]:
        return None, "all up"

    def diagnose(self, stop: Stop) -> Diagnostics:
        self.calls.append("diagnose")
        return Diagnostics(reason=stop.reason, service=stop.service)

    def rollback(self, reporter: Reporter) -> RollbackResult:
        assert self.run is not None
        self.calls.append("rollback")
        self.run.journal.append(self.run.run_id, "rollback", Phase.end)
        self.run.journal.append(self.run.run_id, "run", Phase.end, outcome="rolled_back")
        reporter(ProgressEvent(step="rollback", state=State.rolled_back, message="undone"))
        return RollbackResult(name=self.run.plan.name, run_id=self.run.run_id, removed="everything", message="Rolled back.")

    def failure_message(self, stop: Stop, diagnostics: Diagnostics, rollback: RollbackResult | None) -> str:
        return f"failed: {stop.reason}" + (f" {rollback.message}" if rollback else "")


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FABRIX_HOME", str(tmp_path / "home"))
    return plan_from_dict({"apiVersion": "fabrix/v1", "name": "runner-test"})


def _journal(plan: Any) -> Journal:
    return Journal(install_dir(plan.name).journal)


def test_success_runs_every_step_in_order_and_closes_the_run(plan: Any) -> None:
    events: list[ProgressEvent] = []
    backend = Recorder()
    result = launch_with(plan, backend, events.append)
    assert result.outcome is Outcome.ok and result.message == "all up"
    assert backend.calls == ["one", "two", "three"]
    records = _journal(plan).run_records(result.run_id)
    assert (records[0].step, records[0].phase) == ("run", Phase.begin)
    assert records[0].data["backend"] == "test" and records[0].data["target"] == "memory"
    assert (records[-1].step, records[-1].phase, records[-1].data["outcome"]) == ("run", Phase.end, "ok")
    assert run_backend(records) == "test"
    assert _journal(plan).unfinished() is None
    assert events[-1].step == "summary" and events[-1].state is State.done


def test_a_failure_diagnoses_before_it_rolls_back(plan: Any) -> None:
    backend = Recorder(fail_at="two")
    result = launch_with(plan, backend, lambda ev: None)
    assert result.outcome is Outcome.failed
    assert backend.calls == ["one", "two", "diagnose", "rollback"]
    assert result.diagnostics is not None and result.diagnostics.service == "svc"
    assert result.rollback is not None and "Rolled back." in result.message
    assert _journal(plan).unfinished() is None


def test_keep_skips_the_rollback_and_leaves_the_run_open_for_resume(plan: Any) -> None:
    keep = threading.Event()
    keep.set()
    backend = Recorder(fail_at="two")
    result = launch_with(plan, backend, lambda ev: None, keep=keep)
    assert result.outcome is Outcome.failed and result.rollback is None
    assert backend.calls == ["one", "two", "diagnose"]
    open_run = _journal(plan).unfinished()
    assert open_run == result.run_id
    with pytest.raises(UsageError, match="unfinished launch"):
        launch_with(plan, Recorder(), lambda ev: None)
    resumed = launch_with(plan, Recorder(), lambda ev: None, resume=True)
    assert resumed.ok and resumed.run_id == open_run  # the same run, continued


def test_the_resume_hint_names_the_answers_the_launch_saved(plan: Any) -> None:
    """"`fabrix up --answers FILE --resume`" cannot be typed; the launch saves its answers in the
    install's folder, so the kept-run message names that file (quoted for the shell)."""
    keep = threading.Event()
    keep.set()
    result = launch_with(plan, Recorder(fail_at="one"), lambda ev: None, keep=keep)
    assert "--answers FILE" in result.message  # this backend saved no answers: nothing to name
    folder = install_dir(plan.name)
    save_answers(plan, folder.answers)
    with pytest.raises(UsageError) as refused:
        launch_with(plan, Recorder(), lambda ev: None)
    assert f"fabrix up --answers {shlex.quote(str(folder.answers))} --resume" in (refused.value.hint or "")
    assert resume_command(plan.name, "my answers.yaml") == "fabrix up --answers 'my answers.yaml' --resume"


def test_cancel_stops_before_the_next_step_and_rolls_back(plan: Any) -> None:
    backend = Recorder(cancel_at="one")
    result = launch_with(plan, backend, lambda ev: None)
    assert result.outcome is Outcome.cancelled and result.exit_code == 130
    assert backend.calls == ["one", "diagnose", "rollback"]


def test_a_bug_in_a_step_still_rolls_back(plan: Any) -> None:
    backend = Recorder(bug_at="three")
    result = launch_with(plan, backend, lambda ev: None)
    assert result.outcome is Outcome.failed
    assert "internal error: KeyError" in result.message
    assert backend.calls[-2:] == ["diagnose", "rollback"]


def test_runs_journaled_before_the_runner_are_compose_runs(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.append("r1", "run", Phase.begin, project="fabrix-x")
    assert run_backend(j.run_records("r1")) == "compose"
