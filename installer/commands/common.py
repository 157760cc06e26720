"""What several commands share: loading the plan and the install's secrets, rendering it."""

from __future__ import annotations

import argparse

from installer.answers import load_answers
from installer.catalog import load_catalog
from installer.errors import OperationFailed
from installer.plan import InstallPlan
from installer.render import Bundle, RenderInput, render_plan, renderer_keys
from installer.secrets import SecretStore, secrets_for
from installer.state import install_dir


def load_plan(args: argparse.Namespace) -> InstallPlan:
    return load_answers(args.answers)


def install_secrets(plan: InstallPlan, create: bool = True) -> SecretStore:
    """The install's secret store with every secret the plan needs (generated once, then kept)."""
    folder = install_dir(plan.name)
    store = SecretStore(folder.secrets)
    needed = secrets_for(plan.enabled_components())
    if create and store.ensure(needed):
        folder.create()
        store.save()
    return store


def render_and_validate(plan: InstallPlan, keys: list[str] | None = None) -> tuple[Bundle, RenderInput]:
    """Render the plan's blueprints and run the offline validators; errors stop here."""
    from installer.validate import errors_only, validate_bundle

    inp = RenderInput(plan=plan, secrets=install_secrets(plan).values(), catalog=load_catalog())
    keys = keys or renderer_keys(plan)
    bundle = render_plan(inp, keys)
    problems = []
    for key in keys:
        part = bundle if len(keys) == 1 else _sub_bundle(bundle, f"{key}/")
        problems += errors_only(validate_bundle(part, inp, key))
    if problems:
        listing = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise OperationFailed(
            f"the rendered blueprints failed validation ({len(problems)} problem(s)); nothing was written:\n  {listing}{more}",
            "this is a fabrix bug unless an image override or port in the answers caused it; report it with the answers file",
        )
    return bundle, inp


def _sub_bundle(bundle: Bundle, prefix: str) -> Bundle:
    part = Bundle()
    for path, data in bundle.files.items():
        if path.startswith(prefix):
            part.add(path[len(prefix) :], data, private=path in bundle.private)
    return part
