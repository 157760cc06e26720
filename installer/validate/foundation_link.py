"""Run the foundation's validator (Bicep/ARM rules, checkov) on the foundation part of a bundle."""

from __future__ import annotations

from installer.render import Bundle, RenderInput
from installer.validate import Finding


def foundation_findings(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    from installer.validate.arm import validate_foundation

    return list(validate_foundation(bundle, inp))
