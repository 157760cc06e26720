"""checkov over rendered blueprints, with fabrix's custom checks and written suppressions.

checkov pins many packages, so it lives in its own virtualenv (``.venv-checkov``, created by
``scripts/test-deps.sh``) and runs as a subprocess with ``--output json``. Found through env
``FABRIX_CHECKOV`` (path to the executable; ``skip`` turns it off with a warning), the checkout's
``.venv-checkov/bin/checkov``, or ``PATH``. Absent → one warning finding, never a crash.

A failed check is an error unless ``assets/checkov/suppressions.yaml`` holds a written reason for
its id; suppressed failures are not reported. Runs are cached in-process by bundle content, so
rendering the same plan twice runs checkov once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from installer.render import Bundle
from installer.resources import asset
from installer.validate import Finding

CHECKOV_TIMEOUT_S = 600
_CACHE: dict[str, CheckovRun] = {}


@dataclass(frozen=True)
class Failure:
    check_id: str
    name: str
    path: str  # relative to the scanned folder
    resource: str


@dataclass
class CheckovRun:
    failures: list[Failure] = field(default_factory=list)
    passed: int = 0
    parsing_errors: list[str] = field(default_factory=list)
    version: str = ""


def checkov_executable() -> str | None:
    """The checkov to run, or None when it is not installed (or FABRIX_CHECKOV=skip)."""
    configured = os.environ.get("FABRIX_CHECKOV", "").strip()
    if configured.lower() == "skip":
        return None
    if configured:
        return configured if Path(configured).is_file() or shutil.which(configured) else None
    repo = Path(__file__).resolve().parents[2]
    local = repo / ".venv-checkov" / "bin" / "checkov"
    if local.is_file():
        return str(local)
    return shutil.which("checkov")


def custom_checks_dir() -> Path:
    return asset("checkov/checks")


def load_suppressions() -> dict[str, str]:
    """check id → written reason (``assets/checkov/suppressions.yaml``)."""
    raw = yaml.safe_load(asset("checkov/suppressions.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): " ".join(str(v).split()) for k, v in raw.items()}


def run_checkov(directory: Path, framework: str | Iterable[str], external_checks: bool = True) -> CheckovRun:
    """Run checkov once over ``directory`` for the given framework(s) (``arm``, ``bicep``, ``kubernetes``…).

    Raises FileNotFoundError when checkov is not installed; RuntimeError when it did not produce a report.
    """
    exe = checkov_executable()
    if exe is None:
        raise FileNotFoundError("checkov is not installed")
    frameworks = [framework] if isinstance(framework, str) else list(framework)
    cmd = [exe, "-d", str(directory), "--framework", *frameworks, "--output", "json", "--quiet",
           "--skip-download"]
    if external_checks:
        cmd += ["--external-checks-dir", str(custom_checks_dir())]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=CHECKOV_TIMEOUT_S, env=env, cwd=directory)
    try:
        data = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"checkov printed no JSON report (exit {done.returncode}): {done.stderr[-500:]}") from exc
    reports = data if isinstance(data, list) else [data]
    run = CheckovRun()
    for report in reports:
        if not isinstance(report, dict):
            continue
        summary = report.get("summary", {})
        run.version = str(summary.get("checkov_version", run.version))
        run.passed += int(summary.get("passed", 0))
        results = report.get("results", {})
        for failed in results.get("failed_checks", []):
            run.failures.append(Failure(
                failed["check_id"], failed.get("check_name", ""), failed.get("file_path", "").lstrip("/"),
                failed.get("resource", ""),
            ))
        run.parsing_errors += [str(p) for p in results.get("parsing_errors", [])]
    if done.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed (exit {done.returncode}): {done.stderr[-500:]}")
    return run


def _digest(bundle: Bundle, frameworks: list[str]) -> str:
    h = hashlib.sha256(",".join(frameworks).encode())
    for path in bundle:
        h.update(path.encode() + b"\0" + bundle.files[path] + b"\0")
    return h.hexdigest()


def checkov_bundle(bundle: Bundle, frameworks: list[str]) -> CheckovRun:
    """checkov over a bundle (written to a temporary folder), cached by content and by which checkov
    runs (a cached report must not stand in for a checkov that is no longer there)."""
    exe = checkov_executable()
    if exe is None:
        raise FileNotFoundError("checkov is not installed")
    key = exe + "\0" + _digest(bundle, frameworks)
    if key not in _CACHE:
        with tempfile.TemporaryDirectory(prefix="fabrix-checkov-") as tmp:
            bundle.write(Path(tmp) / "bundle")
            _CACHE[key] = run_checkov(Path(tmp) / "bundle", frameworks)
    return _CACHE[key]


def checkov_findings(
    bundle: Bundle, frameworks: list[str], suppressions: Mapping[str, str] | None = None,
    prefix: str = "",
) -> list[Finding]:
    """Unsuppressed checkov failures as error findings; a missing checkov is one warning."""
    suppressions = load_suppressions() if suppressions is None else suppressions
    try:
        run = checkov_bundle(bundle, frameworks)
    except FileNotFoundError:
        if os.environ.get("FABRIX_CHECKOV", "").strip().lower() == "skip":
            return [Finding("checkov", prefix or ".", "checkov skipped (FABRIX_CHECKOV=skip): security checks were not run", "warning")]
        return [Finding("checkov", prefix or ".", "checkov not installed: security checks were not run "
                        "(run scripts/test-deps.sh, or set FABRIX_CHECKOV to the checkov executable)", "warning")]
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return [Finding("checkov", prefix or ".", f"checkov did not run: {exc}")]
    return apply_suppressions(run, suppressions, prefix)


def apply_suppressions(run: CheckovRun, suppressions: Mapping[str, str], prefix: str = "") -> list[Finding]:
    """Findings for a checkov run: parse errors and every failure without a written reason."""
    findings = [Finding("checkov", f"{prefix}{p}", f"parse error: {p}") for p in run.parsing_errors]
    for failure in run.failures:
        if failure.check_id in suppressions:
            continue
        findings.append(Finding(
            "checkov", f"{prefix}{failure.path}",
            f"{failure.check_id} {failure.name} ({failure.resource}); fix it, or add a specific reason "
            f"to assets/checkov/suppressions.yaml",
        ))
    return findings
