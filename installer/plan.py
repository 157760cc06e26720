"""``InstallPlan``: the single source of what the person chose. The answers file is it, serialised.

Secrets never live here: generated secrets and registry passwords go to the install's secret
store (``installer.secrets``). Defaults make ``{apiVersion, name, model: container, target: compose}``
a complete evaluation plan.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from installer.catalog import Catalog, load_catalog

if TYPE_CHECKING:
    from pathlib import Path

API_VERSION = "fabrix/v1"

from installer.labels import INSTALL_NAME as _DNS_LABEL  # noqa: E402 - one rule for names
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Azure resource names start with this prefix unless ``azure.name_prefix`` says otherwise; the
# resource group is ``rg-<prefix>-<install>`` (installer.azure.naming builds every name from them).
AZURE_DEFAULT_PREFIX = "fx"


def default_resource_group(prefix: str | None, install: str) -> str:
    return f"rg-{prefix or AZURE_DEFAULT_PREFIX}-{install}"


_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9._/-]+)?$")
# An image reference: [registry[:port]/]path[:tag][@algo:digest], in the characters the
# distribution reference grammar allows (github.com/distribution/reference, reference.go).
# `$` is never one of them: Compose and envsubst would expand it (a secret sent to a registry).
_IMAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}$")
_REGISTRY_USER = re.compile(r"^[A-Za-z0-9._@+-]{1,256}$")
MAX_TEXT = 1024  # longest free-text value (a path, an email) fabrix accepts

# Where user values land in files something interpolates: compose.yaml and .env (Compose expands
# `${…}`), the ACA YAML (its README says to run envsubst), runbook shell commands. One rule, in
# the plan, so `fabrix validate` and `fabrix render` can never disagree about it.
_INTERPOLATED_HINT = "`$` would be expanded by Compose or envsubst; remove it"


def plain_text(value: str, what: str = "value") -> str:
    """A free-text value that is safe in every file fabrix writes: no `$`, no control characters,
    no lone surrogates (they cannot be encoded), bounded length."""
    if len(value) > MAX_TEXT:
        raise ValueError(f"{what} is {len(value)} characters long; at most {MAX_TEXT} are allowed")
    if "$" in value:
        raise ValueError(f"{what} contains `$`: {_INTERPOLATED_HINT}")
    if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError(f"{what} contains a control character or an invalid (surrogate) character")
    return value


def _port_number(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a port (1–65535)")
    return value


Port = Annotated[int, AfterValidator(_port_number)]


class DeploymentModel(StrEnum):
    marketplace = "marketplace"
    manual = "manual"
    container = "container"
    hybrid = "hybrid"
    multicloud = "multicloud"
    development = "development"


class Target(StrEnum):
    compose = "compose"
    aca = "aca"
    aks = "aks"


class Tier(StrEnum):
    evaluation = "evaluation"
    dev = "dev"
    test = "test"
    prod = "prod"


class Size(StrEnum):
    s = "s"
    m = "m"
    l = "l"  # noqa: E741 - the vendor's preset name
    xl = "xl"


class PullPolicy(StrEnum):
    always = "always"
    missing = "missing"
    never = "never"


class AzureCloud(StrEnum):
    public = "public"
    usgov = "usgov"
    china = "china"
    custom = "custom"


# The models that read ``target``, and the targets each offers (first: its default). Container
# runs on Compose, ACA or AKS; Development builds its Dev/Test environments on ACA or AKS
# (installer/render/development.py: compute_for). Every other model ignores ``target``.
MODEL_TARGETS: dict[DeploymentModel, tuple[Target, ...]] = {
    DeploymentModel.container: (Target.compose, Target.aca, Target.aks),
    DeploymentModel.development: (Target.aca, Target.aks),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Images(_Section):
    """Where images come from. ``registry`` prefixes the vendor's private images (miso, dataplane)."""

    registry: str | None = Field(
        default=None, description="Private registry host for AI Fabrix images, e.g. myacr.azurecr.io"
    )
    username: str | None = Field(
        default=None, description="Registry user name; the password lives in the secret store"
    )
    overrides: dict[str, str] = Field(
        default_factory=dict, description="Per-component image reference that replaces the catalog's"
    )
    pull: PullPolicy = Field(default=PullPolicy.missing, description="always / missing / never")

    @field_validator("registry")
    @classmethod
    def _registry_host(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().removeprefix("https://").rstrip("/")
        if not _REGISTRY.match(value):
            raise ValueError(f"{_shown(value)} is not a registry host (e.g. myacr.azurecr.io)")
        return value

    @field_validator("username")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and not _REGISTRY_USER.match(value):
            raise ValueError("is not a registry user name (letters, digits and . _ @ + -)")
        return value

    @field_validator("overrides")
    @classmethod
    def _image_refs(cls, value: dict[str, str]) -> dict[str, str]:
        for component, ref in value.items():
            if "$" in ref:
                raise ValueError(f"{component}: the image reference contains `$`: {_INTERPOLATED_HINT}")
            if not _IMAGE_REF.match(ref):
                raise ValueError(
                    f"{component}: {_shown(ref)} is not an image reference "
                    "(e.g. ghcr.io/org/app:1.2 or app@sha256:…)"
                )
        return value


class ComposeOptions(_Section):
    bind_address: str = Field(
        default="127.0.0.1",
        description="Host address published ports bind to; 127.0.0.1 keeps the stack private",
    )
    ports: dict[str, Port] = Field(
        default_factory=dict, description="Host port per component, replacing the catalog default"
    )
    data_dir: str | None = Field(
        default=None, description="Folder for bind-mounted data; default: the install's state folder"
    )

    @field_validator("bind_address")
    @classmethod
    def _ip(cls, value: str) -> str:
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{_shown(value)} is not an IP address (use 127.0.0.1 or 0.0.0.0)") from None
        if isinstance(addr, ipaddress.IPv6Address) and addr.scope_id:
            # Docker cannot publish on a scoped address (fe80::1%eth0); Compose rejects it.
            raise ValueError(f"{_shown(value)}: a scoped IPv6 address (%zone) cannot be published on; "
                             "use a global address, ::1 or ::")
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: str | None) -> str | None:
        if value is None:
            return None
        plain_text(value, "the folder")
        path = expand_user_path(value)
        if not path.is_absolute():
            raise ValueError(f"{_shown(value)} is not an absolute path; "
                             "use an absolute folder such as /srv/fabrix-data (or ~/fabrix-data)")
        return value

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: dict[str, int]) -> dict[str, int]:
        seen: dict[int, str] = {}
        for component, port in value.items():
            if port in seen:
                raise ValueError(f"{component} and {seen[port]} both use host port {port}")
            seen[port] = component
        return value


