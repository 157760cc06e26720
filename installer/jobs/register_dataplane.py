"""Register the dataplane with the Miso controller from inside the install's network, and keep
the client id and secret the controller issues in Key Vault, where the dataplane reads them.

Runs as the post-deploy registration job (``installer/launch/azure/registration_job.py``): the
controller has internal ingress only and Key Vault a private endpoint, so nothing outside the
network reaches either. The calls to the controller are the vendor's (``registration.py`` next to
this file, the same module the Compose launch runs in-process). Key Vault is reached with the
job's managed identity:

- Container Apps: ``GET $IDENTITY_ENDPOINT?resource=…&api-version=2019-08-01&client_id=…`` with
  the ``X-IDENTITY-HEADER: $IDENTITY_HEADER`` header (MicrosoftDocs/azure-docs
  articles/container-apps/managed-identity.md, "REST endpoint reference"; a user-assigned identity
  must be named, here by ``AZURE_CLIENT_ID``).
- AKS workload identity: the webhook injects ``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``,
  ``AZURE_FEDERATED_TOKEN_FILE`` and ``AZURE_AUTHORITY_HOST``; the token comes from the client
  credentials grant with the projected token as ``client_assertion`` (Microsoft identity platform
  v2-oauth2-client-creds-grant-flow, "third case: access token request with a federated credential").
- Key Vault secrets: ``GET/PUT {vault}/secrets/{name}?api-version=7.4`` with ``{"value": …}``
  (Azure/azure-rest-api-specs specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.4/
  examples/SetSecret-example.json, GetSecret-example.json).

Configuration (no secret in it) comes from ``config.json`` next to this file; ``KEY_VAULT`` (the
vault's name), ``KEY_VAULT_URL`` and ``CONTROLLER_URL`` override it. Exit 0: registered or rotated,
both secrets written. Otherwise the reason on stderr, naming the call that failed, and an exit code
that says which part failed (``EXIT``): a Container Apps job's output is only in Log Analytics,
but its exit code is in the execution's status, so fabrix can name the failing part at once. No
secret value is ever printed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.parse
import urllib.request
from typing import Any

try:  # in the bundle / the job: registration.py sits next to this file
    import registration as flow  # type: ignore[import-not-found]
except ImportError:  # in the fabrix repository (tests)
    from installer.launch import registration as flow

KEY_VAULT_API = "7.4"
IDENTITY_API = "2019-08-01"
TIMEOUT = 30.0


# Exit codes by the part that failed (installer/launch/azure/registration_job.py explains them).
EXIT = {
    "config": 2,  # no vault name / URL, unreadable config.json
    "identity": 3,  # no managed identity token
    "vault-read": 4,  # the controller's client secret could not be read from Key Vault
    "controller": 5,  # the controller was not healthy, refused its own client, or refused the registration
    "vault-write": 6,  # the issued client id/secret could not be written to Key Vault
}


class JobError(Exception):
    """A step of the job failed; the message names it (never a secret), ``part`` says which (EXIT)."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(message)
        self.part = part


def load_config() -> dict[str, Any]:
    loader = globals().get("__loader__")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.json")
    raw = loader.get_data(path) if loader is not None and hasattr(loader, "get_data") else open(path, "rb").read()
    return json.loads(raw)


def vault_url(cfg: dict[str, Any]) -> str:
    if os.environ.get("KEY_VAULT_URL"):
        return os.environ["KEY_VAULT_URL"].rstrip("/")
    name = os.environ.get("KEY_VAULT") or cfg.get("key_vault")
    if not name or not cfg.get("vault_suffix"):
        raise JobError("no Key Vault: set KEY_VAULT (the deployment output keyVaultName) or KEY_VAULT_URL", "config")
    return f"https://{name}.{cfg['vault_suffix']}"


def vault_resource(cfg: dict[str, Any]) -> str:
    """The token audience of Key Vault in the install's cloud (``https://vault.azure.net`` in public Azure)."""
    return os.environ.get("KEY_VAULT_RESOURCE") or "https://" + str(cfg.get("vault_suffix") or "vault.azure.net")


def _error(payload: Any) -> str:
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict):
            return f"{err.get('code', '')}: {err.get('message', '')}".strip(": ")
        if isinstance(err, str):
            return err + (f": {payload['error_description']}" if payload.get("error_description") else "")
    return "no error text"


