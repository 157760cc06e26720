"""Small, direct Docker CLI calls the launcher needs: the commands python-on-whales' client would
build (``docker_client()`` sets no global flags), run as subprocesses we own.

We call the CLI ourselves (instead of p-o-w's helpers) where we need one fast call with JSON out
(``compose ps --format json`` ~60 ms vs ~100 ms + inspects), a process we can cancel (``up``,
``pull``), or a label-filtered listing of what an install left behind.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer.errors import ToolMissing
from installer.labels import COMPOSE_PROJECT_LABEL

_EMPTY: list[Path] = []


_CWD_PREFIX = "fabrix-cwd-"


def empty_dir() -> Path:
    """A folder with no compose file: Compose commands that address a project by name only
    (``-p P down``) must not pick up a stray compose.yaml from the current directory.

    One per process, named with our pid, removed when we exit (signals end the CLI through
    normal exit, see ``installer.cli``); folders of processes that died by SIGKILL are swept
    the next time one is made."""
    if not _EMPTY or not _EMPTY[0].is_dir():
        _sweep_dead_cwds()
        folder = Path(tempfile.mkdtemp(prefix=f"{_CWD_PREFIX}{os.getpid()}-"))
        if not _EMPTY:
            import atexit

            atexit.register(_remove_cwd)
        _EMPTY[:] = [folder]
    return _EMPTY[0]


def _remove_cwd() -> None:
    for folder in _EMPTY:
        try:
            folder.rmdir()
        except OSError:
            pass


def _sweep_dead_cwds() -> None:
    base = Path(tempfile.gettempdir())
    try:
        candidates = list(base.glob(f"{_CWD_PREFIX}*"))
    except OSError:
        return
    for folder in candidates:
        pid_text = folder.name.removeprefix(_CWD_PREFIX).split("-", 1)[0]
        if not pid_text.isdigit() or folder.is_symlink():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # its process still runs
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError):
            continue  # someone else's process, or not a pid
        try:
            folder.rmdir()  # only ever an empty folder: never removes content
        except OSError:
            pass


def plain_docker_cmd() -> list[str]:
    """The docker CLI exactly as ``docker_client()`` calls it (it sets no global flags; DOCKER_HOST
    and DOCKER_CONTEXT reach the CLI through the environment) without importing python-on-whales:
    ``fabrix status/down/rollback`` start about 0.4 s sooner, and so does every launch."""
    path = shutil.which("docker")
    if path is None:
        raise ToolMissing(
            "the docker CLI was not found on PATH",
            "install Docker Engine (or Docker Desktop) and make sure `docker` is on PATH",
        )
    return [path]


def compose_command(
    project: str,
    compose_files: Sequence[Path] = (),
    env_files: Sequence[Path] = (),
    project_dir: Path | None = None,
    profiles: Sequence[str] = (),
) -> list[str]:
    """``docker compose`` with the project's files: the command python-on-whales builds for
    ``docker_client(project, …)`` (its ClientConfig.docker_compose_cmd: --file, --profile,
    --env-file, --project-name, --project-directory, in that order), without importing it.
    tests/unit/test_checks_local.py holds the two to the same command."""
    cmd = [*plain_docker_cmd(), "compose"]
    for flag, values in (("--file", compose_files), ("--profile", profiles), ("--env-file", env_files)):
        for value in values:
            cmd += [flag, str(value)]
    cmd += ["--project-name", project]
    if project_dir is not None:
        cmd += ["--project-directory", str(project_dir)]
    return cmd


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str


def run(cmd: Sequence[str], *, input_text: str | None = None, timeout: float = 120,
        env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """Run a short Docker command in its own session (a terminal Ctrl-C reaches only us)."""
    try:
        proc = subprocess.run(
            list(cmd), input=input_text, capture_output=True, text=True, timeout=timeout,
            env=env, cwd=str(cwd or empty_dir()), start_new_session=True,
            encoding="utf-8", errors="replace",
        )
    except FileNotFoundError:
        raise ToolMissing(f"{cmd[0]} was not found", "install Docker and put `docker` on PATH") from None
    except subprocess.TimeoutExpired as exc:
        return Result(124, "", f"timed out after {exc.timeout:.0f}s: {' '.join(cmd[:4])} …")
    return Result(proc.returncode, proc.stdout, proc.stderr)


def json_lines(text: str) -> list[dict[str, Any]]:
    """JSON Lines, or one JSON array (``compose ps --format json`` before Compose 2.21)."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            data = json.loads(text)
            return [d for d in data if isinstance(d, dict)]
        except ValueError:
            return []
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


@dataclass
class ProjectObjects:
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    # Objects with the project's Compose label but without fabrix's install label for this
    # install: someone else's project that happens to use our project name. Never ours to touch.
    foreign: list[str] = field(default_factory=list)

    def empty(self, include_volumes: bool = True) -> bool:
        return not (self.containers or self.networks or (include_volumes and self.volumes))

    def describe(self, include_volumes: bool = True) -> str:
        parts = []
        for what, names in (("container", self.containers), ("network", self.networks),
                            ("volume", self.volumes if include_volumes else [])):
            if names:
                parts.append(f"{what}s: {', '.join(sorted(names))}")
        return "; ".join(parts) or "nothing"


