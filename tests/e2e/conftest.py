"""Fixtures for end-to-end tests against the real Docker Engine + Compose v2.

``docker_ready`` skips when Docker or Compose v2 is absent on a developer machine, but FAILS when
``CI=true``: in CI the Docker tests are the point, and a silent skip would hide a broken setup.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class DockerInfo:
    engine_version: str
    compose_version: str


def _probe() -> tuple[DockerInfo | None, str]:
    if shutil.which("docker") is None:
        return None, "the docker CLI is not on PATH"
    try:
        engine = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=20,
        )
        if engine.returncode != 0:
            return None, f"Docker Engine is not reachable: {engine.stderr.strip()[-300:]}"
        compose = subprocess.run(
            ["docker", "compose", "version", "--short"], capture_output=True, text=True, timeout=20
        )
        if compose.returncode != 0:
            return None, f"Compose v2 plugin missing: {compose.stderr.strip()[-300:]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"docker did not answer: {exc}"
    return DockerInfo(engine.stdout.strip(), compose.stdout.strip().lstrip("v")), ""


_CACHE: dict[str, tuple[DockerInfo | None, str]] = {}


@pytest.fixture(scope="session")
def docker_ready() -> DockerInfo:
    """A reachable Docker Engine with Compose v2, or skip (locally) / fail (CI=true)."""
    if "probe" not in _CACHE:
        _CACHE["probe"] = _probe()
    info, why = _CACHE["probe"]
    if info is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but Docker is not usable: {why} (run scripts/test-deps.sh)")
        pytest.skip(f"Docker not usable here: {why}")
    return info
