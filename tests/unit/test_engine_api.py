"""When the launch may ask the Engine over its socket instead of starting docker processes: only
when the docker CLI would use that same local socket (DOCKER_HOST, DOCKER_CONTEXT, the CLI
config's currentContext decide, as they do for the CLI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from installer.launch import engine_api

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setattr(engine_api, "DEFAULT_SOCKET", str(tmp_path / "docker.sock"))
    (tmp_path / "docker.sock").touch()
    return tmp_path


def test_the_default_context_uses_the_default_socket(clean: Path) -> None:
    assert engine_api.local_socket() == str(clean / "docker.sock")
    (clean / "config.json").write_text(json.dumps({"currentContext": "default", "auths": {}}))
    assert engine_api.local_socket() == str(clean / "docker.sock")
    (clean / "docker.sock").unlink()
    assert engine_api.local_socket() is None  # no engine there: the CLI says what is wrong


def test_docker_host_decides(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")  # rootless
    assert engine_api.local_socket() == "/run/user/1000/docker.sock"
    for remote in ("tcp://10.0.0.5:2376", "ssh://me@box", "npipe:////./pipe/docker_engine"):
        monkeypatch.setenv("DOCKER_HOST", remote)
        assert engine_api.local_socket() is None


def test_another_context_goes_through_the_cli(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    assert engine_api.local_socket() is None
    monkeypatch.delenv("DOCKER_CONTEXT")
    (clean / "config.json").write_text(json.dumps({"currentContext": "desktop-linux"}))
    assert engine_api.local_socket() is None
    (clean / "config.json").write_text("{not json")
    assert engine_api.local_socket() is None


def test_an_engine_that_does_not_answer_means_ask_the_cli(clean: Path) -> None:
    # A socket file nobody listens on: connection refused, so None (the CLI reports the fault).
    assert engine_api.project_containers("com.docker.compose.project=x") is None
