"""Target: for Compose, this machine (bind address, data folder, ports); for Azure, where it goes."""

from __future__ import annotations

from typing import Any

import importlib

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, Select, Static

from installer.catalog import load_catalog
from installer.flow import Step
from installer.errors import FabrixError
from installer.plan import AzureCloud, InstallPlan
from screens.dialogs.choice import ChoiceDialog
from screens.messages import AzureLocations, AzureNote, AzureSignedIn
from installer.state import install_dir
from screens.steps.form import FormStep
from screens.widgets.field import Field


class TargetScreen(FormStep):
    STEP = Step.target
    HELP = (
        "Where the platform goes. **Install name** names the install's state folder and every"
        " container, volume or Azure resource it creates.\n\n"
        "For Docker Compose: the address published ports bind to (127.0.0.1 keeps the stack"
        " private to this machine), the data folder, and a host port per service.\n\n"
        "For Azure: the cloud, tenant, subscription and region. Each field is checked as you type;"
        " Next stays disabled until every field is valid."
    )

    DEFAULT_FOCUS = ("Field Input", "#nav-next", "#body")
    session: Any = None
    _tenants: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        plan = self.plan
        yield Field("Install name", "name", plan.name, hint="lowercase letters, digits and '-'")
        if not plan.is_azure():
            yield Static("This machine (Docker Compose)", classes="section")
            yield Field("Bind address", "compose.bind_address", plan.compose.bind_address)
            yield Field(
                "Data folder", "compose.data_dir", plan.compose.data_dir or "",
                placeholder=str(install_dir(plan.name).data), hint="empty: inside the install's state folder",
            )
            catalog = load_catalog()
            for name in plan.enabled_components(catalog):
                default = catalog.components[name].host_port
                if default is None:
                    continue
                yield Field(
                    f"Host port for {catalog.components[name].title}", f"compose.ports.{name}",
                    str(plan.compose.ports.get(name, "")), placeholder=str(default),
                )
        else:
            azure = plan.azure
            yield Static("Azure", classes="section")
            yield Label("Cloud (public, US Gov, China, or custom for a sovereign/private ARM endpoint)")
            yield Select(
                [(c.value, c) for c in AzureCloud], value=azure.cloud, allow_blank=False, id="cloud", compact=True,
            )
            yield Field("ARM endpoint (cloud: custom)", "azure.arm_endpoint", azure.arm_endpoint or "",
                        placeholder="https://management.example.local")
            yield Button("Sign in to Azure", id="sign-in", compact=True)
            yield Static("Or type the IDs below; each is checked for format.", id="sign-in-note")
            picker = Select[str]([], prompt="Subscription (after sign-in)", id="subscription-pick", compact=True)
            picker.display = False
            yield picker
            regions = Select[str]([], prompt="Region (after choosing a subscription)", id="location-pick",
                                  compact=True)
            regions.display = False
            yield regions
            yield Field("Tenant ID", "azure.tenant_id", azure.tenant_id or "",
                        placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
            yield Field("Subscription ID", "azure.subscription_id", azure.subscription_id or "",
                        placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
            yield Field("Region", "azure.location", azure.location or "", placeholder="swedencentral")
            yield Field("Resource group", "azure.resource_group", azure.resource_group or "",
                        placeholder=f"rg-{plan.name}")
            yield Field("Resource name prefix", "azure.name_prefix", azure.name_prefix or "",
                        placeholder="aifx")

    def action_next(self) -> None:
        """Before planning over an install that is up, say so once and let the person choose."""
        from installer.installs import InstallState

        name = self._value("name")
        info = self.wizard.known_installs.get(name)
        live = (InstallState.running, InstallState.starting, InstallState.failed, InstallState.unfinished)
        if not self.valid or info is None or info.state not in live or name in self.wizard.replan_ok:
            super().action_next()
            return

        def answered(choice: str | None) -> None:
            if choice == "update":
                self.wizard.replan_ok.add(name)
                super(TargetScreen, self).action_next()
            else:
                self.query_one(f"#{self._field_id('name')} Input", Input).focus()

        self.app.push_screen(ChoiceDialog(
            f"{name} is already installed here ({info.state.value})",
            f"{info.describe()}.\nGoing on plans an update of it: the same containers, ports and data"
            " volumes. Review's Changes tab shows what the update changes; nothing happens before Launch.",
            [("rename", "Choose another name"), ("update", "Plan an update")],
        ), answered)

    def _field_id(self, path: str) -> str:
        return next(f.id for f in self.query(Field) if f.path == path) or ""

    def _value(self, path: str) -> str:
        for field in self.query(Field):
            if field.path == path:
                return field.value
        return ""

    def updates(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self._value("name")}
        if not self.plan.is_azure():
            ports = {
                f.path.rsplit(".", 1)[1]: f.value
                for f in self.query(Field)
                if f.path.startswith("compose.ports.") and f.value
            }
            out["compose"] = {
                "bind_address": self._value("compose.bind_address"),
                "data_dir": self._value("compose.data_dir") or None,
                "ports!": ports,
            }
        else:
            cloud = self.query_one("#cloud", Select).value
            out["azure"] = {
                "cloud": cloud if isinstance(cloud, str) else AzureCloud.public.value,
                **{
                    key: self._value(f"azure.{key}") or None
                    for key in ("arm_endpoint", "tenant_id", "subscription_id", "location",
                                "resource_group", "name_prefix")
                },
            }
        return out

    @on(Select.Changed, "#cloud")
    def _cloud_changed(self, _event: Select.Changed) -> None:
        self.revalidate()

    @on(Button.Pressed, "#sign-in")
    def _sign_in(self, _event: Button.Pressed) -> None:
        self.query_one("#sign-in-note", Static).update("Signing in… (Azure CLI login, then a service principal, then a device code)")
        plan, _errors = self.candidate()
        self.sign_in(plan or self.plan)

    @work(thread=True, exclusive=True, group="azure", exit_on_error=False)
    def sign_in(self, plan: InstallPlan) -> None:
        try:
            azure = importlib.import_module("installer.azure")
        except ImportError as exc:
            self.post_message(AzureNote(f"Azure sign-in is not part of this build ({exc}); enter the IDs by hand."))
            return

        def show_code(url: str, code: str, _expires: object) -> None:
            self.post_message(AzureNote(f"To sign in, open {url} and enter the code [b]{code}[/b]."))

        try:
            prompt = show_code if self.wizard.deps.azure_device_code else None
            session = azure.sign_in(azure.SignInOptions.from_plan(plan), prompt_callback=prompt)
            subscriptions = azure.list_subscriptions(session)
        except FabrixError as exc:
            self.post_message(AzureNote(f"✗ {exc.message}" + (f"\n  fix: {exc.hint}" if exc.hint else "")))
            return
        except Exception as exc:  # an SDK or network error: say it, keep manual entry working
            self.post_message(AzureNote(f"✗ Azure did not answer: {type(exc).__name__}: {exc}"))
            return
        self.post_message(AzureSignedIn(session, session.principal.describe(), subscriptions))

    @work(thread=True, exclusive=True, group="azure-locations", exit_on_error=False)
    def load_locations(self, session: Any, subscription_id: str) -> None:
        from installer.azure import list_locations

        try:
            locations = list_locations(session, subscription_id)
        except Exception as exc:  # keep the typed region; say why the list is missing
            self.post_message(AzureNote(f"✗ Could not list regions: {type(exc).__name__}: {exc}"))
            return
        self.post_message(AzureLocations(subscription_id, locations))

    def on_azure_note(self, message: AzureNote) -> None:
        self.query_one("#sign-in-note", Static).update(message.text)

    async def on_azure_signed_in(self, message: AzureSignedIn) -> None:
        self.session = message.session
        self.wizard.azure_session = message.session  # Prerequisites reuses this sign-in
        usable = [s for s in message.subscriptions if s.state in ("Enabled", "Warned")]
        self.query_one("#sign-in-note", Static).update(
            f"✓ Signed in as {message.who}. {len(usable)} usable subscription(s): pick one below."
        )
        picker = self.query_one("#subscription-pick", Select)
        picker.set_options([(f"{s.display_name} ({s.subscription_id})", s.subscription_id) for s in usable])
        picker.display = bool(usable)
        self._tenants = {s.subscription_id: s.tenant_id for s in usable}
        current = self._value("azure.subscription_id")
        if current in self._tenants:
            picker.value = current

    def on_azure_locations(self, message: AzureLocations) -> None:
        picker = self.query_one("#location-pick", Select)
        picker.set_options([(f"{loc.display_name} ({loc.name})", loc.name) for loc in message.locations])
        picker.display = bool(message.locations)
        current = self._value("azure.location")
        if current in {loc.name for loc in message.locations}:
            picker.value = current

    def _set_field(self, path: str, value: str) -> None:
        for field in self.query(Field):
            if field.path == path:
                field.query_one(Input).value = value

    @on(Select.Changed, "#subscription-pick")
    def _subscription_picked(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str):
            return
        self._set_field("azure.subscription_id", event.value)
        tenant = self._tenants.get(event.value)
        if tenant:
            self._set_field("azure.tenant_id", tenant)
        if self.session is not None:
            self.load_locations(self.session, event.value)

    @on(Select.Changed, "#location-pick")
    def _location_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._set_field("azure.location", event.value)
