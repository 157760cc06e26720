"""A Key Vault data-plane stand-in plus the two managed-identity token endpoints, so the Azure
registration program (installer/jobs/register_dataplane.py) runs for real here.

Key Vault rules it enforces (the secret API's shape: Azure/azure-rest-api-specs
``specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.4/examples/SetSecret-example.json``
and ``GetSecret-example.json``; ``secrets.json`` beside them for ``SecretSetParameters``):
- HTTPS only; ``api-version`` is required on every call;
- ``Authorization: Bearer`` with a token issued for the vault's audience (``https://vault.azure.net``),
  else 401 with the ``WWW-Authenticate`` challenge Key Vault sends;
- Azure RBAC: the identity reads every secret (Key Vault Secrets User on the vault) and writes only
  the secrets it holds Key Vault Secrets Officer on (``writable``: the test derives them from the
  rendered template's role assignments), else 403 ``ForbiddenByRbac``;
- secret names ``^[0-9a-zA-Z-]{1,127}$``; ``PUT /secrets/{name}`` takes a JSON object with a string
  ``value`` and only ``value``, ``tags``, ``contentType``, ``attributes``; every PUT is a new version;
- ``GET /secrets/{name}`` of an unknown secret: 404 ``SecretNotFound``.

Token endpoints:
- Container Apps (plain HTTP on localhost, MicrosoftDocs/azure-docs
  articles/container-apps/managed-identity.md "REST endpoint reference"): ``GET /msi/token`` with
  ``resource``, ``api-version`` ≥ 2019-08-01, ``client_id`` of the assigned identity and the
  ``X-IDENTITY-HEADER`` secret;
- Microsoft Entra ID for AKS workload identity: ``POST /{tenant}/oauth2/v2.0/token`` with the client
  credentials grant, ``scope={resource}/.default`` and the projected service-account token as a
  ``jwt-bearer`` client assertion.
"""

from __future__ import annotations

import json
import re
import secrets
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VAULT_AUDIENCE = "https://vault.azure.net"
_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
_SET_KEYS = {"value", "tags", "contentType", "attributes"}


@dataclass
class Identity:
    client_id: str
    tenant_id: str = "11111111-2222-3333-4444-555555555555"
    identity_header: str = field(default_factory=lambda: secrets.token_hex(16))
    federated_token: str = field(default_factory=lambda: "eyJ" + secrets.token_urlsafe(40))


@dataclass
class VaultState:
    identity: Identity
    writable: set[str]
    secrets: dict[str, list[str]] = field(default_factory=dict)  # name -> versions' values, oldest first
    tokens: dict[str, str] = field(default_factory=dict)  # token -> audience
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status

    def value(self, name: str) -> str | None:
        versions = self.secrets.get(name)
        return versions[-1] if versions else None


