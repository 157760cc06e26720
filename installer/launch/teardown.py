"""Remove an install's Compose project, then prove it is gone.

``down`` is addressed by project name only (no compose file): Compose then works from its labels,
so it also removes services of every profile and services the current files no longer define,
and it works even when the rendered bundle is missing or broken (notes/compose-launch.md §2).
A short stop timeout keeps it fast (our services run with ``init: true``).
"""

from __future__ import annotations

from installer.errors import OperationFailed
from installer.launch.compose_progress import Kind, parse_line
from installer.launch.dockercli import ProjectObjects, Stream, project_objects, pump, refuse_foreign, run
from installer.progress import Clock, ProgressEvent, Reporter, State

STOP_TIMEOUT = 3  # seconds Compose waits for a container to stop before killing it


def remove_project(
    docker: list[str],
    project: str,
    volumes: bool,
    reporter: Reporter,
    clock: Clock,
    step: str,
    services: list[str] | None = None,
) -> tuple[str, ProjectObjects]:
    """``compose down`` (containers, networks, and volumes if asked), then a label sweep for
    anything left. Returns (what was removed, in words; what is still there)."""
    before = project_objects(docker, project)
    # `down --remove-orphans` and `--volumes` act on every object with the project label: if any
    # of them is not ours, touch none of them (raises Refused, exit 2).
    refuse_foreign(before, project, "remove")
    if before.empty(include_volumes=volumes):
        return "nothing (no containers or networks were there)", before
    cmd = docker + ["compose", "--progress", "json", "--project-name", project, "down",
                    "--remove-orphans", "--timeout", str(STOP_TIMEOUT)]
    if volumes:
        cmd.append("--volumes")
    stream = Stream(cmd)

    def on_line(_name: str, line: str) -> None:
        parsed = parse_line(line)
        if parsed is None or parsed.kind not in (Kind.container, Kind.network, Kind.volume):
            return
        if parsed.action in ("Removed", "Stopped"):
            service = _service_of(parsed.subject, project, services or [])
            reporter(ProgressEvent(step=step, state=State.rolling_back, service=service,
                                   message=f"{parsed.kind.value} {parsed.subject} {parsed.action.lower()}",
                                   elapsed=clock.elapsed()))

    rc, _ = pump(stream, on_line, cancel=None)
    after = project_objects(docker, project)
    if not after.empty(include_volumes=volumes):
        _sweep(docker, after, volumes)
        after = project_objects(docker, project)
    if not volumes:
        after.volumes = []
    removed = _removed(before, after, volumes)
    if rc != 0 and not after.empty():
        raise OperationFailed(
            f"could not remove {project}: still there: {after.describe()}",
            f"remove them by hand (`docker compose -p {project} down`) and re-run",
        )
    return removed, after


def _sweep(docker: list[str], left: ProjectObjects, volumes: bool) -> None:
    """Belt and braces: remove by label what ``down`` left (e.g. a container created mid-kill)."""
    if left.containers:
        run(docker + ["rm", "--force", "--volumes", *left.containers], timeout=120)
    if left.networks:
        run(docker + ["network", "rm", *left.networks], timeout=60)
    if volumes and left.volumes:
        run(docker + ["volume", "rm", "--force", *left.volumes], timeout=60)


def _removed(before: ProjectObjects, after: ProjectObjects, volumes: bool) -> str:
    parts = []
    for what, b, a in (("container", before.containers, after.containers),
                       ("network", before.networks, after.networks)):
        gone = len(set(b) - set(a))
        if gone:
            parts.append(f"{gone} {what}{'s' if gone != 1 else ''}")
    if volumes:
        gone = len(set(before.volumes) - set(after.volumes))
        if gone:
            parts.append(f"{gone} volume{'s' if gone != 1 else ''}")
    return ", ".join(parts) or "nothing"


def _service_of(subject: str, project: str, services: list[str]) -> str | None:
    """The service of a container ``<project>-<service>-<n>`` (networks/volumes have none)."""
    from installer.launch.compose_progress import container_service

    if services:
        return container_service(subject, project, services)
    rest = subject.removeprefix(f"{project}-")
    base, _, number = rest.rpartition("-")
    return base if rest != subject and number.isdigit() and base else None
