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


def test_core_launches_and_a_changed_role_password_fails_the_launch(install: dict) -> None:
    name, home = install["name"], install["home"]
    path, _ = answers(install, components=CORE)
    first = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    res = result_of(first)
    assert first.returncode == 0, (res, first.stderr[-3000:])
    assert {"postgres", "redis", "keycloak", "miso-controller", "dataplane"} <= set(res["summary"]["services"])

    # The role was created with the first password; a new one in the secret store is not applied
    # by the init script (it runs on an empty data directory only), so the login fails.
    secrets = Path(res["summary"]["secrets_file"])
    lines = secrets.read_text().splitlines()
    secrets.write_text("\n".join(
        "MISO_LOGS_DB_PASSWORD=changedAfterFirstInit0" if ln.startswith("MISO_LOGS_DB_PASSWORD=") else ln
        for ln in lines) + "\n")
    again = fabrix("up", "--answers", str(path), "--yes", "--json", home=home)
    assert again.returncode == 1, again.stdout[-3000:]
    text = again.stdout + again.stderr
    assert 'password authentication failed for user \\"miso_logs_user\\"' in text or \
        'password authentication failed for user "miso_logs_user"' in text, text[-4000:]
    assert "changedAfterFirstInit0" not in text  # the secret never reaches the output

    down = fabrix("down", "--name", name, "--volumes", "--yes", "--json", home=home)
    assert down.returncode == 0, down.stderr
    assert leftovers(name) == {}
    assert project_name(name)