class _Handler(BaseHTTPRequestHandler):
    state: VaultState
    tls: bool

    def log_message(self, *_: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)
        self.state.requests.append((self.command, self.path.split("?")[0], status))

    def _kv_error(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        err: dict[str, Any] = {"code": code, "message": message}
        if inner:
            err["innererror"] = {"code": inner}
        self._send(status, {"error": err})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/msi/token" and not self.tls:
            return self._msi(urllib.parse.parse_qs(url.query))
        return self._vault("GET", url)

    def do_PUT(self) -> None:  # noqa: N802
        return self._vault("PUT", urllib.parse.urlsplit(self.path))

    def do_POST(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", url.path)
        if m and self.tls:
            return self._entra(m.group(1), urllib.parse.parse_qs(self._body().decode()))
        return self._send(404, {"error": "not found"})

    # -- tokens ------------------------------------------------------------------------------

    def _issue(self, audience: str) -> str:
        token = "kv-" + secrets.token_hex(20)
        self.state.tokens[token] = audience.rstrip("/")
        return token

    def _msi(self, q: dict[str, list[str]]) -> None:
        ident = self.state.identity
        if self.headers.get("X-IDENTITY-HEADER") != ident.identity_header:
            return self._send(401, {"error": "invalid_request", "error_description": "X-IDENTITY-HEADER missing or wrong"})
        api = (q.get("api-version") or [""])[0]
        if not api or api < "2019-08-01":
            return self._send(400, {"error": "invalid_request", "error_description": "api-version 2019-08-01 or later is required"})
        resource = (q.get("resource") or [""])[0]
        if not resource:
            return self._send(400, {"error": "invalid_request", "error_description": "resource is required"})
        if (q.get("client_id") or [""])[0] != ident.client_id:
            # No system-assigned identity here: a user-assigned one must be named (the docs' IMPORTANT note).
            return self._send(400, {"error": "invalid_request", "error_description": "No managed identity matches the request"})
        self._send(200, {"access_token": self._issue(resource), "expires_on": "4102444800", "resource": resource,
                         "token_type": "Bearer", "client_id": ident.client_id})

    def _entra(self, tenant: str, form: dict[str, list[str]]) -> None:
        ident = self.state.identity
        one = {k: (v or [""])[0] for k, v in form.items()}
        if tenant != ident.tenant_id:
            return self._send(400, {"error": "invalid_request", "error_description": f"AADSTS90002: Tenant '{tenant}' not found."})
        if one.get("grant_type") != "client_credentials" or one.get("client_id") != ident.client_id:
            return self._send(400, {"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found."})
        if one.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
                or one.get("client_assertion") != ident.federated_token:
            return self._send(401, {"error": "invalid_client",
                                    "error_description": "AADSTS700213: No matching federated identity record found."})
        scope = one.get("scope", "")
        if not scope.endswith("/.default"):
            return self._send(400, {"error": "invalid_scope", "error_description": "AADSTS1002012: scope must end with /.default"})
        self._send(200, {"token_type": "Bearer", "expires_in": 3599,
                         "access_token": self._issue(scope.removesuffix("/.default"))})

    # -- Key Vault ---------------------------------------------------------------------------

    def _vault(self, method: str, url: urllib.parse.SplitResult) -> None:
        if not self.tls:
            return self._send(400, {"error": {"code": "BadParameter", "message": "Key Vault serves HTTPS only"}})
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        if self.state.tokens.get(token) != VAULT_AUDIENCE:
            body = {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}
                    if not token else {"code": "Unauthorized", "message": "AKV10022: Invalid audience."}}
            return self._send(401, body, {"WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/'
                                                               f'{self.state.identity.tenant_id}", resource="{VAULT_AUDIENCE}"'})
        query = urllib.parse.parse_qs(url.query)
        if not (query.get("api-version") or [""])[0]:
            return self._kv_error(400, "BadParameter", "The 'api-version' query parameter is missing.")
        m = re.fullmatch(r"/secrets/([^/]+)", url.path)
        if m is None:
            return self._kv_error(404, "NotFound", f"{url.path} is not a Key Vault secret path")
        name = urllib.parse.unquote(m.group(1))
        if not _NAME.fullmatch(name):
            return self._kv_error(400, "BadParameter", f"The secret name '{name}' is invalid: ^[0-9a-zA-Z-]+$, 1-127 characters.")
        if method == "GET":
            value = self.state.value(name)
            if value is None:
                return self._kv_error(404, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault.")
            return self._send(200, self._bundle(name, value))
        if name not in self.state.writable:
            return self._kv_error(403, "Forbidden", f"Caller is not authorized to perform action on resource. "
                                                    f"Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action' "
                                                    f"Resource: 'secrets/{name}'", inner="ForbiddenByRbac")
        try:
            body = json.loads(self._body() or b"null")
        except ValueError:
            return self._kv_error(400, "BadParameter", "The request body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("value"), str) or set(body) - _SET_KEYS:
            return self._kv_error(400, "BadParameter", "SecretSetParameters: a string 'value' and only value, tags, "
                                                       "contentType, attributes.")
        self.state.secrets.setdefault(name, []).append(body["value"])
        self._send(200, self._bundle(name, body["value"]))

    def _bundle(self, name: str, value: str) -> dict[str, Any]:
        version = f"{len(self.state.secrets.get(name, [])):032x}"
        host = self.headers.get("Host", "localhost")
        return {"value": value, "id": f"https://{host}/secrets/{name}/{version}",
                "attributes": {"enabled": True, "created": 1493938459, "updated": 1493938459,
                               "recoveryLevel": "Recoverable+Purgeable"}}


class KeyVaultStandin:
    """``vault_url`` (HTTPS: Key Vault and the Entra token endpoint) and ``identity_endpoint``
    (HTTP: the Container Apps token endpoint) on loopback, sharing one ``state``."""

    def __init__(self, ca: Any, identity: Identity, writable: set[str]) -> None:
        self.state = VaultState(identity, set(writable))
        self._servers: list[ThreadingHTTPServer] = []
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self._https = self._serve(tls=True, ctx=ctx)
        self._http = self._serve(tls=False, ctx=None)
        self.vault_url = f"https://127.0.0.1:{self._https.server_address[1]}"
        self.identity_endpoint = f"http://127.0.0.1:{self._http.server_address[1]}/msi/token"

    def _serve(self, tls: bool, ctx: ssl.SSLContext | None) -> ThreadingHTTPServer:
        handler = type("Handler", (_Handler,), {"state": self.state, "tls": tls})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if ctx is not None:
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)
        return server

    def stop(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()
