"""Issue 10 on the real Docker Engine: what fabrix must never adopt, leak or leave behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from installer.labels import project_name
from tests.e2e.test_up_down import answers, fabrix, install, leftovers  # noqa: F401 - fixture

pytestmark = pytest.mark.docker


def _foreign_project(ctx: dict) -> Path:
    """A Compose project that uses fabrix's project name but was made by someone else: a
    container and a volume holding data, without fabrix's ownership labels."""
    folder = ctx["dir"] / "theirs"
    folder.mkdir()
    (folder / "compose.yaml").write_text(
        "services:\n"
        "  app:\n"
        "    image: fabrix-standin/redis:test\n"
        "    volumes: [precious:/data]\n"
        "volumes:\n"
        "  precious: {}\n"
    )
    res = subprocess.run(["docker", "compose", "-p", project_name(ctx["name"]), "up", "--detach", "--no-build"],
                         cwd=folder, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return folder


def test_up_and_down_refuse_a_compose_project_fabrix_did_not_create(install: dict) -> None:
    name, home = install["name"], install["home"]
    _foreign_project(install)
    before = leftovers(name)
    assert before.get("containers") and before.get("volumes")
    path, _ = answers(install, components=["postgres", "redis"])

    up = fabrix("up", "--answers", str(path), "--yes", home=home)
    assert up.returncode == 2, up.stderr
    assert project_name(name) in up.stderr and "not created by fabrix" in up.stderr
    assert "docker compose -p" in up.stderr  # says how to proceed
    assert leftovers(name) == before, "its services were not removed"

    down = fabrix("down", "--name", name, "--volumes", "--yes", home=home)
    assert down.returncode == 2, down.stderr
    assert "not created by fabrix" in down.stderr
    assert leftovers(name) == before, "its volumes were not deleted"
    # The refused launch is closed (no unfinished run to roll back).
    status = fabrix("rollback", "--name", name, "--yes", home=home)
    assert status.returncode == 0 and "nothing to roll back" in status.stdout + status.stderr
