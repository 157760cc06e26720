"""Save and resume the in-progress wizard: the plan so far and the step the person was on.

The file is the answers file plus one ``wizardStep`` key, written atomically after every step, to
``$FABRIX_HOME/wizard.yaml`` (the one unfinished wizard the Welcome screen offers to resume) and,
once the install's folder exists, to that install's ``wizard_state`` path too. Secrets never go
here: the registry password lives in the install's SecretStore.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from installer.answers import plan_from_dict
from installer.errors import UsageError
from installer.flow import Step
from installer.fsutil import write_atomic
from installer.plan import InstallPlan
from installer.state import fabrix_home, install_dir

_STEP_KEY = "wizardStep"


@dataclass(frozen=True)
class WizardProgress:
    plan: InstallPlan
    step: Step


def default_path() -> Path:
    return fabrix_home() / "wizard.yaml"


def _body(progress: WizardProgress) -> bytes:
    data = {**progress.plan.to_answers_dict(), _STEP_KEY: progress.step.value}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def save_progress(progress: WizardProgress, path: Path | None = None) -> Path:
    """Write the progress; returns the main file written."""
    target = path or default_path()
    body = _body(progress)
    write_atomic(target, body)
    folder = install_dir(progress.plan.name)
    if path is None and folder.exists():
        write_atomic(folder.wizard_state, body)
    return target


def load_progress(path: Path | None = None) -> WizardProgress | None:
    """The saved progress, or None when there is none or it no longer reads as a valid plan.

    A stale or hand-broken file must never stop the wizard from opening: it is only an offer.
    """
    source = path or default_path()
    if not source.is_file():
        return None
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    raw_step = data.pop(_STEP_KEY, Step.welcome.value)
    try:
        step = Step(raw_step)
        plan = plan_from_dict(data, str(source))
    except (ValueError, UsageError):
        return None
    return WizardProgress(plan=plan, step=step)


def clear_progress(path: Path | None = None) -> None:
    """Forget the unfinished wizard (after a successful launch, or when the person starts over)."""
    (path or default_path()).unlink(missing_ok=True)
