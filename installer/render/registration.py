"""The dataplane registration program of an Azure bundle: ``postdeploy/register-dataplane/``.

On Compose, fabrix registers the dataplane itself (``installer.launch.registration``). On Azure the
Miso controller has internal ingress only and Key Vault a private endpoint, so the same calls run
inside the network, as the post-deploy registration job (``installer/launch/azure/registration_job.py``).
The directory holds:

- ``__main__.py``: ``installer/jobs/register_dataplane.py`` (managed identity → Key Vault → the
  vendor's calls → the issued client id/secret back to Key Vault);
- ``registration.py``: ``installer/launch/registration.py``, the vendor's flow, byte for byte the
  module the Compose launch runs;
- ``config.json``: names and URLs only — the controller's internal URL (the one the dataplane's
  ``MISO_CONTROLLER_URL`` holds), the controller's client id, the Key Vault secret names, the
  registration body. No secret.

``python3 postdeploy/register-dataplane`` runs it from a machine inside the VNet (Python ≥ 3.9,
signed in as a managed identity); fabrix zips it and hands it to the job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from installer.render import Bundle, RenderInput
from installer.render.workload import azure_apps, azure_names, kv_secret_name

__all__ = ["REGISTRATION_DIR", "add_registration", "registration_config"]

REGISTRATION_DIR = "postdeploy/register-dataplane"
CONTROLLER = "miso-controller"
DATAPLANE = "dataplane"
HEALTH_BUDGET = 900  # seconds the job waits for the controller (Keycloak first, then onboarding)
_PROGRAM = Path(__file__).resolve().parents[1] / "jobs" / "register_dataplane.py"
_FLOW = Path(__file__).resolve().parents[1] / "launch" / "registration.py"


def _secret_of(env: dict[str, Any], key: str) -> str:
    value = env.get(key)
    if not (isinstance(value, dict) and "secret" in value):
        raise ValueError(f"catalog: {key} must be a secret reference for the registration")
    return str(value["secret"])


def _vault_suffix(vault_url: str) -> str | None:
    """``https://kv-x.vault.azure.net/`` → ``vault.azure.net``; None in a custom cloud (no known suffix)."""
    if not vault_url.startswith("https://"):
        return None
    return vault_url.removeprefix("https://").split(".", 1)[1].rstrip("/")


def registration_config(inp: RenderInput, target: str, unique_names: bool = False) -> dict[str, Any] | None:
    """What the job needs, or None when the Azure part runs no dataplane (hybrid keeps it on-prem).
    ``unique_names`` (Marketplace): the vault's name is a deployment output, so KEY_VAULT must be given."""
    from installer.launch.registration import registration_body

    from installer.render.azure.hybrid_ingress import azure_components

    in_azure = set(azure_components(inp.plan, target, inp.catalog))  # hybrid: the dataplane runs on-prem
    apps = {a.name: a for a in azure_apps(inp, target) if a.name in in_azure}
    if CONTROLLER not in apps or DATAPLANE not in apps:
        return None
    cat, plan = inp.catalog, inp.plan
    controller_env = {**cat.components[CONTROLLER].env, **cat.components[CONTROLLER].azure_env}
    dataplane_env = {**cat.components[DATAPLANE].env, **cat.components[DATAPLANE].azure_env}
    rendered = {v.name: v for v in apps[DATAPLANE].env}
    client_id = controller_env.get("MISO_CLIENTID")
    if not isinstance(client_id, str):
        raise ValueError("catalog: the controller's MISO_CLIENTID must be a literal client id")
    registry = plan.images.registry or cat.platform.private_registry
    names = azure_names(plan)
    return {
        # The URL the dataplane itself calls the controller on (internal ingress in the environment
        # on ACA, the Service in the namespace on AKS).
        "controller_url": rendered["MISO_CONTROLLER_URL"].value,
        "controller_client_id": client_id,
        "controller_secret": kv_secret_name(_secret_of(controller_env, "MISO_CLIENTSECRET")),
        # The dataplane reads these two as Key Vault references (MISO_CLIENTID / MISO_CLIENTSECRET).
        "issued": {"client_id": kv_secret_name(_secret_of(dataplane_env, "MISO_CLIENTID")),
                   "client_secret": kv_secret_name(_secret_of(dataplane_env, "MISO_CLIENTSECRET"))},
        "key_vault": None if unique_names else names.key_vault,
        "vault_suffix": _vault_suffix(names.vault_url(plan.azure.cloud)),
        "health_budget": HEALTH_BUDGET,
        "body": registration_body(
            image=plan.image_for(DATAPLANE, cat), port=cat.components[DATAPLANE].port,
            url=str(rendered["DATAPLANE_WEB_SERVER_URL"].value or ""),
            registry_mode="acr" if registry.endswith(".azurecr.io") else "external"),
    }


def issued_secrets(inp: RenderInput, target: str) -> tuple[str, str] | None:
    """The Key Vault secret names the registration writes (client id, client secret), or None."""
    cfg = registration_config(inp, target)
    return (cfg["issued"]["client_id"], cfg["issued"]["client_secret"]) if cfg else None


def add_registration(bundle: Bundle, inp: RenderInput, target: str, unique_names: bool = False) -> str | None:
    """Add ``postdeploy/register-dataplane/`` when the Azure part runs the controller and the
    dataplane; its path, or None."""
    cfg = registration_config(inp, target, unique_names)
    if cfg is None:
        return None
    bundle.add(f"{REGISTRATION_DIR}/__main__.py", _PROGRAM.read_text())
    bundle.add(f"{REGISTRATION_DIR}/registration.py", _FLOW.read_text())
    bundle.add(f"{REGISTRATION_DIR}/config.json", json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    return REGISTRATION_DIR
