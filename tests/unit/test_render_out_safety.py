"""`fabrix render --out DIR` never destroys what is not its own (issue 10, data loss)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from installer.cli import main
from installer.render.bundle import MARKER, Bundle, BundleDirError, read_marker
from installer.state import fabrix_home


def _render(answers: Path, out: Path | str) -> int:
    return main(["render", "--answers", str(answers), "--out", str(out)])


def test_out_dot_in_a_project_folder_is_refused_and_nothing_is_removed(
    minimal_answers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = minimal_answers.parent
    (project / "src.py").write_text("print('mine')\n")
    before = sorted(p.name for p in project.iterdir())
    monkeypatch.chdir(project)
    assert _render(minimal_answers, ".") == 2
    assert "not empty and was not written by fabrix" in capsys.readouterr().err
    assert sorted(p.name for p in project.iterdir()) == before
    assert (project / "src.py").read_text() == "print('mine')\n"


def test_fabrix_home_and_folders_around_it_are_refused(minimal_answers: Path, tmp_path: Path) -> None:
    home = fabrix_home()
    secret = home / "installs" / "demo" / "secrets.env"
    secret.parent.mkdir(parents=True)
    secret.write_text("A=1\n")
    for out in (home, home.parent, home / "installs" / "demo" / "bundle", home / "new"):
        assert _render(minimal_answers, out) == 2, out
    assert secret.read_text() == "A=1\n"
    assert not (home / "new").exists()


def test_a_file_and_a_symlink_are_refused(minimal_answers: Path, tmp_path: Path) -> None:
    assert _render(minimal_answers, minimal_answers) == 2
    assert minimal_answers.is_file()
    victim = tmp_path / "victim"
    victim.mkdir()
    link = tmp_path / "link"
    link.symlink_to(victim)
    assert _render(minimal_answers, link) == 2
    assert list(victim.iterdir()) == [] and link.is_symlink()


def test_a_previous_bundle_is_refreshed_and_stale_files_go_but_the_persons_files_stay(
    minimal_answers: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert _render(minimal_answers, out) == 0
    listed = read_marker(out)
    assert listed is not None and "compose.yaml" in listed
    (out / "notes.txt").write_text("mine")  # the person's file beside the bundle
    assert _render(minimal_answers, out) == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".fabrix-staging-")]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == [], "nothing beside DIR"


def test_an_empty_folder_is_used(minimal_answers: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert _render(minimal_answers, out) == 0
    assert (out / MARKER).is_file() and (out / "compose.yaml").is_file()


def test_bundle_write_never_follows_a_link_inside_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    first = Bundle()
    first.add("traefik/a.yml", "a")
    first.write(out)
    # Someone swaps the sub-folder for a link pointing outside; the next write must refuse.
    for p in (out / "traefik").iterdir():
        p.unlink()
    (out / "traefik").rmdir()
    (out / "traefik").symlink_to(outside)
    with pytest.raises(BundleDirError):
        first.write(out)
    assert list(outside.iterdir()) == []
    # A stale entry whose parent is a link is not followed either.
    second = Bundle()
    second.add("b.yml", "b")
    (outside / "a.yml").write_text("theirs")
    second.write(out)
    assert (outside / "a.yml").read_text() == "theirs"


def test_a_file_link_in_the_bundle_is_replaced_as_a_link_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("theirs")
    out = tmp_path / "out"
    b = Bundle()
    b.add("x.txt", "ours")
    b.write(out)
    (out / "x.txt").unlink()
    os.symlink(target, out / "x.txt")
    b.write(out)
    assert target.read_text() == "theirs"
    assert not (out / "x.txt").is_symlink() and (out / "x.txt").read_text() == "ours"


def test_a_forged_marker_cannot_list_paths_outside_the_folder(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("theirs")
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text('{"written_by": "fabrix", "files": ["../victim.txt", "/etc/passwd"]}')
    assert read_marker(out) == []
    b = Bundle()
    b.add("x.txt", "ours")
    b.write(out)
    assert victim.read_text() == "theirs"