def access_token(resource: str) -> str:
    """A token for ``resource`` from the job's managed identity (Container Apps or AKS)."""
    client_id = os.environ.get("AZURE_CLIENT_ID", "")
    if os.environ.get("IDENTITY_ENDPOINT") and os.environ.get("IDENTITY_HEADER"):
        query = {"resource": resource, "api-version": IDENTITY_API}
        if client_id:
            query["client_id"] = client_id
        req = urllib.request.Request(os.environ["IDENTITY_ENDPOINT"] + "?" + urllib.parse.urlencode(query),
                                     headers={"X-IDENTITY-HEADER": os.environ["IDENTITY_HEADER"]})
        where = "the Container Apps identity endpoint"
    elif os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
        with open(os.environ["AZURE_FEDERATED_TOKEN_FILE"], encoding="utf-8") as fh:
            assertion = fh.read().strip()
        authority = os.environ.get("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/").rstrip("/")
        form = {"client_id": client_id, "grant_type": "client_credentials", "scope": resource.rstrip("/") + "/.default",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion}
        req = urllib.request.Request(f"{authority}/{os.environ.get('AZURE_TENANT_ID', '')}/oauth2/v2.0/token",
                                     data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        where = "Microsoft Entra ID (workload identity)"
    else:
        raise JobError("no managed identity: neither IDENTITY_ENDPOINT/IDENTITY_HEADER (Container Apps) nor "
                       "AZURE_FEDERATED_TOKEN_FILE (AKS workload identity) is set", "identity")
    try:
        status, payload = flow.send_request(req, TIMEOUT)
    except OSError as exc:
        raise JobError(f"{where} did not answer: {exc}", "identity") from None
    token = payload.get("access_token") if isinstance(payload, dict) else None
    if status != 200 or not isinstance(token, str) or not token:
        raise JobError(f"{where} gave no token for {resource} (HTTP {status}: {_error(payload)})", "identity")
    return token


class Vault:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}/secrets/{urllib.parse.quote(name)}?api-version={KEY_VAULT_API}",
                                     data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                                              **({"Content-Type": "application/json"} if data else {})})
        try:
            return flow.send_request(req, TIMEOUT)
        except OSError as exc:
            raise JobError(f"Key Vault {self.url} did not answer ({method} secret {name}): {exc}",
                           "vault-read" if method == "GET" else "vault-write") from None

    def get(self, name: str) -> str:
        status, payload = self._call("GET", name)
        value = payload.get("value") if isinstance(payload, dict) else None
        if status != 200 or not isinstance(value, str):
            raise JobError(f"Key Vault {self.url}: reading secret {name} failed (HTTP {status}: {_error(payload)})",
                           "vault-read")
        return value

    def set(self, name: str, value: str) -> None:
        status, payload = self._call("PUT", name, {"value": value, "contentType": "text/plain"})
        if status != 200:
            raise JobError(f"Key Vault {self.url}: writing secret {name} failed (HTTP {status}: {_error(payload)})",
                           "vault-write")


def main() -> int:
    try:
        try:
            cfg = load_config()
        except (OSError, ValueError) as exc:
            raise JobError(f"config.json could not be read: {exc}", "config") from None
        url = vault_url(cfg)
        controller_url = os.environ.get("CONTROLLER_URL") or cfg["controller_url"]
        vault = Vault(url, access_token(vault_resource(cfg)))
        controller = flow.Credentials(cfg["controller_client_id"], vault.get(cfg["controller_secret"]))
        print(f"fabrix: registering the dataplane with the Miso controller at {controller_url}", flush=True)
        try:
            reg = flow.register_dataplane(controller_url, controller, cfg["body"], threading.Event(),
                                          health_budget=float(cfg.get("health_budget", 600)))
        except flow.RegistrationFailed as exc:
            raise JobError(str(exc), "controller") from None
        except OSError as exc:
            raise JobError(f"the Miso controller did not answer: {exc}", "controller") from None
        vault.set(cfg["issued"]["client_id"], reg.credentials.client_id)
        vault.set(cfg["issued"]["client_secret"], reg.credentials.client_secret)
    except JobError as exc:
        print(f"fabrix: the dataplane registration failed: {exc}", file=sys.stderr, flush=True)
        return EXIT[exc.part]
    print(f"fabrix: dataplane {reg.action} with the controller (environment {flow.ENVIRONMENT}); its client id and "
          f"secret are in Key Vault {url} as {cfg['issued']['client_id']} and {cfg['issued']['client_secret']}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
