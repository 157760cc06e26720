"""A loopback HTTPS fake of Azure Resource Manager, driven by scenario data.

Reusable by any test that needs the real azure-mgmt clients to talk to "Azure":

    ca = trustme.CA()
    with FakeArm(scenario, ca) as arm:          # scenario: a dict (see tests/azure/scenarios.py)
        os.environ["REQUESTS_CA_BUNDLE"] = arm.ca_path
        client = SubscriptionClient(cred, base_url=arm.url.rstrip("/"))

What it does like ARM (notes/azure.md §1 "Rules for the fake server"):
- TLS with a certificate from a ``trustme`` CA (bearer tokens are only sent over https);
- case-insensitive paths; the api-version is recorded, never required;
- paging with *absolute* ``nextLink`` URLs (``page_size``); the ARM error envelope;
- ``Authorization: Bearer`` required on everything except ``/metadata/endpoints``.
Test knobs: ``latency`` (seconds added to every request), ``faults`` (answer a chosen call with a
status, optionally with ``Retry-After``, for the first N calls or always), and ``requests`` (what
was called, for assertions).
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import trustme

from tests.azure import fake_arm_policy


@dataclass
class Fault:
    """Answer requests whose path matches ``path`` (regex, case-insensitive) with ``status``."""

    path: str
    status: int = 500
    method: str | None = None  # None: any method
    retry_after: float | None = None
    times: int | None = None  # None: every time; N: the first N matching requests
    code: str = ""
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        return re.search(self.path, path, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    at: float
    status: int
    body: Any = None


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


Route = tuple[str, re.Pattern[str], Callable[..., Any]]

GUID = r"[0-9a-fA-F-]{36}"
SEG = r"[^/]+"
# checkNameAvailability answers per resource type, from the REST API specs (bodies/SOURCES.json).
NAME_BODIES: dict[str, dict[str, Any]] = json.loads((Path(__file__).parent / "bodies" / "name_availability.json").read_text())


class FakeArm:
    def __init__(
        self,
        scenario: dict[str, Any],
        ca: trustme.CA | None = None,
        *,
        latency: float = 0.0,
        page_size: int = 0,
        faults: list[Fault] | None = None,
    ) -> None:
        self.scenario = copy.deepcopy(scenario)
        self.ca = ca or trustme.CA()
        self.latency = latency
        self.page_size = page_size or int(self.scenario.get("page_size", 0))
        self.faults = list(faults or [])
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._local = threading.local()  # the path being answered (nextLinks point back at it)
        self._dir = tempfile.TemporaryDirectory(prefix="fake-arm-")
        self.ca_path = str(Path(self._dir.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.routes: list[Route] = _routes(self)
        # Resource groups, deployments, stacks, jobs, run command, vault purge (issue 13): their own
        # module answers first and falls through to the read-only routes above.
        from tests.azure.fake_arm_deploy import DeployPlane

        self.deploy = DeployPlane(self)

    # ---- lifecycle ----

    def start(self) -> FakeArm:
        fake = self

        class Handler(_Handler):
            arm = fake

        server = _Server(("127.0.0.1", 0), Handler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
        # Handshake in the connection's own thread, not in the accept loop: concurrent clients
        # must not queue behind each other's TLS setup.
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-arm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._dir.cleanup()

    def __enter__(self) -> FakeArm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"https://127.0.0.1:{self._server.server_address[1]}/"

    # ---- test helpers ----

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def calls(self, pattern: str, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [
                r
                for r in self.requests
                if re.search(pattern, r.path, re.IGNORECASE) and (method is None or r.method == method)
            ]

    # ---- request handling ----

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(raw_path)
        path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        payload: Any = None
        if body:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = body.decode(errors="replace")
        status, out_headers, out = self._dispatch(method, path, query, headers, payload)
        with self._lock:
            self.requests.append(Recorded(method, path, query, time.monotonic(), status, payload))
        return status, out_headers, out

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], payload: Any) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            fault = next((f for f in self.faults if f.matches(method, path)), None)
            if fault is not None:
                fault.hits += 1
        if fault is not None:
            extra = {"Retry-After": _num(fault.retry_after)} if fault.retry_after is not None else {}
            code = fault.code or {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}.get(
                fault.status, "Error"
            )
            return fault.status, extra, _error(code, f"injected fault {fault.status} for {method} {path}")
        if not path.lower().startswith("/metadata/") and not headers.get("authorization", "").startswith("Bearer "):
            return 401, {}, _error("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        reply = self.deploy.dispatch(method, path, query, headers, payload)
        if reply is not None:
            return reply
        for route_method, pattern, handler in self.routes:
            if route_method != method:
                continue
            m = pattern.fullmatch(path)
            if not m:
                continue
            self._local.path = path
            try:
                result = handler(query=query, body=payload, **m.groupdict())
            except ArmError as err:
                return err.status, err.headers, _error(err.code, err.message)
            if isinstance(result, tuple):
                return result
            return 200, {}, result
        return 404, {}, _error("NotFound", f"the fake ARM has no route for {method} {path}")

    # ---- helpers for routes ----

    def page(self, items: list[Any], path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        """A list response; with ``page_size`` split into pages linked by absolute nextLinks
        back to the path being answered (``path`` is only the fallback)."""
        path = getattr(self._local, "path", None) or path
        if not self.page_size:
            return {"value": items}
        start = int((query.get("$skiptoken") or ["0"])[0])
        chunk = items[start : start + self.page_size]
        out: dict[str, Any] = {"value": chunk}
        if start + self.page_size < len(items):
            q = {k: v[0] for k, v in query.items() if k != "$skiptoken"}
            q["$skiptoken"] = str(start + self.page_size)
            out["nextLink"] = f"{self.url.rstrip('/')}{path}?{urlencode(q, safe='$')}"
        return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "target": None, "details": [], "additionalInfo": []}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) drops bursts of concurrent connects; the client then
    # retries the SYN a second later — a latency ARM does not have.
    request_queue_size = 256


class _Handler(BaseHTTPRequestHandler):
    arm: FakeArm
    protocol_version = "HTTP/1.1"  # keep-alive, like ARM: no TLS handshake per request

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, extra, out = self.arm.handle(method, self.path, headers, body)
        except Exception as exc:  # a bug in the fake must show up as a 500, not a hung client
            status, extra, out = 500, {}, _error("FakeArmBug", f"{type(exc).__name__}: {exc}")
        data = b"" if out is None or method == "HEAD" else json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("x-ms-request-id", f"fake-{time.monotonic_ns()}")
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("HEAD")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve("PATCH")


# ---------------------------------------------------------------------------------------------
# Routes: scenario data → ARM-shaped JSON
# ---------------------------------------------------------------------------------------------


def _routes(arm: FakeArm) -> list[Route]:
    sc = arm.scenario
    sub_prefix = rf"/subscriptions/(?P<sub>{GUID})"

    def r(method: str, pattern: str, fn: Callable[..., Any]) -> Route:
        return (method, re.compile(pattern, re.IGNORECASE), fn)

    def sub_or_404(sub: str) -> dict[str, Any]:
        for s in sc.get("subscriptions", []):
            if s["subscriptionId"].lower() == sub.lower():
                return s
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")

    def sub_json(s: dict[str, Any]) -> dict[str, Any]:
        # The scenario's subscriptions are GetSubscriptions.json items (bodies/subscriptions.json).
        return copy.deepcopy(s)

    # -- metadata, tenants, subscriptions, locations --
    def metadata(query: Any, body: Any) -> Any:
        return {
            "name": "FakeCloud",
            "resourceManager": arm.url,
            "authentication": {
                "loginEndpoint": "https://login.microsoftonline.com/",
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "suffixes": {"keyVaultDns": "vault.azure.net", "storage": "core.windows.net"},
        }

    def tenants(query: Any, body: Any) -> Any:
        tid = sc.get("tenant_id")
        return arm.page(
            [{"id": f"/tenants/{tid}", "tenantId": tid, "displayName": "Contoso", "defaultDomain": "contoso.example"}],
            "/tenants",
            query,
        )

    def subscriptions(query: Any, body: Any) -> Any:
        return arm.page([sub_json(s) for s in sc.get("subscriptions", [])], "/subscriptions", query)

    def subscription(sub: str, query: Any, body: Any) -> Any:
        return sub_json(sub_or_404(sub))

    def locations(sub: str, query: Any, body: Any) -> Any:
        sub_or_404(sub)
        # Shape of GetLocations.json (Microsoft.Resources stable/2022-12-01 examples): the name for
        # code, the display name for people ("Sweden Central"), metadata with the geography.
        items = []
        for loc in sc.get("locations", []):
            geo = loc.get("geography", "Europe")
            item = {
                "id": f"/subscriptions/{sub}/locations/{loc['name']}",
                "name": loc["name"],
                "type": "Region",
                "displayName": loc["displayName"],
                "regionalDisplayName": f"({loc.get('geographyGroup', geo)}) {loc['displayName']}",
                "metadata": {
                    "regionType": "Physical",
                    "regionCategory": "Recommended",
                    "geography": geo,
                    "geographyGroup": loc.get("geographyGroup", geo),
                    "physicalLocation": loc.get("physicalLocation", ""),
                    "pairedRegion": [{"name": n, "id": f"/subscriptions/{sub}/locations/{n}"} for n in loc.get("paired", [])],
                },
            }
            if "availabilityZoneMappings" in loc:
                item["availabilityZoneMappings"] = loc["availabilityZoneMappings"]
            items.append(item)
        return arm.page(items, f"/subscriptions/{sub}/locations", query)

    # -- providers --
    def provider_json(sub: str, ns: str, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{sub}/providers/{ns}",
            "namespace": ns,
            "registrationState": p.get("registrationState", "Registered"),
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [
                # Shape of GetProvider.json (Microsoft.Resources stable/2022-12-01): locations by display name.
                {"resourceType": t, "locations": locs, "apiVersions": ["2025-01-01", "2024-01-01"],
                 "capabilities": "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SupportsTags, SupportsLocation"}
                for t, locs in p.get("resourceTypes", {}).items()
            ],
        }

    def find_provider(ns: str) -> tuple[str, dict[str, Any]]:
        for name, p in sc.get("providers", {}).items():
            if name.lower() == ns.lower():
                return name, p
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{ns}' is invalid.")

    def providers(sub: str, query: Any, body: Any) -> Any:
        sub_or_404(sub)
        items = [provider_json(sub, ns, p) for ns, p in sc.get("providers", {}).items()]
        return arm.page(items, f"/subscriptions/{sub}/providers", query)

    def provider(sub: str, ns: str, query: Any, body: Any) -> Any:
        name, p = find_provider(ns)
        return provider_json(sub, name, p)

    def register(sub: str, ns: str, query: Any, body: Any) -> Any:
        name, p = find_provider(ns)
        p["registrationState"] = "Registered"
        return provider_json(sub, name, p)

    # -- resource groups and resources --
    def rg_head(sub: str, rg: str, query: Any, body: Any) -> Any:
        if rg.lower() in {g.lower() for g in sc.get("resource_groups", [])}:
            return 204, {}, None
        return 404, {}, None

    def resource_get(sub: str, rg: str, ns: str, rtype: str, name: str, query: Any, body: Any) -> Any:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{rtype}/{name}".lower()
        if rid in {x.lower() for x in sc.get("existing_resources", [])}:
            return {"id": rid, "name": name, "type": f"{ns}/{rtype}", "location": sc.get("location", "swedencentral"), "properties": {}}
        raise ArmError(404, "ResourceNotFound", f"The Resource '{ns}/{rtype}/{name}' under resource group '{rg}' was not found.")

    # -- authorization --
    def role_assignments(sub: str, query: Any, body: Any) -> Any:
        flt = (query.get("$filter") or [""])[0]
        m = re.search(r"assignedTo\('([^']+)'\)", flt)
        items = []
        for i, ra in enumerate(sc.get("role_assignments", [])):
            if m and ra["principalId"].lower() != m.group(1).lower():
                continue
            items.append(
                {
                    "id": f"{ra['scope']}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-0000-0000-{i:012d}",
                    "name": f"00000000-0000-0000-0000-{i:012d}",
                    "type": "Microsoft.Authorization/roleAssignments",
                    "properties": {
                        "roleDefinitionId": f"{sc.get('role_definitions', {}).get(ra['role'], {}).get('definedAt', f'/subscriptions/{sub}')}"
                                            f"/providers/Microsoft.Authorization/roleDefinitions/{ra['role']}",
                        "principalId": ra["principalId"],
                        "principalType": ra.get("principalType", "User"),
                        "scope": ra["scope"],
                        "condition": ra.get("condition"),
                        "conditionVersion": "2.0" if ra.get("condition") else None,
                    },
                }
            )
        return arm.page(items, f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments", query)

    def role_def_json(scope: str, rid: str, d: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{rid}",
            "name": rid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {
                "roleName": d["roleName"],
                "type": d.get("type", "BuiltInRole"),
                "description": d.get("roleName", ""),
                "assignableScopes": d.get("assignableScopes", ["/"]),
                "permissions": [
                    {"actions": p.get("actions", []), "notActions": p.get("notActions", []), "dataActions": [], "notDataActions": []}
                    for p in d["permissions"]
                ],
            },
        }

    def role_definitions(scope: str, query: Any, body: Any) -> Any:
        # A custom role defined at a management group (``definedAt``) is not in a subscription's
        # list here; it is read by id (the assignment's roleDefinitionId names its scope).
        items = [role_def_json(scope, rid, d) for rid, d in sc.get("role_definitions", {}).items()
                 if not d.get("definedAt") or d["definedAt"].lower() == scope.lower()]
        return arm.page(items, f"{scope}/providers/Microsoft.Authorization/roleDefinitions", query)

    def role_definition(scope: str, rid: str, query: Any, body: Any) -> Any:
        for key, d in sc.get("role_definitions", {}).items():
            if key.lower() == rid.lower():
                return role_def_json(scope, key, d)
        raise ArmError(404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{rid}' does not exist.")

    # -- deny assignments: body shape of GetDenyAssignmentsForResourceGroup.json
    # (specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/) --
    def deny_assignments(sub: str, query: Any, body: Any, rg: str | None = None) -> Any:
        flt = (query.get("$filter") or [""])[0]
        target = f"/subscriptions/{sub}" + (f"/resourcegroups/{rg}" if rg else "")
        items = []
        for i, da in enumerate(sc.get("deny_assignments", [])):
            scope = da["scope"].rstrip("/")
            at_or_above = target.lower() == scope.lower() or target.lower().startswith(scope.lower() + "/") or scope == ""
            below = scope.lower().startswith(target.lower() + "/")
            # atScope(): assignments at the scope and above; no filter: at, above and below.
            if not (at_or_above or (below and "atscope()" not in flt.lower())):
                continue
            did = f"{scope}/providers/Microsoft.Authorization/denyAssignments/{da.get('id', f'deny{i}')}"
            items.append(
                {
                    "properties": {
                        "denyAssignmentName": da["name"],
                        "description": da.get("description", ""),
                        "permissions": [
                            {"actions": p.get("actions", []), "notActions": p.get("notActions", []), "dataActions": [], "notDataActions": []}
                            for p in da["permissions"]
                        ],
                        "scope": scope,
                        "doNotApplyToChildScopes": da.get("doNotApplyToChildScopes", False),
                        "principals": da.get("principals", [{"id": "00000000-0000-0000-0000-000000000000", "type": "SystemDefined"}]),
                        "excludePrincipals": da.get("excludePrincipals", []),
                        "isSystemProtected": True,
                    },
                    "id": did,
                    "type": "Microsoft.Authorization/denyAssignments",
                    "name": da.get("id", f"deny{i}"),
                }
            )
        return arm.page(items, f"{target}/providers/Microsoft.Authorization/denyAssignments", query)

    def rg_deny_assignments(sub: str, rg: str, query: Any, body: Any) -> Any:
        return deny_assignments(sub, query, body, rg=rg)

    # -- quotas and capabilities --
    def usages(kind: str) -> Callable[..., Any]:
        # Rows are the real bodies (bodies/{compute,aca,postgres}_usages.json), served as they are.
        def handler(sub: str, loc: str, query: Any, body: Any) -> Any:
            return arm.page(copy.deepcopy(sc.get(kind, {}).get(loc.lower(), [])), f"/subscriptions/{sub}/usages/{kind}/{loc}", query)

        return handler

    def compute_skus(sub: str, query: Any, body: Any) -> Any:
        flt = (query.get("$filter") or [""])[0]
        m = re.search(r"location eq '([^']+)'", flt)
        items = []
        for sku in sc.get("compute_skus", []):
            if "resourceType" in sku:  # a real body (tests/azure/bodies/compute_skus.json): served as it is
                if m and m.group(1).lower() not in {x.lower() for x in sku.get("locations", [])}:
                    continue
                items.append(sku)
                continue
            if m and sku["location"].lower() != m.group(1).lower():
                continue
            items.append(
                {
                    "resourceType": "virtualMachines",
                    "name": sku["name"],
                    "family": sku.get("family", ""),
                    "locations": [sku["location"]],
                    "locationInfo": [{"location": sku["location"], "zones": ["1", "2", "3"]}],
                    "capabilities": [{"name": "vCPUs", "value": str(sku.get("vcpus", 4))}],
                    "restrictions": sku.get("restrictions", []),
                }
            )
        return arm.page(items, f"/subscriptions/{sub}/providers/Microsoft.Compute/skus", query)

    def pg_capabilities(sub: str, loc: str, query: Any, body: Any) -> Any:
        cap = sc.get("postgres_capabilities", {}).get(loc.lower())
        if cap is None:
            return {"value": []}
        if "value" in cap:  # a real body (tests/azure/bodies/postgres_capabilities*.json)
            return arm.page(copy.deepcopy(cap["value"]), f"/subscriptions/{sub}/pgcaps/{loc}", query)
        editions = [
            {
                "name": edition,
                "defaultSkuName": skus[0]["name"] if skus else None,
                "supportedServerSkus": [
                    {"name": s["name"], "vCores": s["vCores"], "supportedZones": ["1", "2", "3"], "supportedHaMode": ["ZoneRedundant", "SameZone"]}
                    for s in skus
                ],
            }
            for edition, skus in cap.get("editions", {}).items()
        ]
        return arm.page(
            [{"name": "FlexibleServerCapabilities", "status": cap.get("status", "Available"), "reason": cap.get("reason"), "supportedServerEditions": editions}],
            f"/subscriptions/{sub}/pgcaps/{loc}",
            query,
        )

    # -- names --
    def taken(rtype: str, name: str) -> bool:
        return name.lower() in {n.lower() for n in sc.get("taken_names", {}).get(rtype, [])}

    def name_check(rtype: str, name: str, also_taken: bool = False) -> dict[str, Any]:
        """The provider's checkNameAvailability body (bodies/name_availability.json)."""
        answer = "taken" if also_taken or taken(rtype, name) else "available"
        return json.loads(json.dumps(NAME_BODIES[rtype][answer]).replace("{name}", name))

    def kv_check(sub: str, query: Any, body: Any) -> Any:
        name = body["name"]
        # A soft-deleted vault still holds its name: Key Vault answers AlreadyExists for it.
        held = any(d["name"].lower() == name.lower() for d in sc.get("deleted_vaults", []))
        return name_check("Microsoft.KeyVault/vaults", name, also_taken=held)

    def kv_deleted(sub: str, loc: str, name: str, query: Any, body: Any) -> Any:
        for d in sc.get("deleted_vaults", []):
            if d["name"].lower() == name.lower() and d["location"].lower() == loc.lower():
                return {
                    "id": f"/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{loc}/deletedVaults/{name}",
                    "name": name,
                    "type": "Microsoft.KeyVault/deletedVaults",
                    "properties": {
                        "vaultId": f"/subscriptions/{sub}/resourceGroups/old/providers/Microsoft.KeyVault/vaults/{name}",
                        "location": loc,
                        "deletionDate": "2026-11-01T10:00:00Z",
                        "scheduledPurgeDate": "2027-01-30T10:00:00Z",
                        "purgeProtectionEnabled": d.get("purgeProtectionEnabled", False),
                        "tags": {},
                    },
                }
        raise ArmError(404, "ResourceNotFound", f"The deleted vault '{name}' was not found in location '{loc}'.")

    def simple_check(rtype: str) -> Callable[..., Any]:
        def handler(sub: str, query: Any, body: Any) -> Any:
            return name_check(rtype, body["name"])

        return handler

    # -- policy --
    def policy_assignments(sub: str, query: Any, body: Any) -> Any:
        items = []
        for i, pa in enumerate(sc.get("policy_assignments", [])):
            items.append(
                {
                    "id": f"{pa.get('scope', f'/subscriptions/{sub}')}/providers/Microsoft.Authorization/policyAssignments/pa{i}",
                    "name": f"pa{i}",
                    "type": "Microsoft.Authorization/policyAssignments",
                    "properties": {
                        "displayName": pa.get("displayName", f"assignment {i}"),
                        "policyDefinitionId": pa["policyDefinitionId"],
                        "scope": pa.get("scope", f"/subscriptions/{sub}"),
                        "notScopes": pa.get("notScopes", []),
                        "parameters": {k: {"value": v} for k, v in pa.get("parameters", {}).items()},
                        "enforcementMode": pa.get("enforcementMode", "Default"),
                        **({"overrides": pa["overrides"]} if "overrides" in pa else {}),
                        **({"resourceSelectors": pa["resourceSelectors"]} if "resourceSelectors" in pa else {}),
                    },
                }
            )
        return arm.page(items, f"/subscriptions/{sub}/providers/Microsoft.Authorization/policyAssignments", query)

    def policy_restrictions(sub: str, query: Any, body: Any, rg: str | None = None) -> Any:
        return fake_arm_policy.restrictions(sc, sub, body, rg)

    def rg_policy_restrictions(sub: str, rg: str, query: Any, body: Any) -> Any:
        if rg.lower() not in {g.lower() for g in sc.get("resource_groups", [])}:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        return policy_restrictions(sub, query, body, rg=rg)

    def policy_definition(path: str, query: Any, body: Any) -> Any:
        found = fake_arm_policy.find_definition(sc, path)
        if found is None:
            kind = "PolicySetDefinitionNotFound" if "policysetdefinitions" in path.lower() else "PolicyDefinitionNotFound"
            raise ArmError(404, kind, f"The policy definition '{path.rsplit('/', 1)[-1]}' could not be found.")
        return found

    # -- subscription features (Microsoft.Features): state per "Namespace/Name"; unknown → NotRegistered --
    def feature(sub: str, ns: str, name: str, query: Any, body: Any) -> Any:
        sub_or_404(sub)
        states = {k.lower(): v for k, v in sc.get("features", {}).items()}
        state = states.get(f"{ns}/{name}".lower(), "NotRegistered")
        return {
            "id": f"/subscriptions/{sub}/providers/Microsoft.Features/providers/{ns}/features/{name}",
            "name": f"{ns}/{name}",
            "type": "Microsoft.Features/providers/features",
            "properties": {"state": state},
        }

    rg = rf"{sub_prefix}/resourcegroups/(?P<rg>{SEG})"
    scope_any = r"(?P<scope>(/subscriptions/[^/]+)?(/resourcegroups/[^/]+)?(/providers/microsoft\.management/managementgroups/[^/]+)?)"
    return [
        r("GET", r"/metadata/endpoints", metadata),
        r("GET", r"/tenants", tenants),
        r("GET", r"/subscriptions", subscriptions),
        r("GET", rf"{sub_prefix}", subscription),
        r("GET", rf"{sub_prefix}/locations", locations),
        r("GET", rf"{sub_prefix}/providers", providers),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.Authorization/roleAssignments", role_assignments),
        r("GET", rf"{scope_any}/providers/Microsoft\.Authorization/roleDefinitions", role_definitions),
        r("GET", rf"{scope_any}/providers/Microsoft\.Authorization/roleDefinitions/(?P<rid>{SEG})", role_definition),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.Authorization/denyAssignments", deny_assignments),
        r("GET", rf"{sub_prefix}/resourcegroups/(?P<rg>{SEG})/providers/Microsoft\.Authorization/denyAssignments", rg_deny_assignments),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.Authorization/policyAssignments", policy_assignments),
        r("POST", rf"{sub_prefix}/providers/Microsoft\.PolicyInsights/checkPolicyRestrictions", policy_restrictions),
        r("POST", rf"{sub_prefix}/resourcegroups/(?P<rg>{SEG})/providers/Microsoft\.PolicyInsights/checkPolicyRestrictions", rg_policy_restrictions),
        r("GET", r"(?P<path>(/subscriptions/[^/]+|/providers/Microsoft\.Management/managementGroups/[^/]+)?/providers/Microsoft\.Authorization/policy(Set)?Definitions/[^/]+)", policy_definition),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.Compute/locations/(?P<loc>{SEG})/usages", usages("compute_usages")),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.Compute/skus", compute_skus),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.App/locations/(?P<loc>{SEG})/usages", usages("aca_usages")),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.DBforPostgreSQL/locations/(?P<loc>{SEG})/capabilities", pg_capabilities),
        r(
            "GET",
            rf"{sub_prefix}/providers/Microsoft\.DBforPostgreSQL/locations/(?P<loc>{SEG})/resourceType/flexibleServers/usages",
            usages("postgres_usages"),
        ),
        r("POST", rf"{sub_prefix}/providers/Microsoft\.DBforPostgreSQL/checkNameAvailability", simple_check("Microsoft.DBforPostgreSQL/flexibleServers")),
        r("POST", rf"{sub_prefix}/providers/Microsoft\.KeyVault/checkNameAvailability", kv_check),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.KeyVault/locations/(?P<loc>{SEG})/deletedVaults/(?P<name>{SEG})", kv_deleted),
        r("POST", rf"{sub_prefix}/providers/Microsoft\.Storage/checkNameAvailability", simple_check("Microsoft.Storage/storageAccounts")),
        r(
            "POST",
            rf"{sub_prefix}/providers/Microsoft\.ContainerRegistry/checkNameAvailability",
            simple_check("Microsoft.ContainerRegistry/registries"),
        ),
        r("GET", rf"{sub_prefix}/providers/Microsoft\.Features/providers/(?P<ns>{SEG})/features/(?P<name>{SEG})", feature),
        r("GET", rf"{sub_prefix}/providers/(?P<ns>{SEG})", provider),
        r("POST", rf"{sub_prefix}/providers/(?P<ns>{SEG})/register", register),
        r("HEAD", rg, rg_head),
        r("GET", rf"{rg}/providers/(?P<ns>{SEG})/(?P<rtype>{SEG})/(?P<name>{SEG})", resource_get),
    ]
