"""Offline checks for ``postdeploy/10-databases.sh`` (every Azure bundle that deploys PostgreSQL):
present when the plan has databases, valid bash (``bash -n``), and covering every database, role
and extension of the enabled components. Secret values are the bundle-wide secret scan's job."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from installer.render import Bundle, RenderInput
from installer.render.postdeploy import DATABASES_SCRIPT
from installer.validate import Finding

V = "postdeploy"


def postdeploy_findings(bundle: Bundle, inp: RenderInput, components: list[str] | None = None) -> list[Finding]:
    """``components``: those whose databases the Azure server holds (default: every enabled one)."""
    cat = inp.catalog
    wanted = components if components is not None else inp.plan.enabled_components(cat)
    dbs = [db for c in wanted for db in cat.components[c].databases]
    if not dbs:
        return []
    if DATABASES_SCRIPT not in bundle.files:
        return [Finding(V, DATABASES_SCRIPT, "missing: the plan has databases whose roles and extensions only this script creates")]
    script = bundle.text(DATABASES_SCRIPT)
    out: list[Finding] = []
    bash = shutil.which("bash")
    if bash is None:
        out.append(Finding(V, DATABASES_SCRIPT, "bash not found: the script's syntax was not checked", "warning"))
    else:
        with tempfile.TemporaryDirectory(prefix="fabrix-postdeploy-") as tmp:
            path = Path(tmp) / "10-databases.sh"
            path.write_text(script, encoding="utf-8")
            run = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            out.append(Finding(V, DATABASES_SCRIPT, f"bash -n: {run.stderr.strip()[-300:]}"))
    for db in dbs:
        if f"format('CREATE DATABASE %I OWNER %I', '{db.name}', '{db.user}')" not in script:
            out.append(Finding(V, DATABASES_SCRIPT, f"does not create database {db.name} for {db.user}"))
            continue
        section = script.split(f"-- database {db.name} (", 1)[1].split("-- database", 1)[0]
        for ext in db.extensions:
            if f'CREATE EXTENSION IF NOT EXISTS "{ext}";' not in section:
                out.append(Finding(V, DATABASES_SCRIPT, f"database {db.name}: no CREATE EXTENSION {ext}"))
    return out
