"""Read-only questions to the local Docker Engine over its Unix socket, without starting a process.

The launch reads its services' health every two seconds while Compose waits; through the CLI each
read costs two ``docker`` processes (a few hundredths of a second of CPU each, which a loaded
machine feels), over the socket about a millisecond. Used only when the docker CLI would talk to
that same socket: ``DOCKER_HOST`` unset or ``unix://…``, and no context other than ``default``
(``DOCKER_CONTEXT`` or the CLI config's ``currentContext``). Anything else (TCP, SSH, Docker
Desktop's own context, Windows), and any error, returns None: the caller then asks the CLI.

The JSON is the Engine API's own (``GET /containers/json``, ``GET /containers/{id}/json``), the
same documents ``docker ps`` and ``docker inspect`` print.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import urllib.parse
from pathlib import Path
from typing import Any

DEFAULT_SOCKET = "/var/run/docker.sock"
TIMEOUT_S = 10.0


def local_socket() -> str | None:
    """The Unix socket the docker CLI would use, or None when it would use anything else."""
    if sys.platform == "win32":
        return None
    host = os.environ.get("DOCKER_HOST", "").strip()
    if host:
        return host.removeprefix("unix://") if host.startswith("unix://") else None
    if os.environ.get("DOCKER_CONTEXT", "default").strip() not in ("", "default"):
        return None
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        current = json.loads(config.read_text(encoding="utf-8")).get("currentContext") or "default"
    except FileNotFoundError:
        current = "default"
    except (OSError, ValueError, AttributeError):
        return None  # a config we cannot read: let the CLI decide
    if current != "default":
        return None
    return DEFAULT_SOCKET if Path(DEFAULT_SOCKET).exists() else None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT_S)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _get(conn: _UnixConnection, path: str) -> tuple[int, Any]:
    conn.request("GET", path, headers={"Host": "docker"})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, (json.loads(body) if body else None)


def project_containers(*labels: str) -> list[dict[str, Any]] | None:
    """``docker inspect`` of every container (running or not) carrying all the given labels
    (``key=value``), or None when the local Engine cannot be asked this way."""
    path = local_socket()
    if path is None:
        return None
    filters = json.dumps({"label": list(labels)})
    conn = _UnixConnection(path)
    try:
        status, listing = _get(conn, "/containers/json?all=1&filters=" + urllib.parse.quote(filters))
        if status != 200 or not isinstance(listing, list):
            return None
        out = []
        for row in listing:
            ident = str(row.get("Id") or "") if isinstance(row, dict) else ""
            if not ident:
                continue
            status, item = _get(conn, f"/containers/{urllib.parse.quote(ident)}/json")
            if status == 404:
                continue  # removed since the listing, as `docker inspect` would not find it
            if status != 200 or not isinstance(item, dict):
                return None
            out.append(item)
        return out
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()