def project_objects(docker: list[str], project: str) -> ProjectObjects:
    """Every container, network and volume carrying Compose's project label for ``project``;
    those without fabrix's install label for this install go to ``foreign`` as well."""
    from installer.labels import LABEL_INSTALL, install_of_project

    install = install_of_project(project)
    label = f"label={COMPOSE_PROJECT_LABEL}={project}"
    fmt = "{{%s}}\t{{.Label \"%s\"}}"
    found = ProjectObjects()
    listings = (
        ("container", ["ps", "-a", "--filter", label, "--format", fmt % (".Names", LABEL_INSTALL)], found.containers),
        ("network", ["network", "ls", "--filter", label, "--format", fmt % (".Name", LABEL_INSTALL)], found.networks),
        ("volume", ["volume", "ls", "--filter", label, "--format", fmt % (".Name", LABEL_INSTALL)], found.volumes),
    )
    # Three independent CLI calls: run them at once (this sits on the path of every up and down).
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda item: run(docker + item[1], timeout=60), listings))
    for (kind, _args, target), res in zip(listings, results, strict=True):
        if res.rc != 0:
            raise ToolMissing(
                f"could not list Docker {kind}s: {last_line(res.stderr)}",
                "start the Docker Engine (or check DOCKER_HOST) and re-run",
            )
        for line in res.stdout.splitlines():
            name, _, owner = line.strip().partition("\t")
            if not name:
                continue
            target.append(name)
            if owner.strip() != install:
                found.foreign.append(f"{kind} {name}")
    return found


def refuse_foreign(objects: ProjectObjects, project: str, action: str) -> None:
    """Raise ``Refused`` (exit 2) when the project holds objects fabrix did not create for this install."""
    if not objects.foreign:
        return
    from installer.errors import Refused

    shown = ", ".join(sorted(objects.foreign)[:10]) + (" …" if len(objects.foreign) > 10 else "")
    raise Refused(
        f"the Docker Compose project {project} exists but was not created by fabrix for this install "
        f"(no fabrix ownership labels): {shown}; fabrix will not {action} it",
        f"choose another `name:` in the answers file, or, if that project is no longer needed, "
        f"remove it yourself (`docker compose -p {project} down`) and re-run",
    )


def last_line(text: str | None) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


class Stream:
    """A cancellable long-running command: stderr (and stdout) read line by line on threads.

    ``start_new_session`` puts it in its own process group so a terminal's Ctrl-C goes only to us;
    we decide when to SIGINT it (Compose then exits 130 and leaves its work for our rollback).
    """

    def __init__(self, cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.cmd = list(cmd)
        self.lines: queue.Queue[tuple[str, str] | None] = queue.Queue()
        try:
            self.proc = subprocess.Popen(
                self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                text=True, encoding="utf-8", errors="replace", bufsize=1,
                env=env, cwd=str(cwd or empty_dir()), start_new_session=True,
            )
        except FileNotFoundError:
            raise ToolMissing(f"{cmd[0]} was not found", "install Docker and put `docker` on PATH") from None
        self._open = 2
        self._lock = threading.Lock()
        for name, pipe in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            threading.Thread(target=self._pump, args=(name, pipe), daemon=True, name=f"compose-{name}").start()

    def _pump(self, name: str, pipe: Any) -> None:
        try:
            for line in pipe:
                self.lines.put((name, line.rstrip("\n")))
        finally:
            with self._lock:
                self._open -= 1
                if self._open == 0:
                    self.lines.put(None)  # both pipes closed

    def next_line(self, timeout: float) -> tuple[str, str] | None | bool:
        """A ``(stream, line)``, ``None`` at end of output, or ``False`` if nothing came in ``timeout``."""
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return False

    def interrupt(self, grace: float = 15.0) -> int:
        """SIGINT the process group (like Ctrl-C); SIGKILL it if it does not exit within ``grace``."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGINT)
            try:
                return self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
        return self.proc.wait()

    def wait(self) -> int:
        return self.proc.wait()


def _signal_group(pid: int, sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(pid, sig)
        else:  # Windows: no process groups; terminate the process itself
            os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def pump(stream: Stream, on_line: Callable[[str, str], None], cancel: threading.Event | None,
         tick: Callable[[], None] | None = None, tick_every: float = 1.0) -> tuple[int, bool]:
    """Feed every line to ``on_line`` until the command ends; call ``tick`` about every ``tick_every``
    seconds; SIGINT the command when ``cancel`` is set. Returns (exit code, cancelled)."""
    import time

    next_tick = time.monotonic() + tick_every
    while True:
        if cancel is not None and cancel.is_set():
            rc = stream.interrupt()
            # Drain what the command said on its way out (it may explain itself).
            while (item := stream.next_line(0.5)) not in (None, False):
                on_line(*item)  # type: ignore[misc]
            return rc, True
        item = stream.next_line(min(0.2, max(0.01, next_tick - time.monotonic())))
        if item is None:
            return stream.wait(), False
        if item is not False:
            on_line(*item)  # type: ignore[misc]
        if tick is not None and time.monotonic() >= next_tick:
            tick()
            next_tick = time.monotonic() + tick_every
