"""What the wizard needs from the outside world, passed in so tests can pin it.

Everything here is a plain callable over the engine. The defaults call the real engine; tests
replace only what makes a screenshot machine-specific (Docker versions, paths, clocks) and keep
the real engine for everything else.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer.checks import Check, checks_for
from installer.plan import InstallPlan
from installer.progress import Reporter
from installer.render import Bundle
from installer.state import fabrix_home


@dataclass(frozen=True)
class Facts:
    """What the Welcome screen reports about this machine."""

    docker: str
    compose: str
    azure_cli: str
    state_dir: str


class NotBuilt(Exception):
    """A part of the engine this wizard would call is not in this build (said honestly in the UI)."""


def _optional(module: str, name: str) -> Any:
    """``module:name`` from the engine, or raise NotBuilt naming what is missing."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise NotBuilt(f"{module}.{name} is not part of this build ({exc})") from None


def probe_facts() -> Facts:
    """Docker/Compose versions and Azure CLI sign-in. Blocking: call it from a thread worker."""
    docker = compose = "not checked"
    try:
        info = _optional("installer.dockerenv", "probe_docker")()
        docker = f"Docker Engine {info.server_version}" if info.server_version else (
            info.problems[0].message if info.problems else "engine not reachable")
        compose = f"Compose {info.compose_version}" if info.compose_version else "Compose v2 not found"
    except NotBuilt:
        docker, compose = _docker_cli_versions()
    return Facts(docker=docker, compose=compose or "not found", azure_cli=_azure_cli(), state_dir=str(fabrix_home()))


def _run(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _docker_cli_versions() -> tuple[str, str]:
    if shutil.which("docker") is None:
        return "not found (install Docker Engine or Docker Desktop)", "not found"
    engine = _run(["docker", "version", "--format", "{{.Server.Version}}"])
    compose = _run(["docker", "compose", "version", "--short"])
    return (
        f"Docker Engine {engine}" if engine else "installed, but the engine is not reachable",
        f"Compose {compose.lstrip('v')}" if compose else "Compose v2 plugin not found",
    )


def _azure_cli() -> str:
    if shutil.which("az") is None:
        return "Azure CLI not installed (optional: sign-in also works without it)"
    user = _run(["az", "account", "show", "--query", "user.name", "-o", "tsv"])
    return f"Azure CLI signed in as {user}" if user else "Azure CLI installed, not signed in"


def default_render(plan: InstallPlan) -> Bundle:
    render_and_validate = _optional("installer.pipeline", "render_and_validate")
    try:
        return render_and_validate(plan)[0]
    except ModuleNotFoundError as exc:
        raise NotBuilt(f"the renderer for this path is not part of this build ({exc.name})") from None


def default_launch(
    plan: InstallPlan,
    reporter: Reporter,
    cancel: threading.Event,
    resume: bool = False,
    timeout: int = 600,
    keep: threading.Event | None = None,
    **azure: Any,
) -> Any:
    """``installer.launch.launch``; ``azure`` holds ``allow_foreign`` and ``session`` for Azure plans."""
    return _optional("installer.launch", "launch")(
        plan, reporter, cancel, resume=resume, timeout=timeout, keep=keep, **azure
    )


def default_preview(plan: InstallPlan, session: Any) -> Any:
    """ARM's what-if of the plan (``installer.launch.azure.backend.preview``): changes nothing."""
    from installer.progress import null_reporter

    return _optional("installer.launch.azure.backend", "preview")(plan, null_reporter, session=session)


def default_rollback(name: str, reporter: Reporter) -> Any:
    return _optional("installer.launch", "rollback")(name, reporter)


def default_unfinished_run(name: str) -> Any:
    try:
        return _optional("installer.launch", "unfinished_run")(name)
    except NotBuilt:
        return None


def default_installs() -> list[Any]:
    from installer.installs import survey

    return survey()


def default_down(name: str, volumes: bool, reporter: Reporter) -> None:
    _optional("installer.launch", "down")(name, volumes, reporter)


@dataclass
class WizardDeps:
    facts: Callable[[], Facts] = probe_facts
    checks: Callable[[InstallPlan], list[Check]] = checks_for
    render: Callable[[InstallPlan], Bundle] = default_render
    launch: Callable[..., Any] = default_launch
    # Review's what-if for an Azure plan: (plan, the wizard's AzureSession or None) -> Preview.
    preview: Callable[[InstallPlan, Any], Any] = default_preview
    rollback: Callable[[str, Reporter], Any] = default_rollback
    unfinished_run: Callable[[str], Any] = default_unfinished_run
    # The installs on this machine with their state (installer.installs.survey; asks Docker).
    installs: Callable[[], list[Any]] = default_installs
    down: Callable[[str, bool, Reporter], None] = default_down
    # Offer device-code sign-in (the code is shown in the wizard) when no other credential works.
    azure_device_code: bool = True
    # Seconds the launch waits for every service to be healthy before it fails (and rolls back).
    launch_timeout: int = 600
    # Seconds since some fixed point; the Launch screen's elapsed time reads it (tests freeze it).
    clock: Callable[[], float] = time.monotonic
    # Where "save answers" and "export" propose to write (the folder the person started in).
    workdir: Path = field(default_factory=lambda: Path(os.getcwd()))
