"""Pilot tests: the Options step's default components follow the same rule as `fabrix render` —
a private component (the AI Fabrix core) is in the default profile with a registry set or with an
image override (a mirror) for it, and nowhere else."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, SelectionList

from installer.catalog import load_catalog
from installer.plan import InstallPlan
from screens.app import FabrixApp
from screens.steps.options import OptionsScreen
from screens.widgets.field import Field
from tests.ui.helpers import next_step, settle

MakeApp = Callable[..., FabrixApp]
PRIVATE = sorted(n for n, c in load_catalog().components.items() if c.private and c.default)
MIRRORS = {name: f"mirror.example.io/aifabrix/{name}:1.0" for name in PRIVATE}


async def _to_options(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    for _ in range(3):
        await next_step(pilot)
    assert isinstance(pilot.app.screen, OptionsScreen)


def _selected(app: FabrixApp) -> set[str]:
    return set(app.screen.query_one("#components", SelectionList).selected)


async def _type(pilot, app: FabrixApp, path: str, text: str) -> None:  # noqa: ANN001
    field = next(f for f in app.screen.query(Field) if f.path == path)
    field.query_one(Input).value = text
    await settle(pilot)


def test_the_catalog_has_a_private_core() -> None:
    assert PRIVATE == ["dataplane", "miso-controller"]


async def test_image_overrides_keep_the_core_in_the_default_profile(make_app: MakeApp) -> None:
    """Answers with mirrors for the core and no registry: `fabrix render` runs the core; the wizard
    used to compare against a default without it and wrote a component list into the answers."""
    plan = InstallPlan.model_validate({"name": "ui-mirrors", "images": {"overrides": MIRRORS}})
    assert set(PRIVATE) <= set(plan.enabled_components())  # the CLI path
    app = make_app(plan)
    async with app.run_test(size=(100, 32)) as pilot:
        await _to_options(pilot)
        assert set(PRIVATE) <= _selected(app)
        await next_step(pilot)
    assert app.plan.components is None  # still the default profile, as in the answers file
    assert app.plan.enabled_components() == plan.enabled_components()


async def test_a_mirror_or_a_registry_typed_on_options_brings_the_core_in(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-core"))
    async with app.run_test(size=(100, 32)) as pilot:
        await _to_options(pilot)
        assert not set(PRIVATE) & _selected(app)  # no registry, no mirror: the core is out
        # A private component offers an override field although it is not enabled yet (the
        # fields are built when the person opens the section).
        app.screen.query_one("#images").collapsed = False
        await settle(pilot)
        for name, image in MIRRORS.items():
            await _type(pilot, app, f"images.overrides.{name}", image)
        assert set(PRIVATE) <= _selected(app)
        for name in MIRRORS:
            await _type(pilot, app, f"images.overrides.{name}", "")
        assert not set(PRIVATE) & _selected(app)  # taken away again
        await _type(pilot, app, "images.registry", "acr.example.io")
        assert set(PRIVATE) <= _selected(app)
        await next_step(pilot)
    assert app.plan.components is None
    assert set(PRIVATE) <= set(app.plan.enabled_components())


async def test_a_chosen_list_is_not_overwritten_by_the_registry(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-chosen"))
    async with app.run_test(size=(100, 32)) as pilot:
        await _to_options(pilot)
        app.screen.query_one("#components", SelectionList).deselect("flowise")
        await settle(pilot)
        before = _selected(app)
        await _type(pilot, app, "images.registry", "acr.example.io")
        assert _selected(app) == before  # the person's own choice stays as it is
        await next_step(pilot)
    assert app.plan.components is not None and "flowise" not in app.plan.components


async def test_override_fields_are_built_when_the_section_opens_and_typed_ones_survive_back(
        make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-lazy"))
    async with app.run_test(size=(100, 32)) as pilot:
        await _to_options(pilot)
        assert not [f for f in app.screen.query(Field) if f.path.startswith("images.overrides.")]
        app.screen.query_one("#images").collapsed = False
        await settle(pilot)
        await _type(pilot, app, "images.overrides.redis", "not a valid image ref!")
        assert not app.screen.valid
        await pilot.press("ctrl+b")  # Back keeps the invalid text as a draft
        await settle(pilot)
        await next_step(pilot)
        assert isinstance(app.screen, OptionsScreen)
        assert app.screen.query_one("#images").collapsed is False  # opened again, with the text
        field = next(f for f in app.screen.query(Field) if f.path == "images.overrides.redis")
        assert field.query_one(Input).value == "not a valid image ref!"
