"""The Azure registration program (postdeploy/register-dataplane, rendered by fabrix; run by the
registration job inside the network) run for real, as ``python3 <zip>`` like the job does, against
the Miso controller stand-in (the same API script the Compose e2e uses: tests/support/standin_checks/
lib/miso-api.sh, on the local Docker Engine) and a Key Vault stand-in with the managed-identity token
endpoints (tests/support/keyvault_standin.py). A wrong endpoint, body, header, token, secret name or
missing Key Vault permission is refused by one of them, so the program cannot pass with it.

The stand-in's write permission comes from the rendered ARM template (its Key Vault Secrets Officer
assignments), so the template and the program must agree on which secrets the job writes."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from installer.answers import plan_from_dict
from installer.jobs.register_dataplane import EXIT
from installer.launch.azure.registration_job import program
from installer.pipeline import render_and_validate
from installer.render.azure.api import ROLES
from tests.support.keyvault_standin import Identity, KeyVaultStandin
from tests.support.standin import build_standin

CONTROLLER_ID = "miso-controller-miso-miso-controller"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


def _bundle(target: str) -> Any:
    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "regtest", "model": "container", "target": target,
                           "azure": {"subscription_id": SUBSCRIPTION, "location": "westeurope"},
                           "images": {"registry": "contosoacr.azurecr.io"}})
    bundle, _ = render_and_validate(plan)
    return bundle


def _officer_secrets(bundle: Any) -> set[str]:
    """The secrets the template lets the workload identity write (Secrets Officer at secret scope)."""
    import json

    template = json.loads(bundle.files["arm/mainTemplate.json"])
    out = set()
    for res in template["resources"]:
        if res["type"] == "Microsoft.Authorization/roleAssignments" and \
                ROLES["Key Vault Secrets Officer"] in res["properties"]["roleDefinitionId"]:
            # [resourceId('Microsoft.KeyVault/vaults/secrets', '<vault>', '<secret>')]
            found = re.fullmatch(r"\[resourceId\('Microsoft\.KeyVault/vaults/secrets', '[^']+', '([0-9A-Za-z-]+)'\)\]",
                                 res["scope"])
            assert found, res["scope"]
            out.add(found.group(1))
    return out


@pytest.fixture(scope="module")
def controller_image(docker_ready: Any) -> str:  # noqa: ANN001
    return build_standin("miso-controller")


@pytest.fixture
def controller(controller_image: str) -> Iterator[dict[str, str]]:
    """The controller stand-in's API after first-time onboarding, on a loopback port."""
    secret = secrets.token_urlsafe(24)
    cid = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", "127.0.0.1::3000", "-e", f"MISO_CLIENTID={CONTROLLER_ID}",
         "-e", f"MISO_CLIENTSECRET={secret}", "-e", "ONBOARDING_CREATE_DEV_ENV=true", "--entrypoint", "/bin/sh",
         controller_image, "-c", ". /standin/lib/miso-onboarding.sh && exec nc -ll -p 3000 -e /standin/lib/miso-api.sh"],
        capture_output=True, text=True, check=True).stdout.strip()
    try:
        port = subprocess.run(["docker", "port", cid, "3000/tcp"], capture_output=True, text=True,
                              check=True).stdout.split(":")[-1].strip()
        yield {"url": f"http://127.0.0.1:{port}", "secret": secret}
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _run(pyz: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(pyz)], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", **env})


def _setup(tmp_path: Path, ca: trustme.CA, bundle: Any, controller: dict[str, str],
           writable: set[str] | None = None) -> tuple[KeyVaultStandin, Path, dict[str, str]]:
    identity = Identity(client_id="5e29463d-71da-4fe0-8e69-999b57db23b0")
    vault = KeyVaultStandin(ca, identity, _officer_secrets(bundle) if writable is None else writable)
    vault.state.secrets["miso-client-secret"] = [controller["secret"]]  # the template puts it there
    pyz = tmp_path / "register-dataplane.pyz"
    pyz.write_bytes(program(bundle))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    env = {"KEY_VAULT_URL": vault.vault_url, "CONTROLLER_URL": controller["url"], "SSL_CERT_FILE": str(ca_file),
           # What Container Apps gives a job with a user-assigned identity (+ AZURE_CLIENT_ID, set by fabrix).
           "IDENTITY_ENDPOINT": vault.identity_endpoint, "IDENTITY_HEADER": identity.identity_header,
           "AZURE_CLIENT_ID": identity.client_id}
    return vault, pyz, env


