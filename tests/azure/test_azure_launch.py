"""`fabrix up` on Azure end to end: the real azure-mgmt clients (through fabrix's own client
pipeline) against the HTTPS fake ARM, whose deployments progress resource by resource in
simulated time from the template fabrix submits. Nothing is mocked on fabrix's side."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.answers import plan_from_dict
from installer.launch.dispatch import launch
from installer.launch.journal import Journal
from installer.plan import InstallPlan
from installer.progress import ProgressEvent, State
from installer.state import install_dir
from tests.azure import scenarios

REPO = Path(__file__).resolve().parents[2]
RG = "rg-fx-launchtest"
SPEED = 4000.0  # simulated seconds per real second: a ~20-minute foundation deploys in well under a second


@pytest.fixture
def azure_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("FABRIX_HOME", str(home))
    monkeypatch.setenv("PUBLIC_DOMAIN", "ai.contoso.test")
    monkeypatch.setenv("ONPREM_EGRESS_CIDR", "203.0.113.0/24")  # hybrid: where the on-prem runner dials out from
    monkeypatch.setenv("FABRIX_ARM_POLL_SECONDS", "0.02")
    monkeypatch.setenv("FABRIX_SMOKE_BUDGET", "0")
    return home


def answers(arm: Any, name: str = "demo", rg: str = RG, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "apiVersion": "fabrix/v1",
        "name": name,
        "model": "container",
        "target": "aca",
        "azure": {"cloud": "custom", "arm_endpoint": arm.url, "subscription_id": scenarios.SUBSCRIPTION,
                  "location": scenarios.LOCATION, "resource_group": rg},
    }
    data.update(over)
    return data


def plan_for(arm: Any, **over: Any) -> InstallPlan:
    return plan_from_dict(answers(arm, **over))


def started(arm: Any, speed: float = SPEED) -> Any:
    arm.deploy.clock.set_speed(speed)
    return arm


def group_ids(arm: Any, rg: str = RG) -> set[str]:
    return {r.id.lower() for r in arm.deploy.group_resources(rg)}


def test_aca_launch_creates_the_group_deploys_the_stack_with_per_resource_progress(fake_arm, azure_env) -> None:
    arm = started(fake_arm())  # ARM pages long lists: the operations come two per page here (nextLink)
    events: list[ProgressEvent] = []
    result = launch(plan_for(arm), events.append)
    assert result.ok, result.message
    stack = arm.deploy.stacks[(RG.lower(), "fabrix-demo")]
    assert stack.body["properties"]["actionOnUnmanage"]["resources"] == "delete"
    assert stack.body["properties"]["denySettings"]["mode"] == "none"  # evaluation tier
    assert arm.deploy.groups[RG.lower()].tags["fabrix-install"] == "demo"
    rows = [e for e in events if e.step == "deploy" and e.service]
    assert {e.state for e in rows} >= {State.done}
    assert all("duration" in e.data for e in rows)
    vaults = [e for e in rows if e.service and e.service.startswith("Microsoft.KeyVault/vaults/")]
    assert vaults and vaults[-1].state is State.done
    assert len({e.data["resource_id"] for e in rows}) == len(arm.deploy.stacks[(RG.lower(), "fabrix-demo")].deployment.ops)
    # The secrets went as secureString parameters and appear in no event or log line.
    secrets = (install_dir("demo").secrets).read_text()
    values = [line.split("=", 1)[1] for line in secrets.splitlines() if "=" in line and not line.startswith("#")]
    log = (install_dir("demo").log).read_text() + json.dumps([e.to_json() for e in events])
    assert values and not any(v in log for v in values)
    assert "fabrix down --name demo" in result.message


@pytest.mark.parametrize("model, target", [("container", "aks"), ("marketplace", None), ("development", None),
                                           ("hybrid", None), ("multicloud", None)])
def test_every_azure_model_launches(fake_arm, azure_env, model: str, target: str | None) -> None:
    arm = started(fake_arm(page_size=0))
    over: dict[str, Any] = {"model": model}
    if model == "hybrid":  # hybrid runs the AI Fabrix core, whose images come from the vendor's registry
        over["images"] = {"registry": "contosoacr.azurecr.io"}
    data = answers(arm, **over)
    if target:
        data["target"] = target
    else:
        data.pop("target")
    events: list[ProgressEvent] = []
    result = launch(plan_from_dict(data), events.append)
    assert result.ok, result.message
    post = [e for e in events if e.step == "postdeploy" and e.state is State.done]
    assert post, "the database step (ACA job or AKS run command) ran"
    if target == "aks":
        assert "rollouts finished" in post[-1].message


def test_down_lists_deletes_and_leaves_nothing_owned(fake_arm, azure_env, tmp_path) -> None:
    arm = started(fake_arm(page_size=0))
    assert launch(plan_for(arm), lambda ev: None).ok
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    down = _run("down", "--name", "demo", "--yes", env=env)
    assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
    assert "fabrix-demo" in down.stdout and "resource group" in down.stdout
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}


def test_a_failed_resource_is_diagnosed_then_rolled_back_and_a_pre_existing_resource_survives(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    arm.deploy.add_group(RG)
    theirs = arm.deploy.add_resource(RG, "Microsoft.Storage/storageAccounts", "theirdata", tags={"owner": "finance"})
    before = group_ids(arm)
    arm.deploy.fail("Microsoft.DBforPostgreSQL/flexibleServers", "QuotaExceeded")
    events: list[ProgressEvent] = []
    result = launch(plan_for(arm), events.append)
    assert result.failed
    assert "QuotaExceeded" in result.message
    assert result.diagnostics is not None and "QuotaExceeded" in " ".join(result.diagnostics.log_lines)
    steps = [e.step for e in events]
    assert steps.index("diagnostics") < steps.index("rollback")
    assert result.rollback is not None and result.rollback.ok, result.rollback
    assert RG.lower() in arm.deploy.groups  # the group existed before: kept
    assert group_ids(arm) == before and theirs.id.lower() in group_ids(arm)
    assert Journal(install_dir("demo").journal).unfinished() is None


def test_a_group_this_run_created_is_deleted_by_the_rollback(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    arm.deploy.fail("Microsoft.Cdn/profiles", "RequestDisallowedByPolicy")
    result = launch(plan_for(arm), lambda ev: None)
    assert result.failed and "RequestDisallowedByPolicy" in result.message
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}
    assert result.rollback is not None and "resource group" in result.rollback.removed


def test_a_change_to_a_resource_the_install_does_not_own_is_refused_without_the_flag(fake_arm, azure_env) -> None:
    from installer.render.workload import azure_names

    arm = started(fake_arm(page_size=0))
    arm.deploy.add_group(RG)
    plan = plan_for(arm)
    # Someone else's vault already holds the name the template deploys: what-if says Modify.
    arm.deploy.add_resource(RG, "Microsoft.KeyVault/vaults", azure_names(plan).key_vault, tags={"owner": "security"},
                            properties={"tenantId": scenarios.TENANT})
    before = group_ids(arm)
    result = launch(plan, lambda ev: None)
    assert result.failed
    assert "--allow-foreign-changes" in result.message and "not own" in result.message
    assert not arm.deploy.stacks  # nothing deployed
    assert group_ids(arm) == before


def test_cancel_mid_deployment_cancels_arm_then_rolls_back(fake_arm, azure_env) -> None:
    import threading

    arm = started(fake_arm(page_size=0), speed=50.0)
    cancel = threading.Event()

    def reporter(ev: ProgressEvent) -> None:
        if ev.step == "deploy" and ev.state is State.running and ev.service:
            cancel.set()

    result = launch(plan_for(arm), reporter, cancel=cancel)
    assert result.cancelled and result.exit_code == 130
    assert result.rollback is not None and result.rollback.ok
    assert not [s for s in arm.deploy.stacks.values() if s.delete_done_at is None]


def test_throttling_while_polling_is_absorbed(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0), speed=400.0)  # slow enough for a few dozen polls
    throttle = arm.deploy.throttle(r"deploymentStacks/fabrix-demo$", method="GET", every=3, retry_after=0.05)
    result = launch(plan_for(arm), lambda ev: None)
    assert result.ok, result.message
    assert throttle.throttled > 0 and throttle.seen > throttle.throttled


def test_preview_prints_counts_and_changes_nothing(fake_arm, azure_env) -> None:
    from installer.launch.azure.backend import preview

    arm = started(fake_arm(page_size=0))
    arm.deploy.add_group(RG)
    p = preview(plan_for(arm), lambda ev: None)
    assert p.counts["create"] > 50 and p.counts["delete"] == 0
    assert not arm.deploy.stacks and not arm.deploy.deployments or all(
        d.name.endswith("whatif") for d in arm.deploy.deployments.values())


def test_manual_is_a_runbook_exit_2(fake_arm, azure_env) -> None:
    from installer.errors import UsageError

    arm = fake_arm()
    with pytest.raises(UsageError, match="runbook") as err:
        launch(plan_for(arm, model="manual"), lambda ev: None)
    assert err.value.exit_code == 2


# ---- a real process: kill -9 → status → resume / rollback -----------------------------------------


def _fabrix(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from installer.cli import main; raise SystemExit(main())", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)


def _killed_mid_deploy(arm: Any, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers(arm)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = _fabrix("up", "--answers", str(path), "--yes", "--json", env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        if ev.get("step") == "deploy" and ev.get("service") and ev.get("state") in ("running", "done"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return path, env


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from installer.cli import main; raise SystemExit(main())", *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)


def test_kill_9_then_status_shows_the_run_and_arm_state_then_resume_reattaches(fake_arm, azure_env, tmp_path) -> None:
    arm = started(fake_arm(page_size=0), speed=200.0)
    path, env = _killed_mid_deploy(arm, tmp_path)
    st = _run("status", "--name", "demo", "--json", env=env)
    assert st.returncode == 0, st.stderr
    status = json.loads(st.stdout.splitlines()[-1])
    assert status["unfinished_run"] is not None
    assert status["azure"]["stack_state"] in ("deploying", "running", "succeeded", "creating", "validating", "initializing")
    stacks_before = len([d for d in arm.deploy.deployments.values() if d.stack])
    arm.deploy.clock.set_speed(SPEED)
    up = _run("up", "--answers", str(path), "--resume", "--yes", "--json", env=env)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-2000:]
    assert len([d for d in arm.deploy.deployments.values() if d.stack]) == stacks_before  # no second deployment


def test_kill_9_then_rollback_leaves_nothing_owned(fake_arm, azure_env, tmp_path) -> None:
    arm = started(fake_arm(page_size=0), speed=200.0)
    _, env = _killed_mid_deploy(arm, tmp_path)
    arm.deploy.clock.set_speed(SPEED)
    rb = _run("rollback", "--name", "demo", "--yes", "--json", env=env)
    assert rb.returncode == 0, rb.stdout[-3000:] + rb.stderr[-2000:]
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}
    assert not any(r.tags.get("fabrix-install") == "demo" for r in arm.deploy.resources.values() if isinstance(r.tags, dict))


def test_sigterm_mid_deployment_rolls_back_and_exits_130(fake_arm, azure_env, tmp_path) -> None:
    arm = started(fake_arm(page_size=0), speed=100.0)
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers(arm)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = _fabrix("up", "--answers", str(path), "--yes", "--json", env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        if ev.get("step") == "deploy" and ev.get("service"):
            proc.send_signal(signal.SIGTERM)
            break
    arm.deploy.clock.set_speed(SPEED)  # let the cancel and the deletes finish quickly
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, out[-2000:] + err[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["outcome"] == "cancelled" and result["rollback"]["ok"]
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}
