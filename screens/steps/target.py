"""Target: for Compose, this machine (bind address, data folder, ports); for Azure, where it goes."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Select, Static

from installer.catalog import load_catalog
from installer.flow import Step
from installer.plan import AzureCloud
from installer.state import install_dir
from screens.deps import NotBuilt, _optional
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
            yield Select(
                [(c.value, c) for c in AzureCloud], value=azure.cloud, allow_blank=False, id="cloud",
            )
            yield Field("ARM endpoint (cloud: custom)", "azure.arm_endpoint", azure.arm_endpoint or "",
                        placeholder="https://management.example.local")
            yield Button("Sign in to Azure", id="sign-in", compact=True)
            yield Static("", id="sign-in-note")
            yield Field("Tenant ID", "azure.tenant_id", azure.tenant_id or "",
                        placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
            yield Field("Subscription ID", "azure.subscription_id", azure.subscription_id or "",
                        placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
            yield Field("Region", "azure.location", azure.location or "", placeholder="swedencentral")
            yield Field("Resource group", "azure.resource_group", azure.resource_group or "",
                        placeholder=f"rg-{plan.name}")
            yield Field("Resource name prefix", "azure.name_prefix", azure.name_prefix or "",
                        placeholder="aifx")

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
        self.query_one("#sign-in-note", Static).update("Signing in…")
        self.sign_in()

    @work(thread=True, exclusive=True, group="azure", exit_on_error=False)
    def sign_in(self) -> None:
        try:
            _optional("installer.azure", "sign_in")
        except NotBuilt:
            self.app.call_from_thread(
                self.query_one("#sign-in-note", Static).update,
                "Azure sign-in is not part of this build yet: enter the tenant, subscription and"
                " region by hand (each is checked for format).",
            )
            return
        self.app.call_from_thread(
            self.query_one("#sign-in-note", Static).update,
            "Azure sign-in from the wizard is not wired in yet: use `az login`, then enter the IDs.",
        )
