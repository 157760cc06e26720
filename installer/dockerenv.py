"""The one place that finds and describes Docker: the client factory and a probe of the machine.

``probe_docker()`` never raises for an absent tool: it records what is missing, why, and the exact
remedy (``DockerInfo.problems``). ``require_docker()`` turns a fatal problem into ``ToolMissing``
(exit 3). Everything that talks to Docker builds its client with ``docker_client()``.

The probe runs ``docker version``, ``docker info`` and ``docker compose version`` concurrently,
each with a timeout: a hung daemon or a ``DOCKER_HOST`` pointing at a black hole must never hang
``fabrix check`` or the TUI.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.errors import ToolMissing

if TYPE_CHECKING:  # imported when a client is built: python-on-whales alone costs 0.1-0.7 s
    from python_on_whales import DockerClient

# Compose versions (notes/compose-launch.md §1): below MIN we cannot launch reliably; below
# PROGRESS_JSON the launch falls back to plain-line parsing and polling.
COMPOSE_MIN = (2, 17)  # `up --wait-timeout`
COMPOSE_PROGRESS_JSON = (2, 29)  # `--progress json`
ENGINE_MIN = (20, 10)  # API 1.41: the oldest engine Compose v2 and this installer were tried on
ENGINE_START_INTERVAL = (25, 0)  # healthcheck.start_interval

PROBE_TIMEOUT = 15.0  # seconds per docker call; a healthy daemon answers in well under one

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i386": "386", "i686": "386"}

COMPOSE_DOCS = "https://docs.docker.com/compose/install/linux/"


@dataclass(frozen=True)
class Problem:
    """Something about the Docker setup that is missing or off, and how to fix it."""

    code: str  # stable id, e.g. cli_missing, permission_denied, compose_v1_only
    message: str  # what was found
    remedy: str  # exact command(s) / setting
    fatal: bool = True  # True: fabrix cannot launch (exit 3); False: a warning


@dataclass(frozen=True)
class DockerInfo:
    cli_path: str | None = None
    client_version: str | None = None
    client_api_version: str | None = None
    context: str | None = None
    host: str | None = None  # the daemon address the CLI talks to, when known
    server_version: str | None = None
    server_api_version: str | None = None
    compose_version: str | None = None  # Compose v2 plugin (``docker compose``), e.g. "2.40.3"
    compose_path: str | None = None
    compose_standalone: str | None = None  # version of a ``docker-compose`` binary on PATH, if any
    os: str | None = None  # server OS type, e.g. "linux"
    operating_system: str | None = None  # e.g. "Debian GNU/Linux 12 (bookworm)", "Docker Desktop"
    arch: str | None = None  # server architecture in image terms: amd64, arm64
    ncpu: int | None = None
    mem_total: int | None = None  # bytes, as the engine sees it (a VM's memory on Docker Desktop)
    docker_root_dir: str | None = None
    rootless: bool = False
    problems: tuple[Problem, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def cli_found(self) -> bool:
        return self.cli_path is not None

    @property
    def daemon_reachable(self) -> bool:
        return self.server_version is not None

    @property
    def compose_ok(self) -> bool:
        return self.compose_version is not None and _version_tuple(self.compose_version) >= COMPOSE_MIN

    @property
    def ok(self) -> bool:
        """True when nothing fatal is missing: fabrix can launch a Compose stack."""
        return not any(p.fatal for p in self.problems)

    @property
    def desktop(self) -> bool:
        return "docker desktop" in (self.operating_system or "").lower()

    @property
    def local_engine(self) -> bool:
        """True when the engine runs on this machine's kernel (its ports and disks are ours)."""
        if self.desktop:
            return False
        if _platform() != "linux" and (self.os or "linux") == "linux":
            return False  # a Linux engine on macOS/Windows always lives in a VM (Colima, Rancher, …)
        host = self.host or ""
        return host == "" or host.startswith(("unix://", "npipe://"))

    def problem(self, *codes: str) -> Problem | None:
        return next((p for p in self.problems if p.code in codes), None)

    def engine_problems(self) -> list[Problem]:
        return [p for p in self.problems if not p.code.startswith("compose")]

    def compose_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.code.startswith("compose")]


