"""The deploying fake ARM, driven by the real azure-mgmt clients (resource groups, deployments,
operations, what-if, validate, stacks, failure injection, throttling)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.azure import scenarios
from tests.azure.arm_eval import unique_string
from tests.azure.fake_arm import FakeArm
from tests.azure.sdk_clients import sdk_clients

RG = "rg-fx-launch"
TAGS = {"aifabrix-install": "acme", "aifabrix-run": "run-1"}


def template() -> dict:
    """Three resources in a chain, names from expressions, a reference() along a dependency."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
            "prefix": {"type": "string", "allowedValues": ["fx", "fy"]},
            "adminPassword": {"type": "secureString", "minLength": 8},
        },
        "variables": {
            "suffix": "[take(uniqueString(resourceGroup().id), 5)]",
            "vault": "[format('kv-{0}-{1}', parameters('prefix'), variables('suffix'))]",
            "tags": {"aifabrix-install": "acme"},
        },
        "resources": [
            {
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                "apiVersion": "2024-11-30",
                "name": "[concat('id-', parameters('prefix'))]",
                "location": "[parameters('location')]",
                "tags": "[variables('tags')]",
            },
            {
                "type": "Microsoft.KeyVault/vaults",
                "apiVersion": "2025-05-01",
                "name": "[variables('vault')]",
                "location": "[parameters('location')]",
                "tags": "[variables('tags')]",
                "properties": {"tenantId": "[subscription().tenantId]", "enableSoftDelete": True, "softDeleteRetentionInDays": 7},
                "dependsOn": ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', concat('id-', parameters('prefix')))]"],
            },
            {
                "type": "Microsoft.KeyVault/vaults/secrets",
                "apiVersion": "2025-05-01",
                "name": "[format('{0}/admin-password', variables('vault'))]",
                "properties": {"value": "[parameters('adminPassword')]", "contentType": "[reference(resourceId('Microsoft.KeyVault/vaults', variables('vault')), '2025-05-01').vaultUri]"},
                "dependsOn": ["[resourceId('Microsoft.KeyVault/vaults', variables('vault'))]"],
            },
        ],
        "outputs": {"vaultName": {"type": "string", "value": "[variables('vault')]"}},
    }


def params(**over: object) -> dict:
    base = {"prefix": {"value": "fx"}, "adminPassword": {"value": "s3cret-value-123"}}
    base.update({k: {"value": v} for k, v in over.items()})
    return base


@pytest.fixture
def arm(arm_ca):
    sc = scenarios.healthy()
    with FakeArm(sc, arm_ca) as fake:
        fake.deploy.durations.update({"microsoft.managedidentity/userassignedidentities": 10, "microsoft.keyvault/vaults": 20, "microsoft.keyvault/vaults/secrets": 5})
        yield fake


def vault_name() -> str:
    rg_id = f"/subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{RG}"
    return f"kv-fx-{unique_string(rg_id)[:5]}"


def test_resource_group_lifecycle_keeps_tags_and_deletes_as_an_lro(arm) -> None:
    c = sdk_clients(arm)
    assert not c.resources.resource_groups.check_existence(RG)
    made = c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral", "tags": TAGS})
    assert made.tags == TAGS and made.properties.provisioning_state == "Succeeded"
    assert c.resources.resource_groups.check_existence(RG)
    assert arm.calls(rf"/resourcegroups/{RG}$", "PUT")[-1].status == 201
    again = c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral", "tags": TAGS})
    assert arm.calls(rf"/resourcegroups/{RG}$", "PUT")[-1].status == 200 and again.tags == TAGS
    with pytest.raises(HttpResponseError) as moved:
        c.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    assert moved.value.error.code == "InvalidResourceGroupLocation"
    listed = [g.name for g in c.resources.resource_groups.list(filter="tagName eq 'aifabrix-install' and tagValue eq 'acme'")]
    assert listed == [RG]
    arm.deploy.add_resource(RG, "Microsoft.Storage/storageAccounts", "stkeep")
    assert [r.name for r in c.resources.resources.list_by_resource_group(RG)] == ["stkeep"]

    poller = c.resources.resource_groups.begin_delete(RG)
    first = arm.calls(rf"/resourcegroups/{RG}$", "DELETE")[-1]
    assert first.status == 202
    assert c.resources.resource_groups.get(RG).properties.provisioning_state == "Deleting"
    arm.deploy.clock.advance(60)
    poller.result()
    assert not c.resources.resource_groups.check_existence(RG)
    assert arm.deploy.group_resources(RG) == []


