"""How much does `fabrix up` / `fabrix down` cost on top of plain Docker Compose?

Renders the evaluation stack (the catalog's default profile) on busybox stand-in images, then, in
the same run and on the same files, alternates per round:
  fabrix up --yes          vs  docker compose up --detach --wait
  fabrix down --volumes    vs  docker compose down --volumes
and prints the median of each and the median ratio (target: up ≤ 1.10).
Not part of the test suite. Usage: .venv/bin/python bench/launch_overhead.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installer.labels import project_name  # noqa: E402
from installer.plan import InstallPlan  # noqa: E402
from tests.support.standin import free_ports, write_answers  # noqa: E402

NAME = "bench-overhead"


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fabrix-bench-overhead-"))
    env = {**os.environ, "FABRIX_HOME": str(work / "home")}
    enabled = InstallPlan(name=NAME).enabled_components()
    answers = write_answers(work / "answers.yaml", NAME, ports=free_ports(enabled))
    fabrix = [sys.executable, "-m", "installer.cli"]
    bundle = work / "home" / "installs" / NAME / "bundle"
    compose = ["docker", "compose", "--file", str(bundle / "compose.yaml"), "--project-directory", str(bundle)]
    compose_env = {**env, "FABRIX_RUN_ID": "bench"}

    ups: dict[str, list[float]] = {"fabrix": [], "compose": []}
    downs: dict[str, list[float]] = {"fabrix": [], "compose": []}
    try:
        # Warm-up: renders the bundle (the files both sides use), warms the page cache and engine.
        timed(fabrix + ["up", "--answers", str(answers), "--yes", "--json"], env)
        timed(fabrix + ["down", "--name", NAME, "--volumes", "--yes", "--json"], env)
        for r in range(args.rounds):
            order = ["fabrix", "compose"] if r % 2 == 0 else ["compose", "fabrix"]
            for who in order:
                if who == "fabrix":
                    ups[who].append(timed(fabrix + ["up", "--answers", str(answers), "--yes", "--json"], env))
                    downs[who].append(timed(fabrix + ["down", "--name", NAME, "--volumes", "--yes", "--json"], env))
                else:
                    ups[who].append(timed(compose + ["up", "--detach", "--wait"], compose_env, cwd=bundle))
                    downs[who].append(timed(compose + ["down", "--volumes"], compose_env, cwd=bundle))
            print(f"round {r + 1}: up fabrix {ups['fabrix'][-1]:.2f}s compose {ups['compose'][-1]:.2f}s · "
                  f"down fabrix {downs['fabrix'][-1]:.2f}s compose {downs['compose'][-1]:.2f}s", flush=True)
    finally:
        subprocess.run(["docker", "compose", "-p", project_name(NAME), "down", "--volumes", "-t", "1"],
                       capture_output=True, cwd=work)
        shutil.rmtree(work, ignore_errors=True)  # it holds the generated secrets

    def report(label: str, data: dict[str, list[float]]) -> None:
        ratios = [f / c for f, c in zip(data["fabrix"], data["compose"], strict=True)]
        print(f"{label}: fabrix median {statistics.median(data['fabrix']):.2f}s, compose median "
              f"{statistics.median(data['compose']):.2f}s, median ratio {statistics.median(ratios):.3f}")

    print(f"stack: {', '.join(enabled)} (busybox stand-ins), {args.rounds} rounds")
    report("up  ", ups)
    report("down", downs)


if __name__ == "__main__":
    main()
