"""AKS on Azure: `fabrix up` does both deployments. Deploy 1 → manifests applied through the run
command (the fake's AKS then creates the ingress's Private Link service in the node resource
group) → wait for the service → deploy 2 (the same stack, aksIngressPrivateLinkReady=true: Front
Door's origins and routes; the fake's Front Door opens a Pending private endpoint connection) →
approve it → smoke. Real azure-mgmt clients against the HTTPS fake ARM, simulated time."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import yaml

from installer.answers import plan_from_dict
from installer.launch.dispatch import launch
from installer.launch.journal import Journal, Phase
from installer.progress import ProgressEvent, State
from installer.render.azure.frontdoor import PRIVATE_LINK_READY
from installer.state import install_dir
from tests.azure.test_azure_launch import (  # noqa: F401 - azure_env is a fixture
    REPO,
    RG,
    SPEED,
    _fabrix,
    _run,
    answers,
    azure_env,
    started,
)

ORIGINS = "microsoft.cdn/profiles/origingroups/origins"
ROUTES = "microsoft.cdn/profiles/afdendpoints/routes"


def aks_answers(arm: Any) -> dict[str, Any]:
    return answers(arm, target="aks")


def stack_deployments(arm: Any) -> list[Any]:
    return [d for d in arm.deploy.deployments.values() if d.stack]


def stack_puts(arm: Any) -> int:
    """Stack submissions ARM accepted (the request log outlives a rollback's deletes)."""
    return len([e for e in arm.deploy.log if e[2] == "PUT" and "/deploymentstacks/" in e[3].lower() and e[4] < 300])


def of_type(arm: Any, rtype: str) -> list[Any]:
    return [r for r in arm.deploy.resources.values() if r.type.lower() == rtype]


def test_aks_launch_deploys_twice_and_approves_front_doors_connection(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    events: list[ProgressEvent] = []
    result = launch(plan_from_dict(aks_answers(arm)), events.append)
    assert result.ok, result.message

    # Two deployments of the one stack; the second with the readiness parameter true.
    deps = stack_deployments(arm)
    assert len(deps) == 2 and len(arm.deploy.stacks) == 1
    first, second = sorted(deps, key=lambda d: d.submitted)
    assert first.scope.parameters[PRIVATE_LINK_READY] is False and second.scope.parameters[PRIVATE_LINK_READY] is True
    assert not [op for op in first.ops if op.resource.type.lower() in (ORIGINS, ROUTES)]
    origins = of_type(arm, ORIGINS)
    assert origins and len(of_type(arm, ROUTES)) == len(origins)

    # The ingress's service appeared in the node resource group, after the manifests were applied.
    [pls] = arm.deploy.private_link.services()
    assert pls.id.lower().split("/resourcegroups/")[1].startswith("rg-aks-fx-demo-nodes/")
    assert any("ingress.yaml" in " ".join(req["files"]) for req in arm.deploy.aks.requests)
    # One private endpoint for all origins (same profile, service, location), approved by fabrix.
    [conn] = arm.deploy.private_link.connections(pls)
    assert conn["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert [a["status"] for a in arm.deploy.private_link.approvals] == ["Approved"]

    steps = [e.step for e in events]
    assert steps.index("postdeploy") < steps.index("frontdoor") < steps.index("probe")
    assert any(e.step == "frontdoor" and e.state is State.done and "approved" in e.message for e in events)
    records = Journal(install_dir("demo").journal).run_records(result.run_id)
    fd = [r for r in records if r.step == "frontdoor"]
    assert fd[-1].phase is Phase.end and fd[-1].data["approved"] == [conn["name"]]
    assert any(r.data.get("submitted") for r in fd)


def test_a_private_link_service_that_never_appears_fails_clearly_and_rolls_back(fake_arm, azure_env, monkeypatch) -> None:
    monkeypatch.setenv("FABRIX_PLS_WAIT", "0.5")
    arm = started(fake_arm(page_size=0))
    arm.deploy.private_link.pls_delay = None  # the ingress never gets its service
    events: list[ProgressEvent] = []
    result = launch(plan_from_dict(aks_answers(arm)), events.append)
    assert result.failed
    assert "Private Link service pls-aks-fx-demo" in result.message and "did not appear" in result.message
    assert "kubectl get svc" in result.message and "FABRIX_PLS_WAIT" in result.message
    assert result.diagnostics is not None
    assert any("privateLinkServices/pls-aks-fx-demo" in line for line in result.diagnostics.log_lines)
    steps = [e.step for e in events]
    assert steps.index("diagnostics") < steps.index("rollback")
    assert stack_puts(arm) == 1  # the second deployment was never submitted
    assert result.rollback is not None and result.rollback.ok, result.rollback
    assert RG.lower() not in {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}
    assert not of_type(arm, "microsoft.containerservice/managedclusters")


def test_an_origin_without_its_private_link_service_fails_in_the_fake(fake_arm, azure_env) -> None:
    """The fake's own rule the flow relies on: deploy 2 before the service exists cannot pass."""
    from installer.launch.azure import private_link

    arm = started(fake_arm(page_size=0))
    arm.deploy.private_link.pls_delay = None
    original = private_link.wait_for_service
    private_link.wait_for_service = lambda b, t, link: None  # a launch that does not wait
    try:
        result = launch(plan_from_dict(aks_answers(arm)), lambda ev: None)
    finally:
        private_link.wait_for_service = original
    assert result.failed
    assert "PrivateEndpointProvisioning Failed" in result.message and "pls-aks-fx-demo" in result.message


def test_kill_9_between_the_two_deployments_resumes_with_the_second(fake_arm, azure_env, tmp_path: Path) -> None:
    arm = started(fake_arm(page_size=0))
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(aks_answers(arm)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = _fabrix("up", "--answers", str(path), "--yes", "--json", env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        if ev.get("step") == "postdeploy" and ev.get("state") == "done":
            arm.deploy.clock.set_speed(0)  # time stops: the service cannot appear, deploy 2 cannot start
        if ev.get("step") == "frontdoor" and ev.get("state") == "running":
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(stack_deployments(arm)) == 1

    st = _run("status", "--name", "demo", "--json", env=env)
    assert st.returncode == 0, st.stderr
    assert json.loads(st.stdout.splitlines()[-1])["unfinished_run"] is not None

    arm.deploy.clock.set_speed(SPEED)
    up = _run("up", "--answers", str(path), "--resume", "--yes", "--json", env=env)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-2000:]
    deps = sorted(stack_deployments(arm), key=lambda d: d.submitted)
    assert len(deps) == 2 and len(arm.deploy.stacks) == 1  # deploy 2 once, on the same stack
    assert deps[-1].scope.parameters[PRIVATE_LINK_READY] is True
    [pls] = arm.deploy.private_link.services()
    assert [c["properties"]["privateLinkServiceConnectionState"]["status"]
            for c in arm.deploy.private_link.connections(pls)] == ["Approved"]


def test_kill_9_during_the_second_deployment_reattaches_to_it(fake_arm, azure_env, tmp_path: Path) -> None:
    arm = started(fake_arm(page_size=0))
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(aks_answers(arm)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = _fabrix("up", "--answers", str(path), "--yes", "--json", env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        ev = json.loads(line)
        if ev.get("step") == "frontdoor" and ev.get("state") == "running" and "updating the stack" in ev.get("message", ""):
            arm.deploy.clock.set_speed(0)  # deploy 2 is submitted next and then cannot progress
            deadline = time.monotonic() + 60
            while len(stack_deployments(arm)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(stack_deployments(arm)) == 2

    arm.deploy.clock.set_speed(SPEED)
    up = _run("up", "--answers", str(path), "--resume", "--yes", "--json", env=env)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-2000:]
    assert len(stack_deployments(arm)) == 2  # re-attached, never a third
    [pls] = arm.deploy.private_link.services()
    assert [c["properties"]["privateLinkServiceConnectionState"]["status"]
            for c in arm.deploy.private_link.connections(pls)] == ["Approved"]


def test_a_re_run_of_a_deployed_aks_install_keeps_the_origins_in_its_first_deployment(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    assert launch(plan_from_dict(aks_answers(arm)), lambda ev: None).ok
    origins = {r.id for r in of_type(arm, ORIGINS)}
    again = launch(plan_from_dict(aks_answers(arm)), lambda ev: None)
    assert again.ok, again.message
    third = max(stack_deployments(arm), key=lambda d: d.submitted)
    assert third.scope.parameters[PRIVATE_LINK_READY] is True  # the service existed: origins kept
    assert {r.id for r in of_type(arm, ORIGINS)} == origins
    assert len(stack_deployments(arm)) == 3  # no extra second deployment was needed


def test_a_failure_in_the_second_deployment_rolls_back_the_cluster_its_node_group_and_the_service(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    arm.deploy.fail("Microsoft.Cdn/profiles/afdEndpoints/routes", "InternalServerError")  # only deployment 2 has routes
    result = launch(plan_from_dict(aks_answers(arm)), lambda ev: None)
    assert result.failed and "InternalServerError" in result.message
    assert stack_puts(arm) == 2
    assert result.rollback is not None and result.rollback.ok, result.rollback
    alive = {g for g, v in arm.deploy.groups.items() if v.delete_done_at is None}
    assert RG.lower() not in alive and "rg-aks-fx-demo-nodes" not in alive  # AKS removed its node group
    assert not arm.deploy.private_link.services()


def test_an_approval_refused_on_the_node_group_names_the_group_and_the_role(fake_arm, azure_env) -> None:
    from tests.azure.fake_arm import Fault

    arm = started(fake_arm(page_size=0, faults=[Fault(r"/privateEndpointConnections/", 403, method="PUT", code="AuthorizationFailed")]))
    result = launch(plan_from_dict(aks_answers(arm)), lambda ev: None)
    assert result.failed
    assert "AuthorizationFailed" in result.message and "rg-aks-fx-demo-nodes" in result.message
    assert "Network Contributor" in result.message
    assert result.rollback is not None and result.rollback.ok, result.rollback


def test_an_aca_launch_approves_front_doors_connection_on_the_environment(fake_arm, azure_env) -> None:
    arm = started(fake_arm(page_size=0))
    events: list[ProgressEvent] = []
    result = launch(plan_from_dict(answers(arm)), events.append)
    assert result.ok, result.message
    assert stack_puts(arm) == 1  # one deployment: the environment exists before its origins
    [env] = of_type(arm, "microsoft.app/managedenvironments")
    conns = arm.deploy.private_link.connections(env)
    assert len(conns) == 1  # one private endpoint for every origin (same profile, environment, group id)
    fd = [f"{e.state.value}: {e.message}" for e in events if e.step == "frontdoor"]
    assert conns[0]["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved", (fd, conns)
    assert any(e.step == "frontdoor" and e.state is State.done and "approved" in e.message for e in events)