def test_deployment_progresses_resource_by_resource_from_the_template(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral", "tags": TAGS})
    clock = arm.deploy.clock
    poller = c.deployments.deployments.begin_create_or_update(
        RG, "fabrix-acme", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}, polling=False
    )
    put = arm.calls(r"/deployments/fabrix-acme$", "PUT")[-1]
    assert put.status == 201
    assert poller.result().properties.provisioning_state == "Accepted"

    def states() -> dict[str, str]:
        ops = c.deployments.deployment_operations.list(RG, "fabrix-acme")
        return {o.properties.target_resource.resource_name: o.properties.provisioning_state for o in ops}

    assert states() == {}
    clock.advance(2)  # identity starts after ARM accepted the deployment
    assert states() == {"id-fx": "Running"}
    assert c.deployments.deployments.get(RG, "fabrix-acme").properties.provisioning_state == "Running"
    clock.advance(10)
    assert states() == {"id-fx": "Succeeded", vault_name(): "Running"}
    # created resources appear in the group as they finish, with their tags
    ids = {r.name: r for r in c.resources.resources.list_by_resource_group(RG)}
    assert set(ids) == {"id-fx"} and ids["id-fx"].tags == {"aifabrix-install": "acme"}
    clock.advance(30)
    final = c.deployments.deployments.get(RG, "fabrix-acme")
    assert final.properties.provisioning_state == "Succeeded"
    assert final.properties.outputs == {"vaultName": {"type": "String", "value": vault_name()}}
    assert final.properties.parameters["adminPassword"] == {"type": "SecureString"}  # never echoed
    ops = list(c.deployments.deployment_operations.list(RG, "fabrix-acme"))
    assert all(o.properties.status_code == "Created" for o in ops)
    by_name = {o.properties.target_resource.resource_name: o for o in ops}
    secret = by_name[f"{vault_name()}/admin-password"].properties
    assert secret.target_resource.resource_type == "Microsoft.KeyVault/vaults/secrets"
    assert secret.duration == "PT5.000S"
    assert {r.name for r in c.resources.resources.list_by_resource_group(RG)} == {"id-fx", vault_name(), "admin-password"}
    # reference() resolved the vault's read-only vaultUri
    secret_res = arm.deploy.resources[f"/subscriptions/{scenarios.SUBSCRIPTION}/resourcegroups/{RG}/providers/microsoft.keyvault/vaults/{vault_name()}/secrets/admin-password".lower()]
    assert secret_res.properties["contentType"] == f"https://{vault_name()}.vault.azure.net/"


def test_lro_completes_through_the_sdk_with_a_running_clock(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    arm.deploy.clock.set_speed(400.0)  # 35 simulated seconds ≈ 0.1 s
    result = c.deployments.deployments.begin_create_or_update(
        RG, "fabrix-acme", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}
    ).result()
    assert result.properties.provisioning_state == "Succeeded"
    assert arm.calls(r"/operationStatuses/", "GET"), "the SDK followed Azure-AsyncOperation"


def test_injected_failure_fails_the_operation_and_the_deployment_with_arms_error(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    arm.deploy.fail("Microsoft.KeyVault/vaults", "RequestDisallowedByPolicy")
    arm.deploy.clock.set_speed(400.0)
    poller = c.deployments.deployments.begin_create_or_update(RG, "d1", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}})
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == "DeploymentFailed"
    assert err.value.error.details[0].code == "RequestDisallowedByPolicy"
    dep = c.deployments.deployments.get(RG, "d1")
    assert dep.properties.provisioning_state == "Failed"
    failed = [o for o in c.deployments.deployment_operations.list(RG, "d1") if o.properties.provisioning_state == "Failed"]
    assert len(failed) == 1
    op = failed[0].properties
    assert op.status_code == "Forbidden" and op.status_message.error.code == "RequestDisallowedByPolicy"
    assert op.status_message.error.target == vault_name()
    assert op.status_message.error.additional_info[0].type == "PolicyViolation"
    # the secret depending on the vault was never attempted; the identity before it was created
    names = {o.properties.target_resource.resource_name for o in c.deployments.deployment_operations.list(RG, "d1")}
    assert names == {"id-fx", vault_name()}
    assert {r.name for r in c.resources.resources.list_by_resource_group(RG)} == {"id-fx"}


