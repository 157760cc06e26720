"""The dataplane registration on Azure (issues 8 and 13): after the database step, a job inside the
network registers the dataplane with the controller and writes its credentials to Key Vault; then
the dataplane restarts. Real azure-mgmt clients against the HTTPS fake ARM, as test_azure_launch.py.

What the job's program does against a controller and a Key Vault is tested by running it for real
(tests/e2e/test_azure_registration_program.py); here: that the launch defines, starts and awaits
it, restarts the dataplane after it, and that a failing execution fails the launch and rolls back."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest
import yaml

from installer.answers import plan_from_dict
from installer.launch.dispatch import launch
from installer.launch.journal import Journal, Phase, step_state
from installer.progress import ProgressEvent, State
from installer.render.azure.api import ROLES
from installer.state import install_dir
from tests.azure.fake_arm_ops import JobScript
from tests.azure.test_azure_launch import RG, answers, azure_env, group_ids, started  # noqa: F401 (fixture)

REGISTRY = {"registry": "contosoacr.azurecr.io"}  # the AI Fabrix core comes from the vendor's registry
JOB = "fx-reg-demo"


def _core(arm: Any, **over: Any) -> Any:
    return plan_from_dict(answers(arm, images=REGISTRY, **over))


def _program(pyz_b64: str) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(pyz_b64))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _executions(arm: Any, job: str) -> list[Any]:
    return [e for runs in arm.deploy.jobs.executions.values() for e in runs
            if e.job_id.lower().endswith(f"/jobs/{job}")]


def test_aca_runs_the_registration_job_then_restarts_the_dataplane(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    events: list[ProgressEvent] = []
    result = launch(_core(arm), events.append)
    assert result.ok, result.message
    steps = [e.step for e in events]
    # After the database job, before the smoke probes.
    assert steps.index("postdeploy") < steps.index("register") < steps.index("probe")
    (execution,) = _executions(arm, JOB)
    container = execution.template["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    program = _program(env["FABRIX_SCRIPT_B64"])
    assert set(program) == {"__main__.py", "registration.py", "config.json"}
    cfg = json.loads(program["config.json"])
    assert cfg["controller_url"] == "http://miso-controller"  # the controller's internal ingress
    assert cfg["issued"] == {"client_id": "dataplane-client-id", "client_secret": "dataplane-client-secret"}
    assert env["KEY_VAULT"] and env["AZURE_CLIENT_ID"]  # the vault and the identity the job signs in as
    assert env["KEY_VAULT_URL"] == f"https://{env['KEY_VAULT']}.vault.azure.net/"  # the stack's keyVaultUri output
    job_put = [e for e in arm.deploy.log if e[2] == "PUT" and e[3].lower().endswith(f"/jobs/{JOB}")]
    assert job_put, "the job was created through ARM"
    # The dataplane's active revision restarted after the job, so it reads the issued credentials.
    assert arm.deploy.revisions.restarts == [("dataplane", "dataplane--0000001")]
    done = [e for e in events if e.step == "register" and e.state is State.done]
    assert done and "restarted revision dataplane--0000001" in done[0].message
    assert step_state(Journal(install_dir("demo").journal).records())["register"].phase is Phase.end
    # No secret value leaves the machine in the job's definition: names only.
    secrets = install_dir("demo").secrets.read_text()
    values = [line.split("=", 1)[1] for line in secrets.splitlines() if "=" in line and not line.startswith("#")]
    definition = json.dumps(execution.template) + b"".join(program.values()).decode()
    assert values and not any(v in definition for v in values if len(v) > 8)


def test_the_identity_may_write_only_the_two_secrets_the_registration_sets(fake_arm, azure_env) -> None:
    from installer.pipeline import render_and_validate

    arm = fake_arm()
    bundle, _ = render_and_validate(_core(arm))
    template = json.loads(bundle.files["arm/mainTemplate.json"])
    officers = [r for r in template["resources"] if r["type"] == "Microsoft.Authorization/roleAssignments"
                and ROLES["Key Vault Secrets Officer"] in r["properties"]["roleDefinitionId"]]
    scopes = sorted(r["scope"] for r in officers)
    assert len(scopes) == 2 and all("Microsoft.KeyVault/vaults/secrets" in s for s in scopes), scopes
    assert any("dataplane-client-id" in s for s in scopes) and any("dataplane-client-secret" in s for s in scopes)


def test_a_failing_registration_fails_the_launch_with_the_jobs_status_and_rolls_back(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    arm.deploy.jobs.script(JOB, JobScript(duration=20, exit_code=5,
                                          logs="fabrix: the dataplane registration failed: POST /api/v1/auth/token: 401"))
    events: list[ProgressEvent] = []
    result = launch(_core(arm), events.append)
    assert result.failed
    assert "dataplane registration step ended Failed" in result.message, result.message
    # Where its output is (Log Analytics; no ARM API returns a job's logs): the execution's replicas.
    execution = _executions(arm, JOB)[0].name
    assert f"ContainerAppConsoleLogs | where ContainerGroupName startswith '{execution}'" in result.message
    assert result.diagnostics is not None
    assert any(f"job: {JOB}" in line for line in result.diagnostics.log_lines)
    assert any("exit 5" in line for line in result.diagnostics.log_lines), result.diagnostics.log_lines
    # The exit code names the failing part (the program's EXIT), since the output is in Log Analytics.
    assert "exit 5: the Miso controller was not healthy, refused its own client, or refused the registration" \
        in result.message, result.message
    steps = [e.step for e in events]
    assert steps.index("diagnostics") < steps.index("rollback")
    assert not arm.deploy.revisions.restarts  # the dataplane is not restarted on a failed registration
    assert result.rollback is not None and result.rollback.ok, result.rollback
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}
    assert Journal(install_dir("demo").journal).unfinished() is None


def test_aks_runs_the_registration_job_and_restarts_the_dataplane_deployment(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    data = answers(arm, images=REGISTRY)
    data["target"] = "aks"
    result = launch(plan_from_dict(data), lambda ev: None)
    assert result.ok, result.message
    reg = [q for q in arm.deploy.aks.requests if "fabrix-register-dataplane" in q["command"]]
    assert len(reg) == 1
    command = reg[0]["command"]
    assert command.index("kubectl wait job/fabrix-register-dataplane") < command.index("rollout restart deployment/dataplane")
    docs = list(yaml.safe_load_all(reg[0]["files"]["zz-register-dataplane.yaml"]))
    config_map, job = docs
    program = _program(config_map["binaryData"]["register-dataplane.pyz"])
    assert json.loads(program["config.json"])["controller_url"].startswith("http://miso-controller.")
    spec = job["spec"]["template"]
    assert spec["metadata"]["labels"]["azure.workload.identity/use"] == "true"  # the token the program uses
    assert spec["spec"]["serviceAccountName"]
    (cluster,) = arm.deploy.aks.clusters.values()
    assert ("deployment", job["metadata"]["namespace"], "dataplane") in cluster.restarts


def test_aks_a_failing_registration_job_shows_its_logs_and_rolls_back(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    arm.deploy.aks.fail_job("fabrix-register-dataplane",
                            "fabrix: the dataplane registration failed: Key Vault https://kv: writing secret "
                            "dataplane-client-secret failed (HTTP 403: Forbidden)")
    data = answers(arm, images=REGISTRY)
    data["target"] = "aks"
    events: list[ProgressEvent] = []
    result = launch(plan_from_dict(data), events.append)
    assert result.failed and "dataplane registration Job" in result.message, result.message
    logs = [e.message for e in events if e.step == "register" and e.state is State.log]
    assert any("writing secret dataplane-client-secret failed" in line for line in logs)
    assert result.diagnostics is not None and "HTTP 403" in " ".join(result.diagnostics.log_lines)
    assert result.rollback is not None and result.rollback.ok


def test_a_failed_registration_in_an_existing_group_leaves_it_as_it_was(fake_arm, azure_env) -> None:
    """The job is not part of the stack: the rollback finds it by this run's tag and deletes it."""
    arm = started(fake_arm(page_size=0))
    arm.deploy.add_group(RG)
    theirs = arm.deploy.add_resource(RG, "Microsoft.Storage/storageAccounts", "theirdata", tags={"owner": "finance"})
    before = group_ids(arm)
    arm.deploy.jobs.script(JOB, JobScript(duration=20, exit_code=1))
    result = launch(_core(arm), lambda ev: None)
    assert result.failed
    assert result.rollback is not None and result.rollback.ok, result.rollback
    assert group_ids(arm) == before and theirs.id.lower() in group_ids(arm)


