"""Post-deploy operations of the fake ARM through the real SDK clients: Container Apps jobs,
AKS run command, Key Vault soft delete and purge."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from azure.core.exceptions import HttpResponseError

from tests.azure import scenarios
from tests.azure.fake_arm import FakeArm
from tests.azure.fake_arm_ops import JobScript
from tests.azure.sdk_clients import sdk_clients

RG = "rg-fx-ops"


@pytest.fixture
def arm(arm_ca):
    with FakeArm(scenarios.healthy(), arm_ca) as fake:
        fake.deploy.add_group(RG)
        yield fake


def job_body(env_id: str, secret_ref: str = "db-admin") -> dict:
    return {
        "location": "swedencentral",
        "properties": {
            "environmentId": env_id,
            "configuration": {
                "triggerType": "Manual",
                "replicaTimeout": 1800,
                "replicaRetryLimit": 0,
                "manualTriggerConfig": {"replicaCompletionCount": 1, "parallelism": 1},
                "secrets": [{"name": "db-admin", "keyVaultUrl": "https://kv.vault.azure.net/secrets/db-admin", "identity": "system"}],
            },
            "template": {
                "containers": [
                    {"name": "postdeploy", "image": "mcr.microsoft.com/azure-cli:2.70", "command": ["/bin/sh", "/scripts/databases.sh"], "env": [{"name": "PGPASSWORD", "secretRef": secret_ref}]}
                ]
            },
        },
    }


def test_job_start_then_executions_progress_to_their_end(arm) -> None:
    c = sdk_clients(arm)
    env = arm.deploy.add_resource(RG, "Microsoft.App/managedEnvironments", "cae-fx")
    with pytest.raises(HttpResponseError) as bad:
        c.apps.jobs.begin_create_or_update(RG, "fx-postdeploy", job_body(env.id, secret_ref="missing")).result()
    assert bad.value.error.code == "ContainerAppSecretRefNotFound"
    job = c.apps.jobs.begin_create_or_update(RG, "fx-postdeploy", job_body(env.id)).result()
    assert job.provisioning_state == "Succeeded"

    arm.deploy.jobs.script("fx-postdeploy", JobScript(duration=40, exit_code=3, logs="psql: FATAL: password authentication failed"), JobScript(duration=20))
    first = c.apps.jobs.begin_start(RG, "fx-postdeploy").result()
    assert first.name.startswith("fx-postdeploy-") and first.id.endswith(f"/executions/{first.name}")
    running = c.apps.job_execution(RG, "fx-postdeploy", first.name)
    assert running.properties.status == "Running"
    arm.deploy.clock.advance(41)
    failed = c.apps.job_execution(RG, "fx-postdeploy", first.name)
    assert failed.properties.status == "Failed"
    assert failed.properties.detailed_status.replicas[0].containers[0].code == 3
    assert arm.deploy.jobs.logs("fx-postdeploy", first.name).startswith("psql: FATAL")

    second = c.apps.jobs.begin_start(RG, "fx-postdeploy").result()
    arm.deploy.clock.advance(21)
    listed = list(c.apps.jobs_executions.list(RG, "fx-postdeploy"))
    states = {e.name: e.properties.status for e in listed}
    assert states == {first.name: "Failed", second.name: "Succeeded"}


def _zip(files: dict[str, str]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return base64.b64encode(buf.getvalue()).decode()


MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: aifabrix}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: keycloak, namespace: aifabrix}
spec: {}
"""


