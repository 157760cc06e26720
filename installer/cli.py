"""``fabrix``: the headless commands. ``fabrix`` with no command starts the TUI wizard.

Exit codes: 0 ok · 1 a check or launch failed (rolled back) · 2 bad input or usage ·
3 a required tool is missing · 4 (``check`` only) nothing failed but a check could not be
verified · 130 cancelled. Errors never show a traceback unless
``FABRIX_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence

from installer import __version__
from installer.errors import EXIT_CANCELLED, EXIT_FAILED, EXIT_USAGE, FabrixError, UsageError
from installer.output import Output

# command → "module:function(args, out) -> int". Imported lazily: `fabrix schema` must not pay
# for Docker or Azure imports, and one command's import error must not break the others.
HANDLERS: dict[str, str] = {
    "check": "installer.commands.check:run",
    "render": "installer.commands.render:run",
    "export": "installer.commands.export:run",
    "up": "installer.commands.lifecycle:up",
    "status": "installer.commands.lifecycle:status",
    "down": "installer.commands.lifecycle:down",
    "rollback": "installer.commands.lifecycle:rollback",
    "schema": "installer.commands.schema:run",
    "validate": "installer.commands.validate:run",
    # The UI lives outside the engine; the engine names its entry point but never imports it.
    "wizard": "screens.app:run_wizard",
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors share the error path (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}", f"see `{self.prog} --help`")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON Lines)")


def _add_answers(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--answers", "-a", metavar="FILE", required=required, help="answers file (YAML)")


def _add_yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", "-y", action="store_true", help="proceed without asking")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fabrix",
        description="Install the AI Fabrix platform. With no command, opens the guided wizard.",
    )
    parser.add_argument("--version", action="version", version=f"fabrix {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("wizard", help="guided install in the terminal UI (default)")
    _add_answers(p, required=False)

    p = sub.add_parser(
        "check",
        help="check prerequisites on this machine / in Azure",
        description="Run the plan's prerequisite checks concurrently; each says pass, warn, fail or unknown.",
        epilog=("exit codes: 0 every check passed or only warned · 1 a check failed · 2 bad input or usage · "
                "3 a required tool (Docker Engine, Compose v2) is missing · 4 nothing failed, but a check "
                "could not be verified (throttled, no read permission, an Azure error, no answer in time, the network down) — "
                "not ready · 130 cancelled"),
    )
    _add_answers(p)
    _add_json(p)

    p = sub.add_parser("render", help="render the blueprints for a plan into a folder")
    _add_answers(p)
    p.add_argument("--out", "-o", metavar="DIR", required=True, help="folder to write: new, empty, or written by an earlier render")
    p.add_argument("--all-targets", action="store_true", help="render every target for review")
    _add_json(p)

    p = sub.add_parser("export", help="export a reviewable bundle (zip) for a plan")
    _add_answers(p)
    p.add_argument("--out", "-o", metavar="ZIP", required=True, help="archive to write")
    p.add_argument("--report", metavar="JSON", help="include this `fabrix check --json` report")
    _add_json(p)

    p = sub.add_parser("up", help="launch an install (Docker Compose or Azure) with live progress")
    _add_answers(p)
    p.add_argument("--resume", action="store_true", help="continue an unfinished launch")
    p.add_argument("--preview", action="store_true",
                   help="Azure: show what the deployment would create, modify and delete (ARM what-if), change nothing")
    p.add_argument(
        "--allow-foreign-changes",
        action="store_true",
        help="Azure: allow the deployment to modify or delete resources this install does not own (--yes is not enough)",
    )
    p.add_argument("--timeout", type=int, default=600, metavar="S", help="seconds to wait for health")
    p.add_argument(
        "--keep-on-failure",
        action="store_true",
        help="on failure or cancel, keep everything for debugging instead of rolling back",
    )
    _add_yes(p)
    _add_json(p)

    p = sub.add_parser("status", help="per-service state and health of an install")
    p.add_argument("--name", "-n", required=True, help="install name")
    _add_json(p)

    p = sub.add_parser("down", help="stop and remove an install's containers and networks")
    p.add_argument("--name", "-n", required=True, help="install name")
    p.add_argument("--volumes", action="store_true", help="also delete the install's data volumes")
    _add_yes(p)
    _add_json(p)

    p = sub.add_parser("rollback", help="undo what an unfinished or failed launch created")
    p.add_argument("--name", "-n", required=True, help="install name")
    _add_yes(p)
    _add_json(p)

    p = sub.add_parser("schema", help="print the answers-file JSON Schema")

    p = sub.add_parser("validate", help="validate an answers file (exit 0 valid, 2 invalid)")
    _add_answers(p)
    _add_json(p)
    return parser


def _handler(command: str):  # noqa: ANN202 - returns the command function
    module_name, func = HANDLERS[command].split(":")
    return getattr(importlib.import_module(module_name), func)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (terminal closed): unwinds like Ctrl-C so every ``finally`` and temp
    folder clean-up runs and the command exits 130, instead of dying with files left behind."""


def _terminate(signum: int, _frame: object) -> None:
    raise Terminated(signal.Signals(signum).name)


def _handle_termination() -> None:
    """SIGTERM and SIGHUP end any command the way Ctrl-C does (``up`` installs its own handler
    for the launch itself: cancel, then roll back)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _terminate)


def _os_error(exc: OSError) -> FabrixError:
    import errno

    where = f" {exc.filename}" if exc.filename else ""
    what = exc.strerror or type(exc).__name__
    fixes = {
        errno.EROFS: "the file system is read-only: set FABRIX_HOME (or --out) to a writable folder",
        errno.ENOSPC: "the disk is full: free some space (or set FABRIX_HOME to another disk) and re-run",
        errno.EDQUOT: "the disk quota is used up: free some space and re-run",
        errno.EACCES: "you lack permission there: set FABRIX_HOME (or --out) to a folder you own",
        errno.EPERM: "the operation is not permitted there: use a folder you own",
    }
    hint = fixes.get(exc.errno or 0, "check the path and the disk, then re-run (FABRIX_DEBUG=1 shows details)")
    return UsageError(f"cannot write or read{where}: {what}", hint)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    json_mode = "--json" in argv
    out = Output(json_mode=json_mode, assume_yes="--yes" in argv or "-y" in argv)
    try:
        args = build_parser().parse_args(argv)
        command = args.command or "wizard"
        if command == "wizard" and not hasattr(args, "answers"):
            args.answers = None
        if command != "wizard":  # the TUI restores the terminal on its own signals
            _handle_termination()
        return int(_handler(command)(args, out) or 0)
    except FabrixError as exc:
        out.error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        out.error(FabrixError("cancelled", None))
        return EXIT_CANCELLED
    except BrokenPipeError:
        # The reader went away (`fabrix … --json | head`): stop quietly, as other CLI tools do.
        # Point stdout at /dev/null so the interpreter's final flush cannot raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    except OSError as exc:
        # The machine said no (read-only or full disk, no permission): the person can fix that.
        out.error(_os_error(exc))
        return EXIT_USAGE
    except Exception as exc:  # a bug: say so briefly, keep the traceback for FABRIX_DEBUG
        if os.environ.get("FABRIX_DEBUG"):
            traceback.print_exc()
        out.error(
            FabrixError(
                f"internal error: {type(exc).__name__}: {exc}",
                "re-run with FABRIX_DEBUG=1 for the traceback and report it",
            )
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
