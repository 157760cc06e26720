"""Typed view of ``assets/catalog.yaml``: what the platform is, for every renderer and check."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from installer import yamlread
from installer.resources import asset

SizeName = Literal["s", "m", "l", "xl"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthCheck(_Strict):
    test: list[str]
    interval: str = "10s"
    timeout: str = "5s"
    retries: int = 10
    start_period: str = "10s"


class HttpHealth(_Strict):
    """An HTTP endpoint that answers 2xx when the service is ready (smoke probes, k8s/ACA probes)."""

    port: int
    path: str


class RunAs(_Strict):
    """How a workload runs where fabrix picks the user (AKS pods under Pod Security "restricted":
    never root). ``group`` owns what the image lets its user write (Keycloak: gid 0 on
    /opt/keycloak); data volumes are made writable with ``fsGroup`` = ``group`` unless 0.
    ``scratch``: paths the app writes outside its data volumes, each an empty writable directory.
    ``seeded``: like scratch, but filled first with the image's own content at that path (the app
    rewrites files in a folder that also ships files it needs). ``source`` says where this comes from."""

    user: int = 10001
    group: int = 10001
    scratch: list[str] = Field(default_factory=list)
    seeded: list[str] = Field(default_factory=list)
    source: str = ""


class Volume(_Strict):
    name: str
    path: str


class Database(_Strict):
    name: str
    user: str
    password_secret: str
    extensions: list[str] = Field(default_factory=list)


class Route(_Strict):
    host: str  # sub-domain on the front door: <host>.localhost locally, a Front Door route on Azure
    # On Azure: published on Front Door (Private Link origin, ACA ingress external). False keeps the
    # app internal to the VNet (control plane: reached by admins over VPN/ExpressRoute only).
    frontdoor: bool = True


class Resources(_Strict):
    cpu: float
    memory_mb: int


# An env value: a literal, or a one-key mapping {secret|host|url|public_url|admin_email|location|
# database_url|redis_url|allowed_origins: …} (see the head of assets/catalog.yaml).
EnvValue = str | dict[str, str | bool | list[str]]


class FirstLogin(_Strict):
    """Who logs in first (for the bundle README and the launch summary); never a secret value."""

    user: EnvValue | None = None  # a literal, or {admin_email: true}
    password_secret: str | None = None  # catalog secret name; shown as its env name only
    note: str = ""


class Component(_Strict):
    name: str = ""
    title: str
    kind: Literal["data", "app", "frontdoor", "tool"]
    image: str
    private: bool = False
    default: bool = False
    port: int
    host_port: int | None = None
    protocol: Literal["tcp", "http"] = "http"
    command: list[str] | None = None
    # The container's arguments on Azure targets when they differ from Compose's (Keycloak: the
    # production ``start`` behind Front Door's TLS instead of ``start-dev``); None: ``command``.
    azure_command: list[str] | None = None
    health: HealthCheck
    # Readiness: the endpoint that answers 2xx when the service can take traffic (smoke probes,
    # readiness and startup probes). Liveness: the endpoint that answers while the process is
    # healthy even if a dependency is down; None means the readiness endpoint serves both.
    http_health: HttpHealth | None = None
    http_live: HttpHealth | None = None
    run_as: RunAs = Field(default_factory=RunAs)
    # Replicas at most (None: the size preset decides). 1 for components that keep state in the
    # process or on local disk (Keycloak with KC_CACHE=local), where a second replica corrupts it.
    max_replicas: int | None = None
    # Calls a language-model API (Azure OpenAI, OpenAI…) the person names in azure.model_endpoints:
    # on AKS its egress to exactly those hosts (HTTPS) is allowed; everything else stays denied.
    model_client: bool = False
    env: dict[str, EnvValue] = Field(default_factory=dict)
    volumes: list[Volume] = Field(default_factory=list)
    databases: list[Database] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    route: Route | None = None
    compose_only: bool = False
    # Image platforms when known to be limited (e.g. [linux/amd64]); empty: multi-arch or unknown.
    platforms: list[str] = Field(default_factory=list)
    azure_service: str | None = None
    first_login: FirstLogin | None = None
    # Env entries that replace ``env`` on Azure targets (managed Postgres needs TLS, Managed Redis
    # listens on 10000 with TLS and a key). Extra value kind here: {keyvault: NAME}, a Key Vault
    # secret the foundation writes (e.g. the Redis access key), never a generated secret.
    azure_env: dict[str, EnvValue] = Field(default_factory=dict)
    resources: dict[SizeName, Resources]

    def azure_args(self) -> list[str] | None:
        return self.azure_command if self.azure_command is not None else self.command

    def database(self, name: str) -> Database:
        for db in self.databases:
            if db.name == name:
                return db
        raise KeyError(f"catalog: {self.name} has no database {name!r}")

    def secrets_used(self) -> list[str]:
        names = [v["secret"] for v in self.env.values() if isinstance(v, dict) and "secret" in v]
        names += [db.password_secret for db in self.databases]
        return sorted(set(names))


class SecretSpec(_Strict):
    # password: 32 letters/digits; hex32: 32 random bytes as hex; randomBytes32: 32 random bytes as
    # base64 (the vendor's generator of that name); literal: ``value`` (a default the platform
    # replaces later, e.g. a client id the controller issues).
    generate: Literal["password", "hex32", "randomBytes32", "literal"]
    description: str
    value: str | None = None


class SizeSpec(_Strict):
    title: str
    summary: str


class Platform(_Strict):
    name: str
    version: str
    private_registry: str


class Catalog(_Strict):
    apiVersion: Literal["fabrix/catalog/v1"]
    platform: Platform
    sizes: dict[SizeName, SizeSpec]
    secrets: dict[str, SecretSpec]
    components: dict[str, Component]

    def component(self, name: str) -> Component:
        return self.components[name]

    def names(self) -> list[str]:
        return list(self.components)

    def dependency_closure(self, names: list[str]) -> list[str]:
        """``names`` plus everything they depend on, in catalog order (a stable start order)."""
        wanted: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in wanted:
                continue
            wanted.add(name)
            stack.extend(self.components[name].depends_on)
        return [n for n in self.components if n in wanted]


def _with_names(raw: dict) -> dict:
    for name, comp in raw.get("components", {}).items():
        comp["name"] = name
    return raw


def load_catalog_file(path: Path) -> Catalog:
    with path.open(encoding="utf-8") as fh:
        raw = yamlread.safe_load(fh)
    return Catalog.model_validate(_with_names(raw))


@cache
def load_catalog() -> Catalog:
    """The shipped catalog (parsed once per process; it is read-only)."""
    return load_catalog_file(asset("catalog.yaml"))
