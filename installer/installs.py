"""The installs on this machine and the state each is in, for the wizard's Welcome screen.

Built on the engine's own lifecycle functions (``installer.launch``: ``status``,
``unfinished_run``), so the wizard and ``fabrix status`` can never disagree. Talks to Docker:
call it from a worker thread, never from a UI event handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from installer.errors import FabrixError
from installer.state import install_dir, list_installs


class InstallState(StrEnum):
    running = "running"  # every service up (healthy, or running without a health check)
    failed = "failed"  # a service is unhealthy, or exited with an error
    starting = "starting"  # up, some health checks still starting
    unfinished = "unfinished"  # a launch began and never ended (its journal says where it stopped)
    stopped = "stopped"  # a state folder, but nothing of it runs
    azure = "on Azure"  # launched into Azure: only ARM knows its state (`fabrix status --name N` asks)
    unknown = "unknown"  # Docker did not answer


@dataclass(frozen=True)
class InstallInfo:
    name: str
    state: InstallState
    detail: str  # one line in words: how many services, which one is wrong, where a launch stopped
    services: list[object] = field(default_factory=list)  # installer.launch.model.ServiceStatus
    azure: bool = False  # the install's answers target Azure (its state is ARM's, not Docker's)

    def describe(self) -> str:
        return f"{self.name} — {self.state.value}: {self.detail}"


def _state_of(services: list[object]) -> tuple[InstallState, str]:
    bad = [s for s in services if getattr(s, "health", None) == "unhealthy"
           or (getattr(s, "state", "") in ("exited", "dead") and (getattr(s, "exit_code", 0) or 0) != 0)]
    if bad:
        names = ", ".join(getattr(s, "component", "?") for s in bad)
        return InstallState.failed, f"{names} not healthy ({len(services)} service(s))"
    starting = [s for s in services if getattr(s, "health", None) == "starting"
                or getattr(s, "state", "") in ("created", "restarting")]
    if starting:
        return InstallState.starting, f"{len(starting)} of {len(services)} service(s) still starting"
    return InstallState.running, f"{len(services)} service(s) up"


def describe_install(name: str) -> InstallInfo:
    """The state of one install (reads its journal; asks Docker for its containers)."""
    from installer.launch import status, unfinished_run

    run = unfinished_run(name)
    azure = _azure_group(name)
    if azure is not None:
        # Docker has nothing of an Azure install; asking ARM would sign in for every install on
        # Welcome, so the list says where it lives and which command asks ARM.
        if run is not None:
            return InstallInfo(name, InstallState.unfinished, run.describe(), azure=True)
        launched = install_dir(name).journal.exists()
        return InstallInfo(name, InstallState.azure if launched else InstallState.stopped,
                           f"resource group {azure}; `fabrix status --name {name}` asks ARM" if launched
                           else "planned, never launched", azure=True)
    try:
        services = list(status(name))
    except FabrixError as exc:
        return InstallInfo(name, InstallState.unknown, f"Docker did not answer: {exc.message}")
    if run is not None:
        describe = getattr(run, "describe", None)
        where = describe() if callable(describe) else f"stopped at {run.last_step}"
        return InstallInfo(name, InstallState.unfinished, where, services)
    if not services:
        launched = install_dir(name).journal.exists()
        return InstallInfo(name, InstallState.stopped,
                           "nothing running" if launched else "planned, never launched", services)
    state, detail = _state_of(services)
    return InstallInfo(name, state, detail, services)


def _azure_group(name: str) -> str | None:
    """The resource group of an Azure install (from its saved answers), None for Compose."""
    try:
        from installer.launch.azure.teardown import plan_of
        from installer.render.workload import azure_names

        plan = plan_of(name)
        return azure_names(plan).resource_group if plan is not None else None
    except (FabrixError, ImportError, OSError):
        return None


def survey() -> list[InstallInfo]:
    """Every install under FABRIX_HOME with its state, by name."""
    return [describe_install(name) for name in sorted(list_installs())]


def log_tail(name: str, lines: int = 20) -> list[str]:
    """The last lines of the install's operator log (install.log: never holds a secret)."""
    path = install_dir(name).log
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [_event_line(line) for line in text.splitlines()[-lines:]]


def _event_line(line: str) -> str:
    """One install.log JSON event as the Launch screen words it; anything else as it is."""
    import json

    try:
        event = json.loads(line)
    except ValueError:
        return line
    if not isinstance(event, dict):
        return line
    head = " ".join(str(event[k]) for k in ("step", "service") if event.get(k))
    message = f" — {event['message']}" if event.get("message") else ""
    return f"{head}: {event.get('state', '')}{message}"


def install_addresses(name: str) -> list[tuple[str, str]]:
    """Where each component of a Compose install is reached from this machine, front-door URLs
    first (the bundle README's order), read from the answers the launch saved: the ports a
    person chose and the front door's routes, not guessed from whatever Docker publishes (a
    database port is not a web page). Empty when the install has no saved answers or is not a
    Compose install."""
    from installer.answers import load_answers
    from installer.catalog import load_catalog
    from installer.plan import DeploymentModel, Target
    from installer.render.compose import front_door_url, public_host, service_address

    answers = install_dir(name).answers
    if not answers.is_file():
        return []
    try:
        plan = load_answers(answers)
    except FabrixError:
        return []  # a hand-edited answers file is `fabrix validate`'s to explain, not this view's
    if plan.model is not DeploymentModel.container or plan.effective_target() is not Target.compose:
        return []
    catalog = load_catalog()
    enabled = plan.enabled_components(catalog)
    found = [(c, url + "/") for c in enabled if (url := front_door_url(plan, catalog, c))]
    for c in enabled:
        port = plan.host_port(c, catalog)
        if port is not None:
            found.append((c, service_address(catalog.components[c], public_host(plan), port)))
    return found
