"""The throw-away DOCKER_CONFIG fabrix logs in with (issue 10: no password left behind)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from installer.launch import registry_auth


def test_private_config_keeps_settings_and_plugins_but_no_credentials(tmp_path: Path) -> None:
    person = tmp_path / "dot-docker"
    (person / "cli-plugins").mkdir(parents=True)
    (person / "contexts").mkdir()
    (person / "config.json").write_text(json.dumps({
        "auths": {"r.example.com": {"auth": "dXNlcjpwdw=="}}, "credsStore": "desktop",
        "credHelpers": {"gcr.io": "gcloud"}, "currentContext": "remote", "psFormat": "table"}))
    root = tmp_path / "install"
    root.mkdir()
    folder = registry_auth.create(root, source=person)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg == {"currentContext": "remote", "psFormat": "table"}
    assert stat.S_IMODE((folder / "config.json").stat().st_mode) == 0o600
    assert (folder / "cli-plugins").resolve() == (person / "cli-plugins").resolve()
    (folder / "config.json").write_text('{"auths": {"x": {"auth": "secret"}}}')  # what login writes
    assert registry_auth.remove(root) is True
    assert not folder.exists() and (person / "cli-plugins").is_dir(), "links removed, not their targets"
    assert registry_auth.remove(root) is False
    assert json.loads((person / "config.json").read_text())["auths"] == {"r.example.com": {"auth": "dXNlcjpwdw=="}}


def test_an_unreadable_person_config_still_gives_a_working_private_one(tmp_path: Path) -> None:
    person = tmp_path / "dot-docker"
    person.mkdir()
    (person / "config.json").write_text("{not json")
    folder = registry_auth.create(tmp_path, source=person)
    assert json.loads((folder / "config.json").read_text()) == {}
