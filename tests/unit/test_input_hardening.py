"""Input that used to escape FABRIX_HOME, crash or corrupt state (issue 10): `--name`, Rich
markup in data, a reporter that breaks mid-launch, damaged journals and secret stores, a
read-only or full FABRIX_HOME."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from installer.answers import plan_from_dict
from installer.cli import main
from installer.launch.journal import Journal, Phase
from installer.launch.runner import launch_with
from installer.output import Output
from installer.progress import ProgressEvent, State
from installer.secrets import SecretStore
from installer.state import install_dir
from tests.unit.test_runner import Recorder


@pytest.mark.parametrize("command", [["status"], ["down", "--yes"], ["rollback", "--yes"]])
@pytest.mark.parametrize("name", ["../../victim", "[/x]", "a/b", "UPPER", "x" * 200, ".."])
def test_every_name_obeys_the_answers_rule(command: list[str], name: str, tmp_path: Path,
                                           fabrix_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    os.chdir(tmp_path)
    rc = main([command[0], "--name", name, *command[1:]])
    text = capsys.readouterr().err
    assert rc == 2, text
    assert "not a valid install name" in text and "Traceback" not in text
    assert list(victim.iterdir()) == [], "nothing written outside FABRIX_HOME"
    assert not any(fabrix_home.parent.glob("victim*"))


def test_status_does_not_chmod_a_secrets_file_through_a_link(tmp_path: Path, fabrix_home: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "someone-elses.txt"
    target.write_text("A=1\n")
    target.chmod(0o644)
    folder = install_dir("demo").create()
    folder.secrets.symlink_to(target)
    rc = main(["status", "--name", "demo"])
    assert rc == 2, capsys.readouterr()
    assert target.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("kind", ["binary", "folder", "huge"])
def test_a_damaged_secret_store_is_a_clear_exit_2(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = install_dir("demo").create()
    if kind == "binary":
        folder.secrets.write_bytes(b"\xff\xfe\x00\x01binary")
    elif kind == "folder":
        folder.secrets.mkdir()
    else:
        folder.secrets.write_bytes(b"A=" + b"x" * 2_000_000)
    with pytest.raises(Exception) as info:
        SecretStore(folder.secrets)
    assert getattr(info.value, "exit_code", None) == 2 and "secret store" in str(info.value)


def test_a_damaged_journal_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("r1", "run", Phase.begin)
    with journal.path.open("a") as fh:
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
        fh.write(json.dumps(["not", "a", "record"]) + "\n")
        fh.write(json.dumps({"run": "r1", "step": "x", "phase": "begin", "data": [1, 2]}) + "\n")
        fh.write(json.dumps({"run": "r1", "step": "up-process", "phase": "begin", "data": {"pid": "nope"}}) + "\n")
    journal.append("r1", "step", Phase.end)
    assert [r.step for r in journal.records()] == ["run", "up-process", "step"]
    assert journal.unfinished() == "r1"
    from installer.launch.recovery import stop_orphaned_compose

    stop_orphaned_compose(journal.records())  # a pid that is not a number is ignored


def test_rich_markup_in_data_is_printed_as_text() -> None:
    buf = io.StringIO()
    out = Output(stdout=buf, stderr=buf)
    out.event(ProgressEvent(step="up", state=State.failed, service="[/x]", message="health: [/x] [bold]no"))
    from installer.errors import UsageError

    out.error(UsageError("name [/x] is bad", "fix [/]"))
    text = buf.getvalue()
    assert "[/x]: health: [/x] [bold]no" in text and "name [/x] is bad" in text and "fix [/]" in text


def test_a_reporter_that_crashes_never_skips_the_rollback(tmp_path: Path) -> None:
    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "reporter-crash"})
    calls: list[str] = []

    def broken(ev: ProgressEvent) -> None:
        calls.append(ev.step)
        if ev.step in ("run", "rollback", "summary"):
            raise RuntimeError("closing tag '[/x]' at position 0 doesn't match any open tag")

    backend = Recorder(fail_at="two")
    result = launch_with(plan, backend, broken)
    assert backend.calls == ["one", "two", "diagnose", "rollback"]
    assert result.rollback is not None
    assert Journal(install_dir(plan.name).journal).unfinished() is None
    log = install_dir(plan.name).log.read_text()
    assert "progress display failed" in log


def _in_tmpfs(tmp_path: Path, options: str, script: str, *fabrix_args: str) -> subprocess.CompletedProcess[str]:
    """Run ``fabrix`` with FABRIX_HOME on a tiny tmpfs (read-only, or full after ``script``), in a
    private mount namespace (``unshare``): a real EROFS/ENOSPC, and no mount outlives the test."""
    import shlex
    import sys

    mount = tmp_path / "mnt"
    mount.mkdir()
    cmd = (f"mount -t tmpfs -o {options} tmpfs {shlex.quote(str(mount))} && {script} "
           f"FABRIX_HOME={shlex.quote(str(mount / 'home'))} {shlex.quote(sys.executable)} -m installer.cli "
           + " ".join(shlex.quote(a) for a in fabrix_args)
           + f"; rc=$?; ls -laR {shlex.quote(str(mount))}; exit $rc")
    return subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", cmd], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_a_read_only_fabrix_home_is_exit_2_with_the_fix(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("apiVersion: fabrix/v1\nname: demo\n")
    done = _in_tmpfs(tmp_path, "size=64k,ro", "", "up", "--answers", str(answers), "--yes", "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    err = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")][-1]
    assert "read-only" in err["hint"] and "Traceback" not in done.stderr


def test_a_full_fabrix_home_is_exit_2_and_leaves_no_half_written_file(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("apiVersion: fabrix/v1\nname: demo\n")
    mount = tmp_path / "mnt"
    fill = f"(dd if=/dev/zero of={mount}/filler bs=1k count=64 2>/dev/null; true) &&"
    done = _in_tmpfs(tmp_path, "size=16k", fill, "render", "--answers", str(answers), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "disk is full" in done.stderr and "Traceback" not in done.stderr
    assert ".tmp" not in done.stdout, "no temporary file left behind: " + done.stdout


def test_runbook_values_are_shell_quoted(tmp_path: Path) -> None:
    from installer.pipeline import render_checked

    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "demo", "model": "manual",
                           "azure": {"resource_group": "rg(prod)", "location": "westeurope"}})
    bundle = render_checked(plan).bundle
    scripts = [p for p in bundle if p.endswith(".sh")]
    assert scripts
    for path in scripts:
        done = subprocess.run(["bash", "-n"], input=bundle.files[path], capture_output=True)
        assert done.returncode == 0, (path, done.stderr)
    runbook = next(p for p in bundle if p.endswith("RUNBOOK.md"))
    blocks = _bash_blocks(bundle.text(runbook))
    assert any("rg(prod)" in b for b in blocks)
    for block in blocks:
        done = subprocess.run(["bash", "-n"], input=block.encode(), capture_output=True)
        assert done.returncode == 0, (block, done.stderr)


def _bash_blocks(markdown: str) -> list[str]:
    blocks, current, inside = [], [], False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            if inside:
                blocks.append("\n".join(current))
                current = []
            inside = not inside and line.strip() in ("```bash", "```sh", "```shell")
            continue
        if inside:
            current.append(line)
    return blocks



def test_journal_and_lock_are_never_written_through_a_link(tmp_path: Path, minimal_answers: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("theirs")
    folder = install_dir("demo").create()
    folder.journal.symlink_to(victim)
    (folder.root / "launch.lock").symlink_to(tmp_path / "victim-lock")
    assert main(["down", "--name", "demo", "--yes"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert victim.read_text() == "theirs" and not (tmp_path / "victim-lock").exists()
