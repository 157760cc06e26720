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
from installer.exposure import KEEP_PRIVATE, bind_exposure
from installer.plan import AZURE_DEFAULT_PREFIX, AzureCloud, InstallPlan, default_resource_group
from screens.dialogs.choice import ChoiceDialog
from screens.messages import AzureLocations, AzureNote, AzureSignedIn, DataFolderChecked
from installer.state import install_dir
from screens.steps.form import FormStep
from screens.widgets.field import Field


REGION_UNCHECKED = "checked against your subscription's regions after you sign in"
REGION_CHECKING = "checking against the subscription's regions…"


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Regions per subscription (lower-case id), listed once by a worker; the typed region is
        # checked against them. _asked: subscriptions whose list is loading or failed to load.
        self._regions: dict[str, list[Any]] = {}
        self._asked: set[str] = set()
        self._unlisted: set[str] = set()  # listing failed: say unchecked, not "checking…"

    def on_mount(self) -> None:
        session = self.wizard.azure_session
        if session is not None and self.plan.is_azure() and session.serves(self.plan):
            self.session = session  # signed in earlier in this wizard: regions can be checked
        super().on_mount()

    def compose_body(self) -> ComposeResult:
        plan = self.plan
        yield Field("Install name", "name", plan.name, hint="lowercase letters, digits and '-'")
        if not plan.is_azure():
            yield Static("This machine (Docker Compose)", classes="section")
            yield Field("Bind address", "compose.bind_address", plan.compose.bind_address)
            yield Field(
                "Data folder", "compose.data_dir", plan.compose.data_dir or "",
                placeholder=self._default_data_dir(plan.name), hint="empty: inside the install's state folder",
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
            endpoint = Field("ARM endpoint (cloud: custom)", "azure.arm_endpoint", azure.arm_endpoint or "",
                             placeholder="https://management.example.local")
            endpoint.display = azure.cloud is AzureCloud.custom  # the other clouds' endpoints are known
            yield endpoint
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
            yield Field("Region", "azure.location", azure.location or "", placeholder="swedencentral",
                        hint=REGION_UNCHECKED)
            yield Field("Resource group", "azure.resource_group", azure.resource_group or "",
                        placeholder=default_resource_group(azure.name_prefix, plan.name))
            yield Field("Resource name prefix", "azure.name_prefix", azure.name_prefix or "",
                        placeholder=AZURE_DEFAULT_PREFIX)

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

    @staticmethod
    def _default_data_dir(name: str) -> str:
        try:
            return str(install_dir(name).data)
        except Exception:  # noqa: BLE001 - a name being typed may not be valid yet
            return ""

    def _field(self, path: str) -> Field | None:
        return next((f for f in self.query(Field) if f.path == path), None)

    def revalidate(self) -> None:
        super().revalidate()
        self._show_defaults()
        if not self.plan.is_azure():
            bind = self._field("compose.bind_address")
            if bind is not None:
                exposure = bind_exposure(bind.value)
                bind.show_warning(f"{exposure}; {KEEP_PRIVATE}" if exposure else None)
            self._look_at_data_folder()
            return
        problem = self._region_problem()
        region = self._field("azure.location")
        if problem and region is not None:
            region.show_error(problem)
            self.valid = False
            self.problem = self.problem or "✗ fix the marked field"

    def _look_at_data_folder(self) -> None:
        """Whether the typed data folder is usable, found by a worker (it touches the disk)."""
        folder = self._field("compose.data_dir")
        if folder is None or folder.has_class("-invalid"):
            return
        plan, _errors = self.candidate()
        if plan is not None and folder.value != getattr(self, "_looked_at", None):
            self._looked_at = folder.value
            self.check_data_folder(plan, folder.value)

    @work(thread=True, exclusive=True, group="datafolder", exit_on_error=False)
    def check_data_folder(self, plan: InstallPlan, typed: str) -> None:
        from installer.datafolder import folder_problem

        try:
            problem = folder_problem(plan)
        except (OSError, ValueError) as exc:
            self.post_message(DataFolderChecked(typed, f"cannot look at it: {exc}"))
            return
        self.post_message(DataFolderChecked(typed, f"{problem.found} — fix: {problem.fix}" if problem else None))

    def on_data_folder_checked(self, message: DataFolderChecked) -> None:
        folder = self._field("compose.data_dir")
        if folder is not None and folder.value == message.folder:
            # A warning, not an error: the folder may be made usable before Launch (whose check blocks).
            folder.show_warning(message.problem)

    def _show_defaults(self) -> None:
        """Placeholders follow what is typed: they show what an empty field will really become."""
        name = self._value("name") or self.plan.name
        if not self.plan.is_azure():
            folder = self._field("compose.data_dir")
            default = self._default_data_dir(name)
            if folder is not None and default:
                folder.set_placeholder(default)
            return
        group = self._field("azure.resource_group")
        if group is not None:
            group.set_placeholder(default_resource_group(self._value("azure.name_prefix") or None, name))
        endpoint = self._field("azure.arm_endpoint")
        if endpoint is not None:
            endpoint.display = self._cloud() == AzureCloud.custom.value

    def _cloud(self) -> str:
        cloud = self.query_one("#cloud", Select).value
        return cloud if isinstance(cloud, str) else AzureCloud.public.value

    def _region_problem(self) -> str | None:
        """The typed region against the subscription's regions (listed by a worker, once per
        subscription); None while unknown — Prerequisites checks it again."""
        region = self._field("azure.location")
        typed, subscription = self._value("azure.location"), self._value("azure.subscription_id").lower()
        if region is None:
            return None
        hint = region.query(".hint")
        known = self._regions.get(subscription)
        sub_field = self._field("azure.subscription_id")
        whole_id = len(subscription) == 36 and sub_field is not None and not sub_field.has_class("-invalid")
        if known is None:
            if self.session is not None and whole_id and subscription not in self._asked:
                self._asked.add(subscription)
                self.load_locations(self.session, self._value("azure.subscription_id"))
            waiting = self.session is not None and subscription in self._asked
            text = REGION_UNCHECKED
            if subscription in self._unlisted:
                text = "not checked: the subscription's regions could not be listed (Prerequisites checks it)"
            elif waiting:
                text = REGION_CHECKING
            for static in hint:
                static.update(text)  # type: ignore[attr-defined]
            return None
        for static in hint:
            static.update(f"checked against the {len(known)} regions of this subscription")  # type: ignore[attr-defined]
        if not typed or region.has_class("-invalid"):
            return None
        from installer.azure.subscriptions import region_problem

        return region_problem(typed, known)

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
            cloud = self._cloud()
            out["azure"] = {
                "cloud": cloud,
                **{
                    key: self._value(f"azure.{key}") or None
                    for key in ("arm_endpoint", "tenant_id", "subscription_id", "location",
                                "resource_group", "name_prefix")
                },
            }
            if cloud != AzureCloud.custom.value:
                out["azure"]["arm_endpoint"] = None  # only the custom cloud has one to give
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
            self.wizard.azure_signin_attempts = list(getattr(exc, "attempts", []))
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
            self._unlisted.add(subscription_id.lower())
            self.post_message(AzureNote(f"✗ Could not list regions (the region is checked again on Prerequisites): "
                                        f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(AzureLocations(subscription_id, locations))

    def on_azure_note(self, message: AzureNote) -> None:
        self.query_one("#sign-in-note", Static).update(message.text)
        if self.plan.is_azure():
            self.revalidate()  # the region's hint follows (e.g. its list could not be read)

    async def on_azure_signed_in(self, message: AzureSignedIn) -> None:
        self.session = message.session
        self.wizard.azure_session = message.session  # Prerequisites reuses this sign-in
        self.wizard.azure_signin_attempts = []
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
        self._regions[message.subscription_id.lower()] = list(message.locations)
        self._asked.add(message.subscription_id.lower())
        picker = self.query_one("#location-pick", Select)
        picker.set_options([(f"{loc.display_name} ({loc.name})", loc.name) for loc in message.locations])
        picker.display = bool(message.locations)
        current = self._value("azure.location")
        if current in {loc.name for loc in message.locations}:
            picker.value = current
        self.revalidate()

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
        if self.session is not None and event.value.lower() not in self._asked:
            self._asked.add(event.value.lower())
            self.load_locations(self.session, event.value)

    @on(Select.Changed, "#location-pick")
    def _location_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._set_field("azure.location", event.value)