def _version_tuple(text: str | None) -> tuple[int, ...]:
    """``"v2.40.3-desktop.1"`` → (2, 40, 3); ``"20.10.24+dfsg1"`` → (20, 10, 24); junk → ()."""
    if not text:
        return ()
    match = re.match(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    if not match:
        return ()
    return tuple(int(g) for g in match.groups() if g is not None)


def version_tuple(text: str | None) -> tuple[int, ...]:
    return _version_tuple(text)


def engine_supports_start_interval(info: DockerInfo) -> bool:
    """Engine ≥ 25 accepts ``healthcheck.start_interval`` (older engines refuse the whole ``up``)."""
    return _version_tuple(info.server_version) >= ENGINE_START_INTERVAL


def compose_supports_progress_json(info: DockerInfo) -> bool:
    return _version_tuple(info.compose_version) >= COMPOSE_PROGRESS_JSON


def docker_client(
    project: str | None = None,
    compose_files: Sequence[Path] = (),
    env_files: Sequence[Path] = (),
    project_dir: Path | None = None,
    profiles: Sequence[str] = (),
) -> DockerClient:
    """A python-on-whales client for the docker CLI on PATH (honours DOCKER_HOST / contexts).

    Raises ``ToolMissing`` when there is no docker CLI at all, so callers fail with a remedy
    instead of p-o-w's ``ClientNotFoundError`` at the first call.
    """
    if shutil.which("docker") is None:
        problem = _cli_missing()
        raise ToolMissing(problem.message, problem.remedy)
    from python_on_whales import DockerClient

    return DockerClient(
        compose_files=list(compose_files),
        compose_env_files=list(env_files),
        compose_project_name=project,
        compose_project_directory=project_dir,
        compose_profiles=list(profiles),
    )


# ---------------------------------------------------------------------------------------------
# remedies (platform-specific, exact commands)


def _platform() -> str:
    if sys.platform == "darwin":
        return "mac"
    if sys.platform.startswith("win"):
        return "windows"
    return "linux"


def _install_docker_remedy() -> str:
    return {
        "mac": "install Docker Desktop: `brew install --cask docker` (or https://docs.docker.com/desktop/setup/install/mac-install/), then start it: `open -a Docker`",
        "windows": "install Docker Desktop: `winget install -e --id Docker.DockerDesktop` (or https://docs.docker.com/desktop/setup/install/windows-install/), then start it",
        "linux": "install Docker Engine: `sudo apt-get install -y docker.io` (Debian/Ubuntu; or Docker's packages: https://docs.docker.com/engine/install/), then `sudo systemctl enable --now docker`",
    }[_platform()]


def _install_compose_remedy(arch: str | None) -> str:
    if _platform() != "linux":
        return "update Docker Desktop (it ships Compose v2): https://docs.docker.com/desktop/release-notes/"
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch or "", os.uname().machine)
    return (
        "install the Compose v2 plugin: `sudo apt-get install -y docker-compose-plugin` (Docker's apt repo; "
        "Ubuntu: `docker-compose-v2`), or the static binary: `mkdir -p ~/.docker/cli-plugins && "
        f"curl -fsSL https://github.com/docker/compose/releases/latest/download/docker-compose-linux-{machine} "
        "-o ~/.docker/cli-plugins/docker-compose && chmod +x ~/.docker/cli-plugins/docker-compose`; "
        f"check with `docker compose version` (see {COMPOSE_DOCS})"
    )


def _start_daemon_remedy(desktop_hint: bool) -> str:
    if _platform() == "mac":
        return "start Docker Desktop: `open -a Docker`, wait until it says it is running, then re-run"
    if _platform() == "windows" or desktop_hint:
        return "start Docker Desktop and wait until it says it is running, then re-run"
    if shutil.which("systemctl") and Path("/run/systemd/system").is_dir():
        return "start the Docker daemon: `sudo systemctl start docker` (and `sudo systemctl enable docker` to keep it on)"
    return "start the Docker daemon: `sudo service docker start` (no systemd here; or run `sudo dockerd` in another terminal)"


