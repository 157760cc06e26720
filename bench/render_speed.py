"""How long does `fabrix render` take, all targets and one target, against the goals?

Runs `fabrix render` as a fresh process (imports included: that is what a user waits for) and
reads its CPU time from the kernel (the child's user+system, `docker compose config` included)
and its wall time. checkov is excluded (FABRIX_CHECKOV=skip) from the measured runs and reported
apart: one extra all-targets run with checkov shows what checkov adds (when it is installed).

Goals (issue 11, "Speed"): all targets ≤ 2 s CPU, one target ≤ 1 s CPU, checkov excluded.
Not part of the test suite (no timed assertions in tests).

    .venv/bin/python bench/render_speed.py [--rounds 3] [--target aks] [--no-checkov]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installer.validate.checkov import checkov_executable  # noqa: E402

GOAL_ALL_S = 2.0
GOAL_ONE_S = 1.0
# The review plan the blueprint tests use (tests/unit/blueprint_plans.py BASE): every Azure part on.
ANSWERS = {
    "apiVersion": "fabrix/v1",
    "name": "bench-render",
    "images": {"registry": "contosoacr.azurecr.io"},
    "azure": {"location": "westeurope", "subscription_id": "11111111-2222-3333-4444-555555555555",
              "tenant_id": "99999999-8888-7777-6666-555555555555"},
}
TARGETS = {"compose": {"model": "container", "target": "compose"},
           "aca": {"model": "container", "target": "aca"},
           "aks": {"model": "container", "target": "aks"},
           "marketplace": {"model": "marketplace"}, "manual": {"model": "manual"},
           "hybrid": {"model": "hybrid"}, "multicloud": {"model": "multicloud"},
           "development": {"model": "development"}}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render_once(work: Path, target: str, all_targets: bool, checkov: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `fabrix render` in a fresh process."""
    answers = work / f"answers-{target}.yaml"
    answers.write_text(yaml.safe_dump({**ANSWERS, **TARGETS[target]}), encoding="utf-8")
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "installer.cli", "render", "--answers", str(answers), "--out", str(out), "--json"]
    if all_targets:
        cmd.append("--all-targets")
    env = {**os.environ, "FABRIX_HOME": str(work / "home"), "FABRIX_CHECKOV": checkov}
    cpu0, wall0 = _children_cpu(), time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall, cpu = time.monotonic() - wall0, _children_cpu() - cpu0
    if proc.returncode != 0:
        sys.exit(f"render failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return cpu, wall


def measure(work: Path, target: str, all_targets: bool, rounds: int, checkov: str) -> tuple[float, float]:
    runs = [render_once(work, target, all_targets, checkov) for _ in range(rounds)]
    return statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="runs per measurement (the median is shown)")
    parser.add_argument("--target", choices=sorted(TARGETS), default="aks",
                        help="the one-target measurement (aks: foundation + manifests, the heaviest)")
    parser.add_argument("--no-checkov", action="store_true", help="skip the extra run that times checkov")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fabrix-bench-render-"))
    try:
        render_once(work, args.target, False, "skip")  # warm-up: page cache, secrets created once
        all_cpu, all_wall = measure(work, args.target, True, args.rounds, "skip")
        one_cpu, one_wall = measure(work, args.target, False, args.rounds, "skip")
        load = os.getloadavg()[0]
        print(f"load average (1 min): {load:.2f} on {os.cpu_count()} CPU(s); median of {args.rounds} run(s)")
        for label, cpu, wall, goal in (("all targets", all_cpu, all_wall, GOAL_ALL_S),
                                       (f"one target ({args.target})", one_cpu, one_wall, GOAL_ONE_S)):
            verdict = "meets" if cpu <= goal else "MISSES"
            print(f"{label:<22} CPU {cpu:5.2f} s  wall {wall:5.2f} s  goal ≤ {goal:.1f} s CPU: {verdict}")
        exe = checkov_executable() if not args.no_checkov else None
        if exe is None:
            print("checkov: not measured" + ("" if args.no_checkov else " (not installed; set FABRIX_CHECKOV)"))
        else:
            # checkov's own cache lives in the process, so a fresh process always runs it.
            cpu, wall = render_once(work, args.target, True, exe)
            print(f"checkov (apart)        all targets with checkov: CPU {cpu:5.2f} s  wall {wall:5.2f} s  "
                  f"→ checkov adds ≈ {cpu - all_cpu:.2f} s CPU, {wall - all_wall:.2f} s wall")
    finally:
        shutil.rmtree(work, ignore_errors=True)  # it holds the generated secrets
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
