"""The AI Fabrix core (Miso controller, dataplane) launched for real on stand-ins that refuse what
the real apps refuse (tests/support/standin_checks/{postgres,miso-controller,dataplane}.sh).

- the settings fabrix passed before (DATABASE_HOST/NAME/USER/PASSWORD, no onboarding settings) stop
  the controller's stand-in with the missing setting's name;
- the rendered configuration launches: every connection URL's role, password and database exist
  in the PostgreSQL the init script built;
- a role password changed after the first start (the init script ran once; vendor pain "changing
  the Postgres password after first init breaks login") fails the launch, exit 1, rolled back.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from installer.labels import project_name
from tests.e2e.test_up_down import answers, fabrix, install, leftovers, result_of  # noqa: F401 (fixture)
from tests.support.standin import build_standin

pytestmark = pytest.mark.docker

CORE = ["miso-controller", "dataplane"]

# What fabrix rendered for the controller before (catalog at c6c68ad), minus secrets' values.
OLD_CONTROLLER_ENV = {
    "PORT": "3000", "DEPLOYMENT": "database", "DATABASE_HOST": "postgres", "DATABASE_NAME": "miso",
    "DATABASE_USER": "miso_user", "DATABASE_PASSWORD": "x", "REDIS_HOST": "redis", "REDIS_PORT": "6379",
    "KEYCLOAK_URL": "http://keycloak:8080", "KEYCLOAK_INTERNAL_SERVER_URL": "http://keycloak:8080",
    "KEYCLOAK_SERVER_URL": "http://localhost:8082", "KEYCLOAK_REALM": "aifabrix", "KEYCLOAK_ADMIN_USERNAME": "admin",
    "KEYCLOAK_ADMIN_PASSWORD": "x", "WAIT_FOR_KEYCLOAK": "true", "ONBOARDING_ADMIN_EMAIL": "a@b.example",
    "ONBOARDING_ADMIN_PASSWORD": "x", "MISO_WEB_SERVER_URL": "http://localhost:3010",
    "ONBOARDING_CREATE_DEV_ENV": "true", "LICENSE_JWT": "DEVELOPMENT", "KEY_VAULT_ENABLED": "false",
    "ENCRYPTION_KEY": "x", "JWT_SECRET": "x", "API_KEY": "x", "MOUNT_VOLUME": "/mnt/data/",
}


def test_the_old_controller_settings_are_refused(docker_ready) -> None:  # noqa: ANN001
    ref = build_standin("miso-controller")
    args = [a for k, v in OLD_CONTROLLER_ENV.items() for a in ("-e", f"{k}={v}")]
    res = subprocess.run(["docker", "run", "--rm", "--label", "dev.aifabrix.fabrix.test=core-standins", *args, ref],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res
    assert "miso-controller: DATABASE_URL is required" in res.stderr


def _set_secret(path: Path, name: str, value: str) -> str:
    """Replace one line of the install's secrets.env; returns the old value."""
    lines = path.read_text().splitlines()
    old = next(ln.split("=", 1)[1] for ln in lines if ln.startswith(name + "="))
    path.write_text("\n".join(f"{name}={value}" if ln.startswith(name + "=") else ln for ln in lines) + "\n")
    return old


def _events(proc: subprocess.CompletedProcess[str], step: str) -> list[dict]:
    import json

    return [json.loads(ln) for ln in proc.stdout.splitlines()
            if ln.startswith("{") and json.loads(ln).get("step") == step]


def test_core_registers_the_dataplane_and_refuses_what_the_real_platform_refuses(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=CORE)
    first = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    res = result_of(first)
    assert first.returncode == 0, (res, first.stderr[-3000:])
    assert {"postgres", "redis", "keycloak", "miso-controller", "dataplane"} <= set(res["summary"]["services"])
    # Start order as the vendor's CLI: controller healthy → register → dataplane up.
    steps = [e["step"] for e in _events(first, "up") + _events(first, "register") + _events(first, "up-dataplane")]
    assert "register" in steps
    done = [e for e in _events(first, "register") if e["state"] == "done"]
    assert done and "dataplane registered" in done[0]["message"]
    secrets = Path(res["summary"]["secrets_file"])
    issued = dict(ln.split("=", 1) for ln in secrets.read_text().splitlines() if "=" in ln and not ln.startswith("#"))
    assert issued["DATAPLANE_CLIENT_ID"] == "miso-controller-dev-dataplane"

    # The dataplane with credentials the controller did not issue (what fabrix ran before: no
    # registration at all) is refused by the controller, so it never starts.
    project = project_name(name)
    env = subprocess.run(["docker", "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", f"{project}-dataplane-1"],
                         capture_output=True, text=True, check=True).stdout.split()
    env = [e for e in env if e.startswith(("MISO_", "DATABASE_URL=", "KEYCLOAK_", "API_KEY=", "ENCRYPTION_KEY=", "LOCAL_MODE="))]
    env = [("MISO_CLIENTSECRET=notIssuedByTheController" if e.startswith("MISO_CLIENTSECRET=") else e) for e in env]
    image = subprocess.run(["docker", "inspect", "-f", "{{.Config.Image}}", f"{project}-dataplane-1"],
                           capture_output=True, text=True, check=True).stdout.strip()
    refused = subprocess.run(["docker", "run", "--rm", "--network", f"{project}_platform",
                              *[a for e in env for a in ("-e", e)], image], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "refused MISO_CLIENTID/MISO_CLIENTSECRET" in refused.stderr, refused

    # A re-run rotates the secret of the registered app (the vendor's up-dataplane does the same).
    again = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    assert again.returncode == 0, again.stdout[-3000:]
    assert any("dataplane rotated" in e["message"] for e in _events(again, "register"))

    # Registration refused: the controller keeps the client its onboarding stored, so a client
    # secret changed afterwards in the secret store is refused → the launch fails (exit 1) and rolls back.
    old = _set_secret(secrets, "MISO_CLIENT_SECRET", "changedAfterOnboarding0")
    refused_run = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    text = refused_run.stdout + refused_run.stderr
    assert refused_run.returncode == 1, text[-3000:]
    assert "did not register the dataplane" in text and "/api/v1/auth/token" in text and "401" in text, text[-3000:]
    assert "changedAfterOnboarding0" not in text
    assert result_of(refused_run)["outcome"] != "ok"
    assert any(e["state"] == "rolled_back" for e in _events(refused_run, "rollback"))
    _set_secret(secrets, "MISO_CLIENT_SECRET", old)

    # A role password changed after the first start: the init script ran once, so the login fails.
    _set_secret(secrets, "MISO_LOGS_DB_PASSWORD", "changedAfterFirstInit0")
    bad_pw = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    text = bad_pw.stdout + bad_pw.stderr
    assert bad_pw.returncode == 1, text[-3000:]
    assert 'password authentication failed for user \\"miso_logs_user\\"' in text or \
        'password authentication failed for user "miso_logs_user"' in text, text[-4000:]
    assert "changedAfterFirstInit0" not in text  # the secret never reaches the output

    down = fabrix("down", "--name", name, "--volumes", "--yes", "--json", home=home)
    assert down.returncode == 0, down.stderr
    assert leftovers(name) == {}
