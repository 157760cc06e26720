"""Answers files a careless or hostile person writes: exit 2 with the field named, never a crash,
a hang or a leak (issue 10). One rule set, so `validate` and `render` agree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from installer.cli import main

HEAD = "apiVersion: fabrix/v1\nname: demo\n"


def _validate(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "answers.yaml"
    path.write_text(body, encoding="utf-8", errors="surrogatepass")
    rc = main(["validate", "--answers", str(path)])
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def _bomb() -> str:
    lines = [HEAD.rstrip("\n"), "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join([*lines, "model: *a9"]) + "\n"


CASES = {
    "duplicate key": (HEAD + "compose: {}\ncompose: {bind_address: 0.0.0.0}\n", "duplicate key 'compose'"),
    "1,000-level nesting": (HEAD + "x: " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply"),
    "5,000-digit int": (HEAD + "compose: {ports: {redis: " + "9" * 5000 + "}}\n", "cannot be read"),
    "!!int notanumber": (HEAD + "size: !!int notanumber\n", "cannot be read"),
    "alias bomb in an enum": (_bomb(), "aliases"),
    "100k unknown keys": (HEAD + "".join(f"k{i}: 1\n" for i in range(100_000)), "larger than"),
    "lone surrogate in an image": (HEAD + 'images: {overrides: {redis: "r\\ud800"}}\n', "images.overrides"),
    "lone surrogate in data_dir": (HEAD + 'compose: {data_dir: "/x/\\ud800"}\n', "compose.data_dir"),
    "~nosuchuser": (HEAD + "compose: {data_dir: ~nosuchuser-fabrix/x}\n", "no user"),
    "relative data_dir": (HEAD + "compose: {data_dir: data}\n", "not an absolute path"),
    "scoped IPv6": (HEAD + "compose: {bind_address: 'fe80::1%eth0'}\n", "scoped IPv6"),
    "components: []": (HEAD + "components: []\n", "enables nothing"),
    "$ in an image": (HEAD + "images: {overrides: {redis: 'evil.example/${POSTGRES_PASSWORD}:1'}}\n", "`$`"),
    "$ in data_dir": (HEAD + "compose: {data_dir: '/srv/${HOME}'}\n", "`$`"),
    "$ in admin_email": (HEAD + "identity: {admin_email: 'a$b@example.com'}\n", "`$`"),
    "$ in the registry user": (HEAD + "images: {registry: r.example.com, username: 'u$x'}\n", "images.username"),
    "huge enum value": (HEAD + "model: " + "x" * 100_000 + "\n", "model"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_exit_2_naming_the_problem_quickly(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, expected = CASES[case]
    started = time.monotonic()
    rc, text = _validate(tmp_path, body, capsys)
    assert rc == 2, text
    assert expected in text, text
    assert "Traceback" not in text and "internal error" not in text
    assert len(text) < 4000, "values echoed back are cut short"
    assert time.monotonic() - started < 10


def test_render_agrees_with_validate_on_the_same_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every file `validate` refuses, `render` refuses with the same exit code (and vice versa
    for the cases that used to pass validate and fail render)."""
    for case in ("relative data_dir", "scoped IPv6", "components: []", "$ in an image"):
        path = tmp_path / "answers.yaml"
        path.write_text(CASES[case][0])
        assert main(["validate", "--answers", str(path)]) == 2, case
        assert main(["render", "--answers", str(path), "--out", str(tmp_path / "out")]) == 2, case
        assert not (tmp_path / "out").exists()
    capsys.readouterr()


def test_a_valid_dollar_free_plan_still_renders(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(HEAD + "compose: {data_dir: ~/fabrix-data, bind_address: '::1'}\n"
                    "images: {overrides: {redis: 'docker.io/library/redis:7.4@sha256:" + "a" * 64 + "'}}\n")
    assert main(["validate", "--answers", str(path)]) == 0
    assert main(["render", "--answers", str(path), "--out", str(tmp_path / "out")]) == 0


def test_compose_check_without_env_on_disk_still_sees_composed_values(tmp_path: Path) -> None:
    """The config check gets .env's values through the environment (no copy of a secret on
    disk); that includes the connection URLs composed from the passwords (miso, dataplane)."""
    path = tmp_path / "answers.yaml"
    path.write_text(HEAD + "images: {registry: myacr.azurecr.io}\n")
    assert main(["render", "--answers", str(path), "--out", str(tmp_path / "out")]) == 0
