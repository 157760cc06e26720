"""Which Azure cloud we talk to: ARM endpoint, token audience, sign-in authority, DNS suffixes.

Public, US Government and China are fixed tables. A *custom* cloud (a private or sovereign ARM,
and the local fake ARM in tests) is given by its ARM URL — ``plan.azure.arm_endpoint`` or the
environment variable ``FABRIX_ARM_ENDPOINT`` — and described by the endpoint itself: ARM serves
``/metadata/endpoints`` without authentication, the same document ``az cloud register
--endpoint-resource-manager`` reads. The TLS trust store is the standard ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from installer.errors import UsageError

ENV_ARM_ENDPOINT = "FABRIX_ARM_ENDPOINT"
METADATA_API_VERSION = "2022-09-01"


@dataclass(frozen=True)
class Cloud:
    name: str  # public | usgov | china | custom
    arm_endpoint: str  # https://management.azure.com/ (always ends with '/')
    audience: str  # token audience; the scope is audience + ".default"
    authority_host: str  # Entra ID host for EnvironmentCredential / DeviceCodeCredential
    keyvault_suffix: str  # vault.azure.net
    storage_suffix: str  # core.windows.net
    ca_bundle: str | None = None  # REQUESTS_CA_BUNDLE, passed explicitly as connection_verify

    @property
    def scope(self) -> str:
        return self.audience.rstrip("/") + "/.default"

    @property
    def base_url(self) -> str:
        """The ARM URL the SDK clients take as ``base_url`` (no trailing slash)."""
        return self.arm_endpoint.rstrip("/")

    @property
    def verify(self) -> str | bool:
        return self.ca_bundle or True


_KNOWN: dict[str, Cloud] = {
    "public": Cloud(
        "public",
        "https://management.azure.com/",
        "https://management.azure.com",
        "login.microsoftonline.com",
        "vault.azure.net",
        "core.windows.net",
    ),
    "usgov": Cloud(
        "usgov",
        "https://management.usgovcloudapi.net/",
        "https://management.usgovcloudapi.net",
        "login.microsoftonline.us",
        "vault.usgovcloudapi.net",
        "core.usgovcloudapi.net",
    ),
    "china": Cloud(
        "china",
        "https://management.chinacloudapi.cn/",
        "https://management.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        "vault.azure.cn",
        "core.chinacloudapi.cn",
    ),
}


def ca_bundle_from_env() -> str | None:
    """The standard requests trust-store override (``REQUESTS_CA_BUNDLE``, then ``CURL_CA_BUNDLE``)."""
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        value = os.environ.get(var)
        if value:
            if not os.path.isfile(value):
                raise UsageError(
                    f"{var}={value} does not name a file",
                    f"point {var} at the PEM file with your ARM endpoint's CA, or unset it",
                )
            return value
    return None


def known_cloud(name: str) -> Cloud:
    return replace(_KNOWN[name], ca_bundle=ca_bundle_from_env())


def cloud_for(name: str = "public", arm_endpoint: str | None = None, *, discover: bool = True) -> Cloud:
    """The cloud for plan values ``azure.cloud`` / ``azure.arm_endpoint`` (or ``FABRIX_ARM_ENDPOINT``).

    For ``custom`` the endpoint's metadata document is read once (one unauthenticated GET) unless
    ``discover`` is False; without it the public audience and authority are assumed.
    """
    name = str(name)
    if name != "custom":
        if name not in _KNOWN:
            raise UsageError(f"azure.cloud: unknown cloud {name!r}", "use public, usgov, china or custom")
        return known_cloud(name)
    endpoint = arm_endpoint or os.environ.get(ENV_ARM_ENDPOINT)
    if not endpoint:
        raise UsageError(
            "azure.cloud is custom but no ARM endpoint is given",
            f"set azure.arm_endpoint in the answers file (https://…) or the environment variable {ENV_ARM_ENDPOINT}",
        )
    if not endpoint.startswith("https://"):
        raise UsageError(
            f"ARM endpoint {endpoint!r} is not https://",
            "Azure bearer tokens are only sent over TLS; use the https:// URL of the ARM endpoint",
        )
    endpoint = endpoint.rstrip("/") + "/"
    public = _KNOWN["public"]
    cloud = Cloud(
        "custom",
        endpoint,
        public.audience,
        public.authority_host,
        public.keyvault_suffix,
        public.storage_suffix,
        ca_bundle_from_env(),
    )
    return _with_metadata(cloud) if discover else cloud


def _with_metadata(cloud: Cloud) -> Cloud:
    """Fill audience, authority and suffixes from ``{arm}/metadata/endpoints`` (fallback: public)."""
    import requests

    url = f"{cloud.arm_endpoint}metadata/endpoints?api-version={METADATA_API_VERSION}"
    try:
        resp = requests.get(url, timeout=10, verify=cloud.verify)
        resp.raise_for_status()
        meta: dict[str, Any] = resp.json()
    except requests.exceptions.SSLError as exc:
        raise UsageError(
            f"TLS verification of the ARM endpoint {cloud.arm_endpoint} failed: {exc}",
            "set REQUESTS_CA_BUNDLE to the PEM file of the CA that signed the endpoint's certificate",
        ) from None
    except (requests.RequestException, ValueError):
        # Older private clouds have no metadata document; the public values are the best guess.
        return cloud
    if isinstance(meta, list):  # the 2019 format is a list of clouds; take the first
        meta = meta[0] if meta else {}
    auth = meta.get("authentication") or {}
    audiences = auth.get("audiences") or []
    login = str(auth.get("loginEndpoint") or "").removeprefix("https://").strip("/")
    suffixes = meta.get("suffixes") or {}
    return replace(
        cloud,
        audience=audiences[0] if audiences else cloud.audience,
        authority_host=login or cloud.authority_host,
        keyvault_suffix=str(suffixes.get("keyVaultDns") or cloud.keyvault_suffix).lstrip("."),
        storage_suffix=str(suffixes.get("storage") or cloud.storage_suffix).lstrip("."),
    )