def _permission_remedy() -> str:
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "$USER"
    try:
        import grp  # POSIX only; this remedy is only reached on Linux

        docker_group = grp.getgrnam("docker")
    except (ImportError, KeyError):
        return (
            "create the docker group and join it: `sudo groupadd docker && sudo usermod -aG docker $USER`, "
            "then log out and back in (or run `newgrp docker`)"
        )
    if user in docker_group.gr_mem and docker_group.gr_gid not in os.getgroups():
        return (
            f"you ({user}) are in the docker group, but this login session started before you joined it: "
            "log out and back in, or run `newgrp docker` in this shell"
        )
    return "add yourself to the docker group: `sudo usermod -aG docker $USER`, then log out and back in (or run `newgrp docker`)"


def _cli_missing() -> Problem:
    return Problem(
        "cli_missing",
        "the `docker` command is not on PATH",
        _install_docker_remedy(),
    )


# ---------------------------------------------------------------------------------------------
# the probe


@dataclass
class CliResult:
    rc: int | None  # None: timed out or could not start
    stdout: str
    stderr: str


def run_cli(cmd: Sequence[str], timeout: float = PROBE_TIMEOUT) -> CliResult:
    """Run a CLI command with a timeout; never raises (rc None: timed out or could not start)."""
    try:
        done = subprocess.run(
            list(cmd),
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "DOCKER_CLI_HINTS": "false"},
        )
    except subprocess.TimeoutExpired:
        return CliResult(None, "", f"no answer within {timeout:.0f}s")
    except OSError as exc:
        return CliResult(None, "", str(exc))
    return CliResult(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _json_or_empty(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text.splitlines()[0])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _daemon_address(stderr: str) -> str | None:
    match = re.search(r"(?:daemon (?:socket )?at|dial (?:unix|tcp)) ([^\s:]+://\S+?|\S+?)[.:]?(?:\s|$)", stderr)
    if match:
        return match.group(1).rstrip(".:")
    match = re.search(r"((?:unix|tcp|ssh|npipe)://\S+?)[.:]?(?:\s|$)", stderr)
    return match.group(1).rstrip(".:") if match else None


def classify_daemon_error(run: CliResult, context: str | None, desktop_hint: bool) -> Problem:
    """Turn a failed ``docker version`` into what is wrong: permission, not running, wrong host."""
    err = run.stderr.strip()
    low = err.lower()
    address = _daemon_address(err)
    env_host = os.environ.get("DOCKER_HOST")
    where = address or env_host or "the default socket"
    if run.rc is None:
        return Problem(
            "daemon_unresponsive",
            f"the Docker daemon at {where} did not answer: {err}",
            "restart it (`sudo systemctl restart docker`, or restart Docker Desktop); "
            "if DOCKER_HOST points at a remote machine, check that it is up and reachable",
        )
    if "permission denied" in low:
        return Problem(
            "permission_denied",
            f"permission denied on the Docker socket {where}: you are not allowed to talk to the daemon",
            _permission_remedy(),
        )
    unreachable = any(
        s in low
        for s in (
            "cannot connect to the docker daemon",
            "is the docker daemon running",
            "connection refused",
            "no such file or directory",
            "error during connect",
            "no such host",
            "i/o timeout",
            "the system cannot find the file specified",
        )
    )
    if unreachable and env_host:
        return Problem(
            "docker_host_unreachable",
            f"DOCKER_HOST={env_host} is set, but no Docker daemon answers there (not running/unreachable): {_last_line(err)}",
            "unset it to use the local daemon (`unset DOCKER_HOST`), or start the daemon it points at / fix the address",
        )
    if unreachable and context and context != "default":
        return Problem(
            "context_unreachable",
            f"the Docker context {context!r} points at {where}, but no daemon answers there (not running/unreachable)",
            f"switch to the local daemon: `docker context use default`, or start the daemon of context {context!r}",
        )
    if unreachable:
        return Problem(
            "daemon_not_running",
            f"the Docker daemon is not running (nothing answers at {where})",
            _start_daemon_remedy(desktop_hint),
        )
    return Problem(
        "daemon_error",
        f"`docker version` failed: {_last_line(err) or f'exit code {run.rc}'}",
        "run `docker version` yourself to see the full error; fix the daemon, then re-run",
    )


def _compose_problems(compose: CliResult, cli: str, arch: str | None, timeout: float) -> tuple[str | None, str | None, list[Problem]]:
    """(v2 version, standalone docker-compose version, problems) from ``docker compose version``."""
    problems: list[Problem] = []
    version: str | None = None
    if compose.rc == 0 and _version_tuple(compose.stdout.strip()):
        version = compose.stdout.strip().lstrip("v").splitlines()[0]
    standalone: str | None = None
    standalone_path = shutil.which("docker-compose")
    if version is None and standalone_path:
        out = run_cli([standalone_path, "version", "--short"], timeout)
        if out.rc == 0 and _version_tuple(out.stdout):
            standalone = out.stdout.strip().lstrip("v").splitlines()[0]
    if version is None:
        remedy = _install_compose_remedy(arch)
        if standalone and _version_tuple(standalone) < (2,):
            problems.append(Problem(
                "compose_v1_only",
                f"only Compose v1 is installed (`docker-compose` {standalone} at {standalone_path}); "
                "v1 is not enough: fabrix needs Compose v2, the `docker compose` plugin (v1 has no `--wait`, "
                "no JSON progress and is end-of-life)",
                remedy,
            ))
        elif standalone:
            problems.append(Problem(
                "compose_not_plugin",
                f"`docker-compose` {standalone} is on PATH ({standalone_path}) but `docker compose` does not work: "
                "it is not installed as a Docker CLI plugin",
                f"link it as a plugin: `mkdir -p ~/.docker/cli-plugins && ln -s {standalone_path} "
                "~/.docker/cli-plugins/docker-compose`, then check `docker compose version`",
            ))
        else:
            lines = [ln.strip() for ln in compose.stderr.splitlines() if ln.strip()]
            detail = lines[0] if lines else f"exit code {compose.rc}"  # the first line names the problem
            problems.append(Problem(
                "compose_missing",
                f"Docker Compose v2 is not installed: `{cli} compose version` says: {detail}",
                remedy,
            ))
        return None, standalone, problems
    vt = _version_tuple(version)
    if vt < COMPOSE_MIN:
        problems.append(Problem(
            "compose_too_old",
            f"Compose {version} is too old: fabrix needs ≥ {'.'.join(map(str, COMPOSE_MIN))} (for `up --wait-timeout`)",
            _install_compose_remedy(arch).replace("install the Compose v2 plugin", "update the Compose v2 plugin", 1),
        ))
    elif vt < COMPOSE_PROGRESS_JSON:
        problems.append(Problem(
            "compose_no_progress_json",
            f"Compose {version} has no `--progress json` (added in 2.29): launch progress falls back to "
            "plain lines and polling, with less per-service detail",
            _install_compose_remedy(arch).replace("install the Compose v2 plugin", "update the Compose v2 plugin", 1),
            fatal=False,
        ))
    return version, standalone, problems


def probe_docker(timeout: float = PROBE_TIMEOUT) -> DockerInfo:
    """Describe the Docker setup of this machine. Never raises for a missing or broken tool."""
    cli = shutil.which("docker")
    if cli is None:
        standalone = shutil.which("docker-compose")
        details = {"docker_compose_path": standalone} if standalone else {}
        return DockerInfo(problems=(_cli_missing(),), details=details)

    with cf.ThreadPoolExecutor(max_workers=3, thread_name_prefix="docker-probe") as pool:
        f_version = pool.submit(run_cli, [cli, "version", "--format", "{{json .}}"], timeout)
        f_info = pool.submit(run_cli, [cli, "info", "--format", "{{json .}}"], timeout)
        f_compose = pool.submit(run_cli, [cli, "compose", "version", "--short"], timeout)
        version, info_run, compose = f_version.result(), f_info.result(), f_compose.result()

    v = _json_or_empty(version.stdout)
    client = v.get("Client") or {}
    server = v.get("Server") or {}
    info = _json_or_empty(info_run.stdout) if info_run.rc == 0 else {}
    if info.get("ServerErrors"):
        info = {}
    client_info = info.get("ClientInfo") or {}
    context = client.get("Context") or client_info.get("Context")
    desktop_hint = "desktop" in (context or "").lower() or "desktop" in json.dumps(client).lower()

    problems: list[Problem] = []
    server_version = server.get("Version") if version.rc == 0 and server else None
    if server_version is None:
        problems.append(classify_daemon_error(version, context, desktop_hint))
        if version.rc is not None and not client and version.rc != 0 and "unknown" in version.stderr.lower():
            # A `docker` that does not understand `version --format` is not the Docker CLI.
            problems[-1] = Problem(
                "cli_unusable",
                f"`{cli}` does not behave like the Docker CLI: {_last_line(version.stderr)}",
                _install_docker_remedy(),
            )

    server_arch = server.get("Arch") or info.get("Architecture")
    arch = _ARCH.get(server_arch or "", server_arch) if server_arch else None
    compose_version, standalone, compose_problems = _compose_problems(compose, cli, arch, timeout)
    compose_path = next(
        (p.get("Path") for p in client_info.get("Plugins") or [] if p.get("Name") == "compose"), None
    )
    problems.extend(compose_problems)

    if server_version is not None and _version_tuple(server_version) < ENGINE_MIN:
        problems.append(Problem(
            "engine_too_old",
            f"Docker Engine {server_version} is too old: fabrix needs ≥ {'.'.join(map(str, ENGINE_MIN))}",
            _install_docker_remedy().replace("install", "upgrade", 1),
        ))

    security = " ".join(info.get("SecurityOptions") or [])
    host = os.environ.get("DOCKER_HOST") or (None if server_version else _daemon_address(version.stderr))
    return DockerInfo(
        cli_path=cli,
        client_version=client.get("Version"),
        client_api_version=client.get("ApiVersion"),
        context=context,
        host=host,
        server_version=server_version,
        server_api_version=server.get("ApiVersion") if server_version else None,
        compose_version=compose_version,
        compose_path=compose_path,
        compose_standalone=standalone,
        os=server.get("Os") or info.get("OSType"),
        operating_system=info.get("OperatingSystem"),
        arch=arch,
        ncpu=info.get("NCPU"),
        mem_total=info.get("MemTotal"),
        docker_root_dir=info.get("DockerRootDir"),
        rootless="rootless" in security,
        problems=tuple(problems),
    )


def require_docker(info: DockerInfo | None = None) -> DockerInfo:
    """The probe, or ``ToolMissing`` (exit 3) naming the first fatal problem and its exact remedy."""
    info = info or probe_docker()
    fatal = [p for p in info.problems if p.fatal]
    if fatal:
        first = fatal[0]
        message = first.message
        if len(fatal) > 1:
            message += "; also: " + "; ".join(p.message for p in fatal[1:])
        hint = first.remedy if len(fatal) == 1 else " · then: ".join(dict.fromkeys(p.remedy for p in fatal))
        raise ToolMissing(message, hint)
    return info


def describe(info: DockerInfo) -> str:
    """One line for logs and summaries: versions and where the engine is."""
    if not info.cli_found:
        return "docker CLI not found"
    parts = [f"CLI {info.client_version or '?'}"]
    if info.daemon_reachable:
        parts.append(f"Engine {info.server_version} (API {info.server_api_version}, {info.os}/{info.arch})")
    else:
        parts.append("Engine unreachable")
    parts.append(f"Compose {info.compose_version}" if info.compose_version else "no Compose v2")
    return ", ".join(parts)
