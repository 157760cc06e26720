"""``fabrix validate --answers F``: exit 0 when the answers file is valid, 2 when not.

Valid is not the same as safe or checked: what validate cannot check offline (the region against
the subscription's list) it says is unchecked, and what is valid but exposes the stack (a bind
address other than loopback) it warns about. Warnings never change the exit code.
"""

from __future__ import annotations

import argparse

from installer.commands.common import load_plan
from installer.exposure import FIREWALL_NOTE, KEEP_PRIVATE, bind_exposure
from installer.output import Output
from installer.plan import InstallPlan


def notes_for(plan: InstallPlan) -> list[dict[str, str]]:
    """What a valid plan still deserves a word about: ``{"field", "level", "message"}``."""
    notes: list[dict[str, str]] = []
    if plan.is_azure():
        if plan.azure.location:
            notes.append({"field": "azure.location", "level": "unchecked",
                          "message": f"region {plan.azure.location} is not checked against the subscription's regions "
                                     "here (validate works offline); `fabrix check` checks it"})
        return notes
    exposure = bind_exposure(plan.compose.bind_address)
    if exposure:
        notes.append({"field": "compose.bind_address", "level": "warning", "message": f"{exposure} ({FIREWALL_NOTE}); {KEEP_PRIVATE}"})
    return notes


def run(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args)  # raises UsageError (exit 2) with every problem listed
    components = plan.enabled_components()
    notes = notes_for(plan)
    out.result(
        {"valid": True, "name": plan.name, "model": plan.model.value, "components": components, "notes": notes},
        f"{args.answers}: valid — install {plan.name!r}, model {plan.model.value}"
        + (f"/{plan.target.value}" if plan.model.value == "container" else "")
        + f", components: {', '.join(components)}",
    )
    for note in notes:
        out.info(f"{note['level']}: {note['field']}: {note['message']}")
    return 0
