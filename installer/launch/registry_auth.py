"""A throw-away Docker client configuration for fabrix's own registry login and pull.

``docker login`` stores the password in the client configuration (``~/.docker/config.json``, or
the credential store it names). fabrix logs in only to pull the platform's private images, so it
gives the login and the pull a private ``DOCKER_CONFIG`` inside the install's state folder (0700)
and removes it after the pull, on rollback and on ``down``: the person's own Docker configuration
never receives the password, and nothing is left behind when the install goes.

The private folder keeps what makes the CLI work as the person set it up (the current context,
contexts, CLI plugins such as Compose) and drops every credential entry (``auths``,
``credsStore``, ``credHelpers``), so the login is written to the private file, not a keychain.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from installer.fsutil import write_atomic

FOLDER_NAME = "docker-config"
_CREDENTIAL_KEYS = ("auths", "credsStore", "credHelpers")
_LINKED = ("contexts", "cli-plugins")  # read-only context and plugin lookups go to the person's
_MAX_CONFIG_BYTES = 1_000_000


def user_docker_config() -> Path:
    """Where the docker CLI reads its configuration (``DOCKER_CONFIG`` or ``~/.docker``)."""
    env = os.environ.get("DOCKER_CONFIG")
    return Path(env) if env else Path.home() / ".docker"


def config_dir(install_root: Path) -> Path:
    return install_root / FOLDER_NAME


def create(install_root: Path, source: Path | None = None) -> Path:
    """Make (or remake) the private configuration for one install; returns its folder."""
    source = source or user_docker_config()
    target = config_dir(install_root)
    remove(install_root)
    target.mkdir(mode=0o700, parents=True)
    settings: dict[str, object] = {}
    src_file = source / "config.json"
    try:
        if src_file.is_file() and src_file.stat().st_size <= _MAX_CONFIG_BYTES:
            loaded = json.loads(src_file.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                settings = {k: v for k, v in loaded.items() if k not in _CREDENTIAL_KEYS}
    except (OSError, ValueError):
        settings = {}  # an unreadable config: start from defaults, the login still works
    write_atomic(target / "config.json", (json.dumps(settings, indent=1) + "\n").encode("utf-8"), mode=0o600)
    for name in _LINKED:
        if (source / name).is_dir():
            os.symlink(source / name, target / name)
    return target


def remove(install_root: Path) -> bool:
    """Delete the private configuration (and the login in it). True when there was one."""
    target = config_dir(install_root)
    if target.is_symlink():
        target.unlink()
        return True
    if not target.exists():
        return False
    # rmtree does not follow the plugin/context links: it removes the links themselves.
    shutil.rmtree(target, ignore_errors=True)
    return True


def env_with(env: dict[str, str], folder: Path) -> dict[str, str]:
    return {**env, "DOCKER_CONFIG": str(folder)}
