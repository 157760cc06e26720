"""Per-service state and health of a Compose project: one ``docker ps`` + one ``docker inspect``.

Used by ``fabrix status`` and, every two seconds, by the launch to show "health: starting" and a
failing streak while Compose waits. Health output may echo configuration, so it is redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from installer.labels import COMPOSE_PROJECT_LABEL, LABEL_COMPONENT
from installer.errors import ToolMissing
from installer.launch.dockercli import last_line, run
from installer.launch.model import ServiceStatus

COMPOSE_SERVICE_LABEL = "com.docker.compose.service"
COMPOSE_ONEOFF_LABEL = "com.docker.compose.oneoff"  # "True" on `docker compose run` containers


def project_status(
    docker: list[str], project: str, secret_values: Iterable[str] = (), strict: bool = False,
    engine: bool = True,
) -> list[ServiceStatus]:
    """Every container of ``project`` (running or not; one-off ``compose run`` containers left
    out, as ``compose ps`` does), sorted by component.

    Asked over the local Engine's socket when the CLI would use it (``engine_api``: no process
    at all), else with two docker CLI calls (``ps --quiet`` by the project's label, then one
    ``inspect``), never ``docker compose ps``: the Compose plugin is a second, heavier process,
    and the launch asks this every two seconds while it waits. ``engine=False``: the CLI only.

    ``strict``: a Docker that does not answer raises ``ToolMissing`` instead of looking like an
    install with nothing running (`fabrix status` must not say "not running" when it cannot see)."""
    from installer.launch.engine_api import project_containers
    from installer.secrets import redact  # lazily: it loads the catalog, `fabrix down` needs neither

    wanted = (f"{COMPOSE_PROJECT_LABEL}={project}", f"{COMPOSE_ONEOFF_LABEL}=False")
    items = project_containers(*wanted) if engine else None
    if items is None:  # not the local socket, or it did not answer: the CLI says what is wrong
        res = run(docker + ["ps", "--all", "--quiet", "--no-trunc",
                            "--filter", f"label={wanted[0]}", "--filter", f"label={wanted[1]}"], timeout=60)
        if res.rc != 0:
            if strict:
                raise ToolMissing(
                    f"could not read the state of {project}: {last_line(res.stderr) or 'docker ps failed'}",
                    "start the Docker Engine (or check DOCKER_HOST) and re-run",
                )
            return []
        idents = res.stdout.split()
        items = _inspect(docker, idents) if idents else []
    values = list(secret_values)
    out: list[ServiceStatus] = []
    for item in items:
        labels = (item.get("Config") or {}).get("Labels") or {}
        state = item.get("State") or {}
        health = state.get("Health") or {}
        log = health.get("Log") or []
        last_output = str(log[-1].get("Output") or "").strip() if log else ""
        out.append(
            ServiceStatus(
                component=str(labels.get(LABEL_COMPONENT) or labels.get(COMPOSE_SERVICE_LABEL) or ""),
                state=str(state.get("Status") or ""),
                health=str(health["Status"]) if health.get("Status") else None,
                failing_streak=int(health.get("FailingStreak") or 0),
                ports=_ports((item.get("NetworkSettings") or {}).get("Ports")),
                last_health_output=redact(last_output, values)[-2000:],
                container=str(item.get("Name") or "").lstrip("/"),
                exit_code=_int(state.get("ExitCode")),
            )
        )
    return sorted(out, key=lambda s: (s.component, s.container))


def _inspect(docker: list[str], idents: list[str]) -> list[dict]:
    """``docker inspect`` of the containers; one removed since ``ps`` is simply not there."""
    res = run(docker + ["inspect", "--type", "container", *idents], timeout=60)
    if not res.stdout.strip():
        return []
    try:
        data = json.loads(res.stdout)
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _ports(bindings: object) -> list[str]:
    """"host:published->target/proto" for every published port (``NetworkSettings.Ports``)."""
    ports = []
    for key, hosts in bindings.items() if isinstance(bindings, dict) else ():
        target, _, proto = str(key).partition("/")
        for h in hosts if isinstance(hosts, list) else []:
            if isinstance(h, dict) and h.get("HostPort"):
                ports.append(f"{h.get('HostIp') or '0.0.0.0'}:{h['HostPort']}->{target}/{proto or 'tcp'}")
    return sorted(set(ports))


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
