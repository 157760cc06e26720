"""Wizard step transitions against the 0.2 s goal (issue 11), per step, at 80×24.

"answered": from Ctrl+N to the first frame that changes (the step bar says "opening …").
"shown": to the first frame that shows the next step laid out (its Back/Next row
placed), as wall time and as CPU time of the UI thread (what the step change itself costs; wall
time on a shared machine adds whatever else runs). "work done" adds the rest: the footer, the
validation, the step's background work (checks, render) until its result is on screen. Headless (Textual's test driver), pinned checks
so the machine's Docker does not count. Prints medians and ratios to the goal; asserts nothing.

    .venv/bin/python bench/wizard_steps.py [rounds]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL = 0.2


async def one_round() -> list[tuple[str, float, float, float, float, float]]:
    from textual.screen import Screen

    from screens.app import FabrixApp
    from screens.deps import WizardDeps
    from tests.ui.conftest import FACTS, frozen_clock, pinned_checks

    tmp = Path(tempfile.mkdtemp())
    deps = WizardDeps(facts=lambda: FACTS, checks=pinned_checks(), unfinished_run=lambda _n: None,
                      installs=lambda: [], clock=frozen_clock, workdir=tmp)
    app = FabrixApp(None, deps=deps, progress_path=tmp / "wizard.yaml")
    app.animation_level = "none"
    shown: list[tuple[float, float]] = []
    answered: list[float] = []  # the first frame after the key: the wizard says it heard it
    leaving: list[Screen[object]] = []
    paint = Screen._compositor_refresh

    def watched(screen: Screen[object]) -> None:
        paint(screen)
        if leaving and not answered:
            answered.append(time.perf_counter())
        if shown or not leaving or screen is leaving[0] or screen is not app.screen:
            return
        nav = screen.query("#nav")
        if nav and nav.first().region.area:  # the new step is laid out on this frame
            shown.append((time.perf_counter(), time.thread_time()))

    Screen._compositor_refresh = watched  # type: ignore[method-assign]
    rows = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            for _ in range(5):
                before = app.screen
                shown.clear()
                answered.clear()
                leaving[:] = [before]
                start, cpu_start = time.perf_counter(), time.thread_time()
                await pilot.press("ctrl+n")
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
                done, cpu_done = time.perf_counter() - start, time.thread_time() - cpu_start
                at, cpu_at = shown[0] if shown else (time.perf_counter(), time.thread_time())
                rows.append((f"{type(before).__name__} → {type(app.screen).__name__}",
                             (answered[0] if answered else at) - start, at - start, cpu_at - cpu_start, done, cpu_done))
    finally:
        Screen._compositor_refresh = paint  # type: ignore[method-assign]
    return rows


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    results: dict[str, list[tuple[float, ...]]] = {}
    for _ in range(rounds):
        for label, *sample in asyncio.run(one_round()):
            results.setdefault(label, []).append(tuple(sample))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; goal {GOAL} s per step change")
    print(f"{'':38} {'answered':>9} {'until the step is shown':^34} {'until its work is done':^24}")
    print(f"{'transition':38} {'wall (s)':>9} {'wall (s)':>9} {'×goal':>6} {'UI CPU (s)':>10} {'×goal':>6} "
          f"{'wall (s)':>10} {'UI CPU (s)':>11}")
    for label, samples in results.items():
        answered, shown, cpu, done, cpu_done = (statistics.median(s[i] for s in samples) for i in range(5))
        print(f"{label:38} {answered:9.3f} {shown:9.3f} {shown / GOAL:6.2f} {cpu:10.3f} {cpu / GOAL:6.2f} "
              f"{done:10.3f} {cpu_done:11.3f}")


if __name__ == "__main__":
    main()
