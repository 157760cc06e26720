"""The stand-in images refuse, in a real container, the configurations their real apps refuse.

Keycloak's stand-in runs the start-up rules of tests/support/standin_checks/keycloak.sh: the
configuration fabrix rendered before (no command on Azure; backchannel-dynamic without a hostname)
must stop the container with Keycloak's own message, and the rendered Compose service must start.
The full default stack on these stand-ins is launched by tests/e2e/test_up_down.py."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from installer.render import render_plan
from tests.support.standin import build_standin, start_and_read
from tests.unit.blueprint_plans import inp, plan


LABEL = "dev.aifabrix.fabrix.test=standin-rules"


def _env_args(env: dict[str, str]) -> list[str]:
    out: list[str] = []
    for k, v in env.items():
        out += ["-e", f"{k}={v}"]
    return out


def _refused(ref: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A configuration the app refuses: the container exits by itself, with the app's message."""
    return subprocess.run(["docker", "run", "--rm", "--label", LABEL, *_env_args(env), ref, *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def keycloak_standin(docker_ready) -> str:  # noqa: ANN001
    return build_standin("keycloak")


def test_keycloak_standin_refuses_the_old_configuration(keycloak_standin: str) -> None:
    old = {"KC_HOSTNAME_BACKCHANNEL_DYNAMIC": "true", "KC_HTTP_ENABLED": "true", "KC_HEALTH_ENABLED": "true"}
    res = _refused(keycloak_standin, ["start-dev"], old)
    assert res.returncode == 1, res
    assert "hostname-backchannel-dynamic must be set to false when no hostname is provided" in res.stderr
    res = _refused(keycloak_standin, [], {**old, "KC_HOSTNAME": "https://auth.example.com"})
    assert res.returncode != 0 and "Usage: kc.sh" in res.stderr


def test_keycloak_standin_serves_the_rendered_compose_service(keycloak_standin: str) -> None:
    doc = yaml.safe_load(render_plan(inp(plan(model="container", target="compose")), ["compose"]).text("compose.yaml"))
    svc = doc["services"]["keycloak"]
    env = {k: ("x" if "${" in str(v) else str(v)) for k, v in svc["environment"].items()}
    assert "stand-in keycloak up" in start_and_read(keycloak_standin, ["--label", LABEL, *_env_args(env)], svc["command"])
