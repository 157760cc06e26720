"""How headless commands talk to a person or a machine.

``--json``: one JSON object per line on stdout (events, results, the error), nothing else.
Otherwise: readable lines (rich on a TTY), errors on stderr. Commands that change something ask
before acting on a TTY unless ``--yes``; without a TTY they refuse rather than guess.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from installer.errors import FabrixError, UsageError
from installer.progress import ProgressEvent, State

_STATE_STYLE = {
    State.healthy: ("✔", "green"),
    State.done: ("✔", "green"),
    State.rolled_back: ("↺", "yellow"),
    State.skipped: ("⏭", "dim"),
    State.warning: ("⚠", "yellow"),
    State.failed: ("✖", "red"),
    State.unhealthy: ("✖", "red"),
    State.rolling_back: ("↺", "yellow"),
    State.log: (" ", "dim"),
}


class Output:
    def __init__(
        self,
        json_mode: bool = False,
        assume_yes: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        stdin: TextIO | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.assume_yes = assume_yes
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.stdin = stdin or sys.stdin
        self.console = Console(file=self.stdout, highlight=False, soft_wrap=True)
        self.err_console = Console(file=self.stderr, highlight=False, soft_wrap=True)
        self._lock = threading.Lock()  # reporters are called from worker threads

    @property
    def is_tty(self) -> bool:
        return bool(getattr(self.stdout, "isatty", lambda: False)()) and not self.json_mode

    def emit_json(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
            self.stdout.flush()

    def event(self, ev: ProgressEvent) -> None:
        """The default reporter: JSON Lines, or one tidy line per event."""
        if self.json_mode:
            self.emit_json({"type": "event", **ev.to_json()})
            return
        glyph, style = _STATE_STYLE.get(ev.state, ("•", "cyan"))
        who = f"{ev.service}: " if ev.service else ""
        text = ev.message or ev.state.value.replace("_", " ")
        # Text, never markup: names, health output and log lines are data and may hold "[/x]".
        line = Text.assemble((glyph, style), " ", (f"{ev.elapsed:6.1f}s", "dim"), " ", (ev.step, "bold"),
                             " ", who, text)
        with self._lock:
            self.console.print(line)

    def info(self, text: str) -> None:
        if self.json_mode:
            return
        with self._lock:
            self.console.print(text, markup=False)

    def rich(self, renderable: Any) -> None:
        if not self.json_mode:
            with self._lock:
                self.console.print(renderable)

    def result(self, obj: dict[str, Any], text: str | None = None) -> None:
        if self.json_mode:
            self.emit_json({"type": "result", **obj})
        elif text is not None:
            self.info(text)

    def error(self, exc: FabrixError) -> None:
        if self.json_mode:
            self.emit_json(
                {"type": "error", "error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}
            )
            return
        with self._lock:
            self.err_console.print(Text.assemble(("error:", "red"), " ", exc.message), highlight=False)
            if exc.hint:
                self.err_console.print(Text.assemble(("fix:", "cyan"), " ", exc.hint), highlight=False)

    def confirm(self, question: str) -> bool:
        """Ask before a change. ``--yes`` answers yes; no TTY and no ``--yes`` is a usage error."""
        if self.assume_yes:
            return True
        if not (getattr(self.stdin, "isatty", lambda: False)() and not self.json_mode):
            raise UsageError(
                f"{question.rstrip('?')}: needs confirmation, but there is no terminal to ask on",
                "pass --yes to proceed without asking",
            )
        self.stderr.write(f"{question} [y/N] ")
        self.stderr.flush()
        answer = self.stdin.readline().strip().lower()
        return answer in {"y", "yes"}
