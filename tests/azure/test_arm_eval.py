"""The fake ARM's own expression evaluator (tests/azure/arm_eval.py)."""

from __future__ import annotations

import pytest

from tests.azure.arm_eval import Scope, TemplateError, evaluate, unique_string

SUB = "11111111-2222-3333-4444-555555555555"


def scope(**params: object) -> Scope:
    return Scope(
        SUB,
        "rg-x",
        "swedencentral",
        parameters=dict(params),
        variables={"base": "[toLower(concat('Fx-', parameters('name')))]", "tags": {"install": "[variables('base')]"}},
        tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # vectors checked against Bicep's uniqueString (public re-implementation's self-test)
        (["test"], "rbgf3xv4ufgzg"),
        (["hello", "world"], "a7wkljktk6wne"),
        (["abc"], "cgtzqvhu4i23s"),
        (["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg"], "bmg7c6xu4tw46"),
        (["foo", "bar", "baz"], "xzi4ioaxtmth4"),
    ],
)
def test_unique_string_matches_arm(args: list[str], expected: str) -> None:
    assert unique_string(*args) == expected


def test_strings_variables_and_functions() -> None:
    s = scope(name="ACME", count=3)
    assert evaluate("[variables('base')]", s) == "fx-acme"
    assert evaluate("[variables('tags')]", s) == {"install": "fx-acme"}
    assert evaluate("[format('{0}-{1}-{0}', 'a', parameters('count'))]", s) == "a-3-a"
    assert evaluate("[take(uniqueString(resourceGroup().id), 5)]", s) == unique_string(f"/subscriptions/{SUB}/resourceGroups/rg-x")[:5]
    assert evaluate("[concat('it''s ', 'ok')]", s) == "it's ok"
    assert evaluate("[[not an expression]", s) == "[not an expression]"
    assert evaluate("plain", s) == "plain"
    assert evaluate("[if(equals(parameters('count'), 3), 'three', parameters('missing'))]", s) == "three"  # lazy branch
    assert evaluate("[subscription().tenantId]", s) == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert evaluate("[createObject('a', createArray(1, 2)).a[1]]", s) == 2
    assert evaluate("[resourceGroup().location]", s) == "swedencentral"


def test_resource_ids() -> None:
    s = scope()
    rg = f"/subscriptions/{SUB}/resourceGroups/rg-x"
    assert evaluate("[resourceId('Microsoft.KeyVault/vaults', 'kv1')]", s) == f"{rg}/providers/Microsoft.KeyVault/vaults/kv1"
    assert evaluate("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', 'st', 'default', 'data')]", s) == (
        f"{rg}/providers/Microsoft.Storage/storageAccounts/st/blobServices/default/containers/data"
    )
    assert evaluate("[resourceId('other-rg', 'Microsoft.Network/virtualNetworks', 'v')]", s) == f"/subscriptions/{SUB}/resourceGroups/other-rg/providers/Microsoft.Network/virtualNetworks/v"
    assert evaluate("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'abc')]", s) == f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/abc"
    kv = f"{rg}/providers/Microsoft.KeyVault/vaults/kv1"
    assert evaluate("[extensionResourceId(resourceId('Microsoft.KeyVault/vaults', 'kv1'), 'Microsoft.Authorization/roleAssignments', 'g1')]", s) == (
        f"{kv}/providers/Microsoft.Authorization/roleAssignments/g1"
    )
    first = evaluate("[guid(resourceGroup().id, 'x')]", s)
    assert first == evaluate("[guid(resourceGroup().id, 'x')]", s) != evaluate("[guid(resourceGroup().id, 'y')]", s)
    with pytest.raises(TemplateError, match="one name segment per type segment"):
        evaluate("[resourceId('Microsoft.Storage/storageAccounts/blobServices', 'st')]", s)


def test_reference_and_errors() -> None:
    s = scope()
    s.reference = lambda rid: {"id": rid, "properties": {"vaultUri": "https://kv1.vault.azure.net/"}}
    assert evaluate("[reference(resourceId('Microsoft.KeyVault/vaults', 'kv1'), '2025-05-01').vaultUri]", s) == "https://kv1.vault.azure.net/"
    assert evaluate("[reference(resourceId('Microsoft.KeyVault/vaults', 'kv1'), '2025-05-01', 'Full').id]", s).endswith("/vaults/kv1")
    with pytest.raises(TemplateError, match="'nosuch' is not valid"):
        evaluate("[nosuch()]", s)
    with pytest.raises(TemplateError, match="parameter 'missing' is not found"):
        evaluate("[parameters('missing')]", s)
    with pytest.raises(TemplateError, match="property 'nope' doesn't exist"):
        evaluate("[resourceGroup().nope]", s)
    with pytest.raises(TemplateError):
        evaluate("[concat('a', ]", s)
