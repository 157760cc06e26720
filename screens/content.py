"""Words the wizard shows: the six deployment models as the product documentation describes them.

Source: the vendor's deployment-models page (see ../shared/notes/platform-stack.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.plan import DeploymentModel, Target


@dataclass(frozen=True)
class ModelInfo:
    title: str
    best_for: str
    highlights: tuple[str, ...]
    when: str


MODELS: dict[DeploymentModel, ModelInfo] = {
    DeploymentModel.marketplace: ModelInfo(
        "Azure Marketplace",
        "Enterprises that want the supported, pre-validated install in their own subscription.",
        (
            "Resource group, VNet with private endpoints, Key Vault, Storage",
            "Container Apps, PostgreSQL (pgvector), Redis, Front Door",
            "Entra ID SSO, RBAC and SCIM; pre-validated Bicep templates",
        ),
        "You buy through the Marketplace and want the vendor's standard topology.",
    ),
    DeploymentModel.manual: ModelInfo(
        "Manual installation",
        "Platform teams with their own landing zone and change process.",
        (
            "Step-by-step runbook: network, Key Vault, Storage, Postgres, Redis",
            "Deploy Flowise, Open WebUI, Core and Miso containers",
            "Entra SSO and Key Vault references, connectors, audit",
        ),
        "Policy or process requires people to provision every resource by hand.",
    ),
    DeploymentModel.container: ModelInfo(
        "Container",
        "Evaluation on one machine (Docker Compose) or production on ACA / AKS.",
        (
            "Docker Compose on a single host for evaluation",
            "Azure Container Apps or AKS for production",
            "Workload identity for Key Vault, network policies, autoscaling",
        ),
        "You want it running fast, or you already run containers in Azure.",
    ),
    DeploymentModel.hybrid: ModelInfo(
        "Hybrid",
        "Organisations whose data must stay on-premises.",
        (
            "Data services on-premises, control plane in Azure",
            "ExpressRoute or VPN; on-premises runners; mTLS",
        ),
        "Data residency rules keep data in your own data centre.",
    ),
    DeploymentModel.multicloud: ModelInfo(
        "Multi-cloud",
        "Organisations standardised on several clouds, with Azure as primary.",
        (
            "Azure primary; other clouds for selected workloads",
            "On the vendor's roadmap: blueprints describe the Azure part",
        ),
        "Your strategy requires more than one cloud provider.",
    ),
    DeploymentModel.development: ModelInfo(
        "Development environment",
        "Teams building on the platform, separate from production.",
        (
            "Separate Dev/Test subscriptions, smaller SKUs",
            "Same security posture as production",
            "CI/CD pipelines for promoting changes",
        ),
        "You need a safe place to build and test before production.",
    ),
}

TARGETS: dict[Target, str] = {
    Target.compose: "Docker Compose on this machine",
    Target.aca: "Azure Container Apps",
    Target.aks: "Azure Kubernetes Service",
}
