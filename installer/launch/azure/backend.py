"""The Azure launch backend: sign in → checks + render → resource group → preview (what-if) →
deployment stack with per-resource progress → post-deploy inside the network (databases, then the
dataplane registration) → smoke → summary.

The runner (``installer.launch.runner``) journals, locks, cancels, keeps, diagnoses and rolls back;
this module is Azure's steps. Every step records in the journal what a rollback or a resume needs
*before* it changes anything in Azure: the group's name and whether this run created it, the stack
it submitted. So a ``kill -9`` at any point leaves enough for ``fabrix status`` (what ARM says now),
``fabrix up --resume`` (re-attach to the running stack, never submit a second one) and
``fabrix rollback`` (delete what the stack manages, the group only if this run created it).

Deployment stack settings (``Microsoft.Resources/deploymentStacks``, notes/azure-launch.md §2):
- ``actionOnUnmanage``: resources *delete*, resource groups *delete* ("deleteAll"), resources
  without delete support *detach* (then reported as left over): what the stack stops managing
  is deleted, so an upgrade that drops a component removes it, and teardown removes exactly what
  the install owns;
- ``denySettings`` by tier (``DENY_BY_TIER``): evaluation and dev ``none`` (people experiment);
  test and prod ``denyDelete`` with the deploying principal excluded — nobody deletes a managed
  resource by hand, while the platform can still update itself. ``denyWriteAndDelete`` is not
  used: it blocks the apps' own control-plane writes and hides child configuration in the portal
  (deployment-stacks#234). Any mode other than ``none`` needs
  ``Microsoft.Resources/deploymentStacks/manageDenySetting/action`` (Owner has it, Contributor
  does not — the permission check says so before the launch).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from azure.core.exceptions import HttpResponseError

from installer.errors import FabrixError, UsageError
from installer.labels import TAG_INSTALL, TAG_RUN
from installer.launch.azure import arm
from installer.launch.azure.arm import Target
from installer.launch.azure.operations import OperationTracker
from installer.launch.azure.params import deployment_parameters
from installer.launch.azure.preview import Preview, preview_from_whatif
from installer.launch.journal import Phase, first_data, step_state
from installer.launch.model import Diagnostics, RollbackResult, Summary
from installer.launch.runner import Run, Step, Stop
from installer.plan import DeploymentModel, InstallPlan, Tier
from installer.progress import Reporter, State

DENY_BY_TIER = {Tier.evaluation: "none", Tier.dev: "none", Tier.test: "denyDelete", Tier.prod: "denyDelete"}
POLL_ENV = "FABRIX_ARM_POLL_SECONDS"  # seconds between progress polls (default 5; ARM's Retry-After wins when longer)
SMOKE_ENV = "FABRIX_SMOKE_BUDGET"  # seconds the Front Door probes may take (default 900)
DEFAULT_POLL = 5.0
MAX_POLL = 60.0
DEFAULT_SMOKE_BUDGET = 900.0  # Front Door and DNS propagation take minutes (up to ~20 per Microsoft)
ALLOW_FOREIGN_FLAG = "--allow-foreign-changes"


def stack_name(plan: InstallPlan) -> str:
    return f"fabrix-{plan.name}"


def poll_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(POLL_ENV, DEFAULT_POLL)))
    except ValueError:
        return DEFAULT_POLL


def target_for(plan: InstallPlan, clients: Any) -> Target:
    from installer.render.workload import azure_names

    names = azure_names(plan)
    if not plan.azure.subscription_id or not plan.azure.location:
        raise UsageError(f"install {plan.name!r} has no Azure subscription or region",
                         "set azure.subscription_id and azure.location in the answers (the wizard's Target step does)")
    return Target(clients, plan.azure.subscription_id, names.resource_group, plan.azure.location, stack_name(plan))


class AzureBackend:
    """One Azure launch. ``allow_foreign``: the person allowed changes to resources this install
    does not own (``--allow-foreign-changes``). ``session``: an ``AzureSession`` to reuse."""

    kind = "azure"

    def __init__(self, allow_foreign: bool = False, session: Any = None) -> None:
        self.allow_foreign = allow_foreign
        self.session = session
        self.run: Run | None = None
        self.target: Target | None = None
        self.template: dict[str, Any] = {}
        self.parameters: dict[str, Any] = {}
        self.preview: Preview | None = None
        self.tracker = OperationTracker()
        self.stack: Any = None
        self.outputs: dict[str, Any] = {}
        self.requests_polled = 0
        self.postdeploy_detail: dict[str, Any] = {}
        self.probe_results: dict[str, str] = {}

    # ---- runner side --------------------------------------------------------------------

    def attach(self, run: Run) -> None:
        self.run = run
        self.plan = run.plan

    @property
    def r(self) -> Run:
        assert self.run is not None
        return self.run

    def run_data(self) -> dict[str, Any]:
        from installer.render.workload import azure_names

        return {"resource_group": azure_names(self.plan).resource_group, "stack": stack_name(self.plan),
                "subscription": self.plan.azure.subscription_id, "model": self.plan.model.value}

    def steps(self) -> list[Step]:
        return [
            Step("signin", self.step_signin),
            Step("render", self.step_checks_and_render),
            Step("group", self.step_group),
            Step("preview", self.step_preview),
            Step("deploy", self.step_deploy),
            Step("postdeploy", self.step_postdeploy),
            Step("frontdoor", self.step_private_link),
            Step("register", self.step_register),
            Step("probe", self.step_probe),
        ]

    # ---- steps --------------------------------------------------------------------------

    def step_signin(self) -> None:
        from installer.azure import SignInOptions, sign_in

        if self.session is None or not self.session.serves(self.plan):
            self.r.emit("signin", State.running, "signing in to Azure")
            self.session = sign_in(SignInOptions.from_plan(self.plan))
        self.target = target_for(self.plan, self.session.clients)
        self.r.emit("signin", State.done, f"signed in as {self.session.principal.describe()}")

    def step_checks_and_render(self) -> None:
        from installer.answers import save_answers
        from installer.checks import CheckContext, checks_for, run_checks
        from installer.pipeline import render_and_validate
        from installer.render.foundation import TIER_FILES

        r = self.r
        r.journal_step("checks", Phase.begin)
        r.emit("checks", State.running, "checking the subscription")
        box: dict[str, Any] = {}
        ctx = CheckContext(plan=self.plan, cache={"azure.session": self.session})

        def work() -> None:
            try:
                box["results"] = list(run_checks(checks_for(self.plan), ctx))
            except BaseException as exc:  # handed over below, on the launch thread
                box["error"] = exc

        thread = threading.Thread(target=work, daemon=True, name="launch-checks")
        thread.start()
        try:
            r.journal_step("render", Phase.begin, bundle=str(r.folder.bundle))
            r.emit("render", State.running, "rendering the Azure blueprint")
            bundle, inp = render_and_validate(self.plan)
            bundle.write(r.folder.bundle)
            save_answers(self.plan, r.folder.answers)
            r.reload_secrets()
            self.template = json.loads(bundle.files["arm/mainTemplate.json"])
            tier_file = TIER_FILES[self.plan.tier]
            self.parameters, secret_values = deployment_parameters(
                bundle.files[tier_file].decode() if isinstance(bundle.files[tier_file], bytes) else bundle.files[tier_file],
                self.template, inp.secrets, install=self.plan.name)
            r.secret_values.extend(v for v in secret_values if v not in r.secret_values)
            self.bundle = bundle
            r.journal_step("render", Phase.end, files=sorted(bundle), sha256=dict(bundle.digests()))
            r.emit("render", State.done, f"wrote {len(bundle)} file(s) to {r.folder.bundle}; "
                                         f"{len(self.template.get('resources') or [])} resource(s) in the template")
        finally:
            thread.join()
        r.check_cancel()
        if "error" in box:
            raise box["error"]
        r.report_checks(box["results"])

    def step_group(self) -> None:
        """Use the plan's group or create it, tagged as this install's and this run's. Recorded
        *before* the PUT (``begin``) and after (``created``), so a crash in between is resolved
        from the group's own run tag."""
        r, t = self.r, self.target
        assert t is not None
        records = r.records()
        known = first_data(records, "group", "created")
        if known is not None:
            r.emit("group", State.skipped, f"resource group {t.resource_group} ({'created' if known else 'existing'}, from the journal)")
            self._recover_vault()
            return
        r.journal_step("group", Phase.begin, resource_group=t.resource_group, location=t.location)
        existing = arm.group_get(t)
        tags = dict(getattr(existing, "tags", None) or {}) if existing is not None else {}
        if existing is not None and tags.get(TAG_RUN) != r.run_id:
            r.journal_step("group", Phase.end, created=False, resource_group=t.resource_group)
            r.emit("group", State.done, f"using the existing resource group {t.resource_group}; what is already in it is left alone")
        else:
            if existing is None:
                arm.group_create(t, {TAG_INSTALL: self.plan.name, TAG_RUN: r.run_id})
            r.journal_step("group", Phase.end, created=True, resource_group=t.resource_group)
            r.emit("group", State.done, f"created the resource group {t.resource_group} in {t.location}")
        self._recover_vault()

    def _recover_vault(self) -> None:
        """A rolled-back install's Key Vault stays soft-deleted with its name reserved (purge
        protection is on in every tier, so it cannot be purged). Recover it into the group: the
        stack then adopts and updates it. Without this, the same-name reinstall fails for up to 90
        days (notes/azure-launch.md §6)."""
        from installer.render.workload import azure_names

        r, t = self.r, self.target
        assert t is not None
        name = azure_names(self.plan).key_vault
        deleted = arm.deleted_vault(t, name)
        if deleted is None:
            return
        props = getattr(deleted, "properties", None)
        vault_id = str(getattr(props, "vault_id", "") or "")
        if vault_id and f"/resourcegroups/{t.resource_group.lower()}/" not in vault_id.lower():
            raise Stop(f"the Key Vault name {name} is held by a soft-deleted vault of another resource group ({vault_id})",
                       service=name)
        if not bool(getattr(props, "purge_protection_enabled", True)):
            r.emit("group", State.running, f"purging the soft-deleted Key Vault {name} left by an earlier rollback")
            arm.purge_vault(t, name)
            return
        r.emit("group", State.running, f"recovering the soft-deleted Key Vault {name} left by an earlier rollback")
        kv = t.clients.keyvault(t.subscription_id)
        kv.vaults.begin_create_or_update(t.resource_group, name, {
            "location": t.location,
            "properties": {"tenantId": self.session.principal.tenant_id, "sku": {"family": "A", "name": "standard"},
                           "createMode": "recover"},
        }, polling_interval=arm.WHATIF_POLL).result()
        r.journal_step("group", Phase.end, recovered_vault=name)

    def step_preview(self) -> None:
        r, t = self.r, self.target
        assert t is not None
        if first_data(r.records(), "deploy", "stack") is not None:
            return  # resuming after the stack was submitted: the preview was accepted then
        r.journal_step("preview", Phase.begin)
        r.emit("preview", State.running, "asking ARM what the deployment would change (what-if)")
        self.preview = run_preview(t, self.plan, self.template, self.parameters, r.run_id)
        for change in self.preview.changes:
            r.emit("preview", State.warning if not change.owned else State.log, change.describe())
        r.journal_step("preview", Phase.end, counts=self.preview.counts,
                       foreign=[c.resource_id for c in self.preview.foreign])
        r.emit("preview", State.done, self.preview.headline())
        if self.preview.foreign and not self.allow_foreign:
            listing = "; ".join(c.describe() for c in self.preview.foreign[:10])
            raise Stop(f"the deployment would change {len(self.preview.foreign)} resource(s) this install does not own: "
                       f"{listing}. Nothing was deployed. Re-run with {ALLOW_FOREIGN_FLAG} if that is intended, "
                       f"or choose another resource group (azure.resource_group)")

    def stack_body(self) -> dict[str, Any]:
        deny = DENY_BY_TIER[self.plan.tier]
        settings: dict[str, Any] = {"mode": deny}
        if deny != "none":
            settings["excludedPrincipals"] = [self.session.principal.object_id]
            settings["applyToChildScopes"] = False
        return {
            "tags": {TAG_INSTALL: self.plan.name, TAG_RUN: self.r.run_id},
            "properties": {
                "description": f"fabrix install {self.plan.name} ({self.plan.model.value}, tier {self.plan.tier.value})",
                "template": self.template,
                "parameters": self.parameters,
                "actionOnUnmanage": {"resources": "delete", "resourceGroups": "delete",
                                     "resourcesWithoutDeleteSupport": "detach"},
                "denySettings": settings,
            },
        }

    def step_deploy(self) -> None:
        r, t = self.r, self.target
        assert t is not None
        records = r.records()
        submitted = first_data(records, "deploy", "stack") is not None
        stack, _ = arm.stack_get(t)
        ours = stack is not None and (dict(getattr(stack, "tags", None) or {}).get(TAG_RUN) == r.run_id)
        if submitted and ours:
            state = arm.stack_state(stack)
            if state == "succeeded" and step_state(records).get("deploy") and step_state(records)["deploy"].phase is Phase.end:
                r.emit("deploy", State.skipped, "the stack was deployed before the interruption")
                self.stack = stack
                self.outputs = _outputs(stack)
                return
            r.emit("deploy", State.running, f"re-attaching to the stack {t.stack} ({state or 'unknown'})")
        else:
            if stack is not None and arm.stack_state(stack) not in ("succeeded", "failed", "canceled"):
                raise Stop(f"the stack {t.stack} is busy ({arm.stack_state(stack)}) with another run; "
                           "wait for it, or roll that run back first")
            from installer.launch.azure.private_link import prepare_first_deploy

            prepare_first_deploy(self, t)  # AKS re-run: keep Front Door's live origins and routes
            r.journal_step("deploy", Phase.begin, stack=t.stack, resource_group=t.resource_group,
                           deny=DENY_BY_TIER[self.plan.tier])
            r.emit("deploy", State.running, f"submitting the deployment stack {t.stack} "
                                            f"({len(self.template.get('resources') or [])} resources, deny settings "
                                            f"{DENY_BY_TIER[self.plan.tier]})")
            try:
                arm.stack_submit(t, self.stack_body())
            except HttpResponseError as exc:
                code, message = arm.arm_error(exc)
                r.journal_step("deploy", Phase.failed, error=code)
                raise Stop(f"ARM refused the deployment stack: {code}: {message}")
            r.journal_step("deploy", Phase.begin, stack=t.stack, submitted=True)
        self.stack = self.watch(t)
        self.outputs = _outputs(self.stack)
        r.journal_step("deploy", Phase.end, resources=len(arm.stack_resource_ids(self.stack)))
        r.emit("deploy", State.done, f"deployed {len(arm.stack_resource_ids(self.stack))} resource(s) in "
                                     f"{r.clock.elapsed():.0f}s")

    def watch(self, t: Target) -> Any:
        """Poll the stack and its deployment's operations until the stack is terminal: one event
        per resource state change. Honours Retry-After; cancel cancels the deployment first."""
        r = self.r
        interval = poll_seconds()
        cancelled_at: float | None = None
        while True:
            stack, retry_after = arm.stack_get(t)
            self.requests_polled += 1
            if stack is None:
                raise Stop(f"the stack {t.stack} disappeared while deploying (deleted by someone else?)")
            state = arm.stack_state(stack)
            deployment = arm.stack_deployment_name(stack)
            if deployment:
                self.progress(t, deployment)
            if state in ("succeeded", "failed", "canceled"):
                if state == "succeeded" and cancelled_at is None:
                    return stack
                if cancelled_at is not None or state == "canceled":
                    raise Stop("cancelled while the resources were deploying", cancelled=True)
                code, message = arm.stack_error(stack)
                failed = self.tracker.failed()
                if failed:
                    first = failed[0]
                    raise Stop(f"{first.resource} failed: {first.error_code}: {first.error_message}",
                               service=first.resource)
                raise Stop(f"the deployment failed: {code}: {message}")
            if r.cancel.is_set() and cancelled_at is None:
                cancelled_at = time.monotonic()
                r.emit("deploy", State.running, "cancelling the running deployment")
                if deployment:
                    arm.cancel_deployment(t, deployment)
            wait = interval
            if retry_after is not None:
                wait = min(MAX_POLL, max(wait, retry_after))
            if cancelled_at is not None:
                time.sleep(wait)
            else:
                arm.sleep(wait, r.cancel)

    def progress(self, t: Target, deployment: str) -> None:
        r = self.r
        ops = arm.operations(t, deployment)
        self.requests_polled += 1
        for row in self.tracker.update(ops):
            r.emit("deploy", row.state, row.message(), service=row.resource,
                   data={"arm_state": row.arm_state, "duration": row.duration, "resource_id": row.resource_id,
                         **({"error_code": row.error_code} if row.error_code else {})})

    def step_postdeploy(self) -> None:
        from installer.launch.azure import postdeploy

        r = self.r
        if step_state(r.records()).get("postdeploy") and step_state(r.records())["postdeploy"].phase is Phase.end:
            return
        assert self.target is not None
        postdeploy.run(self, self.target)

    def step_register(self) -> None:
        """The dataplane registration inside the network (installer/launch/azure/registration_job.py)."""
        from installer.launch.azure import registration_job

        done = step_state(self.r.records()).get(registration_job.STEP)
        if done is not None and done.phase is Phase.end:
            return
        assert self.target is not None
        registration_job.run(self, self.target)

    def step_private_link(self) -> None:
        """AKS: wait for the ingress's Private Link service, deploy the stack again with Front
        Door's origins and routes, approve Front Door's connection (private_link.py). Before the
        registration: the second deployment PUTs the template's Key Vault secrets again, which
        would overwrite the credentials the registration writes."""
        from installer.launch.azure import private_link

        assert self.target is not None
        private_link.run(self, self.target)

    def step_probe(self) -> None:
        from installer.launch.azure import smoke

        assert self.target is not None
        self.probe_results = smoke.probe(self, self.target)

    # ---- outcome ------------------------------------------------------------------------

    def summary_message(self) -> tuple[Summary, str]:
        from installer.launch.azure import smoke
        from installer.render.workload import azure_names

        names = azure_names(self.plan)
        urls = smoke.front_door_urls(self, self.target) if self.target else {}
        vault = str(self.outputs.get("keyVaultName") or names.key_vault)
        group = self.target.resource_group if self.target else names.resource_group
        first = "Keycloak's admin, password = Key Vault secret keycloak-admin-password"
        summary = Summary(name=self.plan.name, project=stack_name(self.plan), urls=urls, admin_user="admin",
                          admin_email=self.plan.identity.admin_email, secrets_file=str(self.r.folder.secrets),
                          bundle_dir=str(self.r.folder.bundle), services=sorted(urls),
                          front_door_urls=dict(urls), resource_group=group, key_vault=vault, first_sign_in=first)
        message = (f"{self.plan.name} is deployed to Azure: stack {stack_name(self.plan)} in resource group {group} "
                   f"({len(arm.stack_resource_ids(self.stack)) if self.stack is not None else 0} resources) in "
                   f"{self.r.clock.elapsed():.0f}s. Secrets are in Key Vault {vault} (and {self.r.folder.secrets} here); "
                   f"first sign-in: {first}. "
                   f"Remove it with `fabrix down --name {self.plan.name}`.")
        return summary, message

    def diagnose(self, stop: Stop) -> Diagnostics:
        """Before anything is removed: the failed operations with ARM's code and message, the
        post-deploy job's status and exit codes."""
        lines: list[str] = []
        for row in self.tracker.failed():
            lines.append(f"{row.resource}: {row.error_code}: {row.error_message}")
        lines += [f"{k}: {v}" for k, v in self.postdeploy_detail.items()]
        if lines:
            self.r.emit("diagnostics", State.failed, "; ".join(lines)[:2000], service=stop.service)
        return Diagnostics(reason=stop.reason, service=stop.service,
                           state=(self.tracker.rows[stop.service].arm_state
                                  if stop.service in self.tracker.rows else None),
                           log_lines=lines[-30:])

    def rollback(self, reporter: Reporter) -> RollbackResult:
        from installer.launch.azure.teardown import rollback_run

        return rollback_run(self.plan, self.r.journal, self.r.run_id, reporter, self.session)

    def failure_message(self, stop: Stop, diagnostics: Diagnostics, rollback: RollbackResult | None) -> str:
        what = (f"The launch of {self.plan.name} was cancelled ({stop.reason})." if stop.cancelled
                else f"The launch of {self.plan.name} failed: {stop.reason}.")
        if diagnostics.log_lines and not stop.cancelled:
            what += f" ARM says: {diagnostics.log_lines[0][:400]}."
        if rollback is not None:
            what += f" {rollback.message}"
        return what


