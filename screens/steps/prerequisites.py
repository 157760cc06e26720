"""Prerequisites: the plan's checks, running live and concurrently; re-check; fails block Launch."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from installer.checks import CheckContext, Status, run_checks
from installer.checks.base import summarize
from installer.flow import Step
from screens.deps import NotBuilt
from screens.messages import CheckFinished, ChecksDone, ChecksPlanned
from screens.steps.base import StepScreen
from screens.widgets.check_row import CheckRow


class PrerequisitesScreen(StepScreen):
    STEP = Step.prerequisites
    HELP = (
        "The checks this plan needs, all running at once: Docker Engine and Compose v2, free"
        " ports, disk and memory for Compose; sign-in, permissions and quotas for Azure.\n\n"
        "Each row says PASS, WARN or FAIL, what was found, and the exact fix. Fix it in another"
        " terminal and press **Ctrl+R** to re-check. A failing check blocks Launch, but you can"
        " still go on to Review to read, save and export the plan."
    )
    BINDINGS = [Binding("ctrl+r", "recheck", "Re-check", id="recheck", tooltip="Run every check again")]
    # The rows can run below the fold at 80×24: start on the scrolling body so arrows, PageDown
    # and End read them; Enter still moves on (the body does not use it).
    DEFAULT_FOCUS = ("#body",)

    def compose_body(self) -> ComposeResult:
        yield Static("Checking…", id="checks-summary", classes="section")
        yield Vertical(id="checks")

    def on_mount(self) -> None:
        # The checks start once the step is on screen ("Checking…"), not before its first paint.
        self.call_after_refresh(self.action_recheck)

    def action_recheck(self) -> None:
        self.wizard.check_results = None
        self.query_one("#checks-summary", Static).update("Checking…")
        self.run_all(self.plan)

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False)
    def run_all(self, plan: object) -> None:
        try:
            checks = self.wizard.deps.checks(self.plan)
        except (ImportError, NotBuilt) as exc:
            self.post_message(ChecksDone(problem=f"the checks for this path are not part of this build yet ({exc})"))
            return
        self.post_message(ChecksPlanned([(c.id, c.title) for c in checks]))
        for result in run_checks(checks, CheckContext(plan=self.plan, cache=self._reused_sign_in())):
            self.post_message(CheckFinished(result))
        self.post_message(ChecksDone())

    def _reused_sign_in(self) -> dict[str, Any]:
        """The Target step's Azure sign-in for the checks (``installer.checks.azure`` reads the
        ``azure.session`` cache key), when it is for this plan's cloud and tenant."""
        if not self.plan.is_azure():
            return {}
        cache: dict[str, Any] = {}
        if self.wizard.deps.azure_device_code:
            # Where a person without `az` or a service principal gets a token in the wizard.
            cache["azure.signin_elsewhere"] = "go Back to Target and press “Sign in to Azure”"
        if self.wizard.azure_signin_attempts:
            # How the Target step's own sign-in failed (a device code with the network down…):
            # the advice must not send the person back to what just failed.
            cache["azure.signin_earlier"] = list(self.wizard.azure_signin_attempts)
        session = self.wizard.azure_session
        if session is not None and session.serves(self.plan):
            cache["azure.session"] = session
        return cache

    async def on_checks_planned(self, message: ChecksPlanned) -> None:
        box = self.query_one("#checks", Vertical)
        await box.remove_children()
        self.wizard.check_results = {}
        await box.mount_all([CheckRow(check_id, title) for check_id, title in message.checks])

    def on_check_finished(self, message: CheckFinished) -> None:
        result = message.result
        if self.wizard.check_results is None:
            self.wizard.check_results = {}
        self.wizard.check_results[result.id] = result
        rows = {row.check_id: row for row in self.query(CheckRow)}
        cause = rows.get(str(result.details.get("blocked_by") or ""))
        row = rows.get(result.id)
        if cause is not None and row is not None and cause is not row:
            # Not verified because another check failed: named once, under that check.
            row.display = False
            cause.add_dependent(result.title, list(rows).index(result.id))
        elif row is not None:
            row.display = True
            row.show(result)

    def on_checks_done(self, message: ChecksDone) -> None:
        summary = self.query_one("#checks-summary", Static)
        if message.problem:
            self.wizard.check_results = None
            summary.update(f"ⓘ Not checked: {message.problem}. Review and export still work.")
            return
        results = list((self.wizard.check_results or {}).values())
        counts = summarize(results)
        text = (
            f"{counts[Status.passed.value]} passed · {counts[Status.warn.value]} warning(s) ·"
            f" {counts[Status.fail.value]} failed · {counts[Status.unknown.value]} not verified"
        )
        if counts[Status.fail.value]:
            text += "\nA failing check blocks Launch (not Review or export). Fix it, then Ctrl+R."
        summary.update(text)
