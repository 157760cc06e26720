"""`fabrix up / status / down / rollback` for real: Docker Engine + Compose v2 + busybox stand-ins.

Every install is named ``e2e-*`` and is removed by the test (a finalizer sweeps by label even when
an assertion fails). The CLI runs as a subprocess, exactly as a person runs it, so signals and
``kill -9`` behave as they would in a terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.labels import COMPOSE_PROJECT_LABEL, project_name
from tests.support.standin import free_ports, write_answers

pytestmark = pytest.mark.docker

SMALL = ["postgres", "redis"]  # fastest stack: healthy after one 5 s health interval


def fabrix(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FABRIX_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "installer.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def start_fabrix(*args: str, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "FABRIX_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "installer.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def json_objects(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def result_of(proc: subprocess.CompletedProcess[str]) -> dict:
    results = [o for o in json_objects(proc.stdout) if o.get("type") == "result"]
    assert results, f"no result line; rc={proc.returncode}\nstdout:{proc.stdout[-3000:]}\nstderr:{proc.stderr[-3000:]}"
    return results[-1]


def leftovers(name: str, volumes: bool = True) -> dict[str, list[str]]:
    label = f"label={COMPOSE_PROJECT_LABEL}={project_name(name)}"
    out = {}
    kinds = [("containers", ["ps", "-a"]), ("networks", ["network", "ls"])]
    if volumes:
        kinds.append(("volumes", ["volume", "ls"]))
    for kind, cmd in kinds:
        res = subprocess.run(["docker", *cmd, "--filter", label, "-q"], capture_output=True, text=True, check=True)
        out[kind] = res.stdout.split()
    return {k: v for k, v in out.items() if v}


def volumes_of(name: str) -> list[str]:
    res = subprocess.run(["docker", "volume", "ls", "--filter", f"label={COMPOSE_PROJECT_LABEL}={project_name(name)}",
                          "--format", "{{.Name}}"], capture_output=True, text=True, check=True)
    return sorted(res.stdout.split())


def wait_for_event(proc: subprocess.Popen[str], predicate, limit: float = 120) -> dict:
    """Read the --json event stream until an event matches (the launch is then mid-``up``)."""
    end = time.monotonic() + limit
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            obj = json.loads(line)
            if predicate(obj):
                return obj
        assert time.monotonic() < end, "the awaited event never came"
    raise AssertionError(f"fabrix ended before the awaited event; stderr: {proc.stderr.read() if proc.stderr else ''}")


def mid_up(obj: dict) -> bool:
    return obj.get("type") == "event" and obj.get("step") == "up" and obj.get("state") == "health_starting"


@pytest.fixture
def install(docker_ready, tmp_path: Path, fabrix_home: Path, request: pytest.FixtureRequest) -> Iterator[dict]:
    """An e2e install name and its home; whatever happens, its Compose project is swept away."""
    node = request.node.name.removeprefix("test_").replace("_", "-").replace("[", "-").replace("]", "")
    name = f"e2e-{node[:22]}-{abs(hash(node)) % 10000:04d}".replace("--", "-")
    ctx = {"name": name, "home": fabrix_home, "dir": tmp_path}
    yield ctx
    subprocess.run(["docker", "compose", "-p", project_name(name), "down", "--volumes", "--remove-orphans", "-t", "1"],
                   capture_output=True, cwd=tmp_path)
    for kind, ids in leftovers(name).items():
        cmd = {"containers": ["rm", "-f"], "networks": ["network", "rm"], "volumes": ["volume", "rm", "-f"]}[kind]
        subprocess.run(["docker", *cmd, *ids], capture_output=True)


def answers(ctx: dict, components: list[str] | None = None, sick: tuple[str, ...] = (), ports: dict | None = None,
            file: str = "answers.yaml") -> tuple[Path, dict]:
    from installer.plan import InstallPlan

    enabled = InstallPlan(name=ctx["name"], components=components).enabled_components()
    ports = ports or free_ports(enabled)
    path = write_answers(ctx["dir"] / file, ctx["name"], components=components, sick=sick, ports=ports)
    return path, ports


def test_full_stack_up_status_rerun_keeps_data_down_removes_all(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, ports = answers(install)

    first = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    res = result_of(first)
    assert first.returncode == 0, res
    assert res["outcome"] == "ok"
    assert res["summary"]["urls"]["flowise"] == f"http://127.0.0.1:{ports['flowise']}/"
    assert res["summary"]["front_door_urls"]["keycloak"] == f"http://auth.localhost:{ports['traefik']}/"
    assert res["summary"]["secrets_file"].endswith("secrets.env")
    services = set(res["summary"]["services"])
    assert {"postgres", "redis", "keycloak", "flowise", "openwebui", "traefik"} <= services
    events = [o for o in json_objects(first.stdout) if o.get("type") == "event"]
    assert {e["service"] for e in events if e["step"] == "up" and e["state"] == "healthy"} == services
    assert any(e["step"] == "probe" and e["state"] == "done" for e in events)

    st = fabrix("status", "--name", name, "--json", home=home)
    assert st.returncode == 0
    status = result_of(st)
    assert status["unfinished_run"] is None
    assert {s["component"]: s["health"] for s in status["services"]} == {s: "healthy" for s in services}
    # The launch reads health over the Engine's socket when the CLI would use it: the same answer
    # as the two CLI calls (docker ps + docker inspect).
    from installer.launch.dockercli import plain_docker_cmd
    from installer.launch.engine_api import local_socket
    from installer.launch.status import project_status

    via_cli = project_status(plain_docker_cmd(), project_name(name), engine=False)
    assert {s.component for s in via_cli} == services
    assert project_status(plain_docker_cmd(), project_name(name)) == via_cli
    if os.environ.get("CI") and not os.environ.get("DOCKER_HOST"):
        assert local_socket() is not None, "a local Docker Engine: the socket path must be the one in use"

    # Data written into the install survives a re-run of `up` (Compose converges, volumes stay).
    container = f"{project_name(name)}-postgres-1"
    subprocess.run(["docker", "exec", container, "sh", "-c", "echo keep-me > /var/lib/postgresql/data/marker"],
                   check=True, capture_output=True)
    again = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    assert again.returncode == 0, again.stderr[-2000:]
    assert result_of(again)["outcome"] == "ok"
    marker = subprocess.run(["docker", "exec", container, "cat", "/var/lib/postgresql/data/marker"],
                            capture_output=True, text=True)
    assert marker.stdout.strip() == "keep-me"

    down = fabrix("down", "--name", name, "--volumes", "--yes", "--json", home=home)
    assert down.returncode == 0, down.stderr
    assert leftovers(name) == {}


def test_sick_service_fails_and_rolls_back_on_its_own(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=SMALL, sick=("redis",))
    proc = fabrix("up", "--answers", str(path), "--yes", "--json", "--timeout", "12", home=home)
    assert proc.returncode == 1, proc.stdout[-2000:]
    res = result_of(proc)
    assert res["outcome"] == "failed"
    diag = res["diagnostics"]
    assert diag["service"] == "redis"
    assert "sick" in diag["health_output"]
    assert "redis" in res["message"]
    assert res["rollback"]["ok"] is True and res["rollback"]["volumes_removed"] is True
    assert leftovers(name) == {}
    st = result_of(fabrix("status", "--name", name, "--json", home=home))
    assert st["unfinished_run"] is None and st["services"] == []


def test_kill9_mid_launch_then_status_reports_it_and_rollback_cleans_up(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=SMALL)
    proc = start_fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    wait_for_event(proc, mid_up)
    proc.kill()
    proc.wait(timeout=30)
    assert leftovers(name), "the launch had created containers before it was killed"

    st = result_of(fabrix("status", "--name", name, "--json", home=home))
    assert st["unfinished_run"] is not None
    assert st["unfinished_run"]["project_existed"] is False

    blocked = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    assert blocked.returncode == 2
    assert "unfinished" in blocked.stdout

    rb = fabrix("rollback", "--name", name, "--yes", "--json", home=home)
    assert rb.returncode == 0, rb.stdout[-2000:] + rb.stderr[-2000:]
    assert result_of(rb)["ok"] is True
    assert leftovers(name) == {}
    st = result_of(fabrix("status", "--name", name, "--json", home=home))
    assert st["unfinished_run"] is None


def test_kill9_mid_launch_then_resume_continues(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=SMALL)
    proc = start_fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    first = wait_for_event(proc, lambda o: o.get("step") == "run")
    wait_for_event(proc, mid_up)
    proc.kill()
    proc.wait(timeout=30)

    resumed = fabrix("up", "--answers", str(path), "--yes", "--json", "--resume", home=home)
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    res = result_of(resumed)
    assert res["outcome"] == "ok"
    assert res["run_id"] in first["message"]  # the same run, continued
    st = result_of(fabrix("status", "--name", name, "--json", home=home))
    assert st["unfinished_run"] is None
    assert {s["component"]: s["health"] for s in st["services"]} == {"postgres": "healthy", "redis": "healthy"}


def test_failed_upgrade_keeps_the_earlier_install_data(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, ports = answers(install, components=SMALL)
    assert fabrix("up", "--answers", str(path), "--yes", "--json", home=home).returncode == 0
    subprocess.run(["docker", "exec", f"{project_name(name)}-postgres-1", "sh", "-c",
                    "echo precious > /var/lib/postgresql/data/marker"], check=True, capture_output=True)
    before = volumes_of(name)
    assert before

    upgrade, _ = answers(install, components=SMALL, sick=("redis",), ports=ports, file="upgrade.yaml")
    failed = fabrix("up", "--answers", str(upgrade), "--yes", "--json", "--timeout", "12", home=home)
    assert failed.returncode == 1
    res = result_of(failed)
    assert res["rollback"]["volumes_removed"] is False
    assert "previous version is running again" in res["message"], res["message"]
    assert volumes_of(name) == before
    # The failed update left the previous version running (issue 10), healthy, on the same data.
    status = result_of(fabrix("status", "--name", name, "--json", home=home))
    assert {s["component"]: s["health"] for s in status["services"]} == {"postgres": "healthy", "redis": "healthy"}
    assert status["unfinished_run"] is None
    marker = subprocess.run(["docker", "exec", f"{project_name(name)}-postgres-1", "cat",
                             "/var/lib/postgresql/data/marker"], capture_output=True, text=True)
    assert marker.stdout.strip() == "precious"
    assert fabrix("down", "--name", name, "--yes", home=home).returncode == 0
    assert leftovers(name, volumes=False) == {}
    volume = next(v for v in before if "postgres" in v)
    read = subprocess.run(["docker", "run", "--rm", "--entrypoint", "cat", "-v", f"{volume}:/d",
                           "fabrix-standin/postgres:test", "/d/marker"], capture_output=True, text=True)
    assert read.stdout.strip() == "precious"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["sigterm", "sigint", "sighup"])
def test_signal_during_up_cancels_and_rolls_back(install: dict, sig: signal.Signals) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=SMALL)
    proc = start_fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    wait_for_event(proc, mid_up)
    proc.send_signal(sig)
    out, _err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    results = [o for o in json_objects(out) if o.get("type") == "result"]
    assert results and results[-1]["outcome"] == "cancelled"
    assert leftovers(name) == {}


def test_registry_login_failure_rolls_back_and_never_leaks_the_password(install: dict) -> None:
    name, home = install["name"], install["home"]
    registry = "127.0.0.1:9"  # nothing listens: `docker login` fails fast
    path, _ = answers(install, components=["postgres"])
    import yaml

    data = yaml.safe_load(path.read_text())
    data["images"].update({"registry": registry, "username": "fabrix-e2e",
                           "overrides": {"postgres": f"{registry}/fabrix-standin/postgres:test"}})
    data["images"]["pull"] = "missing"
    path.write_text(yaml.safe_dump(data))
    password = "e2e-Registry-Passw0rd-never-shown"
    proc = subprocess.run([sys.executable, "-m", "installer.cli", "up", "--answers", str(path), "--yes", "--json"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "FABRIX_HOME": str(home), "FABRIX_REGISTRY_PASSWORD": password})
    assert proc.returncode == 1, proc.stdout[-2000:]
    res = result_of(proc)
    assert "docker login" in res["message"] and registry in res["message"]
    folder = home / "installs" / name
    for text in (proc.stdout, proc.stderr, (folder / "journal.jsonl").read_text(), (folder / "install.log").read_text()):
        assert password not in text
    assert leftovers(name) == {}


def test_an_image_that_cannot_be_pulled_fails_before_anything_starts(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=["postgres"])
    import yaml

    data = yaml.safe_load(path.read_text())
    data["images"] = {"pull": "missing", "overrides": {"postgres": "127.0.0.1:9/fabrix-e2e/absent:1"}}
    path.write_text(yaml.safe_dump(data))
    proc = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    assert proc.returncode == 1, proc.stdout[-2000:]
    res = result_of(proc)
    assert "pulling images failed" in res["message"]
    assert "Nothing had been started" in res["message"]
    assert leftovers(name) == {}


def test_usage_errors_exit_2_without_touching_anything(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=["postgres"])
    no_yes = fabrix("up", "--answers", str(path), home=home)  # no TTY here, no --yes
    assert no_yes.returncode == 2 and "--yes" in no_yes.stderr
    assert leftovers(name) == {}
    for args in (["status", "--name", "e2e-unknown-install"], ["down", "--name", "e2e-unknown-install", "--yes"],
                 ["rollback", "--name", "e2e-unknown-install", "--yes"]):
        proc = fabrix(*args, home=home)
        assert proc.returncode == 2, args
        assert "no install named 'e2e-unknown-install'" in proc.stderr


def test_the_engine_api_runs_in_a_worker_thread_and_cancels_with_an_event(install: dict) -> None:
    """How the TUI drives it: launch() on a thread, events to a callback, cancel via an Event."""
    import threading

    from installer.answers import load_answers
    from installer.launch import Outcome, launch, status, unfinished_run
    from installer.progress import ProgressEvent, State

    name = install["name"]
    path, _ = answers(install, components=SMALL)
    plan = load_answers(path)
    cancel = threading.Event()
    events: list[ProgressEvent] = []

    def reporter(ev: ProgressEvent) -> None:
        events.append(ev)
        if ev.step == "up" and ev.state is State.health_starting:
            cancel.set()

    box: dict = {}
    worker = threading.Thread(target=lambda: box.update(result=launch(plan, reporter, cancel=cancel, timeout=60)))
    worker.start()
    worker.join(timeout=180)
    assert not worker.is_alive()
    result = box["result"]
    assert result.outcome is Outcome.cancelled and result.exit_code == 130
    assert result.rollback is not None and result.rollback.ok
    assert any(ev.step == "rollback" and ev.state is State.rolled_back for ev in events)
    assert all(ev.elapsed >= 0 for ev in events)
    assert status(name) == [] and unfinished_run(name) is None
    assert leftovers(name) == {}


def test_data_dir_folders_are_created_and_shell_env_cannot_override_secrets(install: dict) -> None:
    """`compose.data_dir` binds volumes to host folders Docker will not create, and Compose lets an
    exported variable beat `.env`: the launch creates the folders and the secret store wins."""
    import yaml

    from installer.secrets import SecretStore
    from installer.state import install_dir

    name, home = install["name"], install["home"]
    data_dir = install["dir"] / "data"
    path, _ = answers(install, components=["postgres"])
    plan = yaml.safe_load(path.read_text())
    plan.setdefault("compose", {})["data_dir"] = str(data_dir)
    path.write_text(yaml.safe_dump(plan, sort_keys=False))

    env = {**os.environ, "FABRIX_HOME": str(home), "POSTGRES_PASSWORD": "exported-by-someone-else"}
    proc = subprocess.run([sys.executable, "-m", "installer.cli", "up", "--answers", str(path), "--yes", "--json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (data_dir / "postgres").is_dir()

    stored = SecretStore(install_dir(name).secrets).get("postgres_password")
    inspect = subprocess.run(["docker", "inspect", "--format", "{{json .Config.Env}}", f"{project_name(name)}-postgres-1"],
                             capture_output=True, text=True, check=True)
    container_env = json.loads(inspect.stdout)
    assert f"POSTGRES_PASSWORD={stored}" in container_env
    assert "POSTGRES_PASSWORD=exported-by-someone-else" not in container_env
    # The stand-in writes into the bound folder: the data really lives under data_dir.
    subprocess.run(["docker", "exec", f"{project_name(name)}-postgres-1", "sh", "-c",
                    "echo here > /var/lib/postgresql/data/marker"], check=True, capture_output=True)
    assert (data_dir / "postgres" / "marker").read_text().strip() == "here"


def test_keep_on_failure_leaves_everything_for_debugging_until_rollback(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=["redis"], sick=("redis",))

    failed = fabrix("up", "--answers", str(path), "--yes", "--json", "--timeout", "12", "--keep-on-failure", home=home)
    assert failed.returncode == 1
    res = result_of(failed)
    assert res["outcome"] == "failed" and res["rollback"] is None
    assert "kept for debugging" in res["message"]
    assert leftovers(name).get("containers"), "the failed service must still be there to inspect"

    st = result_of(fabrix("status", "--name", name, "--json", home=home))
    assert st["unfinished_run"] is not None, "a kept run stays open until rolled back"

    back = fabrix("rollback", "--name", name, "--yes", "--json", home=home)
    assert back.returncode == 0, back.stderr[-2000:]
    assert leftovers(name) == {}
