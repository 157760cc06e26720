"""Ctrl+Q in a real terminal (a pty at 80×24): how long the wizard's last frame stays up, and how
long the terminal then sits blank before the process ends (issue 11 measured 1–1.6 s blank).
The wizard runs for real (this machine's Docker facts) with FABRIX_HOME in a temporary folder;
it quits from Welcome and from Review (after five Ctrl+N). Prints medians; asserts nothing.

    .venv/bin/python bench/wizard_quit.py [rounds]
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEAVE_ALT_SCREEN = b"\x1b[?1049l"


def _read(master: int, seen: bytearray, until: float) -> bool:
    ready, _, _ = select.select([master], [], [], max(0.0, min(0.05, until - time.monotonic())))
    if not ready:
        return True
    try:
        seen += os.read(master, 65536)
    except OSError:
        return False
    return True


def one_quit(next_presses: int) -> tuple[float, float]:
    """(seconds until the terminal is given back, seconds from then until the process ended)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    home = tempfile.mkdtemp(prefix="fabrix-quit-")
    env = {**os.environ, "FABRIX_HOME": home, "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "installer.cli"], cwd=ROOT, stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    seen = bytearray()
    try:
        deadline = time.monotonic() + 60
        while b"Welcome" not in seen and time.monotonic() < deadline:
            _read(master, seen, deadline)
        for _ in range(next_presses):
            os.write(master, b"\x0e")  # Ctrl+N
            pause = time.monotonic() + 1.5  # the step's workers (checks, render) finish
            while time.monotonic() < pause:
                _read(master, seen, pause)
        mark = len(seen)
        start = time.monotonic()
        os.write(master, b"\x11")  # Ctrl+Q
        given_back = ended = 0.0
        deadline = start + 30
        while time.monotonic() < deadline:
            alive = _read(master, seen, deadline)
            if not given_back and LEAVE_ALT_SCREEN in seen[mark:]:
                given_back = time.monotonic() - start
            if proc.poll() is not None or not alive:
                proc.wait(timeout=30)
                ended = time.monotonic() - start
                break
        return given_back, ended - given_back
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print(f"{'quit from':12} {'last frame up (s)':>18} {'then blank (s)':>15}")
    for label, presses in (("Welcome", 0), ("Review", 5)):
        samples = [one_quit(presses) for _ in range(rounds)]
        up = statistics.median(s[0] for s in samples)
        blank = statistics.median(s[1] for s in samples)
        print(f"{label:12} {up:18.3f} {blank:15.3f}")


if __name__ == "__main__":
    main()
