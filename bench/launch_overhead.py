"""How much does `fabrix up` / `fabrix down` cost on top of plain Docker Compose?

Renders the evaluation stack (the catalog's default profile) on busybox stand-in images, then, in
the same run and on the same files, alternates per round:
  fabrix up --yes          vs  docker compose up --detach --wait
  fabrix down --volumes    vs  docker compose down --volumes
and prints the median of each and the median ratio (target: up ≤ 1.05, under load too), plus the
CPU each side used (its whole process tree, from the kernel): on a loaded machine what fabrix adds
is its CPU time stretched, so the CPU figures explain a ratio that the wall clock only shows noisily.

--burn N runs N busy-looping processes during the rounds (a machine under load).
Run it under the Docker lock. Not part of the test suite.
Usage: flock /tmp/fabrix-docker.lock .venv/bin/python bench/launch_overhead.py [--rounds N] [--burn N]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from installer.labels import project_name  # noqa: E402
from installer.plan import InstallPlan  # noqa: E402
from tests.support.standin import free_ports, write_answers  # noqa: E402

NAME = "bench-overhead"


CPU: dict[str, list[float]] = {"fabrix": [], "compose": []}  # CPU seconds of each `up`


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for children and their children
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None, cpu: list[float] | None = None) -> float:
    start, cpu0 = time.monotonic(), _children_cpu()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    if cpu is not None:
        cpu.append(_children_cpu() - cpu0)
    return elapsed


def start_burners(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burn", type=int, default=0, metavar="N", help="busy-looping processes during the rounds")
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
    burners: list[subprocess.Popen] = []
    try:
        # Warm-up: renders the bundle (the files both sides use), warms the page cache and engine.
        timed(fabrix + ["up", "--answers", str(answers), "--yes", "--json"], env)
        timed(fabrix + ["down", "--name", NAME, "--volumes", "--yes", "--json"], env)
        burners += start_burners(args.burn)
        for r in range(args.rounds):
            order = ["fabrix", "compose"] if r % 2 == 0 else ["compose", "fabrix"]
            for who in order:
                if who == "fabrix":
                    ups[who].append(timed(fabrix + ["up", "--answers", str(answers), "--yes", "--json"], env,
                                          cpu=CPU[who]))
                    downs[who].append(timed(fabrix + ["down", "--name", NAME, "--volumes", "--yes", "--json"], env))
                else:
                    ups[who].append(timed(compose + ["up", "--detach", "--wait"], compose_env, cwd=bundle,
                                          cpu=CPU[who]))
                    downs[who].append(timed(compose + ["down", "--volumes"], compose_env, cwd=bundle))
            print(f"round {r + 1}: up fabrix {ups['fabrix'][-1]:.2f}s compose {ups['compose'][-1]:.2f}s · "
                  f"down fabrix {downs['fabrix'][-1]:.2f}s compose {downs['compose'][-1]:.2f}s", flush=True)
    finally:
        for burner in burners:  # ours, ended by their pids
            burner.kill()
            burner.wait()
        subprocess.run(["docker", "compose", "-p", project_name(NAME), "down", "--volumes", "-t", "1"],
                       capture_output=True, cwd=work)
        shutil.rmtree(work, ignore_errors=True)  # it holds the generated secrets

    def report(label: str, data: dict[str, list[float]]) -> None:
        ratios = [f / c for f, c in zip(data["fabrix"], data["compose"], strict=True)]
        print(f"{label}: fabrix median {statistics.median(data['fabrix']):.2f}s, compose median "
              f"{statistics.median(data['compose']):.2f}s, median ratio {statistics.median(ratios):.3f}")

    print(f"stack: {', '.join(enabled)} (busybox stand-ins), {args.rounds} rounds, {args.burn} burner(s), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    report("up  ", ups)
    report("down", downs)
    print(f"up CPU (process tree): fabrix median {statistics.median(CPU['fabrix']):.2f}s, "
          f"compose median {statistics.median(CPU['compose']):.2f}s")


if __name__ == "__main__":
    main()
