"""A dead Docker daemon: every command that needs it exits 3 with the cause and a fix, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from installer.state import install_dir


def fabrix(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FABRIX_HOME": str(home), "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    return subprocess.run([sys.executable, "-m", "installer.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text("apiVersion: fabrix/v1\nname: deadd\n")
    return path


def test_up_status_down_say_the_daemon_is_unreachable(answers: Path, fabrix_home: Path) -> None:
    up = fabrix("up", "--answers", str(answers), "--yes", home=fabrix_home)
    assert up.returncode == 3, up.stderr
    assert "Traceback" not in up.stderr
    assert "nonexistent" in up.stderr and "fix:" in up.stderr

    # The refused launch left no open run behind: nothing to roll back, nothing half-done.
    journal = install_dir("deadd").journal
    assert journal.exists()
    back = fabrix("rollback", "--name", "deadd", "--yes", home=fabrix_home)
    assert back.returncode == 0 and "nothing to roll back" in back.stdout

    for cmd in (["status", "--name", "deadd"], ["down", "--name", "deadd", "--yes"]):
        done = fabrix(*cmd, home=fabrix_home)
        assert done.returncode == 3, (cmd, done.stdout, done.stderr)
        assert "Cannot connect to the Docker daemon" in done.stderr or "not running" in done.stderr
        assert "fix:" in done.stderr and "Traceback" not in done.stderr
        assert "not running)." not in done.stdout, "status must not claim a state it cannot see"
