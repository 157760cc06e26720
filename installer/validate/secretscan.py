"""Find generated secret values in rendered files: Azure blueprints and exports must hold none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from installer.render import Bundle
from installer.validate import Finding

MIN_LEN = 8  # shorter values would match by accident; generated secrets are 32+ characters


def scan_bundle(bundle: Bundle, secrets: Mapping[str, str], skip: Iterable[str] = ()) -> list[Finding]:
    """One error per (file, secret) where a secret's value appears in a file's bytes."""
    skipped = set(skip)
    values = {name: v.encode("utf-8") for name, v in secrets.items() if len(v) >= MIN_LEN}
    findings: list[Finding] = []
    for path in bundle:
        if path in skipped:
            continue
        data = bundle.files[path]
        for name, value in sorted(values.items()):
            if value in data:
                findings.append(Finding("secret-scan", path, f"contains the value of secret {name}"))
    return findings
