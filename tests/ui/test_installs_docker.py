"""Existing installs in the wizard, against a REAL Compose install (stand-in images, real Docker):
Welcome lists it with its state, opening it shows services, URLs and log, Target warns before
planning over it, Review's Changes tab shows a real diff, and Stop asks first, then stops it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from installer.answers import load_answers
from installer.flow import Step
from installer.installs import InstallState, survey
from installer.launch import down, launch, status
from installer.progress import null_reporter
from screens.app import FabrixApp
from screens.dialogs.choice import ChoiceDialog
from screens.install_view import InstallScreen
from screens.steps.review import ReviewScreen
from screens.steps.welcome import WelcomeScreen
from screens.widgets.field import Field
from tests.support.standin import free_ports, write_answers
from tests.ui.helpers import next_step, settle

pytestmark = [pytest.mark.docker, pytest.mark.slow]
COMPONENTS = ["postgres", "redis"]
NAME = "ui-installs"


@pytest.fixture
def running_install(docker_ready: object, tmp_path: Path) -> Path:
    answers = write_answers(tmp_path / "a.yaml", NAME, COMPONENTS, ports=free_ports(COMPONENTS))
    result = launch(load_answers(answers), null_reporter, threading.Event(), timeout=120)
    assert result.ok, result.message
    yield answers
    try:
        down(NAME, True, null_reporter)
    except Exception:  # noqa: BLE001 - best effort: the assertions already said what failed
        pass


def _field(app: FabrixApp, path: str) -> Field:
    return next(f for f in app.screen.query(Field) if f.path == path)


async def test_installs_are_listed_opened_warned_diffed_and_stopped(
    running_install: Path, make_app: Callable[..., FabrixApp]
) -> None:
    found = {info.name: info for info in survey()}
    assert found[NAME].state is InstallState.running
    app = make_app(installs=survey)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        row = app.screen.query_one(f"#install-{NAME}", Button)
        assert "running" in str(row.label)
        # The command palette opens it too, and offers then only the actions that apply.
        opener = {c.title: c for c in app.get_system_commands(app.screen)}[f"Open install {NAME}"]
        opener.callback()
        await settle(pilot)
        assert isinstance(app.screen, InstallScreen)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Stop this install", "Remove this install and its data", "Plan an update of this install"} <= titles
        assert "Roll back this install's unfinished launch" not in titles  # no unfinished launch
        text = str(app.screen.query_one("#install-text").render())
        assert "postgres" in text and "redis" in text and "Published at" in text
        # Addresses come from the install's saved answers: a database port is no web page.
        ports = load_answers(running_install).compose.ports
        assert f"postgresql://pgadmin@localhost:{ports['postgres']}/postgres" in text
        assert f"redis://localhost:{ports['redis']}" in text and "http://" not in text
        assert "Last log lines" in text and "(no log yet)" not in text

        # Plan an update: the install's own answers, and Target asks before planning over it.
        app.screen.query_one("#btn-replan", Button).press()
        await settle(pilot)
        assert app.step is Step.target and app.plan.name == NAME
        new_port = free_ports(["redis"])["redis"]
        _field(app, "compose.ports.redis").query_one(Input).value = str(new_port)
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)  # warned, not planned over silently
        await pilot.click("#choice-update")
        await settle(pilot)
        assert app.step is Step.options
        await next_step(pilot)
        await next_step(pilot)
        assert isinstance(app.screen, ReviewScreen)
        diff = app.screen.diff_text
        assert f":{new_port}" in diff or str(new_port) in diff
        assert "installed/" in diff and "planned/" in diff
        assert "PASSWORD=" not in diff  # files holding secrets are named, never shown

        # Back on Welcome: open it again and stop it (asked first; Cancel keeps it running).
        app.goto(Step.welcome)
        await settle(pilot)
        app.screen.query_one(f"#install-{NAME}", Button).press()
        await settle(pilot)
        app.screen.query_one("#btn-stop", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.click("#choice-cancel")
        await settle(pilot)
        assert status(NAME), "Cancel must leave it running"
        app.screen.query_one("#btn-stop", Button).press()
        await settle(pilot)
        await pilot.click("#choice-stop")
        for _ in range(600):
            await settle(pilot)
            if "stopped" in str(app.screen.query_one("#install-note").render()):
                break
        assert "stopped" in str(app.screen.query_one("#install-note").render())
        assert status(NAME) == []
        text = str(app.screen.query_one("#install-text").render())
        assert "stopped" in text
