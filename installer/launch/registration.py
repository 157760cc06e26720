"""Register the dataplane with the Miso controller, the calls the vendor's CLI makes.

Facts (esystemsdev/aifabrix-builder):
- ``lib/commands/up-dataplane.js``: controller healthy (``GET /health``) → authenticated →
  the app exists? (``GET /api/v1/environments/{env}/applications/{app}``, 404 = no) → rotate its
  secret (``POST .../applications/{app}/rotate-secret``) or register it
  (``POST /api/v1/environments/{env}/applications/register``) → keep the issued client id/secret
  → deploy → run the dataplane. The dataplane lives in environment ``dev`` ("Dataplane is only
  supported in dev environment"), which the controller's onboarding creates with
  ``ONBOARDING_CREATE_DEV_ENV=true``.
- Authentication: the CLI uses a person's device-code token; fabrix has no person at this point,
  so it uses the controller's client-credentials path (``lib/api/auth.api.js``:
  ``POST /api/v1/auth/token`` with ``x-client-id``/``x-client-secret``, the token in ``token``),
  with the controller's own client (``MISO_CLIENTID``/``MISO_CLIENTSECRET``).
- Registration body (``lib/app/register.js`` buildRegistrationData): key, displayName,
  description, type, registryMode, port, image, url. Response (``lib/utils/app-register-api.js``):
  ``{application, credentials: {clientId, clientSecret}}``, directly or under ``data``; rotate
  returns ``{credentials}`` the same way (``lib/app/rotate-secret.js``).
- The deploy call (``POST .../applications/deploy``) sends the controller a deployment manifest;
  with ``DEPLOYMENT=database`` it only records it. fabrix runs the container itself and does not
  send one.

No value of a credential is ever put in an error message: callers redact with the secret store.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

ENVIRONMENT = "dev"
APP_KEY = "dataplane"
HEALTH_PATH = "/health"


class RegistrationFailed(Exception):
    """The controller refused (or never answered): the reason, naming the call and its status."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Registration:
    credentials: Credentials
    action: str  # "registered" or "rotated"


def _call(method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None,
          timeout: float) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Accept": "application/json", **headers,
                                          **({"Content-Type": "application/json"} if data is not None else {})})
    return send_request(req, timeout)


def send_request(req: urllib.request.Request, timeout: float) -> tuple[int, Any]:
    """(HTTP status, JSON body or None) for ``req``; an HTTP error status is an answer, not an
    exception. The Azure registration job (``installer/jobs/register_dataplane.py``) ships this
    module and sends its identity and Key Vault calls through it too."""
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http on the host)
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw.decode() or "null")
    except (ValueError, UnicodeDecodeError):
        return status, None


def _error_text(payload: Any) -> str:
    if isinstance(payload, dict):
        for key in ("error", "message", "detail"):
            if isinstance(payload.get(key), str):
                return payload[key]
    return "no error text"


def _unwrap(payload: Any, key: str) -> Any:
    """``payload[key]``, or ``payload['data'][key]`` (the controller's wrapped form)."""
    if isinstance(payload, dict):
        if key in payload:
            return payload[key]
        data = payload.get("data")
        if isinstance(data, dict) and key in data:
            return data[key]
    return None


def _credentials(payload: Any, what: str) -> Credentials:
    cred = _unwrap(payload, "credentials")
    if not (isinstance(cred, dict) and isinstance(cred.get("clientId"), str) and isinstance(cred.get("clientSecret"), str)
            and cred["clientId"] and cred["clientSecret"]):
        raise RegistrationFailed(f"{what}: the controller's answer has no credentials (clientId, clientSecret)")
    return Credentials(cred["clientId"], cred["clientSecret"])


def wait_healthy(base_url: str, budget: float, cancel: threading.Event) -> None:
    deadline = time.monotonic() + budget
    last = "no answer"
    while True:
        try:
            status, _ = _call("GET", base_url + HEALTH_PATH, {}, None, timeout=5)
            if 200 <= status < 300:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = str(getattr(exc, "reason", exc))
        if cancel.is_set() or time.monotonic() > deadline:
            raise RegistrationFailed(f"the Miso controller at {base_url}{HEALTH_PATH} is not healthy ({last})")
        cancel.wait(1.0)


def register_dataplane(base_url: str, controller: Credentials, app: dict[str, Any],
                       cancel: threading.Event, timeout: float = 30, health_budget: float = 60) -> Registration:
    """Register (or rotate) the dataplane in environment ``dev``; the credentials it must use."""
    base_url = base_url.rstrip("/")
    wait_healthy(base_url, health_budget, cancel)
    status, payload = _call("POST", base_url + "/api/v1/auth/token",
                            {"x-client-id": controller.client_id, "x-client-secret": controller.client_secret},
                            None, timeout)
    token = _unwrap(payload, "token")
    if status != 200 or not isinstance(token, str) or not token:
        raise RegistrationFailed(f"POST /api/v1/auth/token: the controller refused its own client "
                                 f"(HTTP {status}: {_error_text(payload)})")
    auth = {"Authorization": f"Bearer {token}"}
    env_path = f"{base_url}/api/v1/environments/{ENVIRONMENT}/applications"
    status, payload = _call("GET", f"{env_path}/{APP_KEY}", auth, None, timeout)
    if status == 200:
        status, payload = _call("POST", f"{env_path}/{APP_KEY}/rotate-secret", auth, None, timeout)
        if status not in (200, 201):
            raise RegistrationFailed(f"POST /api/v1/environments/{ENVIRONMENT}/applications/{APP_KEY}/rotate-secret: "
                                     f"refused (HTTP {status}: {_error_text(payload)})")
        return Registration(_credentials(payload, "rotate-secret"), "rotated")
    if status != 404:
        raise RegistrationFailed(f"GET /api/v1/environments/{ENVIRONMENT}/applications/{APP_KEY}: "
                                 f"HTTP {status}: {_error_text(payload)}")
    status, payload = _call("POST", f"{env_path}/register", auth, app, timeout)
    if status not in (200, 201):
        raise RegistrationFailed(f"POST /api/v1/environments/{ENVIRONMENT}/applications/register: "
                                 f"refused (HTTP {status}: {_error_text(payload)})")
    return Registration(_credentials(payload, "register"), "registered")


def registration_body(image: str, port: int, url: str, registry_mode: str) -> dict[str, Any]:
    """What the vendor's CLI sends for the dataplane (B: templates/applications/dataplane/application.yaml)."""
    return {
        "key": APP_KEY,
        "displayName": "AI Fabrix Dataplane",
        "description": "AI Fabrix Dataplane: governed enterprise data for AI agents (CIP, RBAC/ABAC, MCP, OpenAPI)",
        "type": "webapp",
        "registryMode": registry_mode,
        "port": port,
        "image": image,
        "url": url,
    }
