"""The real azure-mgmt clients, pointed at a started FakeArm (for tests of the fake and of launch code).

The credential is a static bearer token: the fake ARM only requires the header (sign-in itself is
covered through the real ``AzureCliCredential`` in test_azure_signin.py). ``polling_interval=0``
because the fake's simulated time, not the client, decides how long an operation runs; when the
fake sends ``Retry-After`` (``arm.deploy.poll_retry_after``) the SDK honours it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import AccessToken

from tests.azure import scenarios


class StaticToken:
    """A TokenCredential that hands out one unsigned bearer token (the fake does not verify it)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("x.e30.y", int(time.time()) + 3600)

    def close(self) -> None:
        pass


@dataclass
class ArmClients:
    resources: Any
    deployments: Any
    stacks: Any
    apps: Any
    aks: Any
    keyvault: Any


def sdk_clients(arm: Any, subscription: str = scenarios.SUBSCRIPTION, **kw: Any) -> ArmClients:
    from azure.mgmt.appcontainers import ContainerAppsAPIClient
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient
    from azure.mgmt.resource.deploymentstacks import DeploymentStacksClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    options: dict[str, Any] = {"base_url": arm.url.rstrip("/"), "connection_verify": arm.ca_path, "polling_interval": 0, **kw}
    cred = StaticToken()
    return ArmClients(
        resources=ResourceManagementClient(cred, subscription, **options),
        deployments=DeploymentsMgmtClient(cred, subscription, **options),
        stacks=DeploymentStacksClient(cred, subscription, **options),
        apps=ContainerAppsAPIClient(cred, subscription, **options),
        aks=ContainerServiceClient(cred, subscription, **options),
        keyvault=KeyVaultManagementClient(cred, subscription, **options),
    )
