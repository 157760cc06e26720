"""The data folder and the bind address, as ``fabrix check`` reports them: each unusable folder
names the fix for its own problem (a file in the way, no write access, a special file system,
another install's folder) and 0.0.0.0 warns that the stack becomes reachable from the network."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.checks import CheckContext, Status
from installer.checks.local import local_checks
from installer.datafolder import folder_problem
from installer.exposure import bind_exposure
from installer.plan import InstallPlan


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABRIX_HOME", str(tmp_path / "home"))


def _plan(data_dir: str | None = None, bind: str = "127.0.0.1", name: str = "demo") -> InstallPlan:
    compose: dict[str, object] = {"bind_address": bind}
    if data_dir is not None:
        compose["data_dir"] = data_dir
    return InstallPlan(name=name, compose=compose)


def _run(plan: InstallPlan, check_id: str):  # noqa: ANN202
    check = next(c for c in local_checks(plan) if c.id == check_id)
    return check.run(CheckContext(plan=plan))


@contextlib.contextmanager
def _not_root() -> Iterator[None]:
    """Root may write anywhere: drop to an ordinary user (nobody) for the duration, as a person
    running fabrix would be."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder an ordinary user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="fabrix-datadir-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_file_where_the_folder_should_be(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_text("x")
    result = _run(_plan(str(path)), "host.datadir")
    assert result.status is Status.fail and "is a file, not a folder" in result.found
    assert "~/fabrix-data/demo" in result.remedy and "free space" not in result.remedy


def test_a_file_among_the_parents(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    problem = folder_problem(_plan(str(tmp_path / "f" / "data")))
    assert problem is not None and f"{tmp_path / 'f'} is a file" in problem.found


def test_a_folder_this_user_may_not_write_names_chown(shared_tmp: Path) -> None:
    locked = shared_tmp / "locked"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    with _not_root():
        problem = folder_problem(_plan(str(locked)))
    assert problem is not None and "may not write there" in problem.found
    import pwd

    who = pwd.getpwuid(65534 if os.geteuid() == 0 else os.geteuid()).pw_name
    assert f"sudo chown -R {who} {locked}" in problem.fix and "free space" not in problem.fix


def test_a_folder_that_cannot_be_created_says_how_to_create_it(shared_tmp: Path) -> None:
    locked = shared_tmp / "locked"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    with _not_root():
        problem = folder_problem(_plan(str(locked / "data")))
    assert problem is not None and f"cannot be created in {locked}" in problem.found
    assert f"sudo mkdir -p {locked / 'data'}" in problem.fix


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="Linux /proc only")
def test_a_special_file_system_is_not_a_disk_space_problem() -> None:
    plan = _plan("/proc/fabrix-data")
    result = _run(plan, "host.datadir")
    assert result.status is Status.fail and "ordinary folder on a local disk" in result.remedy
    disk = _run(plan, "host.disk")
    assert "not measured until the data folder is usable" in disk.found
    assert "/proc/fabrix-data: only" not in disk.found


def test_another_installs_data_folder_is_refused_before_launch(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / ".fabrix-data-owner").write_text(json.dumps({"install": "other", "fabrix_home": "/elsewhere"}))
    result = _run(_plan(str(folder)), "host.datadir")
    assert result.status is Status.fail and "already holds the data of install 'other'" in result.found
    assert "its own compose.data_dir" in result.remedy


def test_a_usable_folder_passes(tmp_path: Path) -> None:
    result = _run(_plan(str(tmp_path / "new")), "host.datadir")
    assert result.status is Status.passed and "will be created" in result.found
    assert not (tmp_path / "new").exists()  # a check writes nothing
    assert _run(_plan(), "host.datadir").status is Status.passed  # the state folder's data/


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "127.0.0.2"])
def test_loopback_stays_on_this_machine(address: str) -> None:
    assert bind_exposure(address) is None
    assert _run(_plan(bind=address), "host.bind").status is Status.passed


@pytest.mark.parametrize("address", ["0.0.0.0", "::"])
def test_all_interfaces_warns_the_stack_is_reachable_from_the_network(address: str) -> None:
    result = _run(_plan(bind=address), "host.bind")
    assert result.status is Status.warn
    assert "reachable from the network" in result.found and "127.0.0.1" in result.remedy


def test_one_interface_warns_too() -> None:
    assert "reachable from its network" in (bind_exposure("192.168.1.20") or "")


# ---------------------------------------------------------------------------------------------
# `fabrix validate`: valid is not "checked" and not "private"


def _validate(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    from installer.cli import main

    path = tmp_path / "answers.yaml"
    path.write_text("apiVersion: fabrix/v1\nname: demo\n" + body, encoding="utf-8")
    rc = main(["validate", "--answers", str(path), *flags])
    return rc, capsys.readouterr().out


def test_validate_warns_that_all_interfaces_expose_the_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _validate(tmp_path, "compose: {bind_address: 0.0.0.0}\n", capsys)
    assert rc == 0 and "warning: compose.bind_address: 0.0.0.0" in out and "reachable from the network" in out
    rc, out = _validate(tmp_path, "compose: {bind_address: 0.0.0.0}\n", capsys, "--json")
    notes = json.loads(out.splitlines()[-1])["notes"]
    assert [(n["field"], n["level"]) for n in notes] == [("compose.bind_address", "warning")]
    rc, out = _validate(tmp_path, "", capsys)
    assert rc == 0 and "warning" not in out


def test_validate_says_an_azure_region_is_unchecked_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _validate(tmp_path, "model: container\ntarget: aca\nazure: {location: marsnorth}\n", capsys)
    assert rc == 0
    assert "unchecked: azure.location: region marsnorth is not checked against the subscription's regions" in out
    assert "`fabrix check` checks it" in out


def test_launch_refuses_a_file_as_data_folder_with_the_fix_not_an_internal_error(tmp_path: Path) -> None:
    """`fabrix up` claims the folder while its checks run: a file there was a FileExistsError
    ("internal error"); it is a refusal naming the fix (the failed check then explains it)."""
    from installer.errors import Refused
    from installer.launch.datadir import claim

    path = tmp_path / "data"
    path.write_text("x")
    with pytest.raises(Refused) as err:
        claim(_plan(str(path)))
    assert "is a file, not a folder" in err.value.message and "move the file away" in (err.value.hint or "")
    assert path.read_text() == "x"
