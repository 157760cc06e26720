"""The Azure registration program as fabrix renders it (installer/render/registration.py): what
the bundle carries, that the program can run in a bare job image, and what the permission check
asks for. Running it against a controller and Key Vault: tests/e2e/test_azure_registration_program.py."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from installer.answers import plan_from_dict
from installer.plan import InstallPlan
from installer.render import RenderInput, render_plan
from installer.render.registration import REGISTRATION_DIR

REPO = Path(__file__).resolve().parents[2]
SUB = "00000000-0000-0000-0000-000000000001"
CORE = {"images": {"registry": "contosoacr.azurecr.io"}}


def _plan(model: str = "container", target: str | None = "aca", **over: object) -> InstallPlan:
    data: dict[str, object] = {"apiVersion": "fabrix/v1", "name": "demo", "model": model,
                               "azure": {"subscription_id": SUB, "location": "westeurope"}, **over}
    if target:
        data["target"] = target
    return plan_from_dict(data)


def _files(plan: InstallPlan) -> dict[str, bytes]:
    bundle = render_plan(RenderInput(plan))
    return {p[len(REGISTRATION_DIR) + 1:]: v for p, v in bundle.files.items() if p.startswith(REGISTRATION_DIR + "/")}


@pytest.mark.parametrize("path", ["installer/jobs/register_dataplane.py", "installer/launch/registration.py"])
def test_the_program_needs_only_the_standard_library(path: str) -> None:
    """The job image has Python and nothing else: every import is stdlib, or the sibling module."""
    tree = ast.parse((REPO / path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top in ("registration", "__future__") \
                or name == "installer.launch", f"{path} imports {name}"


def test_the_bundle_carries_the_program_its_flow_and_a_config_without_secrets() -> None:
    files = _files(_plan(**CORE))
    assert set(files) == {"__main__.py", "registration.py", "config.json"}
    assert files["registration.py"] == (REPO / "installer/launch/registration.py").read_bytes()  # one flow, two places
    cfg = json.loads(files["config.json"])
    assert cfg["controller_url"] == "http://miso-controller"
    assert cfg["controller_secret"] == "miso-client-secret"
    assert cfg["body"]["key"] == "dataplane" and cfg["body"]["registryMode"] == "acr"
    assert cfg["key_vault"] and cfg["vault_suffix"] == "vault.azure.net"


def test_marketplace_takes_the_vault_from_the_deployment_outputs() -> None:
    cfg = json.loads(_files(_plan(model="marketplace", target=None, **CORE))["config.json"])
    assert cfg["key_vault"] is None  # names carry a per-deployment suffix: KEY_VAULT is passed by the launch


def test_no_program_without_a_dataplane_in_azure() -> None:
    assert _files(_plan()) == {}  # no registry: no AI Fabrix core
    hybrid = render_plan(RenderInput(_plan(model="hybrid", target=None, **CORE)))
    assert not [p for p in hybrid.files if REGISTRATION_DIR in p]  # the dataplane runs on-prem there


def test_the_permission_check_asks_for_the_dataplane_restart_only_when_there_is_one() -> None:
    from installer.azure.actions import needed_actions

    restart = "Microsoft.App/containerApps/revisions/restart/action"
    assert restart in [a.action for a in needed_actions(_plan(**CORE), True)]
    assert restart not in [a.action for a in needed_actions(_plan(), True)]
    aks = [a.action for a in needed_actions(_plan(target="aks", **CORE), True)]
    assert "Microsoft.ContainerService/managedClusters/runCommand/action" in aks and restart not in aks
