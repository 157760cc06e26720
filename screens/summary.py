"""The plan in plain words (Review) and what was generated, with no secret values."""

from __future__ import annotations

from installer.catalog import load_catalog
from installer.flow import path_status
from installer.plan import InstallPlan
from installer.render import renderer_keys
from installer.state import install_dir
from screens.content import MODELS, TARGETS


def describe_plan(plan: InstallPlan) -> str:
    """Rich-markup text: what will be installed, where, how big, and what happens next."""
    catalog = load_catalog()
    info = MODELS[plan.model]
    target = plan.effective_target()
    where = TARGETS[target] if target is not None else info.title
    lines = [
        f"[b]{plan.name}[/b]: {info.title} — {where}",
        f"Size {plan.size.value.upper()} ({catalog.sizes[plan.size.value].summary}); tier {plan.tier.value}.",
        f"First administrator: {plan.identity.admin_email}.",
        "",
        "[b]Components[/b]",
    ]
    for name in plan.enabled_components(catalog):
        comp = catalog.components[name]
        port = plan.host_port(name, catalog) if not plan.is_azure() else None
        at = f" on {plan.compose.bind_address}:{port}" if port else ""
        # The image on a line of its own: a registry path beside a long title would wrap mid-name
        # at 80 columns (issue 11); indented under its component it stays whole and readable.
        lines += [f"  • {comp.title}{at}", f"      [dim]{plan.image_for(name, catalog)}[/]"]
    if plan.is_azure():
        az = plan.azure
        lines += [
            "",
            "[b]Azure[/b]",
            f"  cloud {az.cloud.value} · tenant {az.tenant_id or 'not set'} · subscription {az.subscription_id or 'not set'}",
            f"  region {az.location or 'not set'} · resource group {az.resource_group or 'not set'}",
        ]
    else:
        lines += ["", f"Data folder: {plan.compose.data_dir or install_dir(plan.name).data}"]
    if plan.images.registry:
        lines.append(f"Private registry {plan.images.registry} as {plan.images.username or '(no user)'};"
                     " its password is in the secret store.")
    lines += [
        "",
        f"Blueprints: {', '.join(renderer_keys(plan))}"
        + (f" (renders for {TARGETS[target]})" if target is not None and plan.model.value != "container" else "")
        + f". {path_status(plan).summary}",
        f"Secrets: generated once into {install_dir(plan.name).secrets} (mode 0600), never shown.",
    ]
    return "\n".join(lines)
