"""The render pipeline every caller shares (CLI, launch, wizard): secrets → render → validate.

Lives in the engine, not in ``installer.commands``, so launch and the TUI use it without
depending on the CLI layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from installer.catalog import load_catalog
from installer.errors import OperationFailed
from installer.plan import InstallPlan
from installer.render import Bundle, RenderInput, render_plan, renderer_keys
from installer.secrets import SecretStore, secrets_for
from installer.state import install_dir
from installer.validate import Finding, validate_bundle
from installer.validate.memo import validation_run


def install_secrets(plan: InstallPlan, create: bool = True) -> SecretStore:
    """The install's secret store with every secret the plan needs (generated once, then kept)."""
    folder = install_dir(plan.name)
    store = SecretStore(folder.secrets)
    needed = secrets_for(plan.enabled_components())
    if create and store.ensure(needed):
        folder.create()
        store.save()
    return store


@dataclass(frozen=True)
class Rendered:
    bundle: Bundle
    inp: RenderInput
    # Findings that do not stop a render (an optional validator absent, an ageing API version).
    warnings: list[Finding] = field(default_factory=list)


def render_checked(plan: InstallPlan, keys: list[str] | None = None) -> Rendered:
    """Render the plan's blueprints and run the offline validators; an error finding stops here."""
    inp = RenderInput(plan=plan, secrets=install_secrets(plan).values(), catalog=load_catalog())
    keys = keys or renderer_keys(plan)
    bundle = render_plan(inp, keys)
    findings: list[Finding] = []
    with validation_run():  # targets that carry the same files have them checked once
        for key in keys:
            part = bundle if len(keys) == 1 else bundle.subtree(f"{key}/")
            prefix = "" if len(keys) == 1 else f"{key}/"
            findings += [
                Finding(f.validator, prefix + f.path, f.message, f.severity)
                for f in validate_bundle(part, inp, key)
            ]
    problems = [f for f in findings if f.severity == "error"]
    if problems:
        listing = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise OperationFailed(
            f"the rendered blueprints failed validation ({len(problems)} problem(s)); nothing was written:\n  {listing}{more}",
            "this is a fabrix bug unless an image override or port in the answers caused it; report it with the answers file",
        )
    return Rendered(bundle, inp, [f for f in findings if f.severity != "error"])


def render_and_validate(plan: InstallPlan, keys: list[str] | None = None) -> tuple[Bundle, RenderInput]:
    """``render_checked`` for callers that only want the files."""
    rendered = render_checked(plan, keys)
    return rendered.bundle, rendered.inp
