"""Can this install keep its data where the plan says? Answered before anything is written.

The data folder (``compose.data_dir``, or ``data/`` in the install's state folder) must be a
folder — or creatable as one — that this user can write, and must not be another install's
(``launch.datadir``). Each problem comes with the fix for *that* problem: a file in the way is
not a full disk, and a folder owned by root is not fixed by freeing space.
"""

from __future__ import annotations

import errno
import getpass
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from installer.plan import InstallPlan, expand_user_path
from installer.state import install_dir


@dataclass(frozen=True)
class FolderProblem:
    found: str
    fix: str


def data_folder(plan: InstallPlan) -> Path:
    if plan.compose.data_dir:
        return expand_user_path(plan.compose.data_dir).absolute()
    return install_dir(plan.name).data.absolute()


def _user() -> str:
    """The user whose rights the probe tested (the effective one, not $USER)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):  # Windows, or no passwd entry (containers)
        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001
            return str(os.geteuid()) if hasattr(os, "geteuid") else "you"


def _nearest_existing(path: Path) -> Path:
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def _probe_write(folder: Path) -> OSError | None:
    """Create and remove a folder inside ``folder``: the one test that tells what this user may do
    there (permission bits, ACLs, read-only mounts, root's rights all answer it)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".fabrix-probe-", dir=folder))
    except OSError as exc:
        return exc
    return None


def _suggest(plan: InstallPlan) -> str:
    return f"~/fabrix-data/{plan.name}"


def folder_problem(plan: InstallPlan) -> FolderProblem | None:
    """What stands in the way of the data folder, or None when it is usable."""
    folder = data_folder(plan)
    setting = "`compose.data_dir`" if plan.compose.data_dir else "`compose.data_dir` (or FABRIX_HOME)"
    user = _user()
    existing = _nearest_existing(folder)
    if existing == folder and not folder.is_dir():
        return FolderProblem(f"data folder {folder} is a file, not a folder",
                             f"move the file away, or point {setting} at a folder such as {_suggest(plan)}")
    if existing != folder and not existing.is_dir():
        return FolderProblem(f"data folder {folder} cannot be created: {existing} is a file",
                             f"point {setting} at a path whose parents are folders, e.g. {_suggest(plan)}")
    error = _probe_write(existing)
    if error is None:
        return _foreign(plan, folder)
    creating = existing != folder
    where = f"cannot be created in {existing}" if creating else "is not writable"
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if error.errno in (errno.EACCES, errno.EPERM) and not root:  # root refused: a special file system
        if creating:
            fix = (f"create it for {user}: `sudo mkdir -p {folder} && sudo chown {user} {folder}`, "
                   f"or point {setting} at a folder you own, e.g. {_suggest(plan)}")
        else:
            fix = (f"give {user} write access: `sudo chown -R {user} {folder}`, "
                   f"or point {setting} at a folder you own, e.g. {_suggest(plan)}")
        return FolderProblem(f"data folder {folder} {where}: {user} may not write there ({error.strerror})", fix)
    if error.errno == errno.EROFS:
        return FolderProblem(f"data folder {folder} {where}: {existing} is on a read-only file system",
                             f"point {setting} at a folder on a writable disk, e.g. {_suggest(plan)}")
    return FolderProblem(f"data folder {folder} {where}: {error.strerror or error}",
                         f"point {setting} at an ordinary folder on a local disk (not /proc, /sys or /dev), e.g. {_suggest(plan)}")


def _foreign(plan: InstallPlan, folder: Path) -> FolderProblem | None:
    if not plan.compose.data_dir:
        return None  # the state folder is the install's own
    from installer.launch.datadir import conflict

    found = conflict(plan)
    return FolderProblem(*found) if found else None
