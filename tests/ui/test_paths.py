"""Pilot tests: every model's path from Welcome to Review, input kept across Back/Next, answers
pre-filled and saved, validation gating Next, and the registry password kept out of the answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from installer.answers import load_answers, save_answers
from installer.flow import Step, steps_for
from installer.plan import DeploymentModel, InstallPlan, Target
from installer.secrets import SecretStore
from installer.state import install_dir
from installer.wizard_state import load_progress
from screens.app import FabrixApp
from screens.content import MODELS
from screens.steps.model import ModelScreen
from screens.steps.review import ReviewScreen
from screens.widgets.field import Field
from tests.ui.helpers import next_step, settle

MakeApp = Callable[..., FabrixApp]


def _field(app: FabrixApp, path: str) -> Field:
    return next(f for f in app.screen.query(Field) if f.path == path)


async def _type_into(pilot, app: FabrixApp, path: str, text: str) -> None:  # noqa: ANN001
    from textual.widgets import Input

    field = _field(app, path)
    field.query_one(Input).value = text
    await settle(pilot)


@pytest.mark.parametrize("model", list(DeploymentModel))
async def test_each_model_walks_from_welcome_to_review(make_app: MakeApp, model: DeploymentModel) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        assert isinstance(app.screen, ModelScreen)
        await pilot.press("home")  # the list opens on the plan's model (container)
        for _ in range(list(MODELS).index(model)):
            await pilot.press("down")
        await settle(pilot)
        assert app.plan.model is model
        for _ in range(4):  # target, options, prerequisites, review
            await next_step(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert MODELS[model].title in str(app.screen.query_one("#summary").render())
        # Review either lists the generated files or says honestly that this path is not built.
        tree_label = str(app.screen.query_one("#file-tree").root.label)
        preview = str(app.screen.query_one("#preview").render())
        assert tree_label.endswith("files") or "not part of this build" in preview or "Nothing rendered" in preview
        assert app.step is Step.review
        assert (model is not DeploymentModel.manual) == (Step.launch in steps_for(app.plan))


async def test_container_targets_aca_and_aks_are_offered(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await pilot.press("tab")  # into the Compose / ACA / AKS choice
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.plan.target is Target.aca
        assert "deploys it" in str(app.screen.query_one("#path-status").render())


async def test_back_and_forward_keep_what_was_typed(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)  # Target
        await _type_into(pilot, app, "compose.ports.flowise", "13002")
        await _type_into(pilot, app, "name", "ui-keep")
        await next_step(pilot)  # Options
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert _field(app, "compose.ports.flowise").value == "13002"
        assert _field(app, "name").value == "ui-keep"
        assert app.plan.compose.ports == {"flowise": 13002}


async def test_invalid_input_names_the_problem_and_disables_next(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
        await next_step(pilot)  # Options
        await _type_into(pilot, app, "identity.admin_email", "not-an-email")
        assert app.screen.valid is False
        assert "is not an email address" in str(_field(app, "identity.admin_email").query_one(".error").render())
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.step is Step.options  # Next did nothing
        await _type_into(pilot, app, "identity.admin_email", "ops@corp.example")
        assert app.screen.valid is True


async def test_answers_prefill_every_step_and_save_replays(make_app: MakeApp, tmp_path: Path) -> None:
    source = InstallPlan(
        name="ui-prefill", size="m", tier="dev",
        compose={"bind_address": "0.0.0.0", "ports": {"flowise": 13002}},
        identity={"admin_email": "ops@corp.example"},
        images={"overrides": {"redis": "mirror.example/redis:7-alpine"}},
    )
    answers = tmp_path / "in.yaml"
    save_answers(source, answers)
    app = make_app(load_answers(answers))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)  # Target shows the file's values
        assert _field(app, "compose.bind_address").value == "0.0.0.0"
        assert _field(app, "compose.ports.flowise").value == "13002"
        await next_step(pilot)  # Options too
        assert _field(app, "identity.admin_email").value == "ops@corp.example"
        assert _field(app, "images.overrides.redis").value == "mirror.example/redis:7-alpine"
        await next_step(pilot)
        await next_step(pilot)  # Review
        assert app.plan == source
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("enter")  # accept the proposed path
        await settle(pilot)
    saved = tmp_path / "ui-prefill-container-compose-answers.yaml"
    assert load_answers(saved) == source


async def test_registry_password_goes_to_the_secret_store_only(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-registry"))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for _ in range(3):
            await next_step(pilot)
        await _type_into(pilot, app, "images.registry", "acr.example.io")
        await _type_into(pilot, app, "images.username", "robot")
        await _type_into(pilot, app, "registry_password", "Pa55-word-XYZ")
        await next_step(pilot)
    assert app.plan.images.registry == "acr.example.io"
    store = SecretStore(install_dir("ui-registry").secrets)
    assert store.get("registry_password") == "Pa55-word-XYZ"
    progress = load_progress(app.progress_path)
    assert progress is not None and progress.step is Step.prerequisites
    assert "Pa55-word-XYZ" not in app.progress_path.read_text()  # type: ignore[union-attr]


async def test_quitting_and_reopening_resumes_where_it_was(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-resume", size="l"))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await next_step(pilot)
    saved = load_progress(app.progress_path)
    assert saved is not None and saved.step is Step.target
    again = make_app()
    again.saved = saved
    again.plan = saved.plan
    async with again.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert again.step is Step.target
        assert again.plan.size.value == "l" and again.plan.name == "ui-resume"


async def test_failing_check_blocks_launch_but_not_review(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-blocked"), fail=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for _ in range(4):
            await next_step(pilot)
        assert "1 failed" in str(app.screen.query_one("#checks-summary").render())
        await next_step(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.check_action("launch", ()) is None
        assert app.screen.check_action("export", ()) is True
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)


async def test_export_writes_the_reviewer_archive_without_secrets(make_app: MakeApp, tmp_path: Path) -> None:
    import zipfile

    app = make_app(InstallPlan(name="ui-export"))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for _ in range(5):
            await next_step(pilot)
        assert app.screen.check_action("export", ()) is True
        await pilot.press("ctrl+e")
        await settle(pilot)
        await pilot.press("enter")  # accept the proposed path
        await settle(pilot)
    archive = tmp_path / "ui-export-container-compose-review.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        contents = [zf.read(n) for n in names]
        report = zf.read("check-report.json").decode()
    assert {"REVIEW.md", "MANIFEST", "answers.yaml", "check-report.json", "blueprints/compose.yaml"} <= names
    assert not any(n.endswith("/.env") for n in names)
    assert "Memory for size S" in report  # this screen's check results travel with the blueprints
    secrets = [v for v in SecretStore(install_dir("ui-export").secrets).values().values() if len(v) >= 8]
    assert secrets
    assert not any(v.encode() in data for v in secrets for data in contents)


async def test_command_palette_lists_the_main_actions(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-palette"))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for _ in range(5):
            await next_step(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Save the answers file", "Export the blueprints", "Launch the install", "Help for this screen"} <= set(titles)


async def test_f1_shows_help_for_the_screen(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await next_step(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpDialog"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ModelScreen)


def test_wizard_with_a_bad_answers_file_exits_2_before_the_ui(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from installer.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: fabrix/v1\nname: Bad Name\n")
    assert main(["wizard", "--answers", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "name" in err and "not a valid install name" in err


async def test_light_terminal_gets_the_light_theme(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORFGBG", "0;15")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-light"
        assert not app.current_theme.dark


async def test_welcome_offers_to_resume_an_unfinished_launch(make_app: MakeApp) -> None:
    class Run:
        def describe(self) -> str:
            return "run r1 of install 'ui-unfinished' stopped during step 'up' (started)"

    app = make_app(InstallPlan(name="ui-unfinished"), unfinished_run=lambda _name: Run())
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert "stopped during step 'up'" in str(app.screen.query_one("#launch-note").render())
        assert app.screen.query("#resume-launch")


async def test_review_shows_what_changed_since_the_last_render(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-changes"))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for _ in range(5):
            await next_step(pilot)
        assert "First render" in str(app.screen.query_one("#changes").render())
        for _ in range(3):  # back to Target
            await pilot.press("ctrl+b")
            await settle(pilot)
        await _type_into(pilot, app, "compose.ports.flowise", "13002")
        for _ in range(3):
            await next_step(pilot)
        assert isinstance(app.screen, ReviewScreen)
        changes = str(app.screen.query_one("#changes").render())
        assert "changed" in changes and "compose.yaml" in changes
        assert "13002" in app.screen.bundle.text("compose.yaml")


async def test_a_target_chosen_for_one_model_does_not_leak_into_another(make_app: MakeApp) -> None:
    """AKS chosen for Container: Marketplace answers carry no target, Development offers its own
    choice (ACA by default), and Container gets AKS back."""
    from installer.answers import dump_answers
    from installer.render import renderer_keys

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await next_step(pilot)  # Model, on Container
        await pilot.press("tab")
        await pilot.press("down", "down", "enter")  # Compose → ACA → AKS
        await settle(pilot)
        assert app.plan.target is Target.aks
        models = list(MODELS)
        app.screen.query_one("#models").highlighted = models.index(DeploymentModel.marketplace)
        await settle(pilot)
        assert app.plan.model is DeploymentModel.marketplace
        assert "target" not in dump_answers(app.plan)
        assert not app.screen.query_one("#targets").display
        app.screen.query_one("#models").highlighted = models.index(DeploymentModel.development)
        await settle(pilot)
        assert app.plan.effective_target() is Target.aca  # its own default, not Container's AKS
        assert app.screen.query_one("#targets").display
        assert not app.screen.query_one("#target-compose").display
        app.screen.query_one("#models").highlighted = models.index(DeploymentModel.container)
        await settle(pilot)
        assert app.plan.target is Target.aks  # Container's own choice comes back
        assert renderer_keys(app.plan) == ["aks"]


async def test_review_says_which_target_development_renders(make_app: MakeApp) -> None:
    app = make_app(InstallPlan(name="ui-dev", model=DeploymentModel.development, target=Target.aks))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        for _ in range(5):
            await next_step(pilot)
        assert isinstance(app.screen, ReviewScreen)
        summary = str(app.screen.query_one("#summary").render())
        assert "Azure Kubernetes Service" in summary
        assert "renders for Azure Kubernetes Service" in summary
