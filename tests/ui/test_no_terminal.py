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


def test_ctrl_q_gives_the_terminal_back_and_ends_the_process(tmp_path: Path) -> None:
    """In a real terminal (a pty at 80×24): Ctrl+Q leaves the alternate screen and the process
    ends with 0 and the exit handlers run (the quick exit skips only the interpreter's teardown;
    bench/wizard_quit.py measures how long it takes)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "FABRIX_HOME": str(tmp_path), "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "installer.cli"], stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    seen = b""

    def read_until(predicate: object, timeout: float) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while time.monotonic() < end and not predicate():  # type: ignore[operator]
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    return

    try:
        read_until(lambda: b"Welcome" in seen, 60)
        assert b"Welcome" in seen, "the wizard never drew its first screen"
        os.write(master, b"\x11")  # Ctrl+Q
        read_until(lambda: proc.poll() is not None, 60)
        assert proc.wait(timeout=60) == 0
        assert b"\x1b[?1049l" in seen, "the alternate screen must be left (terminal given back)"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_leave_now_flushes_output_and_runs_the_exit_handlers() -> None:
    code = (
        "import atexit, sys\n"
        "from screens.app import leave_now\n"
        "atexit.register(lambda: print('handler ran', flush=True))\n"
        "sys.stdout.write('buffered line\\n')\n"
        "leave_now(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["buffered line", "handler ran"]
