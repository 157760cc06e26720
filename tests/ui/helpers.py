"""Driving the wizard in tests: settle after each step (workers done, messages handled)."""

from __future__ import annotations

import socket
import subprocess
import threading

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


def screen_lines(app: object) -> list[str]:
    """The terminal as the person sees it, one string per row (dialogs over their background)."""
    from textual.app import App

    assert isinstance(app, App)
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return ["".join(strip.text for strip in row) for row in update.strips]  # type: ignore[union-attr]


def within(inner: object, outer: object) -> bool:
    """True when region ``inner`` lies wholly inside region ``outer`` (nothing cut off)."""
    from textual.geometry import Region

    assert isinstance(inner, Region) and isinstance(outer, Region)
    return inner.area > 0 and outer.contains_region(inner)


def widget_lines(widget: object) -> list[str]:
    """The rows a widget renders at its current size (also the parts scrolled out of view)."""
    from textual.geometry import Region
    from textual.widget import Widget

    assert isinstance(widget, Widget)
    width, height = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]


class UiThreadCalls:
    """Processes started and sockets connected on the UI thread (the thread the test's event loop,
    and so the app, runs on) while in this context: each would block the UI for as long as
    Docker takes to answer."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._popen_init = subprocess.Popen.__init__
        self._connect = socket.socket.connect

    def __enter__(self) -> UiThreadCalls:
        ui = threading.current_thread()
        popen_init, connect, calls = self._popen_init, self._connect, self.calls

        def watched_popen(process: subprocess.Popen[bytes], args: object, *more: object, **kw: object) -> None:
            if threading.current_thread() is ui:
                calls.append(f"started {args!r}")
            popen_init(process, args, *more, **kw)  # type: ignore[arg-type]

        def watched_connect(sock: socket.socket, address: object) -> None:
            if threading.current_thread() is ui:
                calls.append(f"connected to {address!r}")
            connect(sock, address)  # type: ignore[arg-type]

        subprocess.Popen.__init__ = watched_popen  # type: ignore[assignment,method-assign]
        socket.socket.connect = watched_connect  # type: ignore[assignment,method-assign]
        return self

    def __exit__(self, *_exc: object) -> None:
        subprocess.Popen.__init__ = self._popen_init  # type: ignore[method-assign]
        socket.socket.connect = self._connect  # type: ignore[method-assign]
