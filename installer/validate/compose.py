"""Validate a Compose bundle: the compose-spec JSON Schema (always), our own rules (always) and
``docker compose config`` (when Compose v2 is on this machine).

The schema is the one Compose itself embeds (assets/schemas/compose-spec.SOURCE.md), so an offline
pass means Compose's own schema check passes too; ``docker compose config`` adds interpolation,
reference and merge checks on top.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

from installer import yamlread
from installer.labels import LABEL_COMPONENT, LABEL_INSTALL, LABEL_MANAGED, LABEL_RUN, project_name
from installer.render import Bundle, RenderInput
from installer.resources import asset
from installer.secrets import redact
from installer.validate import Finding

COMPOSE_FILE = "compose.yaml"
SCHEMA = "compose-spec"
RULES = "fabrix compose rules"
CONFIG = "docker compose config"
CONFIG_TIMEOUT = 60.0


@cache
def _schema_validator() -> Draft7Validator:
    schema = json.loads(asset("schemas/compose-spec.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema)


def _where(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def schema_findings(doc: Any) -> list[Finding]:
    errors = sorted(_schema_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [Finding(SCHEMA, COMPOSE_FILE, f"{_where(e.absolute_path)}: {e.message}") for e in errors]


def _service_findings(name: str, svc: dict[str, Any], inp: RenderInput) -> Iterator[str]:
    plan = inp.plan
    health = svc.get("healthcheck") or {}
    test = health.get("test")
    if not test or health.get("disable") or test in (["NONE"], "NONE"):
        yield "has no health check (every service needs one for `up --wait` and depends_on)"
    if "start_interval" in health:
        yield "healthcheck.start_interval needs Docker Engine ≥ 25; leave it out"
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        yield "depends_on must name a condition (service_healthy / service_completed_successfully)"
    else:
        for dep, spec in deps.items():
            cond = (spec or {}).get("condition")
            if cond not in ("service_healthy", "service_completed_successfully"):
                yield f"depends_on.{dep}: condition {cond!r} does not wait for health"
    for port in svc.get("ports") or []:
        host_ip = port.get("host_ip") if isinstance(port, dict) else None
        if host_ip != plan.compose.bind_address:
            yield f"port {port!r} is not bound to the plan's bind address {plan.compose.bind_address}"
    labels = svc.get("labels") or {}
    if not isinstance(labels, dict):
        yield "labels must be a mapping"
        return
    if labels.get(LABEL_INSTALL) != plan.name:
        yield f"label {LABEL_INSTALL} must be {plan.name!r}"
    if labels.get(LABEL_MANAGED) != "true":
        yield f"label {LABEL_MANAGED} must be 'true'"
    if labels.get(LABEL_COMPONENT) != name:
        yield f"label {LABEL_COMPONENT} must be {name!r}"
    if LABEL_RUN not in labels:
        yield f"label {LABEL_RUN} is missing"
    if svc.get("init") is not True and not svc.get("stop_grace_period"):
        yield "needs `init: true` or a short stop_grace_period so teardown stays fast"


def rule_findings(doc: dict[str, Any], bundle: Bundle, inp: RenderInput) -> list[Finding]:
    found: list[Finding] = []
    plan = inp.plan
    if doc.get("name") != project_name(plan.name):
        found.append(Finding(RULES, COMPOSE_FILE, f"name must be {project_name(plan.name)!r}"))
    for name, svc in (doc.get("services") or {}).items():
        found += [Finding(RULES, COMPOSE_FILE, f"services.{name}: {msg}") for msg in _service_findings(name, svc, inp)]
    for kind in ("networks", "volumes"):
        for key, spec in (doc.get(kind) or {}).items():
            if (spec or {}).get("labels", {}).get(LABEL_INSTALL) != plan.name:
                found.append(Finding(RULES, COMPOSE_FILE, f"{kind}.{key}: label {LABEL_INSTALL} must be {plan.name!r}"))
    # Secret values live in .env (0600) and nowhere else.
    values = [v for v in inp.secrets.values() if len(v) >= 6]
    for path in bundle:
        if path in bundle.private:
            continue
        text = bundle.files[path].decode("utf-8", "replace")
        if any(v in text for v in values):
            found.append(Finding(RULES, path, "holds a secret value; secrets belong only in the private .env"))
    if ".env" in bundle.files and ".env" not in bundle.private:
        found.append(Finding(RULES, ".env", "must be written private (mode 0600)"))
    return found


def _compose_cmd() -> list[str] | None:
    """The ``docker compose`` command prefix, or None when Compose v2 is not available here.

    The command python-on-whales builds for a default client (the docker CLI found on PATH, then
    ``compose``), without importing it: that import alone cost a tenth of a render.
    """
    docker = shutil.which("docker")
    if docker is None:
        return None
    cmd = [docker, "compose"]
    try:
        probe = subprocess.run([*cmd, "version", "--short"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return cmd if probe.returncode == 0 else None


def _docker_config_or_skip(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    """``docker compose config`` on the bundle, or a warning when Compose v2 is not here.

    Whether Compose v2 is here is asked only when the config check did not pass: a passing render
    (every launch) saves a process start, a failing one still tells a missing Compose (warning)
    from a bad bundle (error)."""
    skipped = [Finding(CONFIG, COMPOSE_FILE, "skipped: Docker Compose v2 is not available here", "warning")]
    docker = shutil.which("docker")
    if docker is None:
        return skipped
    found = docker_config_findings(bundle, inp, [docker, "compose"])
    if found and _compose_cmd() is None:
        return skipped
    return found


def _env_values(text: str) -> dict[str, str]:
    """The variables of a .env file fabrix wrote (``NAME=value`` or ``NAME='value'``, see
    ``render.compose._env_line``): what Compose would read from it, for the child's environment."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.lstrip().startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def docker_config_findings(bundle: Bundle, inp: RenderInput, cmd: list[str]) -> list[Finding]:
    """Run ``docker compose config --quiet`` on a private temp copy of the bundle.

    The copy never holds the secrets: ``.env`` is left out and its values reach Compose through
    the child's environment, which interpolation reads the same way (and which wins over .env).
    A render killed during this check, even by SIGKILL, so leaves no copy of a secret on disk.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.pop("FABRIX_RUN_ID", None)
    for name in inp.secrets:  # the shell's environment would win over .env in interpolation
        env.pop(name, None)
    public = Bundle({p: data for p, data in bundle.files.items() if p != ".env"},
                    {p for p in bundle.private if p != ".env"})
    if ".env" in bundle.files:
        # Exactly what the bundle's .env holds (generated secrets and the connection URLs built
        # from them), so a value missing from the file is a finding here, not at launch.
        env.update(_env_values(bundle.files[".env"].decode("utf-8")))
    with tempfile.TemporaryDirectory(prefix="fabrix-compose-check-") as tmp:
        folder = Path(tmp) / "bundle"
        public.write(folder)
        if ".env" not in bundle.files:
            # A review bundle without secrets: stand-in values keep `${VAR:?}` from failing.
            example = folder / ".env.example"
            if example.exists():
                for line in example.read_text(encoding="utf-8").splitlines():
                    if line and not line.startswith("#") and "=" in line:
                        env[line.split("=", 1)[0]] = "placeholder"
        try:
            run = subprocess.run(
                [*cmd, "--project-directory", str(folder), "-f", str(folder / COMPOSE_FILE), "config", "--quiet"],
                capture_output=True, text=True, timeout=CONFIG_TIMEOUT, env=env, cwd=folder,
            )
        except subprocess.TimeoutExpired:
            return [Finding(CONFIG, COMPOSE_FILE, f"did not answer within {CONFIG_TIMEOUT:.0f} s")]
        except OSError as exc:
            return [Finding(CONFIG, COMPOSE_FILE, f"could not run: {exc}", "warning")]
    if run.returncode == 0:
        return []
    message = redact((run.stderr or run.stdout).strip(), inp.secrets.values()).replace(str(folder), "<bundle>")
    return [Finding(CONFIG, COMPOSE_FILE, message or f"exit code {run.returncode}")]


def validate_compose(bundle: Bundle, inp: RenderInput, use_docker: bool = True) -> list[Finding]:
    if COMPOSE_FILE not in bundle.files:
        return [Finding(RULES, COMPOSE_FILE, "missing from the bundle")]
    try:
        doc = yamlread.safe_load(bundle.files[COMPOSE_FILE])
    except yaml.YAMLError as exc:
        return [Finding(SCHEMA, COMPOSE_FILE, f"not valid YAML: {exc}")]
    if not isinstance(doc, dict):
        return [Finding(SCHEMA, COMPOSE_FILE, "must be a YAML mapping")]
    findings = schema_findings(doc) + rule_findings(doc, bundle, inp)
    if use_docker:
        findings += _docker_config_or_skip(bundle, inp)
    return findings
