"""Launch-level guards that need no Docker (issue 10): one install per data_dir, a busy install
says it is busy, a journaled pull process is ended on rollback."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from installer.answers import plan_from_dict, save_answers
from installer.errors import Refused
from installer.launch import datadir
from installer.launch.journal import Journal, Phase
from installer.launch.lock import busy_holder, install_lock
from installer.launch.recovery import stop_orphaned_compose
from installer.state import install_dir


def _plan(name: str, data_dir: Path) -> object:
    return plan_from_dict({"apiVersion": "fabrix/v1", "name": name, "compose": {"data_dir": str(data_dir)}})


def test_two_installs_cannot_share_one_data_dir(tmp_path: Path) -> None:
    shared = tmp_path / "data"
    first = _plan("first", shared)
    assert datadir.claim(first) == shared and (shared / datadir.MARKER).is_file()
    assert datadir.claim(first) == shared  # the owner may launch again
    with pytest.raises(Refused, match="'first'"):
        datadir.claim(_plan("second", shared))
    with pytest.raises(Refused, match="'first'"):
        datadir.claim(_plan("second", shared / "inside"))
    with pytest.raises(Refused, match="'first'"):
        datadir.claim(_plan("second", tmp_path))  # a folder around it


def test_another_installs_configured_data_dir_is_refused_before_it_is_claimed(tmp_path: Path) -> None:
    other = _plan("other", tmp_path / "theirs")
    folder = install_dir("other").create()
    save_answers(other, folder.answers)  # configured (rendered) but never launched: no marker yet
    with pytest.raises(Refused, match="'other'"):
        datadir.claim(_plan("mine", tmp_path / "theirs"))
    assert not (tmp_path / "theirs").exists()


def test_a_launch_in_progress_is_busy_not_unfinished(tmp_path: Path, minimal_answers: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from installer.cli import main

    folder = install_dir("demo").create()
    Journal(folder.journal).append("r1", "run", Phase.begin)  # the running launch's open run
    assert busy_holder(folder.root) is None
    with install_lock(folder.root, "demo", "up"):
        assert busy_holder(folder.root) and "fabrix up" in busy_holder(folder.root)
        for args in (["up", "--answers", str(minimal_answers), "--yes"], ["rollback", "--name", "demo", "--yes"]):
            assert main(args) == 2
            err = capsys.readouterr().err
            assert "is busy" in err and "unfinished" not in err, err
    assert busy_holder(folder.root) is None  # released with the process' descriptor


def test_rollback_ends_a_pull_a_killed_launcher_left_running(tmp_path: Path) -> None:
    # A stand-in for `docker compose pull` (same command-line words, own process group, a child).
    script = tmp_path / "docker"
    script.write_text("#!/bin/sh\nsleep 300 &\nwait\n")
    script.chmod(0o755)
    proc = subprocess.Popen([str(script), "compose", "--progress", "json", "pull", "postgres"],
                            start_new_session=True)
    try:
        time.sleep(0.3)
        journal = Journal(tmp_path / "journal.jsonl")
        journal.append("r1", "pull-process", Phase.begin, pid=proc.pid)
        stop_orphaned_compose(journal.run_records("r1"))
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert _live_members(proc.pid) == [], "the whole process group is gone"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that still run (zombies awaiting their reaper do not count)."""
    deadline = time.monotonic() + 5
    while True:
        live = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                live.append(int(stat.parent.name))
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.1)


def test_a_process_that_is_not_compose_pull_is_never_signalled(tmp_path: Path) -> None:
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        journal = Journal(tmp_path / "journal.jsonl")
        journal.append("r1", "pull-process", Phase.begin, pid=proc.pid)  # a reused pid
        stop_orphaned_compose(journal.run_records("r1"))
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


