"""The rendered Compose bundle against the real Docker Compose v2 (and, once, the real engine)."""

from __future__ import annotations

import json
import os
import secrets as pysecrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.labels import LABEL_COMPONENT, LABEL_INSTALL, LABEL_RUN
from installer.plan import InstallPlan
from installer.render import Bundle, RenderInput
from installer.render.compose import render_compose
from installer.secrets import SecretStore, secrets_for
from installer.validate.compose import CONFIG, _compose_cmd, docker_config_findings, validate_compose

pytestmark = pytest.mark.docker

ALL = ["postgres", "redis", "keycloak", "flowise", "openwebui", "miso-controller", "dataplane",
       "traefik", "pgadmin", "redis-commander"]
STANDIN = "fabrix-e2e-compose/standin:1"


def _render(tmp: Path, **fields: Any) -> tuple[Bundle, RenderInput]:
    plan = InstallPlan(name=fields.pop("name", "e2e-cfg"), **fields)
    store = SecretStore(tmp / "secrets.env")
    store.ensure(secrets_for(plan.enabled_components()))
    inp = RenderInput(plan=plan, secrets=store.values())
    return render_compose(inp), inp


def _config_json(bundle: Bundle, folder: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    bundle.write(folder)
    run = subprocess.run(["docker", "compose", "config", "--format", "json"], cwd=folder,
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def compose_cmd(docker_ready: object) -> list[str]:
    cmd = _compose_cmd()
    assert cmd is not None, "docker_ready passed but the validator found no Compose v2"
    return cmd


@pytest.mark.parametrize("fields", [
    {},
    {"components": ALL, "images": {"registry": "myacr.azurecr.io"}},
    {"compose": {"data_dir": "/srv/fabrix-e2e"}, "size": "m"},
], ids=["default", "all-components", "data-dir"])
def test_docker_compose_config_accepts_the_bundle(fields: dict[str, Any], tmp_path: Path, compose_cmd: list[str]) -> None:
    bundle, inp = _render(tmp_path, **fields)
    assert docker_config_findings(bundle, inp, compose_cmd) == []
    assert validate_compose(bundle, inp) == []


def test_compose_resolves_secrets_labels_ports_and_volumes(tmp_path: Path, docker_ready: object) -> None:
    bundle, inp = _render(tmp_path, compose={"data_dir": str(tmp_path / "data")})
    cfg = _config_json(bundle, tmp_path / "b")
    assert cfg["name"] == "fabrix-e2e-cfg"
    pg = cfg["services"]["postgres"]
    assert pg["environment"]["POSTGRES_PASSWORD"] == inp.secrets["POSTGRES_PASSWORD"]  # from .env
    assert pg["labels"][LABEL_RUN] == "manual" and pg["labels"][LABEL_INSTALL] == "e2e-cfg"
    assert pg["labels"][LABEL_COMPONENT] == "postgres"
    assert {p["host_ip"] for s in cfg["services"].values() for p in s.get("ports", [])} == {"127.0.0.1"}
    assert all(s["init"] is True for s in cfg["services"].values())
    vol = cfg["volumes"]["postgres-data"]
    assert vol["name"] == "fabrix-e2e-cfg_postgres-data"
    assert vol["driver_opts"]["device"] == str(tmp_path / "data" / "postgres")
    assert cfg["networks"]["platform"]["name"] == "fabrix-e2e-cfg_platform"
    # The launch sets the run id through the environment; the file itself never changes.
    run_env = {**os.environ, "FABRIX_RUN_ID": "run-42"}
    cfg = _config_json(bundle, tmp_path / "c", run_env)
    assert cfg["services"]["redis"]["labels"][LABEL_RUN] == "run-42"


def test_a_broken_bundle_is_reported_as_a_finding(tmp_path: Path, compose_cmd: list[str]) -> None:
    bundle, inp = _render(tmp_path)
    doc = yaml.safe_load(bundle.files["compose.yaml"])
    doc["services"]["flowise"]["depends_on"]["ghost"] = {"condition": "service_healthy"}  # schema-valid
    bundle.add("compose.yaml", yaml.safe_dump(doc, sort_keys=False))
    found = validate_compose(bundle, inp)
    assert [f.validator for f in found] == [CONFIG]
    assert found[0].severity == "error" and "ghost" in found[0].message


def test_a_missing_secret_names_the_variable_never_a_value(tmp_path: Path, compose_cmd: list[str]) -> None:
    bundle, inp = _render(tmp_path)
    env_text = bundle.text(".env")
    bundle.add(".env", "".join(line + "\n" for line in env_text.splitlines() if not line.startswith("FLOWISE_DB_PASSWORD=")),
               private=True)
    found = docker_config_findings(bundle, inp, compose_cmd)
    assert len(found) == 1 and "FLOWISE_DB_PASSWORD" in found[0].message
    assert not any(v in found[0].message for v in inp.secrets.values())


# ---- once on the real engine: init, labels and the bind address as Docker applies them ------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def standin_image(docker_ready: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tiny Redis stand-in from Debian's busybox-static: `redis-server` sleeps, `redis-cli` answers."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    ctx = tmp_path_factory.mktemp("standin")
    shutil.copy(busybox, ctx / "busybox")
    (ctx / "redis-server").write_text("#!/bin/sh\nexec sleep 3600\n")
    (ctx / "redis-cli").write_text("#!/bin/sh\necho PONG\n")
    for script in ("redis-server", "redis-cli"):
        (ctx / script).chmod(0o755)  # the classic builder keeps the mode (no buildx here for --chmod)
    (ctx / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        "COPY redis-server redis-cli /usr/local/bin/\n"
    )
    build = subprocess.run(["docker", "build", "-q", "-t", STANDIN, str(ctx)], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    assert build.returncode == 0, build.stderr
    yield STANDIN
    subprocess.run(["docker", "image", "rm", "-f", STANDIN], capture_output=True, timeout=60)


def test_the_engine_runs_a_rendered_service_with_init_labels_and_bind(tmp_path: Path, standin_image: str) -> None:
    name = f"e2e-cfg-{pysecrets.token_hex(3)}"
    port = _free_port()
    bundle, _ = _render(tmp_path, name=name, components=["redis"],
                        images={"overrides": {"redis": standin_image}, "pull": "never"},
                        compose={"ports": {"redis": port}})
    folder = tmp_path / "bundle"
    bundle.write(folder)
    project = f"fabrix-{name}"
    try:
        up = subprocess.run(["docker", "compose", "up", "--detach", "--wait", "--wait-timeout", "60"], cwd=folder,
                            capture_output=True, text=True, timeout=120)
        assert up.returncode == 0, up.stderr
        ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label={LABEL_INSTALL}={name}"],
                             capture_output=True, text=True, timeout=30).stdout.split()
        assert len(ids) == 1
        info = json.loads(subprocess.run(["docker", "inspect", ids[0]], capture_output=True, text=True,
                                         timeout=30).stdout)[0]
        assert info["HostConfig"]["Init"] is True  # docker-init exists on this engine
        assert info["State"]["Health"]["Status"] == "healthy"
        assert info["Config"]["Labels"][LABEL_COMPONENT] == "redis"
        assert info["HostConfig"]["PortBindings"]["6379/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
        assert info["HostConfig"]["Memory"] == 256 * 1024 * 1024
    finally:
        down = subprocess.run(["docker", "compose", "down", "--volumes", "--timeout", "2"], cwd=folder,
                              capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    left = subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}"],
                          capture_output=True, text=True, timeout=30).stdout.split()
    assert left == []
