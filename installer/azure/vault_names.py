"""Which Key Vault name an install uses next, when a removed vault still holds the old one.

Key Vault names are global and a deleted vault keeps its name for its soft-delete retention. In
production the vault has purge protection (``render/azure/sizing.VAULT_PROTECTION``): nobody can
free the name before its scheduled purge date (up to 90 days), so a rollback or ``fabrix down``
of a production install would block the next install of the same name at the name check.

So the vault name carries a *generation*: 0 at first (the name has no extra part, as before), and
each time fabrix removes a purge-protected vault it moves the install to the next generation,
whose name is free. This file in the install's folder (``azure-vault.json``) records the
generation and every vault left behind (name, deletion and scheduled purge date as the
deleted-vault body says, which run left it); ``fabrix status`` and the rollback's message show
them. Nothing secret is in it.

The file is the install's state, not an answer: whatever answers file the person passes next,
``installer.azure.naming.names_for`` reads the generation from here, so checks, blueprints,
launch and teardown name the same vault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE = "azure-vault.json"


@dataclass(frozen=True)
class LeftVault:
    name: str
    location: str
    deletion_date: str
    scheduled_purge_date: str
    run: str  # the run that removed it ("down" when `fabrix down` did)

    def describe(self) -> str:
        return (f"Key Vault {self.name} is soft-deleted with purge protection (in {self.location}; Azure purges it "
                f"on {self.scheduled_purge_date or 'its scheduled purge date'}); its name stays reserved until then")


def _path(install: str) -> Path | None:
    from installer.errors import UsageError
    from installer.state import install_dir

    try:
        return install_dir(install).root / FILE
    except UsageError:  # not an install name (a plan being validated): no state
        return None


def _read(install: str) -> dict[str, Any]:
    path = _path(install)
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def generation(install: str) -> int:
    """The install's Key Vault name generation (0 when no purge-protected vault was left)."""
    try:
        return max(0, int(_read(install).get("generation", 0)))
    except (TypeError, ValueError):
        return 0


def name_prefix_for(install: str, prefix: str, limit: int = 8) -> str:
    """A Marketplace-style ``namePrefix`` (2-8 characters; every name, the vault's included,
    derives from it) with the install's generation at its end; unchanged at generation 0."""
    gen = generation(install)
    if not gen or not prefix:
        return prefix
    tail = str(gen)
    return f"{prefix[:max(1, limit - len(tail))]}{tail}"


def left_behind(install: str) -> list[LeftVault]:
    out = []
    for item in _read(install).get("left", []):
        if isinstance(item, dict) and item.get("name"):
            out.append(LeftVault(str(item["name"]), str(item.get("location", "")), str(item.get("deletion_date", "")),
                                 str(item.get("scheduled_purge_date", "")), str(item.get("run", ""))))
    return out


def retire(install: str, left: LeftVault) -> int:
    """Record that ``left`` holds its name until its purge date and move the install to the next
    generation (once per vault name: a second rollback that finds the same vault changes nothing).
    Returns the generation now in force."""
    from installer.fsutil import write_atomic

    data = _read(install)
    known = [v for v in data.get("left", []) if isinstance(v, dict)]
    gen = generation(install)
    if any(str(v.get("name", "")).lower() == left.name.lower() for v in known):
        return gen
    known.append({"name": left.name, "location": left.location, "deletion_date": left.deletion_date,
                  "scheduled_purge_date": left.scheduled_purge_date, "run": left.run})
    gen += 1
    path = _path(install)
    if path is None:
        return gen
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, (json.dumps({"generation": gen, "left": known}, indent=2) + "\n").encode(), mode=0o600)
    return gen
