"""Local prerequisite checks: real sockets, real `fabrix check` runs, real (or PATH-shaped) docker.

The Docker engine itself is exercised in tests/e2e/test_check_docker.py; here the checks run
against this machine as it is, with PATH or DOCKER_HOST bent to model a missing tool.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from installer.answers import plan_from_dict
from installer.catalog import load_catalog
from installer.checks.base import CheckContext, CheckResult, Status, exit_code_for, run_checks
from installer.checks.local import REGISTRY_ENV, local_checks, parse_ports
from installer.dockerenv import probe_docker, require_docker
from installer.errors import ToolMissing
from installer.secrets import SecretStore
from installer.state import install_dir

REPO = Path(__file__).resolve().parents[2]
REAL_DOCKER = shutil.which("docker")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _need_docker_cli() -> str:
    """The docker CLI (not the daemon): fail under CI=true, skip on a developer machine without it."""
    if REAL_DOCKER is None:
        if IN_CI:
            pytest.fail("CI=true but the docker CLI is not on PATH (run scripts/test-deps.sh)")
        pytest.skip("docker CLI not installed here")
    return REAL_DOCKER


def _plan(**extra: Any):
    return plan_from_dict({"apiVersion": "fabrix/v1", "name": "checks", **extra})


def _run_one(plan, check_id: str, ctx: CheckContext | None = None) -> CheckResult:
    ctx = ctx or CheckContext(plan=plan)
    checks = [c for c in local_checks(plan) if c.id == check_id]
    assert checks, f"no check {check_id}; have {[c.id for c in local_checks(plan)]}"
    (result,) = list(run_checks(checks, ctx))
    return result


def _answers(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text("apiVersion: fabrix/v1\nname: checks\n" + text)
    return path


def _fabrix(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from installer.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env.update(overrides)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# ports


def test_busy_port_fails_and_names_the_process_holding_it() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        plan = _plan(components=["redis"], compose={"ports": {"redis": port}})
        result = _run_one(plan, "port.redis")
    assert result.status is Status.fail, result
    assert f"127.0.0.1:{port} is in use by pid {os.getpid()}" in result.found
    assert "compose.ports: {redis: <free port>}" in result.remedy
    assert not result.tool_missing


def test_port_in_use_on_wildcard_also_blocks_the_loopback_bind_address() -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        plan = _plan(components=["redis"], compose={"ports": {"redis": port}})
        result = _run_one(plan, "port.redis")
    assert result.status is Status.fail and "in use by" in result.found


def test_free_port_passes_and_the_socket_is_released() -> None:
    port = _free_port()
    plan = _plan(components=["redis"], compose={"ports": {"redis": port}})
    result = _run_one(plan, "port.redis")
    assert result.status is Status.passed and f"127.0.0.1:{port} is free" in result.found
    with socket.socket() as again:  # the check's test bind must not linger
        again.bind(("127.0.0.1", port))


def test_two_components_on_one_host_port_fail_both() -> None:
    # traefik's catalog default is 8080: an override putting flowise there collides with it.
    plan = _plan(components=["flowise", "traefik"], compose={"ports": {"flowise": 8080}})
    result = _run_one(plan, "port.flowise")
    assert result.status is Status.fail
    assert result.found == "flowise and traefik both use host port 8080"


def test_bind_address_not_on_this_machine_fails() -> None:
    plan = _plan(components=["redis"], compose={"bind_address": "192.0.2.7", "ports": {"redis": _free_port()}})
    result = _run_one(plan, "port.redis")
    assert result.status is Status.fail
    assert "192.0.2.7 is not an address of this machine" in result.found


def test_parse_ports_reads_docker_ps_port_column() -> None:
    got = parse_ports("0.0.0.0:8080->80/tcp, :::8080->80/tcp, 127.0.0.1:5000-5001->5000-5001/tcp, 9000/tcp, [::1]:53->53/udp")
    assert [(p.host_ip, p.port, p.proto) for p in got] == [
        ("0.0.0.0", 8080, "tcp"), ("::", 8080, "tcp"), ("127.0.0.1", 5000, "tcp"),
        ("127.0.0.1", 5001, "tcp"), ("::1", 53, "udp"),
    ]


def test_one_port_check_per_published_component() -> None:
    plan = _plan()
    catalog = load_catalog()
    ids = [c.id for c in local_checks(plan)]
    expected = [f"port.{n}" for n in plan.enabled_components(catalog) if plan.host_port(n, catalog)]
    assert [i for i in ids if i.startswith("port.")] == expected
    assert {"docker.engine", "docker.version", "docker.compose", "host.cpu", "host.memory", "host.disk",
            "images.platform", "registry.credentials"} <= set(ids)


# ---------------------------------------------------------------------------------------------
# CPU, memory, disk


def test_cpu_and_memory_against_every_component_at_size_xl() -> None:
    catalog = load_catalog()
    every = list(catalog.components)
    plan = _plan(size="xl", components=every, images={"registry": "example.azurecr.io"})
    need_cpu = round(sum(c.resources["xl"].cpu for c in catalog.components.values()), 2)
    need_mb = sum(c.resources["xl"].memory_mb for c in catalog.components.values())
    assert (need_cpu, need_mb) == (27.75, 50432), "catalog sizes changed: update this test's arithmetic"
    ctx = CheckContext(plan=plan)

    cpu = _run_one(plan, "host.cpu", ctx)
    cores = cpu.details["cores"]
    assert cpu.details["need"] == need_cpu
    assert f"the {len(every)} components at size xl ask for 27.75" in cpu.found
    if cores >= need_cpu:
        assert cpu.status is Status.passed
    elif cores < 4:  # postgres, keycloak, flowise, … each ask for 4 cores at xl
        assert cpu.status is Status.fail and "alone asks for 4 cores" in cpu.found
        assert "smaller size" in cpu.remedy
    else:
        assert cpu.status is Status.warn

    mem = _run_one(plan, "host.memory", ctx)
    assert mem.details["need_mb"] == need_mb and "need 49.2 GiB" in mem.found
    avail_mb = mem.details["available_bytes"] / 1024**2
    expected = Status.fail if avail_mb < need_mb else Status.warn if avail_mb < need_mb + 1024 else Status.passed
    assert mem.status is expected, mem


def test_small_plan_fits_in_memory_here() -> None:
    plan = _plan(components=["redis"])
    mem = _run_one(plan, "host.memory")
    assert mem.details["need_mb"] == 256 and mem.status is Status.passed, mem


def test_disk_check_reports_free_space_at_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "not" / "yet" / "there"
    plan = _plan(components=["redis"], compose={"data_dir": str(data)})
    result = _run_one(plan, "host.disk")
    assert f"data dir {data}" in result.found and "GiB free" in result.found
    free = shutil.disk_usage(tmp_path).free / 1024**3
    if free >= 5 + 10:
        assert result.status is Status.passed


# ---------------------------------------------------------------------------------------------
# registry credentials


@pytest.fixture
def empty_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "docker-config"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    monkeypatch.delenv(REGISTRY_ENV, raising=False)
    return folder


def test_public_images_need_no_registry_credentials(empty_docker_config: Path) -> None:
    result = _run_one(_plan(components=["postgres", "flowise"]), "registry.credentials")
    assert result.status is Status.passed and "no private registry" in result.found


def test_the_default_profile_without_a_registry_says_the_core_is_left_out(empty_docker_config: Path) -> None:
    result = _run_one(_plan(), "registry.credentials")
    assert result.status is Status.warn
    assert "AI Fabrix core (miso-controller, dataplane) is left out" in result.found
    assert "aifabrixdevacr.azurecr.io" in result.found and "ask AI Fabrix for access" in result.remedy
    # An image override for each core component (a mirror, or the tests' stand-ins) is a choice, not an accident.
    overridden = _plan(images={"overrides": {"miso-controller": "m/c:1", "dataplane": "m/d:1"}})
    assert _run_one(overridden, "registry.credentials").status is Status.passed


def test_private_registry_without_credentials_fails_with_login_command(empty_docker_config: Path) -> None:
    plan = _plan(images={"registry": "myacr.azurecr.io"})
    result = _run_one(plan, "registry.credentials")
    assert result.status is Status.fail
    assert "myacr.azurecr.io: no credentials" in result.found
    assert "`docker login myacr.azurecr.io`" in result.remedy and "az acr login --name myacr" in result.remedy


def test_private_registry_password_from_env_needs_a_username(
    empty_docker_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REGISTRY_ENV, "s3cr3t-value")
    no_user = _run_one(_plan(images={"registry": "myacr.azurecr.io"}), "registry.credentials")
    assert no_user.status is Status.fail and "`images.username` is empty" in no_user.found
    ok = _run_one(_plan(images={"registry": "myacr.azurecr.io", "username": "bot"}), "registry.credentials")
    assert ok.status is Status.passed and f"{REGISTRY_ENV} is set" in ok.found
    assert "s3cr3t-value" not in json.dumps(ok.to_json()), "a check result must never carry the secret"


def test_private_registry_password_from_the_install_secret_store(empty_docker_config: Path) -> None:
    folder = install_dir("checks").create()
    store = SecretStore(folder.secrets)
    store.set("registry_password", "from-the-store")
    store.save()
    plan = _plan(images={"registry": "myacr.azurecr.io", "username": "bot"})
    result = _run_one(plan, "registry.credentials")
    assert result.status is Status.passed and "secret store" in result.found


def test_private_registry_docker_login_entry_counts(empty_docker_config: Path) -> None:
    import base64

    auth = base64.b64encode(b"robot:pw").decode()
    (empty_docker_config / "config.json").write_text(json.dumps({"auths": {"https://myacr.azurecr.io": {"auth": auth}}}))
    plan = _plan(images={"registry": "myacr.azurecr.io"})
    result = _run_one(plan, "registry.credentials")
    assert result.status is Status.passed and "`docker login` entry for robot" in result.found


# ---------------------------------------------------------------------------------------------
# Docker missing, unreachable, or without Compose v2: `fabrix check` exits 3 with the remedy


def test_check_without_docker_on_path_exits_3_with_install_remedy(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    answers = _answers(tmp_path, "components: [redis]\n")
    done = _fabrix(["check", "--answers", str(answers)], _env(PATH=str(empty)))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the `docker` command is not on PATH" in done.stdout
    remedy = {"linux": "sudo apt-get install -y docker.io", "darwin": "brew install --cask docker"}.get(
        sys.platform, "winget install")
    assert remedy in done.stdout
    assert "exit 3: a required tool" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_check_with_docker_host_pointing_nowhere_exits_3_not_running(tmp_path: Path) -> None:
    _need_docker_cli()
    answers = _answers(tmp_path, "components: [redis]\n")
    done = _fabrix(["check", "--answers", str(answers), "--json"], _env(DOCKER_HOST="unix:///nonexistent"))
    assert done.returncode == 3, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    engine = next(r for r in lines if r.get("id") == "docker.engine")
    assert engine["status"] == "fail" and engine["tool_missing"] is True
    assert "DOCKER_HOST=unix:///nonexistent" in engine["found"] and "not running/unreachable" in engine["found"]
    assert "unset DOCKER_HOST" in engine["remedy"]
    assert lines[-1] == {"type": "result", "summary": lines[-1]["summary"], "exit_code": 3}


def _fake_docker(folder: Path, compose_says: str | None, v1: bool) -> None:
    """A `docker` that behaves like one without the Compose v2 plugin (old CLIs: 'compose is not a
    docker command'), or with a given `compose version --short`; every other command is the real CLI's."""
    folder.mkdir(exist_ok=True)
    if compose_says is None:
        compose = "echo \"docker: 'compose' is not a docker command.\" >&2; echo \"See 'docker --help'\" >&2; exit 1"
    else:
        compose = f"echo {compose_says}; exit 0"
    real = f'exec {REAL_DOCKER} "$@"' if REAL_DOCKER else (
        'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1'
    )
    script = folder / "docker"
    script.write_text(f'#!/bin/sh\nif [ "$1" = compose ]; then {compose}; fi\n{real}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    if v1:  # Debian bookworm's docker-compose 1.29.2 answers `version --short` like this
        old = folder / "docker-compose"
        old.write_text('#!/bin/sh\nif [ "$1" = version ] && [ "$2" = --short ]; then echo 1.29.2; exit 0; fi\n'
                       'echo "docker-compose version 1.29.2, build unknown"\n')
        old.chmod(old.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script stands in for docker")
def test_check_with_only_compose_v1_exits_3_and_says_v1_is_not_enough(tmp_path: Path) -> None:
    _fake_docker(tmp_path / "bin", compose_says=None, v1=True)
    answers = _answers(tmp_path, "components: [redis]\n")
    done = _fabrix(["check", "--answers", str(answers), "--json"], _env(PATH=str(tmp_path / "bin")))
    assert done.returncode == 3, done.stdout + done.stderr
    compose = next(json.loads(line) for line in done.stdout.splitlines() if '"docker.compose"' in line)
    assert compose["status"] == "fail" and compose["tool_missing"] is True
    assert "only Compose v1 is installed (`docker-compose` 1.29.2" in compose["found"]
    assert "v1 is not enough" in compose["found"]
    assert "docker-compose-plugin" in compose["remedy"] and "cli-plugins" in compose["remedy"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script stands in for docker")
def test_check_without_any_compose_says_it_is_not_installed(tmp_path: Path) -> None:
    _fake_docker(tmp_path / "bin", compose_says=None, v1=False)
    answers = _answers(tmp_path, "components: [redis]\n")
    done = _fabrix(["check", "--answers", str(answers)], _env(PATH=str(tmp_path / "bin")))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Docker Compose v2 is not installed" in done.stdout
    assert "'compose' is not a docker command" in done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script stands in for docker")
def test_compose_versions_too_old_fail_and_without_json_progress_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_docker(tmp_path / "old", compose_says="2.12.2", v1=False)
    monkeypatch.setenv("PATH", str(tmp_path / "old"))
    old = probe_docker()
    assert old.compose_version == "2.12.2" and not old.compose_ok
    assert old.problem("compose_too_old") is not None and old.problem("compose_too_old").fatal
    with pytest.raises(ToolMissing) as caught:
        require_docker(old)
    assert "Compose 2.12.2 is too old" in caught.value.message and "update the Compose v2 plugin" in caught.value.hint

    _fake_docker(tmp_path / "mid", compose_says="v2.20.3", v1=False)
    monkeypatch.setenv("PATH", str(tmp_path / "mid"))
    plan = _plan(components=["redis"])
    result = _run_one(plan, "docker.compose")
    assert result.status is Status.warn and "no `--progress json`" in result.found and not result.tool_missing


def test_json_output_shape(tmp_path: Path) -> None:
    answers = _answers(tmp_path, "components: [redis]\n")
    done = _fabrix(["check", "--answers", str(answers), "--json"], _env())
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    checks, final = lines[:-1], lines[-1]
    plan = _plan(components=["redis"])
    assert sorted(c["id"] for c in checks) == sorted(c.id for c in local_checks(plan))
    for c in checks:
        assert set(c) == {"type", "id", "title", "status", "found", "remedy", "tool_missing", "duration", "details"}
        assert c["type"] == "check" and c["status"] in {"pass", "warn", "fail", "unknown"}
        assert c["found"], c
        if c["status"] in {"warn", "fail"}:
            assert c["remedy"], f"{c['id']}: every warn/fail needs a remedy"
    assert final["type"] == "result" and set(final) == {"type", "summary", "exit_code"}
    assert sum(final["summary"].values()) == len(checks)
    assert final["exit_code"] == done.returncode
    results = [CheckResult(id=c["id"], title=c["title"], status=Status(c["status"]), found=c["found"],
                           tool_missing=c["tool_missing"]) for c in checks]
    assert exit_code_for(results) == done.returncode


def test_docker_is_probed_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All checks share one probe: a `docker` that logs its calls shows one `version` per run."""
    log = tmp_path / "calls.log"
    folder = tmp_path / "bin"
    folder.mkdir()
    real = f'exec {REAL_DOCKER} "$@"' if REAL_DOCKER else "exit 1"
    script = folder / "docker"
    script.write_text(f'#!/bin/sh\necho "$1" >> {log}\n{real}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    plan = _plan(components=["redis", "postgres", "keycloak"])
    results = list(run_checks(local_checks(plan), CheckContext(plan=plan)))
    assert len(results) == len(local_checks(plan))
    calls = log.read_text().split()
    assert calls.count("version") == 1 and calls.count("info") == 1, calls
    assert calls.count("container") <= 1, calls  # the list of running containers, once


# ---------------------------------------------------------------------------------------------
# dockerenv helpers the launch code relies on


def test_engine_start_interval_needs_engine_25() -> None:
    from installer.dockerenv import DockerInfo, engine_supports_start_interval, version_tuple

    assert engine_supports_start_interval(DockerInfo(server_version="25.0.3"))
    assert engine_supports_start_interval(DockerInfo(server_version="28.2.2"))
    assert not engine_supports_start_interval(DockerInfo(server_version="20.10.24+dfsg1"))
    assert not engine_supports_start_interval(DockerInfo())
    assert version_tuple("v2.40.3-desktop.1") == (2, 40, 3) and version_tuple("junk") == ()


def test_docker_client_carries_the_compose_project(tmp_path: Path) -> None:
    from installer.dockerenv import docker_client

    _need_docker_cli()
    compose_file = tmp_path / "compose.yaml"
    client = docker_client(project="fabrix-x", compose_files=[compose_file], env_files=[tmp_path / ".env"],
                           project_dir=tmp_path)
    cmd = [str(part) for part in client.client_config.docker_compose_cmd]
    assert cmd[1:] == ["compose", "--file", str(compose_file), "--env-file", str(tmp_path / ".env"),
                       "--project-name", "fabrix-x", "--project-directory", str(tmp_path)]


def test_launch_compose_command_is_the_one_python_on_whales_builds(tmp_path: Path) -> None:
    """The launch builds its `docker compose` command without importing python-on-whales (a tenth
    of a second or more of every launch); python-on-whales' own command is the reference."""
    from installer.dockerenv import docker_client
    from installer.launch.dockercli import compose_command

    _need_docker_cli()
    files = [tmp_path / "compose.yaml", tmp_path / "override.yaml"]
    for env_files, profiles, folder in (([tmp_path / ".env"], [], tmp_path), ([], ["web", "db"], None),
                                         ([tmp_path / "a.env", tmp_path / "b.env"], ["x"], tmp_path)):
        client = docker_client(project="fabrix-x", compose_files=files, env_files=env_files, project_dir=folder,
                               profiles=profiles)
        reference = [str(part) for part in client.client_config.docker_compose_cmd]
        assert compose_command("fabrix-x", files, env_files, folder, profiles) == reference


def test_docker_client_without_docker_raises_tool_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from installer.dockerenv import docker_client
    from installer.errors import EXIT_TOOL_MISSING

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing) as caught:
        docker_client(project="x")
    assert caught.value.exit_code == EXIT_TOOL_MISSING and "not on PATH" in caught.value.message


def test_stopped_daemon_on_the_default_socket_says_not_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real CLI's refusal for a socket nobody listens on (as for a stopped daemon, without
    DOCKER_HOST set) maps to 'not running' with the start command, not to a permission problem."""
    from installer.dockerenv import CliResult, classify_daemon_error

    cli = _need_docker_cli()
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    done = subprocess.run([cli, "-H", "unix:///nonexistent/docker.sock", "version", "--format", "{{json .}}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    problem = classify_daemon_error(CliResult(done.returncode, done.stdout, done.stderr), "default", False)
    assert problem.code == "daemon_not_running", problem
    assert "not running (nothing answers at unix:///nonexistent/docker.sock)" in problem.message
    if sys.platform.startswith("linux"):
        assert "docker start" in problem.remedy or "systemctl start docker" in problem.remedy
