"""The Azure launch: ``installer.launch.runner`` driving ``AzureBackend`` (see backend.py).

- ``launch_azure(plan, reporter, cancel=None, resume=False, keep=None, allow_foreign=False, session=None)``
- ``preview(plan, reporter, session=None) -> Preview`` (``fabrix up --preview``; changes nothing)
- ``teardown.rollback_run`` / ``teardown.down`` / ``teardown.status`` (``fabrix rollback/down/status``)
"""

from __future__ import annotations

import threading
from typing import Any

from installer.launch.model import LaunchResult
from installer.plan import InstallPlan
from installer.progress import Reporter


def launch_azure(plan: InstallPlan, reporter: Reporter, cancel: threading.Event | None = None, resume: bool = False,
                 keep: threading.Event | None = None, allow_foreign: bool = False, session: Any = None) -> LaunchResult:
    from installer.launch.azure.backend import AzureBackend
    from installer.launch.runner import launch_with

    return launch_with(plan, AzureBackend(allow_foreign=allow_foreign, session=session), reporter,
                       cancel=cancel, resume=resume, keep=keep)
