"""Azure resource names for one install — the one naming rule for checks, blueprints and runbooks.

Deterministic: the names depend only on ``plan.azure.name_prefix`` (default ``fx``), ``plan.name``
and ``plan.azure.resource_group``, so an export reviewed today names the same resources the
install creates tomorrow. Globally unique names (Key Vault, storage, registry, PostgreSQL, Redis,
Front Door endpoint) end in a 5-character hash of prefix and install name, which keeps two
installs called ``demo`` in different companies apart. When a name is taken anyway, the name
checks say so and the fix is another ``azure.name_prefix``.

One exception to "only the plan": the Key Vault name ends in the install's vault *generation*
(``installer.azure.vault_names``) once fabrix has removed a purge-protected vault whose name stays
reserved for up to 90 days — generation 0 adds nothing, so names are unchanged until then.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import asdict, dataclass

from installer.plan import AZURE_DEFAULT_PREFIX, InstallPlan, default_resource_group

DEFAULT_PREFIX = AZURE_DEFAULT_PREFIX


@dataclass(frozen=True)
class AzureNames:
    prefix: str
    suffix: str  # the hash that makes global names unique
    resource_group: str
    key_vault: str  # global: <name>.vault.azure.net, 3–24, letters/digits/hyphens
    storage_account: str  # global: 3–24 lowercase letters and digits
    container_registry: str  # global: <name>.azurecr.io, 5–50 letters and digits
    postgres: str  # global: <name>.postgres.database.azure.com, 3–63
    redis: str  # <name>.<region>.redis.azure.net, 1–60
    front_door: str  # profile (resource-group scoped)
    front_door_endpoint: str  # global: <name>-<hash>.azurefd.net, 2–46
    identity: str
    log_analytics: str
    virtual_network: str
    container_apps_environment: str
    aks_cluster: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def global_names(self) -> dict[str, str]:
        """The names that must be free across all of Azure (what the name checks verify)."""
        return {
            "key_vault": self.key_vault,
            "storage_account": self.storage_account,
            "container_registry": self.container_registry,
            "postgres": self.postgres,
        }


def name_suffix(prefix: str, install: str, length: int = 5) -> str:
    digest = hashlib.sha256(f"fabrix:{prefix}:{install}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:length]


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _hyphened(parts: list[str], limit: int) -> str:
    """Join with '-', shortening the longest middle part first so the hash suffix survives."""
    parts = [p for p in parts if p]
    while len("-".join(parts)) > limit:
        longest = max(range(1, len(parts) - 1), key=lambda i: len(parts[i]), default=None)
        if longest is None or len(parts[longest]) <= 1:
            break
        parts[longest] = parts[longest][:-1].rstrip("-")
    name = "-".join(parts)[:limit]
    return re.sub(r"-{2,}", "-", name).strip("-")


def _packed(head: str, middle: str, tail: str, limit: int) -> str:
    room = max(limit - len(head) - len(tail), 0)
    return f"{head}{middle[:room]}{tail}"


def names_for(plan: InstallPlan) -> AzureNames:
    prefix = plan.azure.name_prefix or DEFAULT_PREFIX
    install = plan.name
    compact = _alnum(install)
    sfx = name_suffix(prefix, install)
    from installer.azure.vault_names import generation

    gen = generation(install)
    return AzureNames(
        prefix=prefix,
        suffix=sfx,
        resource_group=plan.azure.resource_group or default_resource_group(prefix, install),
        key_vault=_hyphened(["kv", prefix, install, f"{sfx}-{gen}" if gen else sfx], 24),
        storage_account=_packed(f"st{prefix}", compact, sfx, 24),
        container_registry=_packed(f"acr{prefix}", compact, sfx, 50),
        postgres=_hyphened(["psql", prefix, install, sfx], 63),
        redis=_hyphened(["redis", prefix, install, sfx], 60),
        front_door=_hyphened(["afd", prefix, install], 90),
        front_door_endpoint=_hyphened(["fde", prefix, install, sfx], 46),
        identity=_hyphened(["id", prefix, install], 128),
        log_analytics=_hyphened(["log", prefix, install], 63),
        virtual_network=_hyphened(["vnet", prefix, install], 64),
        container_apps_environment=_hyphened(["cae", prefix, install], 60),
        aks_cluster=_hyphened(["aks", prefix, install], 63),
    )


# Front Door appends "-<16-character hash>" to an endpoint's name to form its azurefd.net host
# label, and a DNS label holds 63 characters: names are 2-46 characters (the Microsoft.Cdn
# afdEndpoints name rule). One endpoint per published app, so the app's host part is in the name.
FRONT_DOOR_ENDPOINT_MAX = 46


def front_door_endpoint_for(plan: InstallPlan, host: str) -> str:
    """The Front Door endpoint of one published app (``host``: its route host, e.g. ``flowise``),
    shortened from the install name first so the app part and the hash suffix survive."""
    prefix = plan.azure.name_prefix or DEFAULT_PREFIX
    return _hyphened(["fde", prefix, plan.name, host, name_suffix(prefix, plan.name)], FRONT_DOOR_ENDPOINT_MAX)

