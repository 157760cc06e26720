"""Real ``azure-mgmt-*`` clients for one cloud, sharing one HTTP session, credential and retry rule.

Every client gets the same pipeline shape, built here rather than by the SDK, for two reasons:
- the SDK's ``ARMAutoResourceProviderRegistrationPolicy`` would silently *register* a resource
  provider on a 409 ``MissingSubscriptionRegistration`` (and sleep 10 s per poll) — a change to the
  customer's subscription without asking; we register only after confirmation (``providers``);
- the retry policy honours ``Retry-After`` on 429/503 but is bounded: a wait longer than
  ``max_retry_after`` is not slept through; the call fails and its check reports "could not verify".
Clients are created once per (kind, subscription) and are safe to use from several threads.
"""

from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from azure.core.pipeline import policies
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

from installer import __version__
from installer.azure.clouds import Cloud

# The azure-mgmt packages are imported lazily, from the checks' worker threads. Two threads
# importing the same package (its models import each other) can trip CPython's import deadlock
# detector (``_DeadlockError``), so every lazy azure-mgmt import goes through ``sdk_import``.
_IMPORT_LOCK = threading.Lock()


def sdk_import(module: str, name: str) -> Any:
    with _IMPORT_LOCK:
        return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class RetrySettings:
    total: int = 3  # retries after the first attempt
    backoff_factor: float = 0.5  # exponential backoff when no Retry-After is given
    backoff_max: float = 8.0
    max_retry_after: float = 30.0  # longer server-requested waits are not slept through
    connection_timeout: float = 10.0
    read_timeout: float = 60.0
    # time.monotonic() by which every call must have its final answer (the report's deadline):
    # a retry whose wait would end after it is not made, so the 429 is reported, not a timeout.
    deadline: float | None = None


