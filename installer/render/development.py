"""Development environment: Dev and Test parameter sets and a GitHub Actions pipeline.

Dev and Test are separate subscriptions running the same templates as production with smaller
SKUs and the same security posture: the foundation's ``bicep/params/dev.bicepparam`` and
``test.bicepparam`` (sizes from ``installer.render.azure.sizing``) are the parameter sets, and
``environments/<env>.yaml`` says what each one runs, so a reviewer sees the difference in one
place. The pipeline scans (Trivy) each upstream image by digest and builds it into the environment's
registry with ACR Tasks (the registry is private, so a GitHub-hosted runner never pushes to it), validates the
IaC (Bicep build, checkov, strict Kubernetes schemas), then per environment runs the
subscription-side validation (policy denies), what-if and an Azure Policy compliance gate before
it deploys; test is deployed only after dev succeeded.
"""

from __future__ import annotations

from typing import Any

from installer.plan import Target, Tier
from installer.render import Bundle, RenderInput
from installer.render.aca import foundation, render_aca_apps
from installer.render.aks import render_k8s
from installer.render.azure.build import secret_params
from installer.render.azure.sizing import SKUS, size_for_tier
from installer.render.foundation import TIER_FILES
from installer.render.templating import render_template
from installer.render.workload import KUBERNETES_VERSION, azure_apps, azure_names, replicas
from installer.render.yamlout import dump

ENVIRONMENTS = (Tier.dev, Tier.test)
WORKFLOWS = (".github/workflows/images.yml", ".github/workflows/infra.yml")


def compute_for(inp: RenderInput) -> str:
    return "aks" if inp.plan.target is Target.aks else "aca"


def environment_doc(inp: RenderInput, tier: Tier) -> dict[str, Any]:
    plan = inp.plan.model_copy(update={"tier": tier})
    size = size_for_tier(inp.plan, tier)
    skus = SKUS[size]
    lo, hi = replicas(plan)
    return {
        "environment": tier.value,
        "subscription": "separate per environment (GitHub environment variable AZURE_SUBSCRIPTION_ID)",
        "parameters": TIER_FILES[tier],
        "sizePreset": size.value,
        "postgres": {"sku": skus.postgres_sku, "tier": skus.postgres_tier, "storageGB": skus.postgres_storage_gb,
                     "highAvailability": skus.postgres_ha},
        "redis": {"sku": skus.redis_sku},
        "replicas": {"min": lo, "max": hi},
        "securityPosture": "same as production: private endpoints, public network access disabled, "
                           "Key Vault references through the workload identity, WAF in prevention mode",
    }


def dockerfile(title: str, image: str) -> str:
    """The image rebuilt in the environment's registry. ``BASE`` is the upstream reference; the
    pipeline passes the digest it resolved and scanned. A tag such as ``:latest`` or ``:main`` floats
    (each build may get different bytes); a ``@sha256:`` reference is fixed."""
    floats = "@sha256:" not in image
    note = ("floats: each pipeline run resolves it to the digest it scans and builds"
            if floats else "fixed by digest")
    return (f"# {title}: upstream {image} ({note}).\n"
            f"ARG BASE={image}\n"
            "FROM ${BASE}\n")


def render_development(inp: RenderInput) -> Bundle:
    plan = inp.plan
    compute = compute_for(inp)
    names = azure_names(plan)
    from installer.render.postdeploy import add_postdeploy

    bundle = foundation(inp, compute)  # type: ignore[arg-type]
    script = add_postdeploy(bundle, inp)
    bundle.merge(render_k8s(inp, postdeploy=script) if compute == "aks" else render_aca_apps(inp, postdeploy=script))
    for tier in ENVIRONMENTS:
        bundle.add(f"environments/{tier.value}.yaml",
                   f"# {tier.value.capitalize()} environment of install {plan.name}: what its parameter set runs.\n"
                   + dump(environment_doc(inp, tier)))
    apps = azure_apps(inp, compute)
    registry = plan.images.registry or f"{names.registry}.azurecr.io"
    for app in apps:
        bundle.add(f"images/{app.name}/Dockerfile", dockerfile(app.title, app.image))
    bundle.add(WORKFLOWS[0], render_template(
        "pipelines/images.yml.j2", plan=plan, registry=registry, components=[a.name for a in apps]))
    secrets_env = {sp.env: "${{ secrets.%s }}" % sp.env for sp in secret_params(inp, compute)}  # type: ignore[arg-type]
    envs = [{"name": t.value, "params": TIER_FILES[t], "after": ENVIRONMENTS[i - 1].value if i else None}
            for i, t in enumerate(ENVIRONMENTS)]
    bundle.add(WORKFLOWS[1], render_template(
        "pipelines/infra.yml.j2", plan=plan, names=names, environments=envs, secrets_env=secrets_env,
        workload_dir="k8s" if compute == "aks" else "aca", k8s_version=KUBERNETES_VERSION))
    bundle.add("DEVELOPMENT.md", render_template(
        "pipelines/DEVELOPMENT.md.j2", plan=plan, names=names,
        envs=[environment_doc(inp, t) for t in ENVIRONMENTS], workflows=WORKFLOWS,
        secrets_env=sorted(secrets_env), postdeploy=script))
    return bundle