@pytest.mark.parametrize(("kind", "status_code"), [("QuotaExceeded", "Conflict"), ("Conflict", "Conflict"), ("InternalServerError", "InternalServerError")])
def test_each_injected_error_kind_has_its_code(arm, kind: str, status_code: str) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    arm.deploy.fail("Microsoft.ManagedIdentity/userAssignedIdentities", kind)
    c.deployments.deployments.begin_create_or_update(RG, "d1", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}, polling=False)
    arm.deploy.clock.advance(100)
    (op,) = list(c.deployments.deployment_operations.list(RG, "d1"))
    assert op.properties.status_code == status_code and op.properties.status_message.error.code == kind
    assert c.deployments.deployments.get(RG, "d1").properties.error.details[0].code == kind


def test_template_rules_are_enforced(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})

    def put(tpl: dict, p: dict) -> str:
        with pytest.raises(HttpResponseError) as err:
            c.deployments.deployments.begin_create_or_update(RG, "bad", {"properties": {"mode": "Incremental", "template": tpl, "parameters": p}}, polling=False)
        return str(err.value.error.code) + ": " + str(err.value.error.message)

    assert "'adminPassword'" in put(template(), {"prefix": {"value": "fx"}})  # required, not given
    assert "not part of the allowed value" in put(template(), params(prefix="zz"))
    assert "not present in the original template" in put(template(), {**params(), "extra": {"value": 1}})
    broken = template()
    broken["resources"][1]["dependsOn"] = ["[resourceId('Microsoft.Network/virtualNetworks', 'nope')]"]
    assert "is not defined in the template" in put(broken, params())
    cyclic = template()
    cyclic["resources"][0]["dependsOn"] = ["[resourceId('Microsoft.KeyVault/vaults', variables('vault'))]"]
    assert "Circular dependency" in put(cyclic, params())
    assert "'nosuch' is not valid" in put({**template(), "variables": {**template()["variables"], "vault": "[nosuch()]"}}, params())
    # validate says the same through the LRO (400 → HttpResponseError with the inner error)
    with pytest.raises(HttpResponseError) as err:
        c.deployments.deployments.begin_validate(RG, "v", {"properties": {"mode": "Incremental", "template": template(), "parameters": params(prefix="zz")}}).result()
    assert err.value.response.json()["error"]["details"][0]["code"] == "InvalidTemplate"
    ok = c.deployments.deployments.begin_validate(RG, "v", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}).result()
    assert len(ok.properties.validated_resources) == 3


