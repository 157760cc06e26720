"""Where installs keep their state: ``$FABRIX_HOME/installs/<name>/``.

One folder per install holds the answers, the secret store (0600), the rendered bundle, the
launch journal and the log. Nothing else in the engine builds these paths by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_state_path

from installer.errors import UsageError


def fabrix_home() -> Path:
    """``FABRIX_HOME`` if set, else the platform's user state dir (e.g. ~/.local/state/fabrix)."""
    env = os.environ.get("FABRIX_HOME")
    return Path(env).expanduser() if env else user_state_path("fabrix")


@dataclass(frozen=True)
class InstallDir:
    name: str
    root: Path

    @property
    def answers(self) -> Path:
        return self.root / "answers.yaml"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets.env"

    @property
    def bundle(self) -> Path:
        return self.root / "bundle"

    @property
    def journal(self) -> Path:
        return self.root / "journal.jsonl"

    @property
    def log(self) -> Path:
        return self.root / "install.log"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def wizard_state(self) -> Path:
        return self.root / "wizard.yaml"

    def exists(self) -> bool:
        return self.root.is_dir()

    def create(self) -> InstallDir:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self


def check_name(name: str) -> str:
    """``name`` if it is a valid install name (the answers file's rule), else ``UsageError``:
    a ``--name`` like ``../../victim`` must never become a path outside FABRIX_HOME."""
    from installer.labels import INSTALL_NAME

    if not isinstance(name, str) or not INSTALL_NAME.match(name):
        shown = repr(name)
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        raise UsageError(
            f"{shown} is not a valid install name",
            "use 1–40 lowercase letters, digits and '-', starting with a letter (as in the answers file's `name:`)",
        )
    return name


def install_dir(name: str) -> InstallDir:
    return InstallDir(name=name, root=fabrix_home() / "installs" / check_name(name))


def existing_install(name: str) -> InstallDir:
    """The state folder of an install that must already exist (for status/down/rollback)."""
    found = install_dir(name)
    if not found.exists():
        known = list_installs()
        listing = ", ".join(known) if known else "none yet"
        raise UsageError(
            f"no install named {name!r} under {fabrix_home() / 'installs'} (known: {listing})",
            "pass --name with one of the known installs, or set FABRIX_HOME to where it lives",
        )
    return found


def list_installs() -> list[str]:
    base = fabrix_home() / "installs"
    if not base.is_dir():
        return []
    from installer.labels import INSTALL_NAME

    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.is_symlink() and INSTALL_NAME.match(p.name))


def resume_command(name: str, answers: str | os.PathLike[str] | None = None) -> str:
    """The command that continues ``name``'s unfinished launch, as it can be typed.

    The launch saves the answers it ran with in the install's folder, so the hint names that
    file (a person rarely remembers which file they passed, and the wizard passed none);
    ``answers`` wins when the caller knows the file the person used."""
    import shlex

    path = Path(answers) if answers else install_dir(name).answers
    if not answers and not path.is_file():
        return "fabrix up --answers FILE --resume"
    return f"fabrix up --answers {shlex.quote(str(path))} --resume"
