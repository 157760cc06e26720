"""Local prerequisite checks for a Compose install: Docker, Compose, CPU, memory, disk, ports,
image platforms and registry credentials.

Every check reads the machine through facts gathered once per run and shared through
``CheckContext.cache`` behind a lock (the Docker probe, the list of running containers), so the
concurrent checks cost about as much as the slowest one, not the sum.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import errno
import ipaddress
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from installer.checks.base import Check, CheckContext, CheckResult, Status
from installer.dockerenv import (
    COMPOSE_MIN,
    DockerInfo,
    engine_supports_start_interval,
    probe_docker,
    run_cli,
)
from installer.labels import COMPOSE_PROJECT_LABEL, LABEL_COMPONENT, LABEL_INSTALL, project_name
from installer.plan import InstallPlan, PullPolicy
from installer.secrets import SecretStore
from installer.state import install_dir

T = TypeVar("T")

GIB = 1024**3
# Rough disk needs of an evaluation stack: the public images take about 6 GB unpacked.
DOCKER_ROOT_FAIL_GIB = 2
DOCKER_ROOT_WARN_GIB = 10
DATA_FAIL_GIB = 1
DATA_WARN_GIB = {"s": 5, "m": 10, "l": 20, "xl": 50}
MEMORY_HEADROOM_MB = 1024  # for the OS, the Docker daemon and page cache

REGISTRY_SECRET = "registry_password"
REGISTRY_ENV = "FABRIX_REGISTRY_PASSWORD"

_DOCKER_DOWN = "Docker Engine is not reachable (see the Docker Engine check)"

# ---------------------------------------------------------------------------------------------
# shared facts, computed once per run


def _shared(ctx: CheckContext, key: str, make: Callable[[], T]) -> T:
    """``make()`` once per ``ctx`` (per `fabrix check` run), however many checks ask concurrently."""
    lock = ctx.cache.setdefault(f"{key}.lock", threading.Lock())  # dict.setdefault is atomic
    with lock:
        if key not in ctx.cache:
            ctx.cache[key] = make()
        return ctx.cache[key]


def docker_facts(ctx: CheckContext) -> DockerInfo:
    """The Docker probe of this run (``docker version``/``info``/``compose version``, once)."""
    return _shared(ctx, "docker.info", probe_docker)


@dataclass(frozen=True)
class Published:
    host_ip: str
    port: int
    proto: str


@dataclass(frozen=True)
class RunningContainer:
    id: str
    name: str
    install: str  # LABEL_INSTALL, "" when not ours
    project: str  # Compose project, "" when not a Compose container
    component: str
    ports: tuple[Published, ...]


_PORT_RE = re.compile(
    r"^(?:(?P<ip>\[[^\]]*\]|[0-9a-fA-F.:]*?):)?(?P<start>\d+)(?:-(?P<end>\d+))?->\d+(?:-\d+)?/(?P<proto>\w+)$"
)


def parse_ports(text: str) -> tuple[Published, ...]:
    """``"0.0.0.0:8080->80/tcp, :::8080->80/tcp"`` → published host ports (ranges expanded)."""
    found: list[Published] = []
    for part in (p.strip() for p in text.split(",")):
        match = _PORT_RE.match(part)
        if not match:
            continue  # an exposed, unpublished port ("80/tcp")
        ip = (match.group("ip") or "").strip("[]")
        start = int(match.group("start"))
        end = int(match.group("end") or start)
        for port in range(start, min(end, start + 1024) + 1):
            found.append(Published(ip, port, match.group("proto")))
    return tuple(found)


def _list_containers(info: DockerInfo) -> list[RunningContainer]:
    if not info.daemon_reachable or info.cli_path is None:
        return []
    template = "\t".join(
        [
            "{{.ID}}",
            "{{.Names}}",
            f'{{{{.Label "{LABEL_INSTALL}"}}}}',
            f'{{{{.Label "{COMPOSE_PROJECT_LABEL}"}}}}',
            f'{{{{.Label "{LABEL_COMPONENT}"}}}}',
            "{{.Ports}}",
        ]
    )
    run = run_cli([info.cli_path, "container", "ls", "--no-trunc", "--format", template])
    if run.rc != 0:
        return []
    containers = []
    for line in run.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) < 6:
            continue
        containers.append(RunningContainer(cols[0][:12], cols[1], cols[2], cols[3], cols[4], parse_ports(cols[5])))
    return containers


def running_containers(ctx: CheckContext) -> list[RunningContainer]:
    info = docker_facts(ctx)
    return _shared(ctx, "docker.containers", lambda: _list_containers(info))


def _own(container: RunningContainer, plan: InstallPlan) -> bool:
    return container.install == plan.name or container.project == project_name(plan.name)


def _result(check: Check, status: Status, found: str, remedy: str = "", **kw: Any) -> CheckResult:
    return CheckResult(id=check.id, title=check.title, status=status, found=found, remedy=remedy, **kw)


def _worst(statuses: list[Status]) -> Status:
    order = [Status.passed, Status.unknown, Status.warn, Status.fail]
    return max(statuses, key=order.index) if statuses else Status.passed


# ---------------------------------------------------------------------------------------------
# Docker Engine and Compose


def _engine(ctx: CheckContext, check: Check) -> CheckResult:
    info = docker_facts(ctx)
    problems = [p for p in info.engine_problems() if p.fatal and p.code != "engine_too_old"]
    if problems:
        p = problems[0]
        return _result(check, Status.fail, p.message, p.remedy, tool_missing=True,
                       details={"problem": p.code})
    where = info.host or "the default local socket"
    found = (
        f"Engine {info.server_version} (API {info.server_api_version}) at {where}, context "
        f"{info.context or 'default'}; CLI {info.client_version}; socket access ok"
    )
    if info.operating_system:
        found += f"; {info.operating_system}"
    return _result(check, Status.passed, found, details={"server_version": info.server_version,
                                                          "api_version": info.server_api_version})


def _engine_version(ctx: CheckContext, check: Check) -> CheckResult:
    info = docker_facts(ctx)
    if not info.daemon_reachable:
        return _result(check, Status.unknown, f"not checked: {_DOCKER_DOWN}", "fix the Docker Engine check first")
    too_old = info.problem("engine_too_old")
    if too_old:
        return _result(check, Status.fail, too_old.message, too_old.remedy, tool_missing=True)
    if engine_supports_start_interval(info):
        return _result(check, Status.passed, f"Engine {info.server_version} (≥ 25: health checks use start_interval)")
    return _result(
        check,
        Status.passed,
        f"Engine {info.server_version} is supported; it is older than 25, so health checks run without "
        "start_interval and services may report healthy a few seconds later",
        details={"start_interval": False},
    )


def _compose(ctx: CheckContext, check: Check) -> CheckResult:
    info = docker_facts(ctx)
    if not info.cli_found:
        cli = info.problem("cli_missing")
        return _result(check, Status.fail, "Compose v2 runs as `docker compose`: the docker CLI is missing first",
                       cli.remedy if cli else "", tool_missing=True)
    problems = info.compose_problems()
    fatal = [p for p in problems if p.fatal]
    if fatal:
        return _result(check, Status.fail, fatal[0].message, fatal[0].remedy, tool_missing=True,
                       details={"problem": fatal[0].code, "standalone": info.compose_standalone})
    where = f" ({info.compose_path})" if info.compose_path else ""
    if problems:
        return _result(check, Status.warn, f"Compose v2 {info.compose_version}{where}: {problems[0].message}",
                       problems[0].remedy, details={"version": info.compose_version})
    return _result(check, Status.passed,
                   f"Compose v2 {info.compose_version}{where} (≥ {'.'.join(map(str, COMPOSE_MIN))}, JSON progress)",
                   details={"version": info.compose_version})


# ---------------------------------------------------------------------------------------------
# CPU, memory, disk


def _needs(ctx: CheckContext) -> tuple[list[str], float, int, tuple[str, float]]:
    """(components, total CPU, total memory MB, (component, CPU) of the largest single need)."""
    plan = ctx.plan
    names = plan.enabled_components(ctx.catalog)
    res = [(n, ctx.catalog.components[n].resources[plan.size.value]) for n in names]
    cpu = round(sum(r.cpu for _, r in res), 2)
    mem = sum(r.memory_mb for _, r in res)
    biggest = max(((n, r.cpu) for n, r in res), key=lambda x: x[1], default=("", 0.0))
    return names, cpu, mem, biggest


def _own_running(ctx: CheckContext) -> list[RunningContainer]:
    return [c for c in running_containers(ctx) if _own(c, ctx.plan)]


def _cpu(ctx: CheckContext, check: Check) -> CheckResult:
    names, need, _, (big_name, big_cpu) = _needs(ctx)
    info = docker_facts(ctx)
    cores = info.ncpu or os.cpu_count() or 1
    source = "the Docker engine" + (" VM" if info.desktop else "") if info.ncpu else "this machine"
    size = ctx.plan.size.value
    found = f"{cores} CPU cores ({source}); the {len(names)} components at size {size} ask for {need:g}"
    details = {"cores": cores, "need": need, "components": names}
    if cores >= need:
        return _result(check, Status.passed, found, details=details)
    if big_cpu > cores:
        return _result(
            check, Status.fail, f"{found}; {big_name} alone asks for {big_cpu:g} cores",
            f"choose a smaller size (`size: s` or `m` in the answers) or a machine with ≥ {big_cpu:g} cores"
            + (" (Docker Desktop: Settings → Resources → CPU limit)" if info.desktop else ""),
            details=details,
        )
    return _result(
        check, Status.warn, f"{found}: it will run, but slowly under load",
        "use a machine with more cores, a smaller size, or fewer components (`components:` in the answers)"
        + (" (Docker Desktop: Settings → Resources → CPU limit)" if info.desktop else ""),
        details=details,
    )


def _meminfo() -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0]) * 1024
    except OSError:
        pass
    return values


def _memory(ctx: CheckContext, check: Check) -> CheckResult:
    names, _, need_mb, _ = _needs(ctx)
    info = docker_facts(ctx)
    size = ctx.plan.size.value
    meminfo = _meminfo() if sys.platform.startswith("linux") else {}
    if meminfo.get("MemAvailable") and (info.local_engine or not info.daemon_reachable):
        avail = meminfo["MemAvailable"]
        what = f"{avail / GIB:.1f} GiB free of {meminfo.get('MemTotal', 0) / GIB:.1f} GiB"
    elif info.mem_total:
        avail = info.mem_total
        what = f"{avail / GIB:.1f} GiB in the Docker engine{' VM' if info.desktop else ''} (total; free memory is not visible from here)"
    else:
        try:
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            what = f"{avail / GIB:.1f} GiB total on this machine"
        except (ValueError, OSError, AttributeError):
            return _result(check, Status.unknown, "could not read this machine's memory",
                           f"make sure about {need_mb / 1024:.1f} GiB are free for the stack")
    found = f"{what}; the {len(names)} components at size {size} need {need_mb / 1024:.1f} GiB"
    details = {"available_bytes": avail, "need_mb": need_mb}
    avail_mb = avail / 1024**2
    own = _own_running(ctx)
    if own and avail_mb < need_mb + MEMORY_HEADROOM_MB:
        # A re-run of `up`: this install's containers already hold their memory.
        return _result(check, Status.passed,
                       f"{found}; {len(own)} containers of this install are running and already use part of it",
                       details=details)
    remedy = (
        "close other programs or stop unused containers (`docker ps`), choose a smaller size, "
        "or turn off optional components (`components:` in the answers)"
        + ("; Docker Desktop: Settings → Resources → Memory" if info.desktop else "")
    )
    if avail_mb < need_mb:
        return _result(check, Status.fail, found, remedy, details=details)
    if avail_mb < need_mb + MEMORY_HEADROOM_MB:
        return _result(check, Status.warn, f"{found}: less than {MEMORY_HEADROOM_MB} MiB would be left over", remedy,
                       details=details)
    return _result(check, Status.passed, found, details=details)


def _existing_ancestor(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _disk(ctx: CheckContext, check: Check) -> CheckResult:
    plan = ctx.plan
    info = docker_facts(ctx)
    data_dir = Path(plan.compose.data_dir).expanduser() if plan.compose.data_dir else install_dir(plan.name).data
    size = plan.size.value
    # (label, path, fail GiB, warn GiB)
    places: list[tuple[str, Path, float, float]] = [("data dir", data_dir, DATA_FAIL_GIB, DATA_WARN_GIB[size])]
    notes: list[str] = []
    from installer.datafolder import folder_problem

    try:
        unusable = folder_problem(plan) is not None
    except (OSError, ValueError):
        unusable = True
    if unusable:
        # Free space there means nothing until the folder itself is usable ("Data folder usable" says why).
        places = []
        notes.append(f"data dir {data_dir}: not measured until the data folder is usable")
    if info.daemon_reachable and info.docker_root_dir and info.local_engine:
        places.append(("Docker root (images, volumes)", Path(info.docker_root_dir), DOCKER_ROOT_FAIL_GIB,
                       DOCKER_ROOT_WARN_GIB))
    elif info.daemon_reachable:
        notes.append("the Docker engine's disk is not on this machine's file system (Desktop VM or remote): "
                     "not checked here")
    # Places on the same file system share its free space: add their needs up.
    by_dev: dict[int, list[tuple[str, Path, float, float]]] = {}
    statuses: list[Status] = []
    found: list[str] = []
    details: dict[str, Any] = {}
    for label, path, fail, warn in places:
        probe = _existing_ancestor(path)
        try:
            st = os.stat(probe)
        except OSError as exc:
            statuses.append(Status.unknown)
            found.append(f"{label} {path}: cannot read ({exc.strerror})")
            continue
        by_dev.setdefault(st.st_dev, []).append((label, path, fail, warn))
    for group in by_dev.values():
        probe = _existing_ancestor(group[0][1])
        try:
            vfs = os.statvfs(probe) if hasattr(os, "statvfs") else None
            free = vfs.f_bavail * vfs.f_frsize if vfs else _free_windows(probe)
        except OSError as exc:
            statuses.append(Status.unknown)
            found.append(f"{group[0][1]}: cannot read free space ({exc.strerror})")
            continue
        fail = sum(g[2] for g in group)
        warn = sum(g[3] for g in group)
        labels = " and ".join(f"{g[0]} {g[1]}" for g in group)
        free_gib = free / GIB
        details[str(group[0][1])] = {"free_bytes": free, "warn_gib": warn, "fail_gib": fail}
        if free_gib < fail:
            statuses.append(Status.fail)
            found.append(f"{labels}: only {free_gib:.1f} GiB free (needs ≥ {fail:g} GiB)")
        elif free_gib < warn:
            statuses.append(Status.warn)
            found.append(f"{labels}: {free_gib:.1f} GiB free (≥ {warn:g} GiB recommended at size {size})")
        else:
            statuses.append(Status.passed)
            found.append(f"{labels}: {free_gib:.1f} GiB free")
    status = _worst(statuses)
    remedy = ""
    if status in (Status.fail, Status.warn):
        remedy = ("free space (`docker system prune` removes unused images and build cache), or point "
                  "`compose.data_dir` in the answers at a disk with more room")
    return _result(check, status, "; ".join(found + notes), remedy, details=details)


def _free_windows(path: Path) -> int:
    import shutil

    return shutil.disk_usage(path).free


# ---------------------------------------------------------------------------------------------
# host ports


def _wildcard(ip: str) -> bool:
    return ip in ("", "0.0.0.0", "::")


def _overlaps(bind: str, host_ip: str) -> bool:
    return _wildcard(bind) or _wildcard(host_ip) or bind == host_ip


def _try_bind(address: str, port: int) -> OSError | None:
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name == "nt":
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", socket.SO_REUSEADDR), 1)
        else:
            # Ignore TIME_WAIT leftovers (as Docker does); a live listener still makes bind fail.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(1)
    except OSError as exc:
        return exc
    finally:
        sock.close()
    return None


def _listeners() -> dict[int, list[str]]:
    """Linux: port → ``pid N (name)`` of processes listening on TCP (only those we may inspect)."""
    inodes: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A":  # LISTEN
                inodes[cols[9]] = int(cols[1].rsplit(":", 1)[1], 16)
    holders: dict[int, list[str]] = {}
    if not inodes:
        return holders
    proc = Path("/proc")
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                port = inodes[target[8:-1]]
                try:
                    comm = (pid_dir / "comm").read_text().strip()
                except OSError:
                    comm = "?"
                entry = f"pid {pid_dir.name} ({comm})"
                if entry not in holders.setdefault(port, []):
                    holders[port].append(entry)
    return holders


def _who_holds(ctx: CheckContext, port: int) -> str:
    if sys.platform.startswith("linux"):
        holders = _shared(ctx, "host.listeners", _listeners).get(port)
        if holders:
            return ", ".join(holders)
        return f"another process (see which: `sudo ss -ltnp 'sport = :{port}'`)"
    if sys.platform == "darwin":
        return f"another process (see which: `lsof -nP -iTCP:{port} -sTCP:LISTEN`)"
    return f"another process (see which: `netstat -ano | findstr :{port}`)"


def _port_check(component: str, port: int) -> Check:
    def run(ctx: CheckContext) -> CheckResult:
        return _port(ctx, check, component, port)

    check = Check(id=f"port.{component}", title=f"Host port {port} free ({component})", run=run)
    return check


def _port(ctx: CheckContext, check: Check, component: str, port: int) -> CheckResult:
    plan = ctx.plan
    bind = plan.compose.bind_address
    where = f"{bind}:{port}"
    change = f"or give {component} another port: `compose.ports: {{{component}: <free port>}}` in the answers"
    details: dict[str, Any] = {"port": port, "bind_address": bind}
    # Two enabled components asking for the same host port (a port override hitting a default).
    same = [n for n in plan.enabled_components(ctx.catalog) if n != component and plan.host_port(n, ctx.catalog) == port]
    if same:
        return _result(check, Status.fail, f"{component} and {', '.join(same)} both use host port {port}",
                       f"give one of them another port: `compose.ports: {{{component}: <free port>}}` in the answers",
                       details=details)
    info = docker_facts(ctx)
    holders = [
        c for c in running_containers(ctx)
        if any(p.port == port and p.proto == "tcp" and _overlaps(bind, p.host_ip) for p in c.ports)
    ]
    own = [c for c in holders if _own(c, plan)]
    others = [c for c in holders if not _own(c, plan)]
    if others:
        c = others[0]
        details.update({"container": c.name, "install": c.install or None, "project": c.project or None})
        if c.install:
            return _result(
                check, Status.fail,
                f"{where} is in use by fabrix install {c.install!r} (container {c.name})",
                f"stop that install: `fabrix down --name {c.install}`, {change}", details=details,
            )
        project = f", Compose project {c.project!r}" if c.project else ""
        stop = f"`docker compose -p {c.project} down`" if c.project else f"`docker stop {c.name}`"
        return _result(
            check, Status.fail, f"{where} is in use by container {c.name}{project}",
            f"stop it: {stop}, {change}", details=details,
        )
    if own:
        c = own[0]
        details["container"] = c.name
        return _result(check, Status.passed,
                       f"{where} is held by this install's running stack ({c.name}): fine for a re-run of `up`",
                       details=details)
    if info.daemon_reachable and not info.local_engine and not info.desktop:
        return _result(check, Status.warn,
                       f"the Docker engine is remote ({info.host}): {port} is opened there and could not be tested here",
                       "make sure the port is free on the Docker host", details=details)
    error = _try_bind(bind, port)
    if error is None:
        return _result(check, Status.passed, f"{where} is free", details=details)
    if error.errno == errno.EADDRINUSE or getattr(error, "winerror", None) == 10048:
        holder = _who_holds(ctx, port)
        details["holder"] = holder
        return _result(check, Status.fail, f"{where} is in use by {holder}",
                       f"stop that program, {change}", details=details)
    if error.errno == errno.EADDRNOTAVAIL:
        return _result(check, Status.fail, f"{bind} is not an address of this machine ({error.strerror})",
                       "set `compose.bind_address` to 127.0.0.1, 0.0.0.0 or one of this machine's addresses",
                       details=details)
    if error.errno == errno.EACCES:
        if info.rootless:
            return _result(check, Status.fail,
                           f"{port} is a privileged port and Docker runs rootless: it cannot publish it",
                           f"`sudo sysctl net.ipv4.ip_unprivileged_port_start={port}`, {change}", details=details)
        return _result(check, Status.passed,
                       f"{where}: a privileged port this user cannot test; the Docker daemon (root) can publish it",
                       details=details)
    return _result(check, Status.unknown, f"{where}: could not test ({error.strerror or error})",
                   f"check by hand: `ss -ltn 'sport = :{port}'`", details=details)


# ---------------------------------------------------------------------------------------------
# image platforms


def _inspect_platform(cli: str, ref: str) -> str | None:
    run = run_cli([cli, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", ref])
    if run.rc == 0 and run.stdout.strip():
        return run.stdout.strip().splitlines()[0]
    return None


def _platforms(ctx: CheckContext, check: Check) -> CheckResult:
    plan = ctx.plan
    info = docker_facts(ctx)
    if not info.daemon_reachable or info.cli_path is None:
        return _result(check, Status.unknown, f"not checked: {_DOCKER_DOWN}", "fix the Docker Engine check first")
    engine = f"{info.os or 'linux'}/{info.arch}"
    names = plan.enabled_components(ctx.catalog)
    refs = {n: plan.image_for(n, ctx.catalog) for n in names}
    cli = info.cli_path
    with cf.ThreadPoolExecutor(max_workers=min(8, len(refs) or 1), thread_name_prefix="inspect") as pool:
        present = dict(zip(refs, pool.map(lambda r: _inspect_platform(cli, r), refs.values()), strict=True))
    statuses: list[Status] = []
    notes: list[str] = []
    remedies: list[str] = []
    ok = 0
    per_image: dict[str, Any] = {}
    for name, ref in refs.items():
        platform = present[name]
        known = [] if name in plan.images.overrides else ctx.catalog.components[name].platforms
        per_image[name] = {"image": ref, "present": platform is not None, "platform": platform, "known": known}
        if platform is not None:
            if platform == engine:
                ok += 1
                continue
            emulated = info.desktop
            statuses.append(Status.warn if emulated else Status.fail)
            notes.append(f"{ref} is {platform}, the engine is {engine}"
                         + (" (runs under emulation, slowly)" if emulated else ""))
            remedies.append(f"pull the {engine} variant (`docker pull --platform {engine} {ref}`) or set "
                            f"`images.overrides.{name}` to an image built for {engine}")
            continue
        if plan.images.pull is PullPolicy.never:
            statuses.append(Status.fail)
            notes.append(f"{ref} is not present locally and `images.pull` is never")
            remedies.append(f"`docker pull {ref}` (or `docker load` it), or set `images.pull: missing`")
            continue
        if known and engine not in known:
            emulated = info.desktop
            statuses.append(Status.warn if emulated else Status.fail)
            notes.append(f"{ref} is published for {', '.join(known)} only; the engine is {engine}"
                         + (" (Docker Desktop runs it under emulation, slowly)" if emulated else ""))
            remedies.append(f"run {name} on an {known[0].split('/')[-1]} machine, or leave it out "
                            "(`components:` in the answers)")
            continue
        if known:
            notes.append(f"{ref} is published for {', '.join(known)} only, which matches (not pulled yet)")
        ok += 1
        statuses.append(Status.passed)
    status = _worst(statuses)
    missing = sum(1 for v in per_image.values() if not v["present"])
    summary = f"engine is {engine}; {ok} of {len(refs)} images fit"
    if missing:
        summary += f" ({missing} not pulled yet: multi-arch or {engine} where known)"
    found = "; ".join([summary] + notes)
    return _result(check, status, found, "; ".join(dict.fromkeys(remedies)), details={"images": per_image})


# ---------------------------------------------------------------------------------------------
# registry credentials


def _registry_host(ref: str) -> str:
    return ref.removeprefix("https://").removeprefix("http://").split("/", 1)[0].lower()


def _private_registries(ctx: CheckContext) -> list[str]:
    plan = ctx.plan
    hosts: list[str] = []
    if plan.images.registry:
        hosts.append(_registry_host(plan.images.registry))
    for name in plan.enabled_components(ctx.catalog):
        if ctx.catalog.components[name].private and name not in plan.images.overrides:
            hosts.append(_registry_host(plan.images.registry or ctx.catalog.platform.private_registry))
    return list(dict.fromkeys(hosts))


def _docker_config() -> tuple[Path, dict[str, Any]]:
    base = Path(os.environ["DOCKER_CONFIG"]).expanduser() if os.environ.get("DOCKER_CONFIG") else Path.home() / ".docker"
    path = base / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return path, {}
    return path, data if isinstance(data, dict) else {}


def _docker_login(host: str, config: dict[str, Any]) -> str | None:
    """How ``docker login`` stored credentials for ``host``, or None."""
    for key, entry in (config.get("auths") or {}).items():
        if _registry_host(key) == host:
            if isinstance(entry, dict) and (entry.get("auth") or entry.get("identitytoken")):
                user = ""
                try:
                    user = base64.b64decode(entry.get("auth", "")).decode().split(":", 1)[0]
                except (ValueError, UnicodeDecodeError):
                    pass
                return f"`docker login` entry{f' for {user}' if user else ''}"
            if config.get("credsStore"):
                return f"`docker login` entry in the credential store docker-credential-{config['credsStore']}"
    helper = (config.get("credHelpers") or {}).get(host)
    if helper:
        return f"credential helper docker-credential-{helper}"
    store = config.get("credsStore")
    if store:
        run = run_cli([f"docker-credential-{store}", "list"], timeout=5)
        if run.rc == 0:
            try:
                servers = json.loads(run.stdout or "{}")
            except ValueError:
                servers = {}
            if any(_registry_host(s) == host for s in servers):
                return f"`docker login` entry in the credential store docker-credential-{store}"
    return None


def _registry(ctx: CheckContext, check: Check) -> CheckResult:
    plan = ctx.plan
    hosts = _private_registries(ctx)
    if not hosts:
        left_out = plan.core_left_out(ctx.catalog)
        if left_out:
            # Not a failure (the rest of the platform launches), but never a silent omission.
            registry = ctx.catalog.platform.private_registry
            return _result(
                check, Status.warn,
                f"no registry is set, so the AI Fabrix core ({', '.join(left_out)}) is left out: its images are "
                f"private, in the vendor's registry {registry}",
                f"ask AI Fabrix for access to {registry}, then set `images.registry: {registry}` (the wizard's "
                f"Options step) with `images.username` and `{REGISTRY_ENV}`, or `docker login {registry}`",
                details={"left_out": left_out, "registry": registry})
        return _result(check, Status.passed, "no private registry is used (public images only)")
    if plan.images.pull is PullPolicy.never:
        return _result(check, Status.passed,
                       f"private registry {', '.join(hosts)} is not contacted: `images.pull` is never (images must be present)")
    folder = install_dir(plan.name)
    stored = SecretStore(folder.secrets).get(REGISTRY_SECRET) if folder.secrets.exists() else None
    from_env = bool(os.environ.get(REGISTRY_ENV))
    config_path, config = _docker_config()
    statuses: list[Status] = []
    found: list[str] = []
    remedies: list[str] = []
    for host in hosts:
        sources: list[str] = []
        if host == _registry_host(plan.images.registry or ""):
            if stored:
                sources.append(f"password in the install's secret store ({folder.secrets})")
            if from_env:
                sources.append(f"{REGISTRY_ENV} is set")
        login = _docker_login(host, config)
        if login:
            sources.append(f"{login} in {config_path}")
        if not sources:
            statuses.append(Status.fail)
            found.append(f"{host}: no credentials (no stored password, no {REGISTRY_ENV}, no `docker login` entry)")
            acr = f" (Azure Container Registry: `az acr login --name {host.split('.')[0]}`)" if host.endswith(".azurecr.io") else ""
            remedies.append(
                f"`docker login {host}`{acr}, or set `images.username` in the answers and "
                f"`export {REGISTRY_ENV}=<password>` (the wizard stores it in the secret store)"
            )
            continue
        password_only = login is None and not plan.images.username
        if password_only:
            statuses.append(Status.fail)
            found.append(f"{host}: a password is available ({'; '.join(sources)}) but `images.username` is empty")
            remedies.append("set `images.username` in the answers (the registry user name), or `docker login` instead")
            continue
        statuses.append(Status.passed)
        found.append(f"{host}: {'; '.join(sources)}")
    return _result(check, _worst(statuses), "; ".join(found), "; ".join(dict.fromkeys(remedies)),
                   details={"registries": hosts})


# ---------------------------------------------------------------------------------------------


def _check(id: str, title: str, fn: Callable[[CheckContext, Check], CheckResult]) -> Check:
    def run(ctx: CheckContext) -> CheckResult:
        return fn(ctx, check)

    check = Check(id=id, title=title, run=run)
    return check


def local_checks(plan: InstallPlan) -> list[Check]:
    """The prerequisite checks of a Compose install on this machine."""
    from installer.catalog import load_catalog
    from installer.checks.placement import check_bind, check_data_folder

    catalog = load_catalog()
    checks = [
        _check("docker.engine", "Docker Engine reachable", _engine),
        _check("docker.version", "Docker Engine version", _engine_version),
        _check("docker.compose", "Docker Compose v2", _compose),
        _check("host.cpu", "CPU cores", _cpu),
        _check("host.memory", "Free memory", _memory),
        _check("host.disk", "Free disk space", _disk),
        _check("host.datadir", "Data folder usable", check_data_folder),
        _check("host.bind", "Who can reach the published ports", check_bind),
    ]
    for name in plan.enabled_components(catalog):
        port = plan.host_port(name, catalog)
        if port is not None:
            checks.append(_port_check(name, port))
    checks.append(_check("images.platform", "CPU architecture vs image platforms", _platforms))
    checks.append(_check("registry.credentials", "Registry credentials", _registry))
    return checks
