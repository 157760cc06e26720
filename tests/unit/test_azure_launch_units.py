"""The Azure launch's pure parts: what-if → preview (ownership), operations → per-resource rows,
tier file → deployment parameters (secrets from the store, never from the file)."""

from __future__ import annotations

import pytest

from installer.errors import UsageError
from installer.launch.azure.operations import OperationTracker, iso_seconds
from installer.launch.azure.params import deployment_parameters
from installer.launch.azure.preview import preview_from_whatif
from installer.progress import State

RG = "/subscriptions/s/resourceGroups/rg/providers"


def test_preview_counts_and_flags_changes_to_resources_the_install_does_not_own() -> None:
    # Shapes from PostDeploymentWhatIfOnResourceGroup.json (deployments 2026-06-01 examples).
    result = {"status": "Succeeded", "properties": {"changes": [
        {"resourceId": f"{RG}/Microsoft.KeyVault/vaults/kv1", "changeType": "Create", "after": {}},
        {"resourceId": f"{RG}/Microsoft.Storage/storageAccounts/st1", "changeType": "Modify",
         "before": {"tags": {"fabrix-install": "demo"}}, "delta": [{"path": "properties.minimumTlsVersion", "propertyChangeType": "Modify"}]},
        {"resourceId": f"{RG}/Microsoft.Network/virtualNetworks/theirs", "changeType": "Modify",
         "before": {"tags": {"owner": "network-team"}}, "delta": [{"path": "properties", "children": [{"path": "subnets"}]}]},
        {"resourceId": f"{RG}/Microsoft.Web/sites/old", "changeType": "Delete", "before": {"tags": {"fabrix-install": "other"}}},
        {"resourceId": f"{RG}/Microsoft.Cdn/profiles/fd", "changeType": "NoChange", "before": {}},
        {"resourceId": f"{RG}/Microsoft.Sql/servers/x", "changeType": "Ignore", "before": {}},
    ]}}
    p = preview_from_whatif(result, "demo")
    assert p.counts == {"create": 1, "modify": 2, "delete": 1, "noChange": 1}
    assert p.other == 1
    assert [c.name for c in p.foreign] == ["Microsoft.Network/virtualNetworks/theirs", "Microsoft.Web/sites/old"]
    assert "properties.subnets" in p.foreign[0].describe() and "NOT owned" in p.foreign[0].describe()
    assert p.headline() == "1 to create, 2 to modify, 1 to delete, 1 unchanged"


def test_operations_yield_one_row_per_state_change_with_durations_and_arm_errors() -> None:
    def op(state: str, duration: str = "PT0S", error: dict | None = None) -> dict:
        props = {"provisioningState": state, "duration": duration,
                 "targetResource": {"id": f"{RG}/Microsoft.KeyVault/vaults/kv1", "resourceType": "Microsoft.KeyVault/vaults",
                                    "resourceName": "kv1"}}
        if error:
            props["statusMessage"] = {"status": "Failed", "error": error}
        return {"operationId": "1", "properties": props}

    t = OperationTracker()
    assert [r.state for r in t.update([op("Accepted")])] == [State.pending]
    assert t.update([op("Accepted")]) == []  # nothing new
    assert [r.state for r in t.update([op("Running", "PT5S")])] == [State.running]
    failed = t.update([op("Failed", "PT1M21.5S", {"code": "DeploymentFailed", "message": "see details",
                                                  "details": [{"code": "QuotaExceeded", "message": "no cores"}]})])
    assert failed[0].state is State.failed and failed[0].duration == 81.5
    assert failed[0].error_code == "QuotaExceeded" and "QuotaExceeded: no cores" in failed[0].message()
    assert t.failed()[0].resource == "Microsoft.KeyVault/vaults/kv1"
    assert iso_seconds("P1DT1H") == 90000 and iso_seconds("") is None and iso_seconds("PT") is None


TEMPLATE = {"parameters": {"postgresSkuName": {"type": "string"}, "postgresStorageSizeGB": {"type": "int"},
                           "postgresPassword": {"type": "secureString"}, "publicDomain": {"type": "string"}}}
BICEPPARAM = """using '../main.bicep'
param postgresSkuName = 'Standard_B2ms'
param postgresStorageSizeGB = 64
param postgresPassword = readEnvironmentVariable('POSTGRES_PASSWORD')
param publicDomain = readEnvironmentVariable('PUBLIC_DOMAIN')
param notInTemplate = 'x'
"""


def test_parameters_come_from_the_tier_file_and_secrets_from_the_store() -> None:
    params, secrets = deployment_parameters(BICEPPARAM, TEMPLATE, {"POSTGRES_PASSWORD": "s3cret-value-123456"},
                                            env={"PUBLIC_DOMAIN": "ai.contoso.com", "POSTGRES_PASSWORD": "from-env-ignored"})
    assert params == {"postgresSkuName": {"value": "Standard_B2ms"}, "postgresStorageSizeGB": {"value": 64},
                      "postgresPassword": {"value": "s3cret-value-123456"}, "publicDomain": {"value": "ai.contoso.com"}}
    assert secrets == ["s3cret-value-123456"]  # for redaction; the public domain is not a secret


def test_a_missing_value_is_named_before_anything_is_deployed() -> None:
    with pytest.raises(UsageError, match="PUBLIC_DOMAIN") as err:
        deployment_parameters(BICEPPARAM, TEMPLATE, {"POSTGRES_PASSWORD": "x" * 20}, env={})
    assert "export PUBLIC_DOMAIN" in (err.value.hint or "")
    with pytest.raises(UsageError, match="POSTGRES_PASSWORD"):
        deployment_parameters(BICEPPARAM, TEMPLATE, {}, env={"PUBLIC_DOMAIN": "a.b.c"})
