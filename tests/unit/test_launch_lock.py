"""One launch/rollback/down of an install at a time; the lock dies with its holder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from installer.errors import UsageError
from installer.launch.lock import install_lock


def test_a_second_holder_is_refused_with_who_holds_it(tmp_path: Path) -> None:
    with install_lock(tmp_path, "demo", "up"):
        with pytest.raises(UsageError) as err:
            with install_lock(tmp_path, "demo", "rollback"):
                pass
        assert "busy" in err.value.message and "fabrix up" in err.value.message
    with install_lock(tmp_path, "demo", "down"):  # released on exit: free again
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    code = (
        "import os, sys; from pathlib import Path; from installer.launch.lock import install_lock\n"
        f"with install_lock(Path({str(tmp_path)!r}), 'demo', 'up'):\n"
        "    print('held', flush=True); os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "held" and proc.returncode == -9
    with install_lock(tmp_path, "demo", "up"):
        pass
