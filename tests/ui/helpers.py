"""Driving the wizard in tests: settle after each step (workers done, messages handled)."""

from __future__ import annotations

from textual.pilot import Pilot


async def settle(pilot: Pilot[object]) -> None:
    """Let every worker finish and the messages it posted be handled (no sleeping)."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def next_step(pilot: Pilot[object]) -> None:
    await pilot.press("ctrl+n")
    await settle(pilot)
