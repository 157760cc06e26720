"""A real `fabrix up` of Keycloak on its stand-in: the configuration fabrix rendered before issue 8
(backchannel-dynamic on, no KC_HOSTNAME) stops the launch with Keycloak's own message and rolls
back; the catalog as it is now comes up healthy.

The "before" run is the same fabrix with one change to a copy of its catalog (KC_HOSTNAME removed),
run from a copy of the package, so the test needs no git history."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_up_down import answers, fabrix, install, leftovers, result_of  # noqa: F401 (fixture)

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
COMPONENTS = ["postgres", "keycloak"]


def _copy_with_catalog_before_fix(dest: Path) -> Path:
    for part in ("installer", "assets", "blueprints"):
        shutil.copytree(REPO / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    catalog_path = dest / "assets" / "catalog.yaml"
    catalog = yaml.safe_load(catalog_path.read_text())
    env = catalog["components"]["keycloak"]["env"]
    del env["KC_HOSTNAME"]
    assert env["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"] == "true"
    catalog_path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return dest


def test_keycloak_before_the_fix_is_refused_and_now_comes_up(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=COMPONENTS)

    old = _copy_with_catalog_before_fix(install["dir"] / "before")
    env = {**os.environ, "FABRIX_HOME": str(home), "PYTHONPATH": str(old)}
    proc = subprocess.run([sys.executable, "-m", "installer.cli", "up", "--answers", str(path), "--yes", "--json",
                           "--timeout", "60"], capture_output=True, text=True, env=env, timeout=300, cwd=old)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    res = result_of(proc)
    assert res["outcome"] == "failed" and res["diagnostics"]["service"] == "keycloak", res
    assert "hostname-backchannel-dynamic must be set to false when no hostname is provided" in str(res["diagnostics"]), res
    assert res["rollback"]["ok"] is True and leftovers(name) == {}

    now = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    assert now.returncode == 0, now.stdout[-3000:]
    assert result_of(now)["outcome"] == "ok"
    down = fabrix("down", "--name", name, "--volumes", "--yes", "--json", home=home)
    assert down.returncode == 0 and leftovers(name) == {}
