"""Parse ``docker compose --progress json`` lines (stderr) into typed progress items.

Two schemas exist (notes/compose-launch.md §4):
- Compose 2.29–2.40: containers/networks/volumes put the action in ``status``
  (``{"id":"Container p-db-1","status":"Healthy"}``); pulls put it in ``text`` and an error in
  ``status``; layers carry ``parent_id`` (the service) and ``current``/``total``.
- Compose ≥5: ``status`` is a level (``Working|Done|Warning|Error``), the action moves to ``text``,
  and ``details`` carries extra text.
A line that is not JSON (the classic builder prints plain text) is kept as a raw log line; a line
with ``error: true`` is the final failure (its ``message`` is absent after SIGINT); a line with
``level`` is a logrus warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

_V5_LEVELS = {"Working", "Done", "Warning", "Error"}


class Kind(StrEnum):
    container = "container"
    network = "network"
    volume = "volume"
    image = "image"  # pull of a service's image, or one of its layers (``parent_id`` set)
    error = "error"  # the final ``{"error": true}`` line
    warning = "warning"
    raw = "raw"  # not JSON: keep it as a log line


@dataclass(frozen=True)
class ComposeLine:
    kind: Kind
    subject: str = ""  # container/network/volume name, service (pull) or layer id
    action: str = ""  # Creating, Started, Healthy, Pulling, Error, …
    detail: str = ""  # error text, v5 details, warning message, raw text
    parent: str | None = None  # pull layer lines: the service
    current: int | None = None
    total: int | None = None


def parse_line(line: str) -> ComposeLine | None:
    """One stderr line → ``ComposeLine``; blank lines → ``None``. Never raises."""
    text = line.strip()
    if not text:
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return ComposeLine(Kind.raw, detail=text)
    if not isinstance(obj, dict):
        return ComposeLine(Kind.raw, detail=text)
    if obj.get("error") is True:
        return ComposeLine(Kind.error, detail=str(obj.get("message") or ""))
    if "level" in obj and "id" not in obj:
        return ComposeLine(Kind.warning, action=str(obj.get("level")), detail=str(obj.get("msg") or ""))
    ident = str(obj.get("id") or "")
    status = str(obj.get("status") or "")
    msg_text = str(obj.get("text") or "")
    details = str(obj.get("details") or "")
    if status in _V5_LEVELS and msg_text:
        action = msg_text
        if status == "Error" and not details:
            details = "error"
    elif status and msg_text:
        # v2 pull shape: action in text, an error (or extra info) in status
        action, details = msg_text, details or status
    else:
        action = status or msg_text
    kind, subject = _subject(ident)
    parent = obj.get("parent_id") or None
    if parent:
        kind = Kind.image
    return ComposeLine(
        kind=kind,
        subject=subject,
        action=action,
        detail=details,
        parent=str(parent) if parent else None,
        current=_int(obj.get("current")),
        total=_int(obj.get("total")),
    )


def _subject(ident: str) -> tuple[Kind, str]:
    for prefix, kind in (("Container ", Kind.container), ("Network ", Kind.network), ("Volume ", Kind.volume)):
        if ident.startswith(prefix):
            return kind, ident[len(prefix):]
    # Pull lines name the service (or the image) without a prefix.
    return Kind.image, ident


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def container_service(container: str, project: str, services: list[str]) -> str | None:
    """``fabrix-x-keycloak-1`` → ``keycloak`` (Compose names containers ``<project>-<service>-<n>``)."""
    prefix = f"{project}-"
    if not container.startswith(prefix):
        return None
    rest = container[len(prefix):]
    base, _, number = rest.rpartition("-")
    if number.isdigit() and base in services:
        return base
    # Longest matching service name (service names may contain '-').
    for name in sorted(services, key=len, reverse=True):
        if rest.startswith(name + "-") or rest == name:
            return name
    return None
