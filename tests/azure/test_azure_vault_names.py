"""A production install's Key Vault (purge protection, 90 days' soft delete) must not block the
next install after a rollback: the rollback records the soft-deleted vault with the purge date
ARM's deleted-vault body gives, moves the install to its next vault name, and the next launch's
name check and deployment pass. Real azure-mgmt clients against the HTTPS fake ARM."""

from __future__ import annotations

import json
from typing import Any

from installer.answers import plan_from_dict
from installer.azure.vault_names import generation, left_behind
from installer.launch.dispatch import launch
from installer.launch.journal import Journal, Phase
from installer.progress import ProgressEvent
from installer.render.workload import azure_names
from installer.state import install_dir
from tests.azure.sdk_clients import sdk_clients
from tests.azure.test_azure_launch import RG, answers, azure_env, started  # noqa: F401 - azure_env is a fixture


def _name_free(arm: Any, name: str) -> bool:
    from azure.mgmt.keyvault.models import VaultCheckNameAvailabilityParameters

    check = sdk_clients(arm).keyvault.vaults.check_name_availability(
        VaultCheckNameAvailabilityParameters(name=name, type="Microsoft.KeyVault/vaults"))
    return bool(check.name_available)


def test_a_rolled_back_prod_vault_moves_the_install_to_a_free_vault_name(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    plan = plan_from_dict(answers(arm, tier="prod"))
    first_name = azure_names(plan).key_vault
    # The vault deploys quickly; PostgreSQL fails later: the rollback removes a vault that existed.
    arm.deploy.fail("Microsoft.DBforPostgreSQL/flexibleServers", "QuotaExceeded", at_fraction=0.9)
    events: list[ProgressEvent] = []
    failed = launch(plan, events.append)
    assert failed.failed and failed.rollback is not None and failed.rollback.ok, failed.message
    held = [v for v in arm.deploy.deleted_vaults if v["name"] == first_name]
    assert held and held[0]["purgeProtectionEnabled"], "prod's vault is soft-deleted with purge protection"
    assert not _name_free(arm, first_name)  # ARM keeps the name: a same-name install would stop here

    # What was left is said and recorded, with the purge date from the deleted-vault body.
    assert generation("demo") == 1
    [left] = left_behind("demo")
    assert left.name == first_name and left.scheduled_purge_date.startswith(held[0]["scheduledPurgeDate"][:10])
    assert left.run == failed.run_id
    second_name = azure_names(plan).key_vault
    assert second_name != first_name and _name_free(arm, second_name)
    assert first_name in failed.message and second_name in failed.message and "purge" in failed.message
    records = Journal(install_dir("demo").journal).run_records(failed.run_id)
    rb = [r for r in records if r.step == "rollback" and r.phase is Phase.end]
    assert rb and rb[-1].data["key_vaults_left"][0]["name"] == first_name

    # The next install passes the name check and deploys the vault under the new name.
    ok = launch(plan_from_dict(answers(arm, tier="prod")), lambda ev: None)
    assert ok.ok, ok.message
    vaults = [r for r in arm.deploy.group_resources(RG) if r.type.lower() == "microsoft.keyvault/vaults"]
    assert [v.name for v in vaults] == [second_name]
    assert generation("demo") == 1  # a success leaves the generation where it is


def test_status_lists_the_vault_left_behind(fake_arm, azure_env, tmp_path) -> None:
    import os
    import subprocess
    import sys

    import yaml

    from tests.azure.test_azure_launch import REPO

    arm = started(fake_arm(page_size=0))
    arm.deploy.fail("Microsoft.DBforPostgreSQL/flexibleServers", "QuotaExceeded", at_fraction=0.9)
    assert launch(plan_from_dict(answers(arm, tier="prod")), lambda ev: None).failed
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers(arm, tier="prod")))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    st = subprocess.run([sys.executable, "-c", "from installer.cli import main; raise SystemExit(main())",
                         "status", "--name", "demo", "--json"], capture_output=True, text=True, cwd=REPO, env=env,
                        timeout=120)
    assert st.returncode == 0, st.stderr
    now = json.loads(st.stdout.splitlines()[-1])["azure"]
    assert now["key_vaults_left"][0]["scheduled_purge_date"]


def test_a_marketplace_launch_moves_its_name_prefix_after_a_rolled_back_prod_vault(fake_arm, azure_env) -> None:
    """Marketplace names every resource from namePrefix + uniqueString(group): the same group gives
    the same vault name, so the generation goes into namePrefix."""
    arm = started(fake_arm(page_size=0))
    data = answers(arm, tier="prod", model="marketplace")
    data.pop("target")
    arm.deploy.fail("Microsoft.DBforPostgreSQL/flexibleServers", "QuotaExceeded", at_fraction=0.9)
    failed = launch(plan_from_dict(data), lambda ev: None)
    assert failed.failed and failed.rollback is not None and failed.rollback.ok, failed.message
    [held] = [v for v in arm.deploy.deleted_vaults if v["purgeProtectionEnabled"]]
    assert "namePrefix" in failed.message and held["name"] in failed.message
    ok = launch(plan_from_dict(data), lambda ev: None)
    assert ok.ok, ok.message
    [vault] = [r for r in arm.deploy.group_resources(RG) if r.type.lower() == "microsoft.keyvault/vaults"]
    assert vault.name != held["name"]