class ThrottleLog:
    """How long this factory's calls waited on 429 Retry-After (said in "could not verify" findings)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waits = 0
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        with self._lock:
            self.waits += 1
            self.seconds += seconds


class BoundedRetryPolicy(policies.RetryPolicy):
    """``RetryPolicy`` that honours Retry-After only up to ``max_retry_after`` seconds, and never
    waits past ``deadline``."""

    def __init__(self, max_retry_after: float, deadline: float | None = None, throttle: ThrottleLog | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_retry_after = max_retry_after
        self.deadline = deadline
        self.throttle = throttle

    def _sleep_for_retry(self, response: Any, transport: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after and self.throttle is not None and response.http_response.status_code == 429:
            self.throttle.add(retry_after)
        return bool(super()._sleep_for_retry(response, transport))

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        if not super().is_retry(settings, response):
            return False
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self.max_retry_after:
            return False
        if self.deadline is not None:
            wait = retry_after if retry_after is not None else self.get_backoff_time(settings)
            # Leave room for the retried call itself (about one round trip) before the deadline.
            if time.monotonic() + wait + 1.0 > self.deadline:
                return False
        return True


class ClientFactory:
    def __init__(self, cloud: Cloud, credential: Any, retry: RetrySettings | None = None) -> None:
        self.cloud = cloud
        self.credential = credential
        self.retry = retry or RetrySettings()
        self.throttle = ThrottleLog()
        self._session = requests.Session()
        # Checks run concurrently: let every one of them keep its own connection to ARM.
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
        self._session.mount("https://", adapter)
        self.transport = RequestsTransport(
            session=self._session,
            session_owner=False,
            connection_verify=cloud.verify,
            connection_timeout=self.retry.connection_timeout,
            read_timeout=self.retry.read_timeout,
        )
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()

    # ---- pipeline ----

    def policies(self) -> list[Any]:
        """A fresh policy chain (HTTP policies are linked per pipeline; never share instances)."""
        r = self.retry
        return [
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(base_user_agent=f"fabrix/{__version__}"),
            policies.ProxyPolicy(),
            policies.ContentDecodePolicy(),
            policies.RedirectPolicy(),
            BoundedRetryPolicy(
                r.max_retry_after,
                r.deadline,
                self.throttle,
                retry_total=r.total,
                retry_backoff_factor=r.backoff_factor,
                retry_backoff_max=r.backoff_max,
            ),
            ARMChallengeAuthenticationPolicy(self.credential, self.cloud.scope),
            policies.CustomHookPolicy(),
            policies.SensitiveHeaderCleanupPolicy(),
        ]

    def _kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.cloud.base_url,
            "credential_scopes": [self.cloud.scope],
            "policies": self.policies(),
            "transport": self.transport,
            "polling_interval": 1,
        }

    def _get(self, kind: str, subscription_id: str | None, make: Any) -> Any:
        key = (kind, subscription_id.lower() if subscription_id else None)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = make()
                self._clients[key] = client
            return client

    # ---- clients (imported lazily: each azure-mgmt package costs import time) ----

    def subscriptions(self) -> Any:
        # The split package (API 2022-12-01) has state, tenantId and region metadata.
        SubscriptionClient = sdk_import("azure.mgmt.resource.subscriptions", "SubscriptionClient")

        return self._get("subscription", None, lambda: SubscriptionClient(self.credential, **self._kwargs()))

    def resources(self, subscription_id: str) -> Any:
        ResourceManagementClient = sdk_import("azure.mgmt.resource.resources", "ResourceManagementClient")

        return self._get(
            "resources", subscription_id, lambda: ResourceManagementClient(self.credential, subscription_id, **self._kwargs())
        )

    def authorization(self, subscription_id: str) -> Any:
        AuthorizationManagementClient = sdk_import("azure.mgmt.authorization", "AuthorizationManagementClient")

        return self._get(
            "authorization",
            subscription_id,
            lambda: AuthorizationManagementClient(self.credential, subscription_id, **self._kwargs()),
        )

    def compute(self, subscription_id: str) -> Any:
        ComputeManagementClient = sdk_import("azure.mgmt.compute", "ComputeManagementClient")

        return self._get(
            "compute", subscription_id, lambda: ComputeManagementClient(self.credential, subscription_id, **self._kwargs())
        )

    def container_apps(self, subscription_id: str) -> Any:
        ContainerAppsAPIClient = sdk_import("azure.mgmt.appcontainers", "ContainerAppsAPIClient")

        return self._get(
            "appcontainers", subscription_id, lambda: ContainerAppsAPIClient(self.credential, subscription_id, **self._kwargs())
        )

    def postgres(self, subscription_id: str) -> Any:
        PostgreSQLManagementClient = sdk_import("azure.mgmt.postgresqlflexibleservers", "PostgreSQLManagementClient")

        return self._get(
            "postgres", subscription_id, lambda: PostgreSQLManagementClient(self.credential, subscription_id, **self._kwargs())
        )

    def keyvault(self, subscription_id: str) -> Any:
        KeyVaultManagementClient = sdk_import("azure.mgmt.keyvault", "KeyVaultManagementClient")

        return self._get(
            "keyvault", subscription_id, lambda: KeyVaultManagementClient(self.credential, subscription_id, **self._kwargs())
        )

    def storage(self, subscription_id: str) -> Any:
        StorageManagementClient = sdk_import("azure.mgmt.storage", "StorageManagementClient")

        return self._get(
            "storage", subscription_id, lambda: StorageManagementClient(self.credential, subscription_id, **self._kwargs())
        )

    def registry(self, subscription_id: str) -> Any:
        ContainerRegistryManagementClient = sdk_import("azure.mgmt.containerregistry", "ContainerRegistryManagementClient")

        return self._get(
            "registry",
            subscription_id,
            lambda: ContainerRegistryManagementClient(self.credential, subscription_id, **self._kwargs()),
        )

    def policy(self, subscription_id: str) -> Any:
        PolicyClient = sdk_import("azure.mgmt.resource.policy", "PolicyClient")

        return self._get("policy", subscription_id, lambda: PolicyClient(self.credential, subscription_id, **self._kwargs()))

    def policy_insights(self, subscription_id: str) -> Any:
        PolicyInsightsClient = sdk_import("azure.mgmt.policyinsights", "PolicyInsightsClient")

        return self._get(
            "policyinsights", subscription_id, lambda: PolicyInsightsClient(self.credential, subscription_id, **self._kwargs())
        )

    def deployments(self, subscription_id: str) -> Any:
        # azure-mgmt-resource >= 25 moved deployments (and their operations) into their own package.
        DeploymentsMgmtClient = sdk_import("azure.mgmt.resource.deployments", "DeploymentsMgmtClient")

        return self._get(
            "deployments", subscription_id, lambda: DeploymentsMgmtClient(self.credential, subscription_id, **self._kwargs())
        )

    def deployment_stacks(self, subscription_id: str) -> Any:
        DeploymentStacksClient = sdk_import("azure.mgmt.resource.deploymentstacks", "DeploymentStacksClient")

        return self._get(
            "deploymentstacks", subscription_id, lambda: DeploymentStacksClient(self.credential, subscription_id, **self._kwargs())
        )

    def container_service(self, subscription_id: str) -> Any:
        ContainerServiceClient = sdk_import("azure.mgmt.containerservice", "ContainerServiceClient")

        return self._get(
            "containerservice", subscription_id, lambda: ContainerServiceClient(self.credential, subscription_id, **self._kwargs())
        )

    def close(self) -> None:
        with self._lock:
            self._clients.clear()
        self._session.close()
