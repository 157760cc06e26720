"""The install's secret store: generated once with ``secrets``, kept stable, mode 0600.

Stored as a dotenv-style file (``NAME=value`` per line) so Compose can read it as an env file.
Values never reach logs, journals, exports or Azure blueprints; ``redact`` scrubs text that
might carry one.
"""

from __future__ import annotations

import base64
import os
import secrets as _random
import stat
import string
from collections.abc import Iterable, Mapping
from pathlib import Path

from installer.catalog import Catalog, SecretSpec, load_catalog
from installer.errors import UsageError
from installer.fsutil import write_atomic

_ALPHABET = string.ascii_letters + string.digits
MAX_STORE_BYTES = 1_000_000  # a store holds a dozen short lines


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
        self._values: dict[str, str] = self._read() if os.path.lexists(path) else {}

    def _read(self) -> dict[str, str]:
        fix = "restore it from a backup, or delete it (fabrix generates new secrets; a running install then needs `down --volumes`)"
        try:
            # O_NOFOLLOW: a secrets.env swapped for a link is refused, never read or chmod-ed through.
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise UsageError(f"cannot open the secret store {self.path}: {exc.strerror or exc}"
                             + (" (a symbolic link?)" if self.path.is_symlink() else ""), fix) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise UsageError(f"the secret store {self.path} is not a regular file (a folder?)", fix)
        with os.fdopen(fd, "rb") as fh:
            if info.st_size > MAX_STORE_BYTES:
                raise UsageError(f"the secret store {self.path} is {info.st_size} bytes, not a secret store", fix)
            if info.st_mode & 0o077:
                # Tighten rather than refuse: the file is ours, and a loose mode is a leak in waiting.
                os.fchmod(fd, 0o600)
            raw = fh.read(MAX_STORE_BYTES + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"the secret store {self.path} is not text (binary data)", fix) from None
        if "\0" in text:
            raise UsageError(f"the secret store {self.path} is not text (binary data)", fix)
        values: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
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