class Identity(_Section):
    admin_email: str = Field(default="admin@example.com", description="First administrator's email")

    @field_validator("admin_email")
    @classmethod
    def _email(cls, value: str) -> str:
        plain_text(value, "the email address")
        if not _EMAIL.match(value):
            raise ValueError(f"{_shown(value)} is not an email address")
        return value


class AzureOptions(_Section):
    cloud: AzureCloud = AzureCloud.public
    arm_endpoint: str | None = Field(
        default=None, description="ARM endpoint for cloud: custom (or FABRIX_ARM_ENDPOINT)"
    )
    tenant_id: str | None = None
    subscription_id: str | None = None
    location: str | None = Field(default=None, description="Azure region name, e.g. swedencentral")
    resource_group: str | None = None
    name_prefix: str | None = Field(default=None, description="Prefix for Azure resource names")
    model_endpoints: list[str] = Field(
        default_factory=list,
        description="Host names of the language-model APIs the apps may call over HTTPS, e.g. "
        "myoai.openai.azure.com or *.openai.azure.com (AKS: the only egress Flowise and Open WebUI get; "
        "all other egress stays denied)",
    )

    @field_validator("model_endpoints")
    @classmethod
    def _model_endpoints(cls, value: list[str]) -> list[str]:
        label = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
        for host in value:
            if len(host) > 253 or not re.fullmatch(rf"(\*\.)?({label}\.)+{label}", host):
                raise ValueError(f"{_shown(host)} is not a host name (lowercase, e.g. myoai.openai.azure.com or *.openai.azure.com; no scheme, path or port)")
        if len(set(value)) != len(value):
            raise ValueError("model_endpoints lists a host twice")
        return value

    @field_validator("tenant_id", "subscription_id")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value):
            raise ValueError(f"{_shown(value)} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
        return value

    @field_validator("location")
    @classmethod
    def _location(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9]+", value):
            raise ValueError(f"{_shown(value)} is not a region name (lowercase, no spaces: westeurope)")
        return value

    @field_validator("resource_group")
    @classmethod
    def _rg(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[-\w._()]{1,90}", value) or (
            value is not None and value.endswith(".")
        ):
            raise ValueError(f"{_shown(value)} is not a resource group name (1–90 letters, digits, -_.())")
        return value

    @field_validator("name_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z][a-z0-9]{1,9}", value):
            raise ValueError(f"{_shown(value)}: use 2–10 lowercase letters and digits, starting with a letter")
        return value

    @field_validator("arm_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        plain_text(value, "the endpoint")
        if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?", value):
            raise ValueError(f"{_shown(value)} must be an https:// URL (https://host[:port][/path])")
        return value


def default_components(catalog: Catalog, *, registry: bool, overrides: Collection[str] = ()) -> list[str]:
    """The default profile's components: every catalog default, where a private image (the AI Fabrix
    core) counts only with a registry set or with an image override for it (a mirror). One rule for
    ``fabrix render`` (``InstallPlan.enabled_components``) and the wizard's Options step."""
    return [c.name for c in catalog.components.values()
            if c.default and (not c.private or registry or c.name in overrides)]


class InstallPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    api_version: Literal["fabrix/v1"] = Field(alias="apiVersion", default=API_VERSION)
    name: str = Field(description="Install name: a DNS label (lowercase letters, digits, '-')")
    model: DeploymentModel = DeploymentModel.container
    target: Target = Field(
        default=Target.compose, description="For model container: compose, aca or aks"
    )
    tier: Tier = Tier.evaluation
    size: Size = Size.s
    components: list[str] | None = Field(
        default=None,
        description="Enabled components; default: the catalog's default profile",
    )
    images: Images = Field(default_factory=Images)
    compose: ComposeOptions = Field(default_factory=ComposeOptions)
    identity: Identity = Field(default_factory=Identity)
    azure: AzureOptions = Field(default_factory=AzureOptions)

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL.match(value):
            raise ValueError(
                f"{_shown(value)} is not a valid install name: use 1–40 lowercase letters, digits and '-',"
                " starting with a letter and not ending with '-'"
            )
        return value

    @field_validator("components")
    @classmethod
    def _some_components(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("an empty list enables nothing; leave `components` out for the default set, "
                             "or list the components to run")
        return value

    @model_validator(mode="after")
    def _known_components(self) -> InstallPlan:
        catalog = load_catalog()
        known = set(catalog.components)
        for where, names in (
            ("components", self.components or []),
            ("images.overrides", list(self.images.overrides)),
            ("compose.ports", list(self.compose.ports)),
        ):
            for name in names:
                if name not in known:
                    raise ValueError(
                        f"{where}: unknown component {_shown(name)}; known: {', '.join(sorted(known))}"
                    )
        return self

    # ---- derived views (pure; nothing here touches the machine) ----

    def is_azure(self) -> bool:
        """True when the plan deploys to Azure (everything except container/compose)."""
        return not (self.model is DeploymentModel.container and self.target is Target.compose)

    def private_images_enabled(self) -> bool:
        return self.images.registry is not None

    def core_left_out(self, catalog: Catalog | None = None) -> list[str]:
        """Default components with private images (the AI Fabrix core: Miso controller, dataplane)
        that the default profile leaves out because no registry is set. Empty when the person
        chose components, set a registry, or points every such component at an image override."""
        catalog = catalog or load_catalog()
        if self.components is not None or self.private_images_enabled():
            return []
        return [c.name for c in catalog.components.values()
                if c.default and c.private and c.name not in self.images.overrides]

    def enabled_components(self, catalog: Catalog | None = None) -> list[str]:
        """The components this plan runs, with their dependencies, in catalog (start) order."""
        catalog = catalog or load_catalog()
        if self.components is not None:
            chosen = list(self.components)
        else:
            chosen = default_components(catalog, registry=self.private_images_enabled(), overrides=self.images.overrides)
        if self.is_azure():
            chosen = [n for n in chosen if not catalog.components[n].compose_only]
        return catalog.dependency_closure(chosen)

    def image_for(self, component: str, catalog: Catalog | None = None) -> str:
        catalog = catalog or load_catalog()
        if component in self.images.overrides:
            return self.images.overrides[component]
        comp = catalog.components[component]
        if comp.private:
            registry = self.images.registry or catalog.platform.private_registry
            return f"{registry}/{comp.image}"
        return comp.image

    def host_port(self, component: str, catalog: Catalog | None = None) -> int | None:
        catalog = catalog or load_catalog()
        return self.compose.ports.get(component, catalog.components[component].host_port)

    def effective_target(self) -> Target | None:
        """The target this plan's model renders for, or None when its model has no target choice."""
        offered = MODEL_TARGETS.get(self.model)
        if offered is None:
            return None
        return self.target if self.target in offered else offered[0]

    def to_answers_dict(self) -> dict[str, Any]:
        """The answers-file form: apiVersion first, defaults left out so files stay short.

        Only what the chosen model uses: a target picked for another model does not stick
        (``target: aks`` never rides along with marketplace, manual or hybrid), and Compose
        settings are left out of Azure plans and Azure settings out of Compose plans.
        """
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        target = self.effective_target()
        if target is None or target is Target.compose:
            data.pop("target", None)
        else:
            data["target"] = target.value
        data.pop("compose" if self.is_azure() else "azure", None)
        data = {"apiVersion": API_VERSION, **{k: v for k, v in data.items() if k != "apiVersion"}}
        return data


def _shown(value: object, limit: int = 80) -> str:
    """A value echoed back in an error: repr'd, cut to ``limit`` characters (a 50 MB value or an
    alias bomb must not become a 50 MB message)."""
    text = repr(value) if not isinstance(value, (list, dict)) or len(value) < 20 else f"<{type(value).__name__} of {len(value)}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expand_user_path(value: str) -> "Path":
    """``~`` / ``~user`` expanded; an unknown user is a ValueError naming it (not a crash)."""
    from pathlib import Path

    try:
        return Path(value).expanduser()
    except RuntimeError:
        user = value[1:].split("/", 1)[0]
        raise ValueError(f"{_shown(value)}: there is no user {_shown(user)} to expand `~{user[:40]}` for") from None


def plan_json_schema() -> dict[str, Any]:
    schema = InstallPlan.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://aifabrix.dev/schemas/fabrix-answers-v1.json"
    schema["title"] = "fabrix answers file (apiVersion fabrix/v1)"
    return schema
