"""Nothing left behind in the temp folder (issue 10): the compose check never puts `.env` on
disk, a render stopped by SIGTERM/SIGHUP removes its temp copy, and the empty working folders
Docker commands run in are removed at exit (or swept after a SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A `docker` that answers the Compose version probe and then blocks in `compose config`, saying
# when it got there (so the test signals fabrix exactly during validation).
FAKE_DOCKER = """#!/bin/sh
case "$*" in
  *"compose version"*) echo 2.40.3; exit 0 ;;
  *" config"*) ls -A "$3" > "$FAKE_SEEN"; env > "$FAKE_ENV"; touch "$FAKE_READY"; sleep 60; exit 0 ;;
esac
exit 0
"""


def _fake_docker(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(private_tmp),
            "FAKE_SEEN": str(tmp_path / "seen"), "FAKE_ENV": str(tmp_path / "env"),
            "FAKE_READY": str(tmp_path / "ready")}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_a_render_stopped_during_validation_leaves_no_copy_of_a_secret(
    sig: signal.Signals, tmp_path: Path, minimal_answers: Path, fabrix_home: Path
) -> None:
    env = _fake_docker(tmp_path)
    env["FABRIX_HOME"] = str(fabrix_home)
    proc = subprocess.Popen([sys.executable, "-m", "installer.cli", "render", "--answers", str(minimal_answers),
                             "--out", str(tmp_path / "out")], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "validation never reached `compose config`"
            time.sleep(0.05)
        seen = (tmp_path / "seen").read_text().split()
        assert "compose.yaml" in seen and ".env" not in seen, seen  # the secrets were never on disk
        secrets = dict(line.split("=", 1) for line in
                       (fabrix_home / "installs" / "demo" / "secrets.env").read_text().splitlines()
                       if "=" in line and not line.startswith("#"))
        child_env = (tmp_path / "env").read_text()
        assert secrets and all(f"{k}={v}" in child_env for k, v in secrets.items())  # via the environment
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert list(Path(env["TMPDIR"]).iterdir()) == [], "temp folders removed on the signal"
    assert not (tmp_path / "out").exists()


_MAKE_CWD = "from installer.launch.dockercli import empty_dir; import sys; print(empty_dir(), flush=True); {tail}"


def test_the_empty_docker_working_folder_goes_at_exit_and_after_a_sigkill(tmp_path: Path) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    done = subprocess.run([sys.executable, "-c", _MAKE_CWD.format(tail="")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert list(private_tmp.iterdir()) == [], "removed at normal exit"

    killed = subprocess.Popen([sys.executable, "-c", _MAKE_CWD.format(tail="import time; time.sleep(60)")],
                              env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert killed.stdout is not None
    left = Path(killed.stdout.readline().strip())
    killed.kill()
    killed.wait()
    assert left.is_dir(), "SIGKILL gives no chance to clean up"
    subprocess.run([sys.executable, "-c", _MAKE_CWD.format(tail="")], env=env, cwd=REPO, check=True,
                   capture_output=True, timeout=60)
    assert list(private_tmp.iterdir()) == [], "the next fabrix swept the dead process' folder"
