"""The wizard's step order per plan, and saving/resuming an unfinished wizard."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.flow import Step, launchable, next_step, path_status, position, previous_step, steps_for
from installer.plan import DeploymentModel, InstallPlan, Target
from installer.secrets import SecretStore
from installer.state import install_dir
from installer.wizard_state import WizardProgress, clear_progress, load_progress, save_progress

COMPOSE = InstallPlan(name="demo")
ACA = InstallPlan(name="demo", target=Target.aca)


def test_compose_path_ends_with_launch() -> None:
    assert steps_for(COMPOSE) == [
        Step.welcome, Step.model, Step.target, Step.options, Step.prerequisites, Step.review, Step.launch,
    ]
    assert launchable(COMPOSE)


@pytest.mark.parametrize("model", [m for m in DeploymentModel if m is not DeploymentModel.manual])
def test_every_model_fabrix_up_launches_ends_with_launch(model: DeploymentModel) -> None:
    plan = InstallPlan(name="demo", model=model)
    assert steps_for(plan)[-1] is Step.launch
    assert launchable(plan)
    assert path_status(plan).launches


def test_container_on_aca_or_aks_launches_from_the_wizard() -> None:
    assert Step.launch in steps_for(ACA)
    assert Step.launch in steps_for(InstallPlan(name="demo", target=Target.aks))
    assert "deploys it" in path_status(ACA).summary


def test_manual_is_a_runbook_and_ends_at_review() -> None:
    plan = InstallPlan(name="demo", model=DeploymentModel.manual)
    assert steps_for(plan)[-1] is Step.review
    assert next_step(plan, Step.review) is None
    assert not launchable(plan)
    status = path_status(plan)
    assert not status.launches and "RUNBOOK.md" in status.summary


def test_next_and_previous_walk_the_same_order_both_ways() -> None:
    forward = [Step.welcome]
    while (step := next_step(COMPOSE, forward[-1])) is not None:
        forward.append(step)
    backward = [forward[-1]]
    while (step := previous_step(COMPOSE, backward[-1])) is not None:
        backward.append(step)
    assert forward == steps_for(COMPOSE)
    assert backward == list(reversed(forward))


def test_a_step_the_plan_dropped_goes_back_to_review() -> None:
    # Launch was open, then the person switched to manual: Back must land on a step that exists.
    manual = InstallPlan(name="demo", model=DeploymentModel.manual)
    assert previous_step(manual, Step.launch) is Step.review
    assert next_step(manual, Step.launch) is None


def test_position_counts_steps_for_the_plan() -> None:
    assert position(COMPOSE, Step.options) == (4, 7)
    assert position(ACA, Step.review) == (6, 7)
    assert position(InstallPlan(name="demo", model=DeploymentModel.manual), Step.review) == (6, 6)


def test_progress_round_trips_with_the_step(tmp_path: Path) -> None:
    plan = InstallPlan(name="demo", size="m", identity={"admin_email": "ops@corp.example"})
    path = tmp_path / "wizard.yaml"
    save_progress(WizardProgress(plan, Step.options), path)
    loaded = load_progress(path)
    assert loaded == WizardProgress(plan, Step.options)


def test_default_location_and_install_copy(fabrix_home: Path) -> None:
    plan = InstallPlan(name="demo")
    install_dir("demo").create()
    written = save_progress(WizardProgress(plan, Step.review))
    assert written == fabrix_home / "wizard.yaml"
    assert install_dir("demo").wizard_state.read_text() == written.read_text()
    assert load_progress() is not None
    clear_progress()
    assert load_progress() is None


def test_progress_never_holds_a_secret(tmp_path: Path) -> None:
    plan = InstallPlan(name="demo", images={"registry": "acr.example.io", "username": "bot"})
    store = SecretStore(install_dir("demo").create().secrets)
    store.set("registry_password", "s3cret-Value-42")
    store.save()
    path = save_progress(WizardProgress(plan, Step.options), tmp_path / "w.yaml")
    assert "s3cret-Value-42" not in path.read_text()
    assert "acr.example.io" in path.read_text()


@pytest.mark.parametrize(
    "body",
    ["not: [valid", "- a list\n", "apiVersion: fabrix/v1\nname: BAD NAME\n", "apiVersion: fabrix/v1\nname: ok\nwizardStep: nowhere\n"],
)
def test_a_broken_progress_file_is_ignored_not_fatal(tmp_path: Path, body: str) -> None:
    path = tmp_path / "wizard.yaml"
    path.write_text(body)
    assert load_progress(path) is None