def _outputs(stack: Any) -> dict[str, Any]:
    from installer.launch.azure.preview import _get

    raw = _get(_get(stack, "properties") or stack, "outputs") or {}
    return {k: (v.get("value") if isinstance(v, dict) and "value" in v else v) for k, v in dict(raw).items()}


def run_preview(t: Target, plan: InstallPlan, template: dict[str, Any], parameters: dict[str, Any], run_id: str) -> Preview:
    """What-if of the template in the group. A group that does not exist yet: everything is new."""
    if arm.group_get(t) is None:
        resources = template.get("resources") or []
        return Preview({"create": len(resources), "modify": 0, "delete": 0, "noChange": 0}, [])
    try:
        result = arm.what_if(t, f"fabrix-{plan.name}-whatif"[:64], template, parameters)
    except HttpResponseError as exc:
        code, message = arm.arm_error(exc)
        raise Stop(f"ARM could not preview the deployment: {code}: {message}") from exc
    return preview_from_whatif(result, plan.name)


def preview(plan: InstallPlan, reporter: Reporter, session: Any = None) -> Preview:
    """``fabrix up --preview``: sign in, render, what-if; changes nothing (not even the group)."""
    from installer.azure import SignInOptions, sign_in
    from installer.pipeline import render_and_validate
    from installer.progress import ProgressEvent
    from installer.render.foundation import TIER_FILES

    if plan.model is DeploymentModel.manual or not plan.is_azure():
        raise UsageError(f"install {plan.name!r} is not launched on Azure by fabrix; nothing to preview",
                         "use `fabrix render` to see the blueprints")
    session = session or sign_in(SignInOptions.from_plan(plan))
    t = target_for(plan, session.clients)
    bundle, inp = render_and_validate(plan)
    template = json.loads(bundle.files["arm/mainTemplate.json"])
    raw = bundle.files[TIER_FILES[plan.tier]]
    parameters, _ = deployment_parameters(raw.decode() if isinstance(raw, bytes) else raw, template, inp.secrets,
                                          install=plan.name)
    try:
        result = run_preview(t, plan, template, parameters, "preview")
    except Stop as stop:
        raise FabrixError(stop.reason) from None
    for change in result.changes:
        reporter(ProgressEvent(step="preview", state=State.warning if not change.owned else State.log,
                               message=change.describe(), service=change.name))
    reporter(ProgressEvent(step="preview", state=State.done, message=result.headline()))
    return result
