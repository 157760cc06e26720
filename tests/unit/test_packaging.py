"""`pip install .` must give a working `fabrix` that finds its templates and assets.

Builds the real wheel, installs it into a scratch folder, and runs its console script from a
directory far from the checkout, so only the installed copy can answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(work), str(CHECKOUT)],
        check=True,
        capture_output=True,
    )
    wheel = next(work.glob("fabrix-*.whl"))
    target = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def test_wheel_carries_templates_and_assets(installed: Path) -> None:
    data = installed / "installer" / "_data"
    shipped_assets = {p.relative_to(CHECKOUT / "assets") for p in (CHECKOUT / "assets").rglob("*") if p.is_file()}
    shipped_blueprints = {
        p.relative_to(CHECKOUT / "blueprints") for p in (CHECKOUT / "blueprints").rglob("*") if p.is_file()
    }
    assert {p.relative_to(data / "assets") for p in (data / "assets").rglob("*") if p.is_file()} >= shipped_assets
    assert {
        p.relative_to(data / "blueprints") for p in (data / "blueprints").rglob("*") if p.is_file()
    } >= shipped_blueprints


def test_installed_console_script_works_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    script = installed / "bin" / "fabrix"
    assert script.exists(), "the wheel must declare the `fabrix` console script"
    env = {**os.environ, "PYTHONPATH": str(installed), "FABRIX_HOME": str(tmp_path / "home")}
    answers = tmp_path / "answers.yaml"
    answers.write_text("apiVersion: fabrix/v1\nname: wheeltest\n")
    where = subprocess.run(
        [sys.executable, "-c", "import installer.resources as r; print(r.assets_dir())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout
    done = subprocess.run(
        [sys.executable, str(script), "validate", "--answers", str(answers)],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout
    schema = subprocess.run(
        [sys.executable, str(script), "schema"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert schema.returncode == 0 and '"apiVersion"' in schema.stdout


def test_sdist_free_wheel_lists_no_checkout_paths(installed: Path) -> None:
    wheel = next(installed.parent.glob("fabrix-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert not any(n.startswith(("tests/", "bench/", ".ci/")) for n in names)
    assert "installer/_data/assets/catalog.yaml" in names


def test_installed_copy_renders_the_compose_blueprint(installed: Path, tmp_path: Path) -> None:
    """Templates, the catalog and the compose-spec schema all come from the installed wheel."""
    script = installed / "bin" / "fabrix"
    env = {**os.environ, "PYTHONPATH": str(installed), "FABRIX_HOME": str(tmp_path / "home")}
    answers = tmp_path / "answers.yaml"
    answers.write_text("apiVersion: fabrix/v1\nname: wheeltest\n")
    done = subprocess.run(
        [sys.executable, str(script), "render", "--answers", str(answers), "--out", str(tmp_path / "out"), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "services:" in (tmp_path / "out" / "compose.yaml").read_text()
    assert (tmp_path / "out" / "initdb").is_dir()


def test_installed_wizard_starts_headless(installed: Path, tmp_path: Path) -> None:
    """The wheel carries the screens package and its stylesheet: the app mounts and quits."""
    code = (
        "import asyncio\n"
        "from screens.app import FabrixApp\n"
        "async def main():\n"
        "    app = FabrixApp()\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause()\n"
        "        print(type(app.screen).__name__)\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(installed), "FABRIX_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Welcome" in done.stdout
    assert (installed / "screens" / "app.tcss").is_file()
