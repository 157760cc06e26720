"""Wizard step transitions: wall time from Ctrl+N until the next step is shown and its workers are
done, per step, against the 0.2 s goal (issue 11). Headless (Textual's test driver), pinned
checks so the machine's Docker does not count. Prints times and ratio to the goal; asserts nothing.

    .venv/bin/python bench/wizard_steps.py [rounds]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL = 0.2


async def one_round() -> list[tuple[str, float, float]]:
    from screens.app import FabrixApp
    from screens.deps import WizardDeps
    from tests.ui.conftest import FACTS, frozen_clock, pinned_checks

    tmp = Path(tempfile.mkdtemp())
    deps = WizardDeps(facts=lambda: FACTS, checks=pinned_checks(), unfinished_run=lambda _n: None,
                      installs=lambda: [], clock=frozen_clock, workdir=tmp)
    app = FabrixApp(None, deps=deps, progress_path=tmp / "wizard.yaml")
    rows = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for _ in range(5):
            before = type(app.screen).__name__
            start = time.perf_counter()
            await pilot.press("ctrl+n")
            await pilot.pause()
            shown = time.perf_counter() - start  # the next step is on screen
            await app.workers.wait_for_complete()
            await pilot.pause()
            done = time.perf_counter() - start  # and its background work (checks, render) is done
            rows.append((f"{before} → {type(app.screen).__name__}", shown, done))
    return rows


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    results: dict[str, list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for label, shown, done in asyncio.run(one_round()):
            results.setdefault(label, []).append((shown, done))
    print(f"{'transition':42} {'shown (s)':>10} {'×goal':>6} {'work done (s)':>14}")
    for label, samples in results.items():
        shown = statistics.median(s for s, _ in samples)
        done = statistics.median(d for _, d in samples)
        print(f"{label:42} {shown:10.3f} {shown / GOAL:6.2f} {done:14.3f}")


if __name__ == "__main__":
    main()