def test_reference_without_dependency_fails_the_operation(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    racy = template()
    racy["resources"][2]["dependsOn"] = ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id-fx')]"]
    c.deployments.deployments.begin_create_or_update(RG, "racy", {"properties": {"mode": "Incremental", "template": racy, "parameters": params()}}, polling=False)
    arm.deploy.clock.advance(100)
    dep = c.deployments.deployments.get(RG, "racy")
    assert dep.properties.provisioning_state == "Failed"
    assert "without depending on it" in dep.properties.error.details[0].message


def test_what_if_compares_with_the_groups_resources(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    theirs = arm.deploy.add_resource(RG, "Microsoft.Storage/storageAccounts", "sttheirs", tags={"owner": "someone"})
    arm.deploy.add_resource(RG, "Microsoft.ManagedIdentity/userAssignedIdentities", "id-fx", tags={"aifabrix-install": "acme"})
    arm.deploy.add_resource(RG, "Microsoft.KeyVault/vaults", vault_name(), tags={"aifabrix-install": "old"})
    body = {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}
    result = c.deployments.deployments.begin_what_if(RG, "wi", body).result()
    assert result.status == "Succeeded"
    assert arm.calls(r"/whatIf$", "POST")[-1].status == 202
    kinds = {ch.resource_id.rsplit("/", 1)[-1]: ch.change_type for ch in result.changes}
    assert kinds == {"id-fx": "NoChange", vault_name(): "Modify", "admin-password": "Create", "sttheirs": "Ignore"}
    vault = next(ch for ch in result.changes if ch.change_type == "Modify")
    assert {d.path for d in vault.delta} >= {"tags.aifabrix-install"}
    complete = c.deployments.deployments.begin_what_if(RG, "wi", {"properties": {**body["properties"], "mode": "Complete"}}).result()
    assert {ch.resource_id: ch.change_type for ch in complete.changes}[theirs.id] == "Delete"


def test_cancel_stops_a_running_deployment_and_leaves_what_finished(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    c.deployments.deployments.begin_create_or_update(RG, "d1", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}, polling=False)
    with pytest.raises(HttpResponseError) as busy:
        c.deployments.deployments.begin_create_or_update(RG, "d1", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}, polling=False)
    assert busy.value.error.code == "DeploymentActive"
    arm.deploy.clock.advance(15)
    c.deployments.deployments.cancel(RG, "d1")
    arm.deploy.clock.advance(100)
    assert c.deployments.deployments.get(RG, "d1").properties.provisioning_state == "Canceled"
    assert {r.name for r in c.resources.resources.list_by_resource_group(RG)} == {"id-fx"}
    states = {o.properties.target_resource.resource_name: o.properties.provisioning_state for o in c.deployments.deployment_operations.list(RG, "d1")}
    assert states == {"id-fx": "Succeeded", vault_name(): "Canceled"}


def stack_body(tpl: dict | None = None, deny: str = "denyDelete", unmanage: str = "delete") -> dict:
    return {
        "tags": TAGS,
        "properties": {
            "template": tpl or template(),
            "parameters": params(),
            "actionOnUnmanage": {"resources": unmanage, "resourceGroups": unmanage},
            "denySettings": {"mode": deny, "applyToChildScopes": False, "excludedPrincipals": []},
            "description": "fabrix acme",
        },
    }


def test_stack_manages_what_it_created_and_deletes_exactly_that(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    theirs = arm.deploy.add_resource(RG, "Microsoft.Storage/storageAccounts", "sttheirs")
    arm.deploy.clock.set_speed(400.0)
    stack = c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "fabrix-acme", stack_body()).result()
    assert stack.properties.provisioning_state == "succeeded"
    managed = {r.id.rsplit("/", 1)[-1] for r in stack.properties.resources}
    assert managed == {"id-fx", vault_name(), "admin-password"}
    assert all(r.deny_status == "denyDelete" for r in stack.properties.resources)
    # the stack's deployment shows per-resource operations
    dep_name = stack.properties.deployment_id.rsplit("/", 1)[-1]
    assert len(list(c.deployments.deployment_operations.list(RG, dep_name))) == 3
    # deny settings: a managed resource cannot be deleted directly
    with pytest.raises(HttpResponseError) as denied:
        c.resources.resources.begin_delete_by_id(stack.properties.resources[0].id, api_version="2024-11-30").result()
    assert denied.value.error.code == "DenyAssignmentAuthorizationFailed"

    # an update without the secret unmanages it → deleted (actionOnUnmanage delete)
    smaller = template()
    smaller["resources"] = smaller["resources"][:2]
    updated = c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "fabrix-acme", stack_body(smaller)).result()
    assert [r.id.rsplit("/", 1)[-1] for r in updated.properties.deleted_resources] == ["admin-password"]

    c.stacks.deployment_stacks.begin_delete_at_resource_group(RG, "fabrix-acme", unmanage_action_resources="delete").result()
    left = {r.id for r in arm.deploy.group_resources(RG)}
    assert left == {theirs.id}, "the stack deletes exactly what it manages"
    with pytest.raises(ResourceNotFoundError):
        c.stacks.deployment_stacks.get_at_resource_group(RG, "fabrix-acme")
    # the vault went to soft delete, purge protection off
    deleted = [v for v in arm.deploy.deleted_vaults if v["name"] == vault_name()]
    assert deleted and deleted[0]["purgeProtectionEnabled"] is False


def test_stack_delete_without_flags_detaches(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    arm.deploy.clock.set_speed(400.0)
    c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "s", stack_body(deny="none")).result()
    c.stacks.deployment_stacks.begin_delete_at_resource_group(RG, "s").result()
    assert len(arm.deploy.group_resources(RG)) == 3


