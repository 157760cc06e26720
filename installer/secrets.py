"""The install's secret store: generated once with ``secrets``, kept stable, mode 0600.

Stored as a dotenv-style file (``NAME=value`` per line) so Compose can read it as an env file.
Values never reach logs, journals, exports or Azure blueprints; ``redact`` scrubs text that
might carry one.
"""

from __future__ import annotations

import base64
import os
import secrets as _random
import string
from collections.abc import Iterable, Mapping
from pathlib import Path

from installer.catalog import Catalog, SecretSpec, load_catalog
from installer.errors import UsageError
from installer.fsutil import write_atomic

_ALPHABET = string.ascii_letters + string.digits


def generate(spec: SecretSpec) -> str:
    if spec.generate == "hex32":
        return _random.token_hex(32)
    if spec.generate == "randomBytes32":
        # B: lib/parameters/infra-parameter-catalog.js: randomBytes(32).toString('base64')
        return base64.b64encode(_random.token_bytes(32)).decode("ascii")
    if spec.generate == "literal":
        if not spec.value:
            raise ValueError("catalog: a literal secret needs a value")
        return spec.value
    # Letters and digits only: safe in URLs, YAML, env files and shell without quoting.
    return "".join(_random.choice(_ALPHABET) for _ in range(32))


def env_name(secret: str) -> str:
    """The variable name of a secret in the env file: ``flowise_db_password`` → ``FLOWISE_DB_PASSWORD``."""
    return secret.upper().replace("-", "_")


class SecretStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, str] = self._read() if path.exists() else {}

    def _read(self) -> dict[str, str]:
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            # Tighten rather than refuse: the file is ours, and a loose mode is a leak in waiting.
            os.chmod(self.path, 0o600)
        values: dict[str, str] = {}
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "=" not in line:
                raise UsageError(
                    f"{self.path}:{number}: not a NAME=value line",
                    "repair or delete the line (deleting a generated secret makes a new one)",
                )
            key, value = line.split("=", 1)
            values[key.strip()] = value
        return values

    def get(self, secret: str) -> str | None:
        return self._values.get(env_name(secret))

    def set(self, secret: str, value: str) -> None:
        if "\n" in value:
            raise UsageError(f"secret {secret} contains a line break", "store a single-line value")
        self._values[env_name(secret)] = value

    def ensure(self, names: Iterable[str], catalog: Catalog | None = None) -> bool:
        """Generate any missing secret among ``names``; return True if something was added."""
        catalog = catalog or load_catalog()
        added = False
        for name in names:
            if self.get(name) is None:
                self._values[env_name(name)] = generate(catalog.secrets[name])
                added = True
        return added

    def values(self) -> Mapping[str, str]:
        """Env-name → value (a copy)."""
        return dict(self._values)

    def save(self) -> None:
        body = "# fabrix secrets: generated once, never printed. Keep this file private.\n"
        body += "".join(f"{k}={v}\n" for k, v in sorted(self._values.items()))
        write_atomic(self.path, body.encode("utf-8"), mode=0o600)


def secrets_for(plan_components: Iterable[str], catalog: Catalog | None = None) -> list[str]:
    catalog = catalog or load_catalog()
    names: set[str] = set()
    for comp in plan_components:
        names.update(catalog.components[comp].secrets_used())
    return sorted(names)


def redact(text: str, values: Iterable[str]) -> str:
    """Replace every secret value found in ``text`` with ``***``."""
    for value in sorted((v for v in values if len(v) >= 6), key=len, reverse=True):
        text = text.replace(value, "***")
    return text
