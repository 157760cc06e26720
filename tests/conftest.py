"""Shared fixtures: every test gets its own FABRIX_HOME so no test sees another's installs."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def fabrix_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("fabrix-home")
    monkeypatch.setenv("FABRIX_HOME", str(home))
    return home


@pytest.fixture
def minimal_answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text("apiVersion: fabrix/v1\nname: demo\nmodel: container\ntarget: compose\n")
    return path