def test_stack_rules_and_failure(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    bad = stack_body()
    del bad["properties"]["actionOnUnmanage"]
    with pytest.raises(HttpResponseError) as err:
        c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "s", bad, polling=False)
    assert "actionOnUnmanage" in str(err.value.error.message)
    arm.deploy.fail("Microsoft.KeyVault/vaults", "QuotaExceeded")
    c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "s", stack_body(), polling=False)
    with pytest.raises(HttpResponseError) as busy:
        c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "s", stack_body(), polling=False)
    assert busy.value.error.code == "DeploymentStackInNonTerminalState"
    arm.deploy.clock.advance(100)
    stack = c.stacks.deployment_stacks.get_at_resource_group(RG, "s")
    assert stack.properties.provisioning_state == "failed"
    assert stack.properties.failed_resources[0].error.code == "QuotaExceeded"
    assert [r.id.rsplit("/", 1)[-1] for r in stack.properties.resources] == ["id-fx"]
    valid = c.stacks.deployment_stacks.begin_validate_stack_at_resource_group(RG, "s2", stack_body()).result()
    assert len(valid.properties.validated_resources) == 3


def test_throttling_with_retry_after_and_request_rate(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    c.deployments.deployments.begin_create_or_update(RG, "d1", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}}, polling=False)
    rule = arm.deploy.throttle(r"/deployments/d1/operations$", every=2, retry_after=0.01)
    for _ in range(3):
        list(c.deployments.deployment_operations.list(RG, "d1"))  # GET: the SDK retries the 429
    assert rule.throttled >= 1
    throttled = [r for r in arm.calls(r"/operations$", "GET") if r.status == 429]
    assert throttled
    rate = arm.deploy.rate()
    assert rate["requests"] >= 6 and rate["per_real_minute"] > 0


@pytest.mark.parametrize("target", ["aca", "aks"])
def test_the_rendered_foundation_deploys_as_a_stack(arm, target: str) -> None:
    """fabrix's own ARM template goes through the fake's evaluator and rules (names, dependsOn,
    reference() only along dependencies) and every resource lands in the group, managed by the stack."""
    import json

    from installer.plan import InstallPlan
    from installer.render import RenderInput
    from installer.render.foundation import render_foundation

    tpl = json.loads(render_foundation(RenderInput(plan=InstallPlan(name="acme", model="container", target=target)), target).files["arm/mainTemplate.json"])
    secure = {k: {"value": "v" * 24} for k, spec in tpl["parameters"].items() if "defaultValue" not in spec}
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    body = {"properties": {"template": tpl, "parameters": secure, "actionOnUnmanage": {"resources": "delete"}, "denySettings": {"mode": "none"}}}
    c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "fabrix-acme", body, polling=False)
    arm.deploy.clock.advance(3600)
    stack = c.stacks.deployment_stacks.get_at_resource_group(RG, "fabrix-acme")
    assert stack.properties.provisioning_state == "succeeded", stack.properties.error
    # AKS: Front Door's origins and routes wait for aksIngressPrivateLinkReady (false by default).
    unconditional = [r for r in tpl["resources"] if "condition" not in r]
    assert len(stack.properties.resources) == len(unconditional)
    assert {r.id.lower() for r in stack.properties.resources} == {r.id.lower() for r in arm.deploy.group_resources(RG)}
    if target == "aks":
        # Front Door's origins need the ingress's Private Link service, which AKS creates once
        # k8s/ingress.yaml is applied (k8s/README.md step 2, through the run command).
        import base64
        import io
        import zipfile

        from installer.render.aks import render_k8s

        plan = InstallPlan(name="acme", model="container", target=target)
        ingress = render_k8s(RenderInput(plan=plan)).files["k8s/ingress.yaml"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("ingress.yaml", ingress)
        c.aks.managed_clusters.begin_run_command(RG, "aks-fx-acme", {
            "command": "kubectl apply -f ingress.yaml", "context": base64.b64encode(buf.getvalue()).decode()}, polling=False)
        arm.deploy.clock.advance(600)
        assert [p.name for p in arm.deploy.private_link.services()] == ["pls-aks-fx-acme"]
        # The second deployment (k8s/README.md step 4) adds them: every resource is then managed.
        body["properties"]["parameters"] = {**secure, "aksIngressPrivateLinkReady": {"value": True}}
        c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "fabrix-acme", body, polling=False)
        arm.deploy.clock.advance(3600)
        stack = c.stacks.deployment_stacks.get_at_resource_group(RG, "fabrix-acme")
        assert stack.properties.provisioning_state == "succeeded", stack.properties.error
        assert len(stack.properties.resources) == len(tpl["resources"])


