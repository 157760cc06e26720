"""Who is signed in, and whether the subscription can take a deployment at all."""

from __future__ import annotations

from installer.checks.azure import facts
from installer.checks.azure.run import AzureRun, azure_check, result
from installer.checks.base import CheckResult, Status

# quotaId prefixes of offers with small quotas (notes/azure.md §1 "Offer type").
SMALL_OFFERS = ("FreeTrial_", "AzurePass_", "Sponsored_", "AzureForStudents_", "DreamSpark_", "MSDN_")


@azure_check("azure.signin", "Azure sign-in")
def check_signin(run: AzureRun) -> CheckResult:
    err = run.sign_in_error()
    if err is not None:
        # The network down is "could not verify" (exit 4), not a refusal; anything else is a fail.
        status = Status.unknown if getattr(err, "unverified", False) else Status.fail
        attempts = [{"way": a.way, "outcome": a.outcome.value, "detail": a.detail, "reason": a.reason} for a in getattr(err, "attempts", [])]
        return result("azure.signin", "Azure sign-in", status, err.message, err.hint or "run `az login`", attempts=attempts)
    session = run.session()
    p = session.principal
    return result(
        "azure.signin",
        "Azure sign-in",
        Status.passed,
        f"{p.describe()}; cloud {session.cloud.name} ({session.cloud.arm_endpoint})",
        kind=p.kind,
        object_id=p.object_id,
        tenant_id=p.tenant_id,
        name=p.name,
        credential=p.credential,
        arm_endpoint=session.cloud.arm_endpoint,
    )


@azure_check("azure.subscription", "Azure subscription state and offer")
def check_subscription(run: AzureRun) -> CheckResult:
    cid, title = "azure.subscription", "Azure subscription state and offer"
    if not run.subscription_id:
        return result(cid, title, Status.fail, "no subscription chosen (azure.subscription_id is empty)",
                      "set azure.subscription_id in the answers file; `az account list -o table` lists the ones you can use")
    try:
        sub = facts.subscription(run)
    except Exception as exc:
        if getattr(exc, "status_code", None) == 404:
            return result(cid, title, Status.fail,
                          f"subscription {run.subscription_id} does not exist or {run.session().principal.name} cannot see it",
                          "check azure.subscription_id (`az account list -o table`), or ask the subscription's Owner for at least the Reader role")
        raise
    details = {"state": sub.state, "quota_id": sub.quota_id, "spending_limit": sub.spending_limit, "name": sub.display_name}
    what = f"{sub.label()}: state {sub.state}, offer {sub.quota_id or 'unknown'}"
    state = sub.state.lower()
    if state in ("disabled", "deleted", "expired"):
        return result(cid, title, Status.fail, what,
                      "a disabled subscription cannot create resources: an Account Administrator re-enables it in the portal "
                      "(Subscriptions → the subscription → Overview → Reactivate / settle the invoice), or choose another subscription", **details)
    if state in ("warned", "pastdue"):
        return result(cid, title, Status.warn, what + " — it will be disabled unless billing is fixed",
                      "the Account Administrator settles the balance in Cost Management + Billing before installing", **details)
    if sub.quota_id.startswith(SMALL_OFFERS) or sub.spending_limit.lower() == "on":
        return result(cid, title, Status.warn,
                      what + (", spending limit on" if sub.spending_limit.lower() == "on" else "")
                      + " — trial and sponsored offers have small quotas (e.g. one Container Apps environment with 10 cores)",
                      "use a pay-as-you-go or enterprise subscription for anything beyond a trial, or remove the spending limit "
                      "(Account Administrator: portal → Subscriptions → Remove spending limit)", **details)
    return result(cid, title, Status.passed, what, **details)
