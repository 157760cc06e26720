"""The hybrid model's one design for the control plane's ingress, shared by the ACA YAML
(``installer/render/hybrid.py``) and the ARM/Bicep foundation (``compute.aca``), so they cannot
disagree.

The Miso controller stays in the Container Apps environment, which has no public network access.
The on-prem runner reaches it over a private path: ExpressRoute or a site-to-site VPN into the
virtual network, then the environment's private endpoint (snet-pe, private DNS zone
``privatelink.<region>.azurecontainerapps.io``). On top of that path the controller's ingress is
"external" (reachable from outside the environment, i.e. from that private endpoint), requires a
client certificate (mutual TLS, the runner's certificate) and accepts only the runner's egress
range (IP allowlist). Everything else in the runner's configuration that points at Azure is a
Front Door URL (Keycloak), never the controller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from installer.catalog import Catalog
    from installer.plan import InstallPlan

CONTROL_PLANE = "miso-controller"
RUNNER = "dataplane"  # the connector runtime; runs on-prem in the hybrid model
ONPREM_CIDR_PARAM = "onpremEgressCidr"  # ARM/Bicep parameter
ONPREM_CIDR_VAR = "ONPREM_EGRESS_CIDR"  # ACA YAML placeholder (envsubst)
ACA_PRIVATE_DNS = "privatelink.{0}.azurecontainerapps.io"  # {0}: the environment's region


def azure_components(plan: InstallPlan, compute: str, catalog: Catalog | None = None) -> list[str]:
    """The enabled components the Azure foundation serves: all of them, except the hybrid model's
    on-prem runner (on Container Apps), whose secrets, databases and roles live on-prem only
    (``onprem/``). One rule for the template's parameters, Key Vault secrets and databases."""
    from installer.plan import DeploymentModel

    enabled = plan.enabled_components(catalog)
    if plan.model == DeploymentModel.hybrid and compute == "aca":
        return [n for n in enabled if n != RUNNER]
    return enabled


def secure_control_plane_ingress(ingress: dict[str, Any], cidr: Any) -> dict[str, Any]:
    """Make ``ingress`` the control plane's: external on the private path, mTLS, allowlist ``cidr``."""
    ingress["external"] = True
    ingress["clientCertificateMode"] = "require"
    ingress["ipSecurityRestrictions"] = [{
        "name": "onprem-runner",
        "description": "on-prem connector runner egress range",
        "ipAddressRange": cidr,
        "action": "Allow",
    }]
    return ingress
