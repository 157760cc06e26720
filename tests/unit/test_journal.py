"""The launch journal: append-only, durable per record, tolerant of a torn last line."""

from __future__ import annotations

import json
from pathlib import Path

from installer.launch.journal import Journal, Phase, first_data, new_run_id, step_state


def test_records_round_trip_in_order_with_their_data(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.jsonl")
    run = new_run_id()
    j.append(run, "run", Phase.begin, project="fabrix-x")
    j.append(run, "preflight", Phase.end, project_existed=False)
    j.append(run, "up", Phase.begin)
    records = j.records()
    assert [(r.step, r.phase) for r in records] == [("run", Phase.begin), ("preflight", Phase.end), ("up", Phase.begin)]
    assert first_data(records, "preflight", "project_existed") is False
    assert step_state(records)["up"].phase is Phase.begin
    assert (tmp_path / "journal.jsonl").stat().st_mode & 0o777 == 0o600


def test_a_run_without_an_end_is_unfinished_and_the_latest_one_wins(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.append("r1", "run", Phase.begin)
    j.append("r1", "run", Phase.end, outcome="ok")
    assert j.unfinished() is None
    j.append("r2", "run", Phase.begin)
    j.append("r2", "up", Phase.begin)
    assert j.unfinished() == "r2"
    assert j.runs() == ["r1", "r2"]
    # A resumed run writes a second begin under the same id: still one run.
    j.append("r2", "run", Phase.begin, resumed=True)
    assert j.runs() == ["r1", "r2"]
    j.append("r2", "run", Phase.end, outcome="rolled_back")
    assert j.unfinished() is None


def test_a_torn_last_line_from_a_crash_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append("r1", "run", Phase.begin)
    with path.open("a") as fh:
        fh.write('{"run": "r1", "step": "up", "pha')  # kill -9 mid-write
    assert [r.step for r in j.records()] == ["run"]
    assert j.unfinished() == "r1"
    j.append("r1", "up", Phase.begin)  # appending after the torn line still works
    assert [r.step for r in j.records()] == ["run", "up"]


def test_every_line_is_standalone_json_without_secret_fields(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append("r1", "login", Phase.begin, registry="acr.example.io", username="me")
    line = json.loads(path.read_text().splitlines()[0])
    assert set(line) == {"ts", "run", "step", "phase", "data"}
    assert line["data"] == {"registry": "acr.example.io", "username": "me"}


def test_run_ids_are_unique_and_sortable() -> None:
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i.split("-")[0]) == 16 for i in ids)
