"""ARM's error bodies, as the fake returns them (injected failures and the rules it enforces).

Every body is the ``CloudError`` envelope ``{"error": {code, message, target?, details[],
additionalInfo[]}}`` (azure-rest-api-specs ``specification/resources/resource-manager/
Microsoft.Resources/deployments/stable/2026-06-01/deployments.json`` definitions ``CloudError``,
``ErrorResponse``; Azure/azure-resource-manager-rpc ``v1.0/common-api-details.md``). Codes and
message wording per error (sources beside each entry):
- QuotaExceeded / OperationNotAllowed: MicrosoftDocs/azure-docs
  ``articles/azure-resource-manager/troubleshooting/error-resource-quota.md`` ("Operation results in
  exceeding quota limits of Core. Maximum allowed: 4, Current in use: 4, Additional requested: 2.");
- RequestDisallowedByPolicy: same folder, ``error-policy-requestdisallowedbypolicy.md`` (target = the
  resource name, message "Resource '<name>' was disallowed by policy. Policy identifiers: ...", HTTP
  403 from the resource provider);
- Conflict: the 409 ARM returns when another operation holds the resource (``common-deployment-errors``
  table: "Conflict — You're requesting an operation that isn't allowed in the resource's current state");
- InternalServerError: 500, "Encountered internal server error" (the ARM RPC's generic server fault);
- DeploymentFailed: the wrapper a failed deployment carries, with the operation's error in ``details``
  (public failure log of an ``operationStatuses`` poll, see notes/azure-launch.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProviderError:
    """What a resource provider answered: the operation's ``statusCode`` and its error."""

    http_status: int
    status_code: str  # the operation's properties.statusCode ("Conflict", "Forbidden", ...)
    code: str
    message: str
    target: str | None = None
    additional_info: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "details": [], "additionalInfo": list(self.additional_info)}
        if self.target:
            out["target"] = self.target
        return out


def provider_error(kind: str, *, name: str, rtype: str, location: str, subscription: str) -> ProviderError:
    """An injected failure of ``kind`` for the resource ``name`` of type ``rtype``."""
    key = kind.lower()
    if key == "quotaexceeded":
        return ProviderError(
            409,
            "Conflict",
            "QuotaExceeded",
            f"Operation could not be completed as it results in exceeding approved quota for '{rtype}'. "
            f"Location: {location}, Current Limit: 4, Current Usage: 4, Additional Required: 2, (Minimum) New Limit Required: 6. "
            "Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView.",
        )
    if key == "operationnotallowed":
        return ProviderError(
            409,
            "Conflict",
            "OperationNotAllowed",
            "Operation results in exceeding quota limits of Core. Maximum allowed: 4, Current in use: 4, Additional requested: 2.",
        )
    if key == "requestdisallowedbypolicy":
        assignment = f"/subscriptions/{subscription}/providers/Microsoft.Authorization/policyAssignments/deny-{rtype.split('/')[-1].lower()}"
        definition = "/providers/Microsoft.Authorization/policyDefinitions/6c112d4e-5bc7-47ae-a041-ea2d9dccd749"
        return ProviderError(
            403,
            "Forbidden",
            "RequestDisallowedByPolicy",
            f"Resource '{name}' was disallowed by policy. Policy identifiers: "
            f"'[{{\"policyAssignment\":{{\"name\":\"Not allowed resource types\",\"id\":\"{assignment}\"}},"
            f"\"policyDefinition\":{{\"name\":\"Not allowed resource types\",\"id\":\"{definition}\"}}}}]'.",
            target=name,
            additional_info=[
                {
                    "type": "PolicyViolation",
                    "info": {
                        "evaluationDetails": {"evaluatedExpressions": [{"result": "True", "expressionKind": "Field", "expression": "type", "path": "type", "expressionValue": rtype, "targetValue": [rtype], "operator": "In"}]},
                        "policyDefinitionId": definition,
                        "policyDefinitionName": "6c112d4e-5bc7-47ae-a041-ea2d9dccd749",
                        "policyDefinitionDisplayName": "Not allowed resource types",
                        "policyDefinitionEffect": "deny",
                        "policyAssignmentId": assignment,
                        "policyAssignmentName": assignment.rsplit("/", 1)[-1],
                        "policyAssignmentDisplayName": "Not allowed resource types",
                        "policyAssignmentScope": f"/subscriptions/{subscription}",
                    },
                }
            ],
        )
    if key == "conflict":
        return ProviderError(
            409,
            "Conflict",
            "Conflict",
            f"Operation on '{name}' could not be completed: another operation is in progress on the resource or it is in a state that does not allow this change. Retry later.",
        )
    if key == "internalservererror":
        return ProviderError(500, "InternalServerError", "InternalServerError", "Encountered internal server error. Diagnostic information: timestamp '20261204T000000Z', subscription id '" + subscription + "'.")
    raise ValueError(f"unknown injected failure {kind!r}: use QuotaExceeded, OperationNotAllowed, RequestDisallowedByPolicy, Conflict or InternalServerError")


def deployment_failed(deployment_id: str, details: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "code": "DeploymentFailed",
        "target": deployment_id,
        "message": "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
        "details": details,
    }


def envelope(code: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "details": [], "additionalInfo": []}
    body.update(extra)
    return {"error": body}
