"""Options: components, size, tier, admin email, registry (+ password to the secret store), images."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Collapsible, Input, Label, RadioButton, RadioSet, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from installer.catalog import Catalog, load_catalog
from installer.flow import Step
from installer.plan import PullPolicy, Size, Tier
from installer.secrets import SecretStore
from installer.state import install_dir
from screens.steps.form import FormStep
from screens.widgets.field import Field

REGISTRY_SECRET = "registry_password"


class OptionsScreen(FormStep):
    STEP = Step.options
    HELP = (
        "What to install and how big.\n\n"
        "- **Components**: Space toggles one; what a component needs is added for you.\n"
        "- **Size**: S/M/L/XL, the vendor's sizing presets (the line underneath says what each means).\n"
        "- **Registry**: the private registry for the vendor's images (Miso controller, dataplane)."
        " The password goes to the install's secret store (mode 0600), never into the answers file.\n"
        "- **Image overrides**: replace a component's image, e.g. with a mirror.\n\n"
        "Every field is checked as you type with the same messages `fabrix validate` prints."
    )

    # The defaults usually fit: Enter on Next moves on; Tab reaches the components list first.
    DEFAULT_FOCUS = ("#nav-next", "#body")
    # The default profile the components list was last set to (None until mounted).
    _default_shown: list[str] | None = None

    def compose_body(self) -> ComposeResult:
        plan = self.plan
        catalog = load_catalog()
        enabled = set(plan.enabled_components(catalog))
        yield Static("Components", classes="section")
        yield SelectionList[str](
            *[
                Selection(
                    f"{comp.title}" + (" (private registry)" if comp.private else ""), name, name in enabled
                )
                for name, comp in catalog.components.items()
                if name in self._listed(catalog)
            ],
            id="components",
        )
        yield Static("Size", classes="section")
        with RadioSet(id="size"):
            for size in Size:
                spec = catalog.sizes[size.value]
                yield RadioButton(f"{size.value.upper()} {spec.title}", value=plan.size is size, id=f"size-{size.value}")
        yield Static("", id="size-meaning", classes="hint")
        yield Static("Tier", classes="section")
        yield Select([(t.value, t) for t in Tier], value=plan.tier, allow_blank=False, id="tier", compact=True)
        yield Static("", classes="spacer")
        yield Field("Administrator email", "identity.admin_email", plan.identity.admin_email)
        yield Static("Private registry", classes="section")
        yield Static(
            "The AI Fabrix core (Miso controller, dataplane) runs from private images in the vendor's "
            f"registry {catalog.platform.private_registry}: ask AI Fabrix for access, then enter it here "
            "with your registry user and password. Left empty, the core is left out and the rest launches.",
            classes="hint", id="registry-note")
        yield Field("Registry host", "images.registry", plan.images.registry or "",
                    placeholder=catalog.platform.private_registry,
                    hint="empty: no AI Fabrix core (its images need the vendor's registry)")
        yield Field("Registry user", "images.username", plan.images.username or "")
        yield Field("Registry password", "registry_password", self.wizard.registry_password, password=True,
                    hint="stored in the install's secret store (0600), never in the answers file")
        typed = any(key.startswith("field:images.overrides.") and text for key, text in self.wizard.drafts.items())
        opened = bool(plan.images.overrides) or typed
        with Collapsible(title="Image overrides and pull policy", id="images", collapsed=not opened):
            yield Label("Pull policy (always, missing, never)")
            yield Select([(p.value, p) for p in PullPolicy], value=plan.images.pull, allow_blank=False, id="pull",
                         compact=True)
            yield Static("", classes="spacer")
            if opened:
                yield from self._override_fields(catalog)

    def _override_fields(self, catalog: Catalog) -> list[Field]:
        """One field per listed component, not only the enabled ones: an override (a mirror) is how
        a private component runs without the vendor's registry, as in `fabrix render`.

        Built when the section opens, not with the step: ten closed fields were half the time it
        took to open Options (issue 11's step-change goal).
        """
        return [Field(f"Image for {name}", f"images.overrides.{name}", self.plan.images.overrides.get(name, ""),
                      placeholder=self.plan.image_for(name, catalog))
                for name in sorted(self._listed(catalog))]

    @on(Collapsible.Expanded, "#images")
    async def _images_opened(self) -> None:
        if not self._override_field_list():
            contents = self.query_one("#images", Collapsible).query_one(Collapsible.Contents)
            await contents.mount_all(self._override_fields(load_catalog()))

    def _listed(self, catalog: Catalog) -> list[str]:
        return [name for name, comp in catalog.components.items() if not (self.plan.is_azure() and comp.compose_only)]

    def on_mount(self) -> None:
        self._show_size()
        super().on_mount()
        self._default_shown = self._default_profile()

    def _override_field_list(self) -> list[Field]:
        return [f for f in self.query(Field) if f.path.startswith("images.overrides.")]

    def _overrides(self) -> dict[str, str]:
        fields = self._override_field_list()
        if not fields:  # the section was never opened: nothing was typed, the plan's stand
            return dict(self.plan.images.overrides)
        return {f.path.rsplit(".", 1)[1]: f.value for f in fields if f.value}

    def _default_profile(self) -> list[str]:
        """What ``fabrix render`` would run with no component list, given the registry and image
        overrides as typed here (the engine's rule, so the wizard and the CLI agree)."""
        images = self.plan.images.model_copy(update={"registry": self._value("images.registry") or None,
                                                     "overrides": self._overrides()})
        return self.plan.model_copy(update={"components": None, "images": images}).enabled_components(load_catalog())

    @on(Input.Changed)
    def _follow_default_profile(self, _event: Input.Changed) -> None:
        # Still on the default profile? Then a registry or a mirror typed here brings the core in
        # (and taking it away takes it out), as the same answers would in `fabrix render`.
        previous = self._default_shown
        default = self._default_profile()
        if previous is None or default == previous:
            return
        self._default_shown = default
        components = self.query_one("#components", SelectionList)
        if sorted(components.selected) == sorted(previous):
            with components.prevent(SelectionList.SelectedChanged):
                components.deselect_all()
                for name in default:
                    components.select(name)

    def _show_size(self) -> None:
        pressed = self.query_one("#size", RadioSet).pressed_button
        size = (pressed.id or "size-s").removeprefix("size-") if pressed else self.plan.size.value
        self.query_one("#size-meaning", Static).update(load_catalog().sizes[size].summary)  # type: ignore[index]

    def _value(self, path: str) -> str:
        for field in self.query(Field):
            if field.path == path:
                return field.value
        return ""

    def updates(self) -> dict[str, Any]:
        chosen = list(self.query_one("#components", SelectionList).selected)
        pressed = self.query_one("#size", RadioSet).pressed_button
        tier = self.query_one("#tier", Select).value
        pull = self.query_one("#pull", Select).value
        overrides = self._overrides()
        return {
            # Keep "the default profile" as no list at all, so the answers file stays short.
            "components": None if sorted(chosen) == sorted(self._default_profile()) else chosen,
            "size": (pressed.id or "size-s").removeprefix("size-") if pressed else self.plan.size.value,
            "tier": tier if isinstance(tier, str) else self.plan.tier.value,
            "identity": {"admin_email": self._value("identity.admin_email")},
            "images": {
                "registry": self._value("images.registry") or None,
                "username": self._value("images.username") or None,
                "pull": pull if isinstance(pull, str) else self.plan.images.pull.value,
                "overrides!": overrides,
            },
        }

    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    def _choice_changed(self) -> None:
        self.revalidate()

    @on(RadioSet.Changed, "#size")
    def _size_changed(self) -> None:
        self._show_size()
        self.revalidate()

    def commit(self) -> bool:
        if not super().commit():
            return False
        password = self._value("registry_password")
        self.wizard.registry_password = password
        if password:
            # The password goes to the secret store at once, never into the plan or the answers.
            store = SecretStore(install_dir(self.plan.name).create().secrets)
            store.set(REGISTRY_SECRET, password)
            store.save()
        return True