def test_the_program_registers_then_rotates_and_keeps_the_credentials_in_key_vault(tmp_path, ca, controller) -> None:
    bundle = _bundle("aca")
    assert _officer_secrets(bundle) == {"dataplane-client-id", "dataplane-client-secret"}
    vault, pyz, env = _setup(tmp_path, ca, bundle, controller)
    try:
        first = _run(pyz, env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "dataplane registered" in first.stdout
        client_id, secret1 = vault.state.value("dataplane-client-id"), vault.state.value("dataplane-client-secret")
        assert client_id == "miso-controller-dev-dataplane" and secret1
        # A re-run (fabrix up again, --resume) rotates the secret, as the vendor's up-dataplane does.
        again = _run(pyz, env)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "dataplane rotated" in again.stdout
        secret2 = vault.state.value("dataplane-client-secret")
        assert secret2 and secret2 != secret1 and len(vault.state.secrets["dataplane-client-secret"]) == 2
        # No secret value in what the job prints (it lands in Log Analytics).
        printed = first.stdout + first.stderr + again.stdout + again.stderr
        assert not any(v in printed for v in (secret1, secret2, controller["secret"]))
    finally:
        vault.stop()


def test_the_program_on_aks_signs_in_with_the_workload_identity(tmp_path, ca, controller) -> None:
    bundle = _bundle("aks")
    vault, pyz, env = _setup(tmp_path, ca, bundle, controller)
    try:
        token_file = tmp_path / "azure-identity-token"
        token_file.write_text(vault.state.identity.federated_token)
        # What the workload identity webhook injects (no Container Apps endpoint on AKS).
        for key in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
            env.pop(key)
        env.update({"AZURE_FEDERATED_TOKEN_FILE": str(token_file), "AZURE_TENANT_ID": vault.state.identity.tenant_id,
                    "AZURE_AUTHORITY_HOST": vault.vault_url + "/"})
        res = _run(pyz, env)
        assert res.returncode == 0, res.stdout + res.stderr
        assert vault.state.value("dataplane-client-id") == "miso-controller-dev-dataplane"
    finally:
        vault.stop()


def test_what_the_real_parts_refuse_fails_the_program(tmp_path, ca, controller) -> None:
    bundle = _bundle("aca")
    # 1. A template without the write role: Key Vault refuses the write (403 ForbiddenByRbac).
    vault, pyz, env = _setup(tmp_path, ca, bundle, controller, writable=set())
    try:
        res = _run(pyz, env)
        assert res.returncode == EXIT["vault-write"]
        assert "writing secret dataplane-client-id failed (HTTP 403: Forbidden" in res.stderr, res.stderr
    finally:
        vault.stop()
    # 2. The vault holds another controller secret: the controller refuses its own client (401).
    vault, pyz, env = _setup(tmp_path, ca, bundle, controller)
    vault.state.secrets["miso-client-secret"] = ["not-the-controllers-secret"]
    try:
        res = _run(pyz, env)
        assert res.returncode == EXIT["controller"]
        assert "POST /api/v1/auth/token" in res.stderr and "401" in res.stderr, res.stderr
        assert vault.state.value("dataplane-client-id") is None  # nothing written
    finally:
        vault.stop()
    # 3. The identity endpoint without its SSRF header (or another identity): no token, no vault call.
    vault, pyz, env = _setup(tmp_path, ca, bundle, controller)
    env["IDENTITY_HEADER"] = "wrong"
    try:
        res = _run(pyz, env)
        assert res.returncode == EXIT["identity"] and "gave no token" in res.stderr, res.stderr
        assert not [r for r in vault.state.requests if r[1].startswith("/secrets/")]
    finally:
        vault.stop()
