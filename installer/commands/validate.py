"""``fabrix validate --answers F``: exit 0 when the answers file is valid, 2 when not."""

from __future__ import annotations

import argparse

from installer.commands.common import load_plan
from installer.output import Output


def run(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args)  # raises UsageError (exit 2) with every problem listed
    components = plan.enabled_components()
    out.result(
        {"valid": True, "name": plan.name, "model": plan.model.value, "components": components},
        f"{args.answers}: valid — install {plan.name!r}, model {plan.model.value}"
        + (f"/{plan.target.value}" if plan.model.value == "container" else "")
        + f", components: {', '.join(components)}",
    )
    return 0
