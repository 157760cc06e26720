"""Azure engine: sign-in, cloud selection, clients and subscription data (no UI here).

Public API (stable; every call blocks on the network, so the TUI calls them from thread workers):

- ``SignInOptions(cloud="public", arm_endpoint=None, tenant_id=None, method="auto", client_id=None)``
  or ``SignInOptions.from_plan(plan)``; ``method``: auto | cli | environment | device_code.
- ``sign_in(options, prompt_callback=None) -> AzureSession`` — tries the Azure CLI login, then a
  service principal from the environment, then (only with ``prompt_callback``) device code.
  ``prompt_callback(verification_uri, user_code, expires_on)`` is called from the worker thread;
  the TUI shows code and URL itself. Raises ``AzureSignInError`` (message + hint).
- ``AzureSession``: ``.cloud`` (``Cloud``), ``.principal`` (``Principal``: ``kind`` user|app,
  ``object_id``, ``tenant_id``, ``name``, ``credential``; ``describe()``), ``.clients``
  (``ClientFactory``: real azure-mgmt clients sharing one HTTP session and token), ``.close()``.
- ``list_tenants(session) -> list[TenantInfo]``
- ``list_subscriptions(session) -> list[SubscriptionInfo]`` (``subscription_id``, ``display_name``,
  ``tenant_id``, ``state``, ``quota_id``, ``spending_limit``, ``label()``)
- ``list_locations(session, subscription_id, physical_only=True) -> list[LocationInfo]``
  (``name`` e.g. swedencentral — what goes into ``plan.azure.location`` — and ``display_name``)
- ``register_providers(session, subscription_id, namespaces, on_state=None)`` — changes the
  subscription: call only after the person confirmed. ``register_command(namespaces)`` is the
  ``az`` line for people who prefer to do it themselves.
- ``names_for(plan) -> AzureNames`` (``installer.azure.naming``): every Azure resource name.
- ``installer.azure.requirements``: resource types / namespaces / capacity per model and size.

Clouds: ``public``, ``usgov``, ``china`` and ``custom`` (ARM URL from ``plan.azure.arm_endpoint`` or
``FABRIX_ARM_ENDPOINT``; described by its ``/metadata/endpoints``). TLS trust: ``REQUESTS_CA_BUNDLE``.

To reuse a session in the checks (no second sign-in), put it into the check context:
``CheckContext(plan, cache={"azure.session": session})``.
"""

from __future__ import annotations

from installer.azure.clouds import Cloud, cloud_for
from installer.azure.credentials import (
    AzureSession,
    AzureSignInError,
    Principal,
    PromptCallback,
    SignInOptions,
    sign_in,
)
from installer.azure.naming import AzureNames, names_for
from installer.azure.providers import register_command, register_providers
from installer.azure.subscriptions import (
    LocationInfo,
    SubscriptionInfo,
    TenantInfo,
    list_locations,
    list_subscriptions,
    list_tenants,
)

__all__ = [
    "AzureNames",
    "AzureSession",
    "AzureSignInError",
    "Cloud",
    "LocationInfo",
    "Principal",
    "PromptCallback",
    "SignInOptions",
    "SubscriptionInfo",
    "TenantInfo",
    "cloud_for",
    "list_locations",
    "list_subscriptions",
    "list_tenants",
    "names_for",
    "register_command",
    "register_providers",
    "sign_in",
]
