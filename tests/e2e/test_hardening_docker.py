"""Issue 10 on the real Docker Engine: what fabrix must never adopt, leak or leave behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from installer.labels import project_name
from tests.e2e.test_up_down import answers, fabrix, install, leftovers  # noqa: F401 - fixture

pytestmark = pytest.mark.docker


def _foreign_project(ctx: dict) -> Path:
    """A Compose project that uses fabrix's project name but was made by someone else: a
    container and a volume holding data, without fabrix's ownership labels."""
    folder = ctx["dir"] / "theirs"
    folder.mkdir()
    (folder / "compose.yaml").write_text(
        "services:\n"
        "  app:\n"
        "    image: fabrix-standin/redis:test\n"
        "    volumes: [precious:/data]\n"
        "volumes:\n"
        "  precious: {}\n"
    )
    res = subprocess.run(["docker", "compose", "-p", project_name(ctx["name"]), "up", "--detach", "--no-build"],
                         cwd=folder, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return folder


def test_up_and_down_refuse_a_compose_project_fabrix_did_not_create(install: dict) -> None:
    name, home = install["name"], install["home"]
    _foreign_project(install)
    before = leftovers(name)
    assert before.get("containers") and before.get("volumes")
    path, _ = answers(install, components=["postgres", "redis"])

    up = fabrix("up", "--answers", str(path), "--yes", home=home)
    assert up.returncode == 2, up.stderr
    assert project_name(name) in up.stderr and "not created by fabrix" in up.stderr
    assert "docker compose -p" in up.stderr  # says how to proceed
    assert leftovers(name) == before, "its services were not removed"

    down = fabrix("down", "--name", name, "--volumes", "--yes", home=home)
    assert down.returncode == 2, down.stderr
    assert "not created by fabrix" in down.stderr
    assert leftovers(name) == before, "its volumes were not deleted"
    # The refused launch is closed (no unfinished run to roll back).
    status = fabrix("rollback", "--name", name, "--yes", home=home)
    assert status.returncode == 0 and "nothing to roll back" in status.stdout + status.stderr


class _FakeRegistry:
    """A registry API that accepts one user's Basic login on /v2/ and knows no images: enough
    for a real `docker login` to succeed and the pull that follows to fail."""

    def __init__(self, user: str, password: str) -> None:
        import base64
        import http.server
        import threading

        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.seen: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer.seen.append(self.path)
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="fabrix-e2e"')
                    self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                    self.end_headers()
                    return
                found = self.path in ("/v2/", "/v2")
                body = b"{}" if found else b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}'
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET  # noqa: N815

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_registry_login_goes_to_a_private_config_that_rollback_removes(install: dict, tmp_path: Path) -> None:
    import json
    import os
    import sys

    import yaml

    name, home = install["name"], install["home"]
    user, password = "fabrix-e2e", "e2e-Registry-Passw0rd-kept-nowhere"
    registry = _FakeRegistry(user, password)
    person = tmp_path / "dot-docker"
    person.mkdir()
    (person / "config.json").write_text(json.dumps({"auths": {"other.example": {"auth": "b3RoZXI6eA=="}}}))
    before = (person / "config.json").read_bytes()
    try:
        path, _ = answers(install, components=["postgres"])
        data = yaml.safe_load(path.read_text())
        data["images"].update({"registry": registry.address, "username": user, "pull": "missing",
                               "overrides": {"postgres": f"{registry.address}/fabrix-e2e/postgres:absent"}})
        path.write_text(yaml.safe_dump(data))
        env = {**os.environ, "FABRIX_HOME": str(home), "FABRIX_REGISTRY_PASSWORD": password,
               "DOCKER_CONFIG": str(person)}
        proc = subprocess.run([sys.executable, "-m", "installer.cli", "up", "--answers", str(path), "--yes", "--json"],
                              capture_output=True, text=True, timeout=300, env=env)
    finally:
        registry.close()
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "/v2/" in registry.seen, "the login reached the fake registry"
    messages = proc.stdout
    assert "logged in to" in messages, messages[-2000:]  # the login itself succeeded
    assert "pulling images failed" in messages
    assert (person / "config.json").read_bytes() == before, "the person's Docker config is untouched"
    folder = home / "installs" / name
    assert not (folder / "docker-config").exists(), "the private login is gone after rollback"
    for file in folder.rglob("*"):
        if file.is_file():
            assert password.encode() not in file.read_bytes(), file
    assert leftovers(name) == {}


