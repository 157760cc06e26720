"""Per-service state and health of a Compose project: one ``compose ps`` + one ``docker inspect``.

Used by ``fabrix status`` and, every second, by the launch to show "health: starting" and a
failing streak while Compose waits. Health output may echo configuration, so it is redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from installer.labels import LABEL_COMPONENT
from installer.errors import ToolMissing
from installer.launch.dockercli import json_lines, last_line, run
from installer.launch.model import ServiceStatus


def project_status(
    docker: list[str], project: str, secret_values: Iterable[str] = (), strict: bool = False
) -> list[ServiceStatus]:
    """Every container of ``project`` (running or not), sorted by component.

    ``strict``: a Docker that does not answer raises ``ToolMissing`` instead of looking like an
    install with nothing running (`fabrix status` must not say "not running" when it cannot see)."""
    from installer.secrets import redact  # lazily: it loads the catalog, `fabrix down` needs neither

    res = run(docker + ["compose", "--project-name", project, "ps", "--all", "--format", "json"], timeout=60)
    if res.rc != 0:
        if strict:
            raise ToolMissing(
                f"could not read the state of {project}: {last_line(res.stderr) or 'docker compose ps failed'}",
                "start the Docker Engine (or check DOCKER_HOST) and re-run",
            )
        return []
    rows = json_lines(res.stdout)
    if not rows:
        return []
    details = _inspect(docker, [str(r.get("ID") or r.get("Name")) for r in rows])
    values = list(secret_values)
    out: list[ServiceStatus] = []
    for row in rows:
        ident = str(row.get("ID") or "")
        info = details.get(ident) or details.get(str(row.get("Name") or "")) or {}
        health = info.get("health") or {}
        log = health.get("Log") or []
        last_output = str(log[-1].get("Output") or "").strip() if log else ""
        out.append(
            ServiceStatus(
                component=str(info.get("component") or row.get("Service") or ""),
                state=str(row.get("State") or ""),
                health=(str(row.get("Health")) or None) if row.get("Health") else None,
                failing_streak=int(health.get("FailingStreak") or 0),
                ports=_ports(row.get("Publishers")),
                last_health_output=redact(last_output, values)[-2000:],
                container=str(row.get("Name") or ""),
                exit_code=_int(row.get("ExitCode")),
            )
        )
    return sorted(out, key=lambda s: (s.component, s.container))


def _inspect(docker: list[str], idents: list[str]) -> dict[str, dict]:
    res = run(docker + ["inspect", "--type", "container", *idents], timeout=60)
    if not res.stdout.strip():
        return {}
    try:
        data = json.loads(res.stdout)
    except ValueError:
        return {}
    found: dict[str, dict] = {}
    for item in data if isinstance(data, list) else []:
        labels = (item.get("Config") or {}).get("Labels") or {}
        entry = {"health": (item.get("State") or {}).get("Health") or {}, "component": labels.get(LABEL_COMPONENT)}
        full = str(item.get("Id") or "")
        found[full[:12]] = entry
        found[str(item.get("Name") or "").lstrip("/")] = entry
    return found


def _ports(publishers: object) -> list[str]:
    ports = []
    for p in publishers if isinstance(publishers, list) else []:
        if not isinstance(p, dict) or not p.get("PublishedPort"):
            continue
        ports.append(f"{p.get('URL') or '0.0.0.0'}:{p['PublishedPort']}->{p.get('TargetPort')}/{p.get('Protocol') or 'tcp'}")
    return sorted(set(ports))


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