def test_sdk_polling_honours_retry_after_in_simulated_time(arm) -> None:
    """Retry-After: 10 (simulated) with the clock at 200x → the SDK waits 50 ms per poll (it reads
    retry-after-ms first), so a ~35 s deployment costs a handful of polls, not a busy loop."""
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    arm.deploy.poll_retry_after = 10
    arm.deploy.clock.set_speed(200.0)
    poller = c.deployments.deployments.begin_create_or_update(RG, "d1", {"properties": {"mode": "Incremental", "template": template(), "parameters": params()}})
    put = arm.calls(r"/deployments/d1$", "PUT")[-1]
    assert poller.result().properties.provisioning_state == "Succeeded"
    polls = arm.calls(r"/deployments/d1/operationStatuses/", "GET")
    assert 2 <= len(polls) <= 8, f"{len(polls)} polls for a 36 s deployment polled every 10 s"
    assert put.status == 201


def test_throttled_polls_are_retried_and_counted(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral", "tags": TAGS})
    arm.deploy.clock.set_speed(400.0)
    rule = arm.deploy.throttle(r"/operationStatuses/", every=2, retry_after=0.02)
    stack = c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "s", stack_body(deny="none")).result()
    assert stack.properties.provisioning_state == "succeeded"
    assert rule.throttled >= 1
    statuses = [r.status for r in arm.calls(r"/operationStatuses/", "GET")]
    assert 429 in statuses and statuses[-1] == 200
    # everything the install created carries its tags: found subscription-wide by tag
    tagged = {r.name for r in c.resources.resources.list(filter="tagName eq 'aifabrix-install' and tagValue eq 'acme'")}
    assert tagged == {"id-fx", vault_name()}


def test_stack_what_if_says_what_the_stack_would_create_modify_and_let_go(arm) -> None:
    c = sdk_clients(arm)
    c.resources.resource_groups.create_or_update(RG, {"location": "swedencentral"})
    arm.deploy.add_resource(RG, "Microsoft.Storage/storageAccounts", "sttheirs")
    stack_id = f"/subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Resources/deploymentStacks/fabrix-acme"
    ops = c.stacks.deployment_stacks_what_if_results_at_resource_group

    def what_if(body: dict) -> dict:
        props = {**body["properties"], "deploymentStackResourceId": stack_id, "retentionInterval": "P1D"}
        ops.begin_create_or_update(RG, "preview", {"location": "swedencentral", "properties": props}).result()
        result = ops.begin_what_if(RG, "preview").result()
        return {ch["id"].rsplit("/", 1)[-1]: (ch["changeType"], ch["managementStatusChange"]["before"]) for ch in result["properties"]["changes"]["resourceChanges"]}

    assert what_if(stack_body()) == {"id-fx": ("create", "notManaged"), vault_name(): ("create", "notManaged"), "admin-password": ("create", "notManaged")}
    arm.deploy.clock.set_speed(400.0)
    c.stacks.deployment_stacks.begin_create_or_update_at_resource_group(RG, "fabrix-acme", stack_body()).result()
    arm.deploy.clock.set_speed(0.0)
    smaller = template()
    smaller["resources"] = smaller["resources"][:2]
    smaller["variables"]["tags"] = {"aifabrix-install": "acme", "tier": "prod"}
    changes = what_if(stack_body(smaller, unmanage="detach"))
    assert changes == {"id-fx": ("modify", "managed"), vault_name(): ("modify", "managed"), "admin-password": ("detach", "managed")}
    assert what_if(stack_body(smaller))["admin-password"] == ("delete", "managed")
    with pytest.raises(HttpResponseError):
        ops.begin_create_or_update(RG, "bad", {"location": "swedencentral", "properties": {**stack_body()["properties"], "deploymentStackResourceId": stack_id}}).result()