def test_aks_awaits_the_dataplane_only_after_its_registration(fake_arm, azure_env) -> None:
    """The vendor's order: register, then run the dataplane. The manifests' rollout check skips it;
    the registration's command restarts it and waits for its rollout."""
    arm = started(fake_arm(page_size=0))
    data = answers(arm, images=REGISTRY)
    data["target"] = "aks"
    assert launch(plan_from_dict(data), lambda ev: None).ok
    apply, register = arm.deploy.aks.requests[0]["command"], arm.deploy.aks.requests[-1]["command"]
    assert "rollout status deployment/miso-controller" in apply
    assert "rollout status deployment/dataplane" not in apply
    assert "rollout status deployment/dataplane" in register


def test_a_second_up_registers_again_which_rotates(fake_arm, azure_env) -> None:
    """Idempotent: every `fabrix up` runs the job again (the program rotates an existing
    registration's secret, tests/e2e/test_azure_registration_program.py) and restarts the dataplane."""
    arm = started(fake_arm(page_size=0))
    assert launch(_core(arm), lambda ev: None).ok
    again = launch(_core(arm), lambda ev: None)
    assert again.ok, again.message
    assert len(_executions(arm, JOB)) == 2
    assert len(arm.deploy.revisions.restarts) == 2


def test_kill_9_during_the_registration_then_resume_runs_it_again(fake_arm, azure_env, tmp_path) -> None:
    """The registration is journaled: a run killed while the job runs resumes at the registration
    (the deployment is not submitted again) and finishes it with a new execution."""
    import os
    import signal

    from tests.azure.test_azure_launch import REPO, _fabrix, _run

    arm = started(fake_arm(page_size=0))
    arm.deploy.jobs.script(JOB, JobScript(duration=1e9))  # the first execution never ends by itself
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers(arm, images=REGISTRY)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = _fabrix("up", "--answers", str(path), "--yes", "--json", env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        if ev.get("step") == "register" and ev.get("state") == "running":
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stacks_before = len([d for d in arm.deploy.deployments.values() if d.stack])
    up = _run("up", "--answers", str(path), "--resume", "--yes", "--json", env=env)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-2000:]
    assert len([d for d in arm.deploy.deployments.values() if d.stack]) == stacks_before
    assert len(_executions(arm, JOB)) == 2  # the killed run's and the resumed run's
    assert arm.deploy.revisions.restarts == [("dataplane", "dataplane--0000001")]


@pytest.mark.parametrize("model", ["marketplace", "development", "multicloud"])
def test_every_aca_based_model_registers_the_dataplane(fake_arm, azure_env, model: str) -> None:
    arm = started(fake_arm(page_size=0))
    data = answers(arm, images=REGISTRY, model=model)
    data.pop("target")
    events: list[ProgressEvent] = []
    result = launch(plan_from_dict(data), events.append)
    assert result.ok, result.message
    assert [e for e in events if e.step == "register" and e.state is State.done]
    (execution,) = _executions(arm, JOB)
    env = {e["name"]: e.get("value") for e in execution.template["containers"][0]["env"]}
    vault = [r for r in arm.deploy.resources.values() if r.type == "Microsoft.KeyVault/vaults"]
    assert env["KEY_VAULT"] in {v.name for v in vault}  # the deployed vault (Marketplace: a unique name)
    assert arm.deploy.revisions.restarts and arm.deploy.revisions.restarts[0][0] == "dataplane"
