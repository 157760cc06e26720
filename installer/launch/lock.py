"""One launch (or rollback/down) of an install at a time: an OS file lock in the install folder.

The lock is held by an open file descriptor, so the OS releases it when the process dies — a
``kill -9`` never leaves a stale lock behind (unlike a pid file).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from installer.errors import UsageError


@contextmanager
def install_lock(folder: Path, name: str, action: str) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "launch.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)  # never through a link
    try:
        if not _try_lock(fd):
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another fabrix process"
            raise UsageError(
                f"install {name!r} is busy: {holder} is working on it",
                "wait for it to finish (or stop it), then run this command again",
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"fabrix {action} (pid {os.getpid()})".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def busy_holder(folder: Path) -> str | None:
    """Who holds the install's lock right now ("fabrix up (pid 123)"), or None when nobody does.
    Asks without taking it for long: a lock that can be taken is released at once."""
    path = folder / "launch.lock"
    if not path.is_file() or path.is_symlink():
        return None
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if _try_lock(fd):
            return None
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another fabrix process"
    finally:
        os.close(fd)
