"""`fabrix` without a terminal refuses clearly instead of drawing into a pipe and hanging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_wizard_without_a_terminal_exits_2_with_the_headless_alternative(tmp_path: Path) -> None:
    env = {**os.environ, "FABRIX_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "installer.cli"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "needs an interactive terminal" in done.stderr
    assert "fabrix check|render|up --answers FILE" in done.stderr
    assert "\x1b[?1049h" not in done.stdout, "nothing may be drawn when there is no terminal"
