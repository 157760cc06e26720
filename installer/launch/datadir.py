"""One install per ``compose.data_dir``: two installs bound to the same host folders would share
(and corrupt) one database. The first launch claims the folder with a marker file naming its
install; another install whose ``data_dir`` is, contains, or lies inside a claimed folder (or
another install's configured folder in this FABRIX_HOME) is refused before anything changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from installer.errors import Refused
from installer.fsutil import write_atomic
from installer.plan import InstallPlan, expand_user_path
from installer.state import fabrix_home, install_dir, list_installs

MARKER = ".fabrix-data-owner"


def _owner_of(folder: Path) -> dict[str, str] | None:
    marker = folder / MARKER
    try:
        if marker.is_symlink() or not marker.is_file() or marker.stat().st_size > 10_000:
            return None
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else None


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _other_installs_dirs(name: str) -> list[tuple[str, Path]]:
    """(install, data_dir) of every other install in this FABRIX_HOME that set one."""
    from installer.answers import load_answers

    found = []
    for other in list_installs():
        if other == name:
            continue
        answers = install_dir(other).answers
        if not answers.is_file():
            continue
        try:
            plan = load_answers(answers)
        except Exception:  # noqa: BLE001 - another install's broken answers are not ours to judge
            continue
        if plan.compose.data_dir:
            try:
                found.append((other, _real(expand_user_path(plan.compose.data_dir))))
            except ValueError:
                continue
    return found


def conflict(plan: InstallPlan) -> tuple[str, str] | None:
    """(what, fix) when ``plan``'s data_dir is, contains or lies in another install's data folder.
    Reads only; ``claim`` refuses on it and ``fabrix check`` reports it."""
    if not plan.compose.data_dir:
        return None
    folder = expand_user_path(plan.compose.data_dir)
    real = _real(folder)
    me = {"install": plan.name, "fabrix_home": str(_real(fabrix_home()))}
    fix = "give each install its own compose.data_dir (or remove the other install first: `fabrix down --name …`)"
    for other, other_dir in _other_installs_dirs(plan.name):
        if _overlaps(real, other_dir):
            return (f"compose.data_dir {folder} is also the data folder of install {other!r} ({other_dir}); "
                    "two installs on one folder would share one database", fix)
    # A claimed folder here, or above/below us (one install's folder inside another's).
    for candidate in [real, *real.parents]:
        owner = _owner_of(candidate)
        if owner is not None and owner != me:
            return (f"compose.data_dir {folder}: {candidate} already holds the data of install "
                    f"{owner.get('install')!r} (FABRIX_HOME {owner.get('fabrix_home')})", fix)
    if real.is_dir():
        for marker in real.glob(f"*/{MARKER}"):
            owner = _owner_of(marker.parent)
            if owner is not None and owner != me:
                return (f"compose.data_dir {folder} contains the data folder {marker.parent} of install "
                        f"{owner.get('install')!r}", fix)
    return None


def claim(plan: InstallPlan) -> Path | None:
    """Check that ``plan``'s data_dir is its own, then mark it so (creates the folder)."""
    if not plan.compose.data_dir:
        return None
    found = conflict(plan)
    if found is not None:
        raise Refused(*found)
    # A file in the way, no write access, a special file system: said with its fix, not as an
    # internal error from mkdir (the launch's "Data folder usable" check says the same).
    from installer.datafolder import folder_problem

    problem = folder_problem(plan)
    if problem is not None:
        raise Refused(problem.found, problem.fix)
    folder = expand_user_path(plan.compose.data_dir)
    real = _real(folder)
    me = {"install": plan.name, "fabrix_home": str(_real(fabrix_home()))}
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # changed between the look and the mkdir
        raise Refused(f"data folder {folder} cannot be created: {exc.strerror or exc}",
                      "point `compose.data_dir` at a folder this user can write") from exc
    if _owner_of(real) != me:
        write_atomic(real / MARKER, (json.dumps(me, indent=1) + "\n").encode("utf-8"), mode=0o644)
    return folder