def test_run_command_applies_manifests_from_the_context_and_reports_kubectls_output(arm) -> None:
    c = sdk_clients(arm)
    arm.deploy.add_resource(RG, "Microsoft.ContainerService/managedClusters", "aks-fx")
    poller = c.aks.managed_clusters.begin_run_command(RG, "aks-fx", {"command": "kubectl apply -f manifests/", "context": _zip({"manifests/app.yaml": MANIFEST})})
    first = arm.calls(r"/runCommand$", "POST")[-1]
    assert first.status == 202
    arm.deploy.clock.advance(10)
    result = poller.result()
    assert result.provisioning_state == "succeeded" and result.exit_code == 0
    assert result.logs.splitlines() == ["namespace/aifabrix created", "deployment.apps/keycloak created"]
    rollout = c.aks.managed_clusters.begin_run_command(RG, "aks-fx", {"command": "kubectl rollout status deployment/keycloak -n aifabrix --timeout=300s"})
    arm.deploy.clock.advance(10)
    assert rollout.result().logs == 'deployment "keycloak" successfully rolled out'

    missing = c.aks.managed_clusters.begin_run_command(RG, "aks-fx", {"command": "kubectl apply -f other.yaml", "context": _zip({"manifests/app.yaml": MANIFEST})})
    arm.deploy.clock.advance(10)
    res = missing.result()
    assert res.provisioning_state == "succeeded" and res.exit_code == 1 and 'the path "other.yaml" does not exist' in res.logs
    not_a_tool = c.aks.managed_clusters.begin_run_command(RG, "aks-fx", {"command": "psql -c 'select 1'"})
    arm.deploy.clock.advance(10)
    assert not_a_tool.result().exit_code == 127

    arm.deploy.aks.fail_next("ImagePullBackoff")
    pod_failed = c.aks.managed_clusters.begin_run_command(RG, "aks-fx", {"command": "kubectl get pods"})
    arm.deploy.clock.advance(10)
    out = pod_failed.result()
    assert out.provisioning_state == "failed" and out.reason == "ImagePullBackoff"
    # get_command_result: None while running (202), the result after
    c.aks.managed_clusters.begin_run_command(RG, "aks-fx", {"command": "kubectl get pods"}, polling=False)
    cmd_id = arm.calls(r"/runCommand$", "POST")[-1]
    location_id = [k for k in arm.deploy.aks.commands][-1]
    assert c.aks.managed_clusters.get_command_result(RG, "aks-fx", location_id) is None
    arm.deploy.clock.advance(10)
    assert c.aks.managed_clusters.get_command_result(RG, "aks-fx", location_id).exit_code == 0
    assert cmd_id.status == 202


def test_deleted_vault_blocks_the_name_until_purged_and_purge_protection_refuses(arm) -> None:
    c = sdk_clients(arm)
    tpl = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"protect": {"type": "bool", "defaultValue": False}},
        "resources": [
            {
                "type": "Microsoft.KeyVault/vaults",
                "apiVersion": "2025-05-01",
                "name": "kv-fx-ops",
                "location": "swedencentral",
                "properties": {"enableSoftDelete": True, "softDeleteRetentionInDays": 7, "enablePurgeProtection": "[if(parameters('protect'), true(), null())]", "tenantId": "[subscription().tenantId]"},
            }
        ],
    }
    body = {"properties": {"mode": "Incremental", "template": tpl, "parameters": {}}}
    c.deployments.deployments.begin_create_or_update(RG, "d1", body, polling=False)
    arm.deploy.clock.advance(60)
    poller = c.resources.resource_groups.begin_delete(RG)
    arm.deploy.clock.advance(60)
    poller.result()
    gone = c.keyvault.vaults.get_deleted("kv-fx-ops", "swedencentral")
    assert gone.properties.purge_protection_enabled is False
    assert gone.properties.vault_id.endswith("/vaults/kv-fx-ops")
    assert [v.name for v in c.keyvault.vaults.list_deleted()] == ["kv-fx-ops"]

    # the same name in a new install fails as in Azure
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    c.deployments.deployments.begin_create_or_update(RG, "d2", body, polling=False)
    arm.deploy.clock.advance(60)
    dep = c.deployments.deployments.get(RG, "d2")
    assert dep.properties.provisioning_state == "Failed" and dep.properties.error.details[0].code == "ConflictError"

    # purge protection cannot be sent as false (omit it or send null)
    explicit_false = {"properties": {**body["properties"], "template": {**tpl, "resources": [{**tpl["resources"][0], "properties": {**tpl["resources"][0]["properties"], "enablePurgeProtection": False}}]}}}
    c.deployments.deployments.begin_create_or_update(RG, "d2b", explicit_false, polling=False)
    arm.deploy.clock.advance(60)
    assert "cannot be set to false" in c.deployments.deployments.get(RG, "d2b").properties.error.details[0].message

    purge = c.keyvault.vaults.begin_purge_deleted("kv-fx-ops", "swedencentral")
    arm.deploy.clock.advance(15)
    purge.result()
    assert list(c.keyvault.vaults.list_deleted()) == []
    c.deployments.deployments.begin_create_or_update(RG, "d3", {"properties": {**body["properties"], "parameters": {"protect": {"value": True}}}}, polling=False)
    arm.deploy.clock.advance(60)
    assert c.deployments.deployments.get(RG, "d3").properties.provisioning_state == "Succeeded"

    # purge protection: deleted, but not purgeable
    poller = c.resources.resource_groups.begin_delete(RG)
    arm.deploy.clock.advance(60)
    poller.result()
    with pytest.raises(HttpResponseError) as err:
        c.keyvault.vaults.begin_purge_deleted("kv-fx-ops", "swedencentral").result()
    assert err.value.status_code == 409
