"""How smooth the wizard's event loop stays during a REAL launch (stand-in images, real Docker
Engine + Compose v2): a 20 ms timer ticks on the app's loop from the Launch screen's start to the
launch's end; every tick later than 20 ms is a stall of the UI (keys and frames wait that long).
Prints the stall percentiles and the largest, per round and over all rounds, with the machine's
load. Asserts nothing (tests/ui/test_launch_docker.py keeps the coarse check that the loop ticks
and that no Docker call runs on the UI thread).

Docker is shared: run it under the lock.

    flock /tmp/fabrix-docker.lock .venv/bin/python bench/launch_smoothness.py [rounds]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERIOD = 0.02
COMPONENTS = ["postgres", "redis"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def one_launch(name: str, workdir: Path) -> tuple[list[float], float, str]:
    """(stalls in seconds — each tick's lateness past the period —, the launch's seconds, how it ended)."""
    from installer.answers import load_answers
    from installer.checks import checks_for
    from screens.app import FabrixApp
    from screens.deps import WizardDeps
    from screens.steps.launch import LaunchScreen
    from screens.steps.result import DoneScreen, FailedScreen
    from tests.support.standin import free_ports, write_answers
    from tests.ui.conftest import FACTS
    from tests.ui.helpers import next_step, settle

    answers = write_answers(workdir / "answers.yaml", name, COMPONENTS, ports=free_ports(COMPONENTS))
    deps = WizardDeps(facts=lambda: FACTS, checks=checks_for, unfinished_run=lambda _n: None, installs=lambda: [],
                      clock=time.monotonic, workdir=workdir, launch_timeout=300)
    app = FabrixApp(load_answers(answers), deps=deps, progress_path=workdir / "wizard.yaml")
    ticks: list[float] = []

    def tick() -> None:
        screen = app.screen
        if isinstance(screen, LaunchScreen) and screen.running:
            ticks.append(time.perf_counter())

    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for _ in range(5):  # model, target, options, prerequisites, review
            await next_step(pilot)
        if app.checks_block_launch():
            raise SystemExit(f"cannot launch: {app.checks_block_launch()}")
        await pilot.press("ctrl+l")
        await pilot.pause()
        timer = app.set_interval(PERIOD, tick)
        for _ in range(6000):
            if isinstance(app.screen, DoneScreen | FailedScreen):
                break
            await pilot.pause(0.05)
        timer.stop()
        ended = type(app.screen).__name__
        await settle(pilot)
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    return [max(0.0, gap - PERIOD) for gap in gaps], (ticks[-1] - ticks[0]) if ticks else 0.0, ended


def main() -> None:
    from installer.launch import down
    from installer.progress import null_reporter

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    work = Path(tempfile.mkdtemp(prefix="fabrix-bench-smooth-"))
    os.environ["FABRIX_HOME"] = str(work / "home")
    name = "bench-smooth"
    every: list[float] = []
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; a {PERIOD * 1000:.0f} ms timer on the UI loop")
    print(f"{'round':>5} {'ended on':>13} {'launch (s)':>10} {'ticks':>6} {'stall p50':>9} {'p95':>7} {'p99':>7} {'max (ms)':>9}")
    try:
        for number in range(1, rounds + 1):
            folder = work / f"round-{number}"
            folder.mkdir()
            stalls, seconds, ended = asyncio.run(one_launch(name, folder))
            down(name, True, null_reporter)
            every += stalls
            ms = [s * 1000 for s in stalls]
            print(f"{number:5} {ended:>13} {seconds:10.1f} {len(stalls) + 1:6} {percentile(ms, 0.5):9.1f}"
                  f" {percentile(ms, 0.95):7.1f} {percentile(ms, 0.99):7.1f} {max(ms, default=0):9.1f}")
    finally:
        try:
            down(name, True, null_reporter)
        except Exception:  # noqa: BLE001 - nothing left to remove
            pass
    ms = [s * 1000 for s in every]
    if ms:
        print(f"{'all':>5} {'':>13} {'':>10} {len(ms):6} {percentile(ms, 0.5):9.1f} {percentile(ms, 0.95):7.1f}"
              f" {percentile(ms, 0.99):7.1f} {max(ms):9.1f}   (mean stall {statistics.mean(ms):.1f} ms)")


if __name__ == "__main__":
    main()