class _SilentRegistry:
    """Accepts TCP connections and never answers: a registry that hangs every request."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self._stop = False

        def serve() -> None:
            while not self._stop:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                self.conns.append(conn)  # held open, never read or answered

        threading.Thread(target=serve, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        for c in self.conns:
            c.close()
        self.sock.close()


def _silent_answers(install: dict, registry: str) -> Path:
    import yaml

    path, _ = answers(install, components=["postgres"])
    data = yaml.safe_load(path.read_text())
    data["images"] = {"pull": "missing", "overrides": {"postgres": f"{registry}/fabrix-e2e/hangs:1"}}
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_registry_that_never_answers_does_not_outlive_the_timeout(install: dict) -> None:
    import time

    name, home = install["name"], install["home"]
    registry = _SilentRegistry()
    try:
        path = _silent_answers(install, registry.address)
        started = time.monotonic()
        proc = fabrix("up", "--answers", str(path), "--yes", "--json", "--timeout", "8", home=home, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        registry.close()
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "did not finish within 8s" in proc.stdout
    assert elapsed < 45, f"took {elapsed:.0f}s with --timeout 8"
    assert leftovers(name) == {}


def test_kill9_during_pull_then_rollback_ends_the_pull(install: dict) -> None:
    import json
    import os
    import signal
    import time

    from tests.e2e.test_up_down import start_fabrix, wait_for_event

    name, home = install["name"], install["home"]
    registry = _SilentRegistry()
    try:
        path = _silent_answers(install, registry.address)
        proc = start_fabrix("up", "--answers", str(path), "--yes", "--json", "--timeout", "300", home=home)
        wait_for_event(proc, lambda o: o.get("type") == "event" and o.get("step") == "pull"
                       and o.get("state") == "pulling")
        journal = home / "installs" / name / "journal.jsonl"
        deadline = time.monotonic() + 30
        pid = None
        while pid is None and time.monotonic() < deadline:
            for line in journal.read_text().splitlines():
                rec = json.loads(line)
                if rec["step"] == "pull-process":
                    pid = rec["data"]["pid"]
            time.sleep(0.1)
        assert pid, "the pull's process is journaled"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert Path(f"/proc/{pid}").exists(), "the pull outlived fabrix (what rollback must clean up)"
        rolled = fabrix("rollback", "--name", name, "--yes", home=home)
        assert rolled.returncode == 0, rolled.stderr
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists() or " Z " in Path(f"/proc/{pid}/stat").read_text()[-200:]:
                break
            time.sleep(0.1)
        alive = Path(f"/proc/{pid}").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
        assert not alive, "rollback ended the orphaned `docker compose pull`"
    finally:
        registry.close()
    assert leftovers(name) == {}


def test_a_second_up_of_the_same_install_says_it_is_busy(install: dict) -> None:
    from tests.e2e.test_up_down import SMALL, mid_up, start_fabrix, wait_for_event

    name, home = install["name"], install["home"]
    path, _ = answers(install, components=SMALL)
    first = start_fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    try:
        wait_for_event(first, mid_up)
        second = fabrix("up", "--answers", str(path), "--yes", home=home)
        assert second.returncode == 2
        assert "is busy" in second.stderr and "rollback" not in second.stderr, second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    assert fabrix("down", "--name", name, "--yes", "--volumes", home=home).returncode == 0
