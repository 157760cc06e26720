"""Local checks against the real Docker Engine: versions, ports held by containers of fabrix
installs, image platforms read from real images, and a real socket-permission refusal.

Objects created here are named ``fabrix-test-checks-*`` / ``fabrix-test/busybox:checks*`` and
removed by the fixtures.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from installer.answers import plan_from_dict
from installer.checks.base import CheckContext, CheckResult, Status, run_checks
from installer.checks.local import local_checks
from installer.dockerenv import CliResult, classify_daemon_error, probe_docker
from installer.labels import COMPOSE_PROJECT_LABEL, LABEL_INSTALL

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
IMAGE = "fabrix-test/busybox:checks"
FOREIGN_IMAGE = "fabrix-test/busybox:checks-foreign"
PREFIX = "fabrix-test-checks"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _docker(*args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(["docker", *args], input=input, capture_output=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done


def _busybox_tar() -> bytes:
    """A root file system holding only Debian's static busybox (no registry is reachable)."""
    busybox = Path("/bin/busybox")
    assert busybox.exists(), "needs Debian's busybox-static (scripts/test-deps.sh installs it)"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(busybox, arcname="bin/busybox")
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        tar.addfile(link)
    return buf.getvalue()


def _foreign_image_archive(arch: str) -> bytes:
    """A `docker save` archive whose config says ``linux/<arch>``: a real image of another platform."""
    layer_buf = io.BytesIO()
    with tarfile.open(fileobj=layer_buf, mode="w") as tar:
        data = b"stand-in\n"
        info = tarfile.TarInfo("README")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer = layer_buf.getvalue()
    config = json.dumps({
        "architecture": arch, "os": "linux", "config": {"Cmd": ["/README"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created_by": "fabrix test"}],
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [FOREIGN_IMAGE], "Layers": ["layer/layer.tar"]}]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, blob in (("layer/layer.tar", layer), (config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return out.getvalue()


@pytest.fixture(scope="module")
def busybox(docker_ready: Any) -> str:
    if _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        _docker("import", "--change", 'ENTRYPOINT ["/bin/busybox"]', "-", IMAGE, input=_busybox_tar())
    return IMAGE


@pytest.fixture(scope="module")
def engine_arch(docker_ready: Any) -> str:
    return _docker("version", "--format", "{{.Server.Arch}}").stdout.decode().strip()


@pytest.fixture
def foreign_image(docker_ready: Any, engine_arch: str) -> Iterator[tuple[str, str]]:
    other = "arm64" if engine_arch != "arm64" else "amd64"
    _docker("load", input=_foreign_image_archive(other))
    try:
        yield FOREIGN_IMAGE, other
    finally:
        _docker("image", "rm", "-f", FOREIGN_IMAGE, check=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def run_container(busybox: str) -> Iterator[Any]:
    """Start a busybox httpd publishing 127.0.0.1:<port> with the given labels; removed after."""
    started: list[str] = []

    def start(suffix: str, port: int, labels: dict[str, str]) -> str:
        name = f"{PREFIX}-{suffix}"
        _docker("rm", "-f", name, check=False)
        args = ["run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8080"]
        for key, value in labels.items():
            args += ["--label", f"{key}={value}"]
        _docker(*args, busybox, "httpd", "-f", "-p", "8080")
        started.append(name)
        return name

    try:
        yield start
    finally:
        for name in started:
            _docker("rm", "-f", "-v", name, check=False)
        leftovers = _docker("ps", "-a", "-q", "--filter", f"name={PREFIX}").stdout.split()
        assert not leftovers, f"containers left behind: {leftovers}"


def _plan(**extra: Any):
    return plan_from_dict({"apiVersion": "fabrix/v1", "name": "checks", **extra})


def _results(plan) -> dict[str, CheckResult]:
    return {r.id: r for r in run_checks(local_checks(plan), CheckContext(plan=plan))}


def test_docker_checks_pass_against_this_engine(busybox: str, tmp_path: Path) -> None:
    port = _free_port()
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "apiVersion: fabrix/v1\nname: checks\ncomponents: [redis]\n"
        f"images: {{pull: never, overrides: {{redis: '{busybox}'}}}}\ncompose: {{ports: {{redis: {port}}}}}\n"
    )
    code = "import sys; from installer.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, "check", "--answers", str(answers), "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    lines = {d.get("id", "result"): d for d in map(json.loads, done.stdout.splitlines())}
    server = _docker("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").stdout.decode().split()
    compose = _docker("compose", "version", "--short").stdout.decode().strip().lstrip("v")
    for check_id in ("docker.engine", "docker.version", "docker.compose", "images.platform", "port.redis"):
        assert lines[check_id]["status"] == "pass", lines[check_id]
    assert f"Engine {server[0]} (API {server[1]})" in lines["docker.engine"]["found"]
    assert f"Compose v2 {compose}" in lines["docker.compose"]["found"]
    image = lines["images.platform"]["details"]["images"]["redis"]
    assert image["present"] is True and image["platform"].startswith("linux/")
    assert done.returncode in (0, 1, 4) and lines["result"]["exit_code"] == done.returncode

    info = probe_docker()
    assert info.ok and info.server_version == server[0] and info.compose_version == compose
    assert info.ncpu and info.mem_total and info.docker_root_dir and info.arch in {"amd64", "arm64"}


def test_port_held_by_another_fabrix_install_names_it(run_container: Any) -> None:
    port = _free_port()
    name = run_container("other", port, {LABEL_INSTALL: "other", COMPOSE_PROJECT_LABEL: "fabrix-other"})
    plan = _plan(components=["redis"], compose={"ports": {"redis": port}})
    result = _results(plan)["port.redis"]
    assert result.status is Status.fail, result
    assert result.found == f"127.0.0.1:{port} is in use by fabrix install 'other' (container {name})"
    assert result.remedy.startswith("stop that install: `fabrix down --name other`")
    assert result.details["install"] == "other"


def test_port_held_by_this_install_is_fine_for_a_rerun(run_container: Any) -> None:
    port = _free_port()
    name = run_container("self", port, {LABEL_INSTALL: "checks"})
    result = _results(_plan(components=["redis"], compose={"ports": {"redis": port}}))["port.redis"]
    assert result.status is Status.passed, result
    assert f"held by this install's running stack ({name})" in result.found


def test_port_held_by_a_foreign_container_names_it(run_container: Any) -> None:
    port = _free_port()
    name = run_container("plain", port, {})
    result = _results(_plan(components=["redis"], compose={"ports": {"redis": port}}))["port.redis"]
    assert result.status is Status.fail
    assert result.found == f"127.0.0.1:{port} is in use by container {name}"
    assert f"`docker stop {name}`" in result.remedy


def test_image_of_another_architecture_fails_the_platform_check(foreign_image: tuple[str, str], engine_arch: str) -> None:
    ref, arch = foreign_image
    plan = _plan(components=["redis"], images={"pull": "never", "overrides": {"redis": ref}})
    result = _results(plan)["images.platform"]
    assert result.status is Status.fail, result
    assert f"{ref} is linux/{arch}, the engine is linux/{engine_arch}" in result.found
    assert f"docker pull --platform linux/{engine_arch} {ref}" in result.remedy


def test_missing_image_with_pull_never_fails(docker_ready: Any) -> None:
    ref = "fabrix-test/busybox:checks-absent"
    plan = _plan(components=["redis"], images={"pull": "never", "overrides": {"redis": ref}})
    result = _results(plan)["images.platform"]
    assert result.status is Status.fail
    assert f"{ref} is not present locally and `images.pull` is never" in result.found


def test_amd64_only_private_images_are_judged_by_the_catalog(docker_ready: Any, engine_arch: str) -> None:
    plan = _plan(components=["dataplane"], images={"registry": "fabrixtest.azurecr.io"})
    result = _results(plan)["images.platform"]
    dataplane = result.details["images"]["dataplane"]
    assert dataplane["present"] is False and dataplane["known"] == ["linux/amd64"]
    if engine_arch == "amd64":
        assert result.status is Status.passed, result
    else:
        assert result.status in (Status.fail, Status.warn) and "published for linux/amd64 only" in result.found


def test_socket_permission_denied_is_told_apart_from_a_stopped_daemon(docker_ready: Any, tmp_path: Path) -> None:
    """A user outside the docker group gets the real refusal; it must map to `usermod -aG docker`."""
    sock = Path("/var/run/docker.sock")
    preconditions = os.geteuid() == 0 and shutil.which("setpriv") and sock.exists() \
        and not os.environ.get("DOCKER_HOST") and not sock.stat().st_mode & 0o006
    if not preconditions:
        if IN_CI:
            pytest.fail("CI runs as root with a group-only /var/run/docker.sock; this machine does not")
        pytest.skip("needs root, setpriv and a group-only /var/run/docker.sock")
    cli = shutil.which("docker")
    assert cli is not None
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", cli, "version", "--format", "{{json .}}"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)}, cwd="/",
    )
    assert done.returncode != 0 and "permission denied" in done.stderr, done.stderr
    problem = classify_daemon_error(CliResult(done.returncode, done.stdout, done.stderr), "default", False)
    assert problem.code == "permission_denied", problem
    assert "permission denied on the Docker socket unix:///var/run/docker.sock" in problem.message
    assert "sudo usermod -aG docker $USER" in problem.remedy
